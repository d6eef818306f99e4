"""The review database tables (SQLAlchemy 2 declarative). One metadata for the review store and the
translation memory, so one URL (a SQLite file by default, PostgreSQL in production) holds both."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

REVIEW_STATES: tuple[str, ...] = ("open", "approved", "edited", "rejected")
REVIEWED_STATES: frozenset[str] = frozenset({"approved", "edited"})


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ReviewTrack(Base):
    """A localised track as the machine produced it: every cue (for context, XLIFF track exports and
    republishing), the version it was published under and the source language."""

    __tablename__ = "review_tracks"
    __table_args__ = (UniqueConstraint("series", "episode", "language", name="uq_review_track"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(200), index=True)
    episode: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(35), index=True)
    src_lang: Mapped[str] = mapped_column(String(35), default="zh")
    format: Mapped[str | None] = mapped_column(String(8), nullable=True)
    source_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    track_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    cues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    @property
    def key(self) -> str:
        """``series/episode/language`` — the XLIFF file id and the storage path stem."""
        return f"{self.series}/{self.episode}/{self.language}"


class ReviewItem(Base):
    """One flagged cue waiting for (or past) a person's decision."""

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("series", "episode", "language", "cue_index", name="uq_review_item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("review_tracks.id"), index=True)
    series: Mapped[str] = mapped_column(String(200), index=True)
    episode: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(35), index=True)
    cue_index: Mapped[int] = mapped_column(Integer)  # 0-based position of the cue in the track
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    machine_translation: Mapped[str] = mapped_column(Text)
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # what the reviewer settled on
    flags: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    check_flags: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # re-check of the edit
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    reviewer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    track_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def flag_codes(self) -> list[str]:
        return [f.get("code", "") for f in self.flags or []]

    @property
    def text(self) -> str:
        """The line as it should be published: the reviewer's text once reviewed, else the MT."""
        if self.state in REVIEWED_STATES and self.final_text is not None:
            return self.final_text
        return self.machine_translation


class TMEntry(Base):
    """A translation-memory entry: a reviewed line, per series and language pair."""

    __tablename__ = "tm_entries"
    __table_args__ = (
        UniqueConstraint("series", "src_lang", "tgt_lang", "source_key", name="uq_tm_entry"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(200), index=True)
    src_lang: Mapped[str] = mapped_column(String(35))
    tgt_lang: Mapped[str] = mapped_column(String(35))
    source_key: Mapped[str] = mapped_column(Text)  # normalised source (see tm.source_key)
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(32), default="review")  # review | tmx
    reviewer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class AccessToken(Base):
    """A scoped access token: who (``name``), what (``role``), where (``series``; ``["*"]`` is every
    series). Only an argon2 hash of the secret is kept; ``key_id`` (public, part of the token) finds
    the row so that one hash is verified per request, not one per token."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(16))
    series: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class LoginSession(Base):
    """A signed-in browser: the cookie holds a random id, the row its SHA-256 (a copied database
    holds no usable session). ``token_ref`` names the token it was opened with (``db:<id>`` or
    ``env:<fingerprint>``) so revoking or rotating the token ends the session."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    token_ref: Mapped[str] = mapped_column(String(100), index=True)
    csrf: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """One state-changing call: who, when, what (method, path, the route's own details), outcome."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    token_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    client: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


_CREATING = threading.Lock()


def _create_tables(engine: Any) -> None:
    """``create_all``, safe when two threads or processes open a new database at once: both see no
    tables, and the slower one's CREATE TABLE fails with "already exists"; it then checks again."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    with _CREATING:
        # Another process creating the same new database wins the race table by table: each
        # "already exists" means one more table is there, so a retry per table always ends.
        for attempt in range(len(Base.metadata.tables) + 1):
            try:
                Base.metadata.create_all(engine)
                return
            except (OperationalError, ProgrammingError) as exc:
                if "already exists" not in str(exc.orig) or attempt == len(Base.metadata.tables):
                    raise


def make_engine(url: str):
    """An engine for ``url`` with the tables created. SQLite files get a busy timeout so the web
    app's threads and a CLI import can share one file."""
    from sqlalchemy import create_engine

    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if url in ("sqlite://", "sqlite:///:memory:"):  # one shared in-memory database for all threads
            from sqlalchemy.pool import StaticPool

            kwargs["poolclass"] = StaticPool
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from localise.errors import ReviewError

    try:
        engine = create_engine(url, **kwargs)
        _create_tables(engine)
    except ArgumentError:
        raise ReviewError(f"review database {url!r} is not a database URL "
                          "(e.g. sqlite:///review.db or postgresql+psycopg://user@host/db)") from None
    except ModuleNotFoundError as exc:
        raise ReviewError(f"review database {url!r} needs the driver {exc.name!r}: pip install it") from None
    except DBAPIError as exc:
        raise ReviewError(f"review database {url!r} cannot be opened: {exc.orig}") from None
    return engine
