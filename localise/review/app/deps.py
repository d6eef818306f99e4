"""Shared objects and FastAPI dependencies: the review service and the caller of a request.

The caller (a :class:`~localise.review.access.Principal`) is resolved by the gate middleware
(:mod:`localise.review.app.gate`) *before* any body is read: from a bearer token on ``/api/``, from a
server-side session on the pages. Routes only read it from ``request.state``."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from localise.errors import ReviewError
from localise.review.access import ALL_SERIES, Principal, ScopeError, is_safe_name
from localise.review.accounts import fingerprint
from localise.review.app.ratelimit import FailureLimiter
from localise.review.app.settings import ReviewSettings
from localise.review.recheck import glossary_for, glossary_terms, recheck
from localise.review.schema import LoginSession, ReviewItem
from localise.review.store import ReviewStore

BOOTSTRAP_ROLE = "admin"


@dataclass
class ReviewService:
    """What every route needs: settings, the store (with translation memory and accounts)."""

    settings: ReviewSettings
    store: ReviewStore
    login_limiter: FailureLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.login_limiter = FailureLimiter(self.settings.login_attempts, self.settings.login_window_s)

    # -- who is calling --------------------------------------------------------------------
    def _bootstrap(self, token: str) -> Principal | None:
        """A ``LOCALISE_REVIEW_TOKENS`` token: admin on every series (constant-time comparison
        against every known token)."""
        found = None
        for known, name in self.settings.tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = Principal(name, BOOTSTRAP_ROLE, frozenset({ALL_SERIES}), f"env:{fingerprint(known)[:32]}")
        return found

    def principal_for_token(self, token: str | None) -> Principal | None:
        """The caller a bearer or login token belongs to, while the token is usable."""
        if not token or len(token) > 512:
            return None
        return self._bootstrap(token) or self.store.accounts.verify(token)

    def principal_for_ref(self, token_ref: str) -> Principal | None:
        """The caller behind a session's token reference; ``None`` once that token is revoked,
        expired or (bootstrap tokens) no longer configured."""
        kind, _, ident = token_ref.partition(":")
        if kind == "env":
            for known, name in self.settings.tokens.items():
                if hmac.compare_digest(fingerprint(known)[:32], ident):
                    return Principal(name, BOOTSTRAP_ROLE, frozenset({ALL_SERIES}), token_ref)
            return None
        return self.store.accounts.principal_for(token_ref)

    def session_principal(self, secret: str | None) -> tuple[LoginSession, Principal] | None:
        if not secret:
            return None
        session = self.store.accounts.session(secret)
        if session is None:
            return None
        principal = self.principal_for_ref(session.token_ref)
        if principal is None:  # its token was revoked, expired or rotated: the session ends with it
            self.store.accounts.close_session(secret)
            return None
        return session, principal

    def secure_cookies(self, scheme: str) -> bool:
        if self.settings.secure_cookies is not None:
            return self.settings.secure_cookies
        return scheme == "https"

    # -- views of items --------------------------------------------------------------------
    def glossary(self, series: str) -> Any | None:
        if not is_safe_name(series):  # never a path outside the glossary folder
            return None
        return glossary_for(series, self.settings.glossary_dir)

    def item_for(self, principal: Principal, item_id: int) -> ReviewItem:
        """The item when it exists and the caller may see its series; 404 otherwise (another
        series' items are not even confirmed to exist)."""
        try:
            item = self.store.get(item_id)
        except ReviewError:
            item = None
        if item is None or not principal.may_see(item.series):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no review item {item_id}")
        return item

    def check(self, item: ReviewItem, text: str) -> list[dict[str, str]]:
        track = self.store.track(item.series, item.episode, item.language)
        return recheck(track, item.cue_index, text, glossary=self.glossary(item.series), styles=self.settings.styles)

    def detail(self, item: ReviewItem) -> dict[str, Any]:
        """An item with everything a reviewer looks at: context, glossary terms, similar reviewed lines."""
        before, after = self.store.context(item)
        track = self.store.track(item.series, item.episode, item.language)
        src_lang = track.src_lang if track else "zh"
        fuzzy = self.store.memory.fuzzy(item.source, src_lang, item.language, series=item.series)
        return {
            **item_json(item),
            "before": before,
            "after": after,
            "glossary": glossary_terms(self.glossary(item.series), item.source, item.language),
            "memory": [{"source": m.source, "target": m.target, "score": m.score} for m in fuzzy],
        }


def item_json(item: ReviewItem) -> dict[str, Any]:
    return {
        "id": item.id, "series": item.series, "episode": item.episode, "language": item.language,
        "cue_index": item.cue_index, "start_ms": item.start_ms, "end_ms": item.end_ms, "source": item.source,
        "machine_translation": item.machine_translation, "text": item.text, "flags": item.flags,
        "check": item.check_flags, "state": item.state, "reviewer": item.reviewer,
        "track_version": item.track_version,
        "reviewed_at": item.reviewed_at.isoformat() if item.reviewed_at else None,
    }


def get_service(request: Request) -> ReviewService:
    return request.app.state.service


Service = Annotated[ReviewService, Depends(get_service)]


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to /login."""


def audit(request: Request, **detail: Any) -> None:
    """Details of a state-changing call for its audit row (the gate writes the row)."""
    request.state.audit = {**getattr(request.state, "audit", {}), **detail}


def page_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise LoginRequired()
    return principal


def api_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # the gate answers 401 first; this guards routes mounted elsewhere
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def require(principal: Principal, role: str, series: str | None = None) -> None:
    """403 unless ``principal`` has ``role`` on ``series``."""
    try:
        principal.require(role, series)
    except ScopeError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None


PagePrincipal = Annotated[Principal, Depends(page_principal)]
ApiPrincipal = Annotated[Principal, Depends(api_principal)]
