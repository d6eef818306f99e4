"""The one track model every format reads into and renders from. Plain dataclasses, no I/O.

Conventions every module relies on:

* Times are integer milliseconds.
* ``Cue.text`` is the cue's text in the *track's own markup dialect* (``Track.format``):
  HTML-like tags for SRT, WebVTT cue-text tags for VTT, ``{\\...}`` override blocks for ASS/SSA.
  Hard line breaks are always ``"\\n"`` (ASS ``\\N`` is turned into ``"\\n"`` on read and back on
  render); soft breaks and hard spaces of ASS (``\\n``, ``\\h``) stay in the text as markup.
  ``localise.formats.markup`` splits such text into words and protected markup spans.
* Whatever a format holds beyond id/timing/text travels in ``extras`` dicts, JSON-serialisable,
  so a track renders back to the same bytes-level content (see ``localise.formats``).
* Everything here pickles and converts to JSON (``to_dict``/``from_dict``) so Prefect can hash
  and persist it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Severity = Literal["minor", "major", "critical"]
SEVERITIES: tuple[Severity, ...] = ("minor", "major", "critical")


def severity_rank(severity: str) -> int:
    """Order of severities, for ``--fail-on`` style gates."""
    return SEVERITIES.index(severity)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ParseWarning:
    """A recoverable defect found while reading; repaired or kept, never silently dropped."""

    code: str  # e.g. "end-before-start", "overlap", "out-of-order", "missing-index", "timestamp-separator"
    message: str
    cue: int | None = None  # 0-based position of the cue in the track, where it applies
    line: int | None = None  # 1-based line in the source file, where known

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.cue is not None:
            where.append(f"cue {self.cue + 1}")
        return (f"[{', '.join(where)}] " if where else "") + f"{self.code}: {self.message}"


@dataclass
class Cue:
    """One subtitle event: identifier, timing and text (see module doc for the text convention)."""

    start_ms: int
    end_ms: int
    text: str
    id: str = ""  # SRT index, WebVTT cue identifier, "" where the format has none (ASS)
    extras: dict[str, Any] = field(default_factory=dict)  # VTT settings; ASS style, layer, name, margins, effect, type

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def with_text(self, text: str) -> "Cue":
        """A copy with other words and everything else (timing, id, extras) unchanged."""
        # built directly, not by dataclasses.replace (which reads every field by name each time):
        # a track's worth of copies is made per translation and per check
        return self.__class__(self.start_ms, self.end_ms, text, self.id, dict(self.extras))


@dataclass
class Track:
    """A whole subtitle file. ``format`` is one of ``srt``, ``vtt``, ``ass``, ``ssa``."""

    cues: list[Cue]
    format: str
    extras: dict[str, Any] = field(default_factory=dict)  # VTT header/REGION/STYLE/NOTE; ASS Script Info, styles...
    encoding: str | None = None  # the encoding detected when read from bytes
    source_name: str | None = None  # file name or URI it was read from
    warnings: list[ParseWarning] = field(default_factory=list)

    def with_texts(self, texts: list[str]) -> "Track":
        """A copy with each cue's text replaced; cue count, order, timings and extras unchanged."""
        if len(texts) != len(self.cues):
            raise ValueError(f"{len(texts)} texts for {len(self.cues)} cues")
        from localise.formats.base import paused_gc

        with paused_gc():  # a cue and a dict per line, no cycles: no collection needs to walk them
            cues = [c.with_text(t) for c, t in zip(self.cues, texts)]
        return replace(self, cues=cues, extras=dict(self.extras), warnings=list(self.warnings))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Track":
        data = dict(data)
        data["cues"] = [Cue(**c) for c in data.get("cues", [])]
        data["warnings"] = [ParseWarning(**w) for w in data.get("warnings", [])]
        return cls(**data)


@dataclass(frozen=True)
class Flag:
    """A reason for a person to look at a cue. ``code`` is one of the names in localise.quality."""

    code: str
    severity: Severity
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "reason": self.reason}


@dataclass
class Unit:
    """A piece of source text translated as one: a sentence that may run over several cues,
    or one speaker's line of a two-speaker cue.

    ``source`` is plain text (markup removed, line breaks joined) — what the engine sees.
    ``cues`` are 0-based cue positions in order. ``speaker`` is the line number inside the single
    cue for a dialogue split (``None`` otherwise); ``dash`` is the dash prefix that line had.
    """

    id: int
    cues: list[int]
    source: str
    speaker: int | None = None
    dash: str = ""


@dataclass(frozen=True)
class Translation:
    """One engine output line. ``confidence`` in [0, 1] where the engine gives one."""

    text: str
    confidence: float | None = None
    origin: str = "mt"  # "mt", "tm" (translation-memory exact match), "review"
    #: (language, text) of the pivot this line came through (zh -> en -> es: the English), so the
    #: first hop can be checked where a lexicon exists for it; None for a direct translation
    pivot: tuple[str, str] | None = None
