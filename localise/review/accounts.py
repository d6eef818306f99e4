"""Access tokens, login sessions and the audit log, kept in the review database.

* Tokens read ``lrt_<key id>_<secret>``. Only an argon2id hash of the secret is stored; the key id
  finds the one row to verify, so an unknown token costs no hashing. A verified token is remembered
  (by its SHA-256) so argon2 runs once per token and process, while expiry and revocation are read
  from the row on every request. At most two verifications run at once: argon2 is memory-hard on
  purpose, and the server must not be made to spend that memory in parallel by anyone.
* Sessions: the browser holds a random id, the database its SHA-256, the token it was opened with,
  a CSRF token and an expiry. A session is only as good as its token: revoked, expired or rotated
  tokens end their sessions at once.
* Audit: one row per state-changing call (who, when, what, outcome)."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import sessionmaker

from localise.errors import ReviewError
from localise.review.access import ALL_SERIES, Principal, check_role, normalise_series
from localise.review.schema import AccessToken, AuditEvent, LoginSession, utcnow

TOKEN_PREFIX = "lrt"
_VERIFIED_CACHE = 1024
_HASHING = threading.BoundedSemaphore(2)


def _hasher() -> Any:
    from argon2 import PasswordHasher

    # OWASP's minimum for argon2id (19 MiB, 2 passes): tokens are 256-bit random, the hash only
    # has to make a copied database useless, not slow down guessing of weak secrets.
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def aware(value: datetime | None) -> datetime | None:
    """Datetimes from SQLite come back naive; they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a token in this store's format, else ``None``."""
    prefix, sep, rest = token.partition("_")
    key_id, sep2, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not sep or not sep2 or not key_id or not secret or len(key_id) > 32:
        return None
    return key_id, secret


@dataclass(frozen=True)
class TokenInfo:
    """A token as ``token list`` shows it (never the secret)."""

    id: int
    key_id: str
    name: str
    role: str
    series: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    created_by: str | None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "key_id": self.key_id, "name": self.name, "role": self.role, "series": self.series,
                "created_at": self.created_at.isoformat(),
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "created_by": self.created_by, "status": self.status}


def _info(row: AccessToken) -> TokenInfo:
    return TokenInfo(row.id, row.key_id, row.name, row.role, list(row.series or []), aware(row.created_at),
                     aware(row.expires_at), aware(row.revoked_at), row.created_by)


def _usable(row: AccessToken | None, now: datetime) -> bool:
    if row is None or row.revoked_at is not None:
        return False
    expires = aware(row.expires_at)
    return expires is None or expires > now


def _principal(row: AccessToken) -> Principal:
    return Principal(row.name, row.role, frozenset(row.series or []), f"db:{row.id}")


@dataclass(frozen=True)
class OpenedSession:
    """A new login session: ``secret`` goes into the cookie, ``csrf`` into every form."""

    secret: str
    csrf: str
    expires_at: datetime


class Accounts:
    """Tokens, sessions and audit events in the review database (``engine`` of a ReviewStore)."""

    def __init__(self, engine: Any) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._verified: OrderedDict[str, str] = OrderedDict()  # sha256(token) -> key_id
        self._lock = threading.Lock()

    # -- tokens ------------------------------------------------------------------------------
    def add_token(self, name: str, role: str, series: Iterable[str], *, expires_at: datetime | None = None,
                  created_by: str | None = None) -> tuple[str, TokenInfo]:
        """Create a token; returns ``(token, info)``. The token is shown once and never stored."""
        name = name.strip()
        if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
            raise ReviewError(f"invalid token name {name!r}")
        check_role(role)
        scope = normalise_series(series)
        if not scope:
            raise ReviewError("a token needs at least one series (or '*' for every series)")
        if expires_at is not None and aware(expires_at) <= utcnow():
            raise ReviewError("the expiry is in the past")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        row = AccessToken(key_id=key_id, name=name, role=role, series=scope, secret_hash=_hasher().hash(secret),
                          expires_at=expires_at, created_by=created_by)
        with self.sessions() as session, session.begin():
            session.add(row)
        return f"{TOKEN_PREFIX}_{key_id}_{secret}", _info(row)

    def tokens(self) -> list[TokenInfo]:
        with self.sessions() as session:
            return [_info(r) for r in session.scalars(select(AccessToken).order_by(AccessToken.id))]

    def _matching(self, session: Any, which: str) -> list[AccessToken]:
        """Active tokens named by id (``12``), key id or name."""
        query = select(AccessToken).where(AccessToken.revoked_at.is_(None))
        conditions = [AccessToken.key_id == which, AccessToken.name == which]
        if which.isdigit() and len(which) < 19:
            conditions.append(AccessToken.id == int(which))
        return list(session.scalars(query.where(or_(*conditions))))

    def revoke(self, which: str) -> list[TokenInfo]:
        """Revoke the active tokens ``which`` names (id, key id or name); their sessions end."""
        with self.sessions() as session, session.begin():
            rows = self._matching(session, which)
            if not rows:
                raise ReviewError(f"no active token {which!r}")
            now = utcnow()
            for row in rows:
                row.revoked_at = now
            session.execute(delete(LoginSession).where(LoginSession.token_ref.in_([f"db:{r.id}" for r in rows])))
        self.forget()
        return [_info(r) for r in rows]

    def rotate(self, which: str, *, expires_at: datetime | None = None,
               created_by: str | None = None) -> tuple[str, TokenInfo]:
        """A new secret for one active token: same name, role and series; the old one is revoked."""
        with self.sessions() as session:
            rows = self._matching(session, which)
        if len(rows) != 1:
            raise ReviewError(f"{which!r} names {len(rows)} active tokens; rotate one by its id")
        old = rows[0]
        token, info = self.add_token(old.name, old.role, old.series, created_by=created_by,
                                     expires_at=expires_at if expires_at is not None else old.expires_at)
        self.revoke(str(old.id))
        return token, info

    def has_active_tokens(self) -> bool:
        now = utcnow()
        with self.sessions() as session:
            rows = session.scalars(select(AccessToken).where(AccessToken.revoked_at.is_(None)))
            return any(_usable(r, now) for r in rows)

    def forget(self) -> None:
        with self._lock:
            self._verified.clear()

    def verify(self, token: str) -> Principal | None:
        """The principal of a usable token in this store's format, else ``None``."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        key_id, secret = parsed
        with self.sessions() as session:
            row = session.scalar(select(AccessToken).where(AccessToken.key_id == key_id))
        if not _usable(row, utcnow()):
            return None
        digest = fingerprint(token)
        with self._lock:
            known = self._verified.get(digest) == key_id
            if known:
                self._verified.move_to_end(digest)
        if not known:
            from argon2.exceptions import InvalidHashError, VerificationError

            with _HASHING:
                try:
                    _hasher().verify(row.secret_hash, secret)
                except (VerificationError, InvalidHashError):
                    return None
            with self._lock:
                self._verified[digest] = key_id
                while len(self._verified) > _VERIFIED_CACHE:
                    self._verified.popitem(last=False)
        return _principal(row)

    def principal_for(self, token_ref: str) -> Principal | None:
        """The principal behind a ``db:<id>`` reference while its token is usable."""
        kind, _, ident = token_ref.partition(":")
        if kind != "db" or not ident.isdigit():
            return None
        with self.sessions() as session:
            row = session.get(AccessToken, int(ident))
        return _principal(row) if _usable(row, utcnow()) else None

    # -- sessions ----------------------------------------------------------------------------
    def open_session(self, principal: Principal, ttl_s: int) -> OpenedSession:
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + timedelta(seconds=ttl_s)
        with self.sessions() as session, session.begin():
            session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
            session.add(LoginSession(id_hash=fingerprint(secret), token_ref=principal.token_ref, csrf=csrf,
                                     created_at=now, expires_at=expires))
        return OpenedSession(secret, csrf, expires)

    def session(self, secret: str) -> LoginSession | None:
        """The unexpired session of a cookie value, else ``None``."""
        if not secret or len(secret) > 200:
            return None
        with self.sessions() as session:
            row = session.scalar(select(LoginSession).where(LoginSession.id_hash == fingerprint(secret)))
        if row is None or aware(row.expires_at) <= utcnow():
            return None
        return row

    def close_session(self, secret: str) -> None:
        with self.sessions() as session, session.begin():
            session.execute(delete(LoginSession).where(LoginSession.id_hash == fingerprint(secret)))

    def end_sessions(self, token_ref: str) -> int:
        with self.sessions() as session, session.begin():
            return session.execute(delete(LoginSession).where(LoginSession.token_ref == token_ref)).rowcount

    # -- audit -------------------------------------------------------------------------------
    def record(self, *, principal: Principal | None, method: str, path: str, status: int, client: str | None,
               detail: dict[str, Any] | None = None, actor: str | None = None) -> None:
        with self.sessions() as session, session.begin():
            session.add(AuditEvent(
                actor=principal.name if principal else actor, role=principal.role if principal else None,
                token_ref=principal.token_ref if principal else None, method=method, path=path[:2000],
                status=status, client=client, detail=detail or {}))

    def events(self, *, limit: int = 100, before: int | None = None, actor: str | None = None) -> list[dict[str, Any]]:
        """Audit events, newest first (``before``: an event id, for paging)."""
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 1000)))
        if before is not None:
            query = query.where(AuditEvent.id < before)
        if actor:
            query = query.where(AuditEvent.actor == actor)
        with self.sessions() as session:
            rows = list(session.scalars(query))
        return [{"id": r.id, "at": aware(r.at).isoformat(), "actor": r.actor, "role": r.role, "token": r.token_ref,
                 "method": r.method, "path": r.path, "status": r.status, "client": r.client, "detail": r.detail}
                for r in rows]

    def event_count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count(AuditEvent.id))) or 0


__all__ = ["ALL_SERIES", "Accounts", "OpenedSession", "TokenInfo", "aware", "fingerprint", "parse_token"]
