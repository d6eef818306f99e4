"""The review store: one row per flagged cue, fed from pipeline reports, decided by reviewers.

Rules that make review safe to run beside the machine:
* ingesting a new machine run updates open lines only — an approved or edited line is never
  overwritten (its machine translation, flags and text stay as the reviewer left them);
* approving or editing a line writes it to the translation memory of its series and language pair;
* every change is one transaction (XLIFF import relies on it for all-or-nothing)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from localise.errors import ReviewError
from localise.review.schema import (
    REVIEW_STATES,
    REVIEWED_STATES,
    ReviewItem,
    ReviewTrack,
    make_engine,
    utcnow,
)
from localise.review.tm import TranslationMemory

__all__ = ["REVIEW_STATES", "IngestResult", "ReviewItem", "ReviewStore", "ReviewTrack"]

DEFAULT_URL = "sqlite:///review.db"
MAX_ID = 2**63 - 1  # row ids are signed 64-bit in every database we support
#: The longest edited line: what the readers take as one cue (``limits.max_cue_chars``' default), so a
#: republished track can be read back. The JSON API said so (10,000) but the page form took 1 MB.
MAX_EDIT_CHARS = 10_000


def _valid_id(item_id: object) -> bool:
    return isinstance(item_id, int) and 0 < item_id <= MAX_ID


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: new flagged lines, open lines refreshed, reviewed lines kept as they were."""

    added: int
    updated: int
    kept: int


@dataclass(frozen=True)
class Decision:
    """One reviewer decision, as XLIFF import and the web app hand them to :meth:`ReviewStore.apply`.
    ``cue_index`` addresses a cue of ``track_key``; ``text`` is required for ``edited``."""

    track_key: str
    cue_index: int
    state: str
    text: str | None = None
    check_flags: tuple[Mapping[str, str], ...] = ()


def _flag_dicts(flags: Iterable[Any]) -> list[dict[str, str]]:
    out = []
    for flag in flags or []:
        if hasattr(flag, "to_dict"):
            flag = flag.to_dict()
        out.append({"code": str(flag.get("code", "")), "severity": str(flag.get("severity", "minor")),
                    "reason": str(flag.get("reason", ""))})
    return out


class ReviewStore:
    """Review items and tracks in any SQLAlchemy database (``url``; a SQLite file by default)."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.memory = TranslationMemory(self.engine)
        from localise.review.accounts import Accounts

        self.accounts = Accounts(self.engine)

    # -- ingest ----------------------------------------------------------------------------
    def ingest_report(
        self,
        report: Mapping[str, Any],
        *,
        series: str,
        episode: str,
        language: str | None = None,
        src_lang: str = "zh",
        track_version: str | None = None,
        format: str | None = None,
    ) -> IngestResult:
        """Record a pipeline report (``{"cues": [{"index", "start_ms", "end_ms", "source",
        "translation", "flags": [...]}, ...]}``): the track's cues for context, one item per flagged cue.
        Cue positions are 0-based positions in the report's ``cues`` list."""
        language = language or report.get("target_language")
        if not language:
            raise ReviewError(f"report for {series}/{episode} names no target_language")
        cues = report.get("cues")
        if not isinstance(cues, list):
            raise ReviewError(f"report for {series}/{episode}/{language} has no cues list")
        stored_cues = []
        for pos, cue in enumerate(cues):
            try:
                stored_cues.append({
                    "index": cue.get("index", pos), "start_ms": int(cue["start_ms"]), "end_ms": int(cue["end_ms"]),
                    "source": str(cue["source"]), "translation": str(cue["translation"]),
                    "origin": cue.get("origin"), "flags": _flag_dicts(cue.get("flags", [])),
                })
            except (KeyError, TypeError, ValueError) as exc:
                raise ReviewError(f"report for {series}/{episode}/{language}: cue {pos + 1} is incomplete ({exc})") from None
        updated = kept = 0
        new_items: list[dict[str, Any]] = []
        with self.sessions() as session, session.begin():
            track = self._track(session, series, episode, language)
            if track is None:
                track = ReviewTrack(series=series, episode=episode, language=language)
                session.add(track)
            track.src_lang, track.cues, track.track_version = src_lang, stored_cues, track_version
            track.format = format or track.format
            track.source_name = str(report.get("source") or track.source_name or "") or None
            session.flush()
            existing = {
                item.cue_index: item
                for item in session.scalars(select(ReviewItem).where(ReviewItem.track_id == track.id))
            }
            for pos, cue in enumerate(stored_cues):
                item = existing.get(pos)
                if item is not None and item.state in REVIEWED_STATES:
                    if item.source == cue["source"]:
                        kept += 1
                        continue
                    # The source line itself changed: the reviewer's text answered another line.
                    if not cue["flags"]:
                        session.delete(item)
                        continue
                if not cue["flags"]:
                    if item is not None and item.state == "open":  # the new run no longer doubts it
                        session.delete(item)
                    continue
                if item is None:
                    new_items.append({
                        "track_id": track.id, "series": series, "episode": episode, "language": language,
                        "cue_index": pos, "start_ms": cue["start_ms"], "end_ms": cue["end_ms"],
                        "source": cue["source"], "machine_translation": cue["translation"], "flags": cue["flags"],
                        "state": "open", "track_version": track_version,
                    })
                else:
                    item.start_ms, item.end_ms, item.source = cue["start_ms"], cue["end_ms"], cue["source"]
                    item.machine_translation, item.flags = cue["translation"], cue["flags"]
                    item.track_version, item.state, item.final_text = track_version, "open", None
                    updated += 1
            if new_items:  # one multi-row INSERT: a first run flags whole episodes at once
                session.execute(insert(ReviewItem), new_items)
            added = len(new_items)
        return IngestResult(added, updated, kept)

    # -- reading ---------------------------------------------------------------------------
    @staticmethod
    def _track(session: Session, series: str, episode: str, language: str) -> ReviewTrack | None:
        return session.scalar(select(ReviewTrack).where(
            ReviewTrack.series == series, ReviewTrack.episode == episode, ReviewTrack.language == language))

    def track(self, series: str, episode: str, language: str) -> ReviewTrack | None:
        with self.sessions() as session:
            return self._track(session, series, episode, language)

    def track_by_key(self, key: str) -> ReviewTrack | None:
        parts = key.split("/")
        if len(parts) != 3:
            return None
        return self.track(*parts)

    def tracks(self, series: str | None = None, language: str | None = None,
               series_in: Collection[str] | None = None) -> list[ReviewTrack]:
        query = select(ReviewTrack).order_by(ReviewTrack.series, ReviewTrack.episode, ReviewTrack.language)
        if series_in is not None:
            query = query.where(ReviewTrack.series.in_(sorted(series_in)))
        if series:
            query = query.where(ReviewTrack.series == series)
        if language:
            query = query.where(ReviewTrack.language == language)
        with self.sessions() as session:
            return list(session.scalars(query))

    def get(self, item_id: int) -> ReviewItem:
        if not _valid_id(item_id):  # SQLite cannot even bind an id past 64 bits
            raise ReviewError(f"no review item {item_id}")
        with self.sessions() as session:
            item = session.get(ReviewItem, item_id)
        if item is None:
            raise ReviewError(f"no review item {item_id}")
        return item

    def items(
        self,
        *,
        series: str | None = None,
        language: str | None = None,
        episode: str | None = None,
        flag: str | None = None,
        state: str | None = "open",
        limit: int | None = None,
        series_in: Collection[str] | None = None,
        severity: str | None = "",
    ) -> list[ReviewItem]:
        """The queue: items in series/episode/cue order, filtered; ``state=None`` means any state.
        ``series_in`` (a caller's scope) keeps only those series. ``severity``: items with a flag at
        or above it; by default the routing severity (``review_severity``, major), so the queue
        holds what needs a person; ``"minor"`` or ``None`` shows every flagged cue."""
        query = select(ReviewItem).order_by(ReviewItem.series, ReviewItem.episode, ReviewItem.language,
                                            ReviewItem.cue_index)
        if series_in is not None:
            query = query.where(ReviewItem.series.in_(sorted(series_in)))
        for column, value in ((ReviewItem.series, series), (ReviewItem.language, language),
                              (ReviewItem.episode, episode), (ReviewItem.state, state)):
            if value:
                query = query.where(column == value)
        with self.sessions() as session:
            rows = list(session.scalars(query))
        if flag:  # JSON containment differs per database; the queue is short, filter here
            rows = [r for r in rows if flag in r.flag_codes]
        if severity == "":
            from localise.quality.checks import review_severity_of

            severity = review_severity_of()
        if severity and severity != "minor":
            rows = [r for r in rows if _reaches(r.flags or [], severity)]
        return rows[:limit] if limit else rows

    def flag_codes(self, series_in: Collection[str] | None = None) -> list[str]:
        """Every flag code present in the store (for the queue's filter menu)."""
        query = select(ReviewItem.flags)
        if series_in is not None:
            query = query.where(ReviewItem.series.in_(sorted(series_in)))
        with self.sessions() as session:
            flags = session.scalars(query).all()
        return sorted({f.get("code", "") for fl in flags for f in fl or []})

    def context(self, item: ReviewItem, before: int = 2, after: int = 2) -> tuple[list[dict], list[dict]]:
        """The cues around ``item`` in its track (previous ones, next ones) as stored at ingest."""
        with self.sessions() as session:
            track = session.get(ReviewTrack, item.track_id)
        cues = track.cues if track else []
        lo = max(0, item.cue_index - before)
        return cues[lo:item.cue_index], cues[item.cue_index + 1:item.cue_index + 1 + after]

    def reviewed_lines(self, series: str, episode: str, language: str) -> dict[int, str]:
        """Cue position -> reviewed text for the approved and edited lines of one track."""
        with self.sessions() as session:
            rows = session.scalars(select(ReviewItem).where(
                ReviewItem.series == series, ReviewItem.episode == episode, ReviewItem.language == language,
                ReviewItem.state.in_(REVIEWED_STATES)))
            return {row.cue_index: row.text for row in rows}

    def set_track_version(self, series: str, episode: str, language: str, version: str) -> None:
        """Record the manifest version a republished track got (items keep the version they were
        flagged in)."""
        with self.sessions() as session, session.begin():
            track = self._track(session, series, episode, language)
            if track is not None:
                track.track_version = version

    # -- decisions -------------------------------------------------------------------------
    def approve(self, item_id: int, reviewer: str | None = None) -> ReviewItem:
        return self._decide(item_id, "approved", reviewer=reviewer)

    def edit(self, item_id: int, text: str, reviewer: str | None = None,
             check_flags: Iterable[Any] = ()) -> ReviewItem:
        return self._decide(item_id, "edited", text=text, reviewer=reviewer, check_flags=check_flags)

    def reject(self, item_id: int, reviewer: str | None = None) -> ReviewItem:
        return self._decide(item_id, "rejected", reviewer=reviewer)

    def reopen(self, item_id: int, reviewer: str | None = None) -> ReviewItem:
        return self._decide(item_id, "open", reviewer=reviewer)

    def _decide(self, item_id: int, state: str, *, text: str | None = None, reviewer: str | None = None,
                check_flags: Iterable[Any] = ()) -> ReviewItem:
        if not _valid_id(item_id):
            raise ReviewError(f"no review item {item_id}")
        with self.sessions() as session, session.begin():
            item = session.get(ReviewItem, item_id)
            if item is None:
                raise ReviewError(f"no review item {item_id}")
            self._set_state(session, item, state, text=text, reviewer=reviewer, check_flags=check_flags)
        return item

    def _set_state(self, session: Session, item: ReviewItem, state: str, *, text: str | None,
                   reviewer: str | None, check_flags: Iterable[Any] = ()) -> None:
        if state not in REVIEW_STATES:
            raise ReviewError(f"unknown review state {state!r} (one of {', '.join(REVIEW_STATES)})")
        if state == "edited":
            if text is None or not text.strip():
                raise ReviewError(f"review item {item.id}: an edit needs a non-empty text")
            if len(text) > MAX_EDIT_CHARS:
                raise ReviewError(f"review item {item.id}: an edit holds at most {MAX_EDIT_CHARS:,} characters "
                                  f"({len(text):,} given)")
            item.final_text = text.replace("\r\n", "\n")
        elif state == "approved":
            item.final_text = item.machine_translation
        else:
            item.final_text = None
        item.state, item.reviewer = state, reviewer
        item.check_flags = _flag_dicts(check_flags)
        item.reviewed_at = utcnow() if state != "open" else None
        if state in REVIEWED_STATES:
            track = session.get(ReviewTrack, item.track_id)
            self.memory.add(item.source, item.final_text or "", track.src_lang if track else "zh", item.language,
                            series=item.series, reviewer=reviewer, session=session)

    def apply(self, decisions: list[Decision], *, reviewer: str | None = None) -> int:
        """Apply many decisions in one transaction: either all of them or, on any error, none.
        A decision for a cue that is not flagged creates its item (a translator fixed an unflagged
        line in a track export). Returns the number of items changed."""
        changed = 0
        with self.sessions() as session, session.begin():
            for decision in decisions:
                parts = decision.track_key.split("/")
                track = self._track(session, *parts) if len(parts) == 3 else None
                if track is None:
                    raise ReviewError(f"unknown track {decision.track_key!r}")
                if not 0 <= decision.cue_index < len(track.cues):
                    raise ReviewError(f"{decision.track_key}: no cue {decision.cue_index + 1}")
                item = session.scalar(select(ReviewItem).where(
                    ReviewItem.track_id == track.id, ReviewItem.cue_index == decision.cue_index))
                if item is None:
                    cue = track.cues[decision.cue_index]
                    item = ReviewItem(
                        track_id=track.id, series=track.series, episode=track.episode, language=track.language,
                        cue_index=decision.cue_index, start_ms=cue["start_ms"], end_ms=cue["end_ms"],
                        source=cue["source"], machine_translation=cue["translation"], flags=[], state="open",
                        track_version=track.track_version,
                    )
                    session.add(item)
                    session.flush()
                self._set_state(session, item, decision.state, text=decision.text, reviewer=reviewer,
                                check_flags=decision.check_flags)
                changed += 1
        return changed


def _reaches(flags: list[dict[str, Any]], severity: str) -> bool:
    """Whether an item's flags reach ``severity`` (unknown severities count as major)."""
    from localise.model import SEVERITIES, severity_rank

    if severity not in SEVERITIES:
        raise ReviewError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    rank = severity_rank(severity)
    return any(severity_rank(f.get("severity") if f.get("severity") in SEVERITIES else "major") >= rank
               for f in flags)
