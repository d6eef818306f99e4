"""Size limits on what is read: the bytes of a file, the cues of a track, the characters of a cue.

Why: every cue becomes a handful of Python objects (about half a kilobyte), so a 200 MB file of
short cues took 3.4 GB before anything looked at it, and one cue of a megabyte is no subtitle but
costs minutes downstream. Nothing real comes near the defaults: an episode of a micro-drama is
60 cues of 20 characters, a feature film 2,000 cues, the longest typesetting lines of ASS karaoke
a few thousand characters. Limits are settings (``[limits]`` in the settings file,
``LOCALISE_LIMITS__MAX_CUES=...``; see ``localise.config``); each refusal is an
:class:`~localise.errors.InputTooLargeError` naming the file, the line and the setting to raise.

The file size is checked before a byte is read (and the read itself is bounded, for files that
grow or lie about their size), the cue count while timing lines are collected, before any cue is
built; so a refused file costs next to no memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from localise.errors import InputTooLargeError

if TYPE_CHECKING:
    from localise.model import Track

__all__ = ["InputLimits", "DEFAULT_LIMITS", "check_file_size", "check_text_size", "check_cue_count", "check_cue_sizes",
           "refuse_many_cues_early"]

_HOW = "raise it with the setting limits.{field} (LOCALISE_LIMITS__{env}, or [limits] in the settings file)"


@dataclass(frozen=True)
class InputLimits:
    """How big an input may be. Plain data: pickles, hashes, travels with options."""

    max_file_bytes: int = 64 * 1024 * 1024  # 64 MiB: ~1,000x a feature film's SRT
    max_cues: int = 100_000  # ~50 feature films in one file
    max_cue_chars: int = 10_000  # characters of one cue's text as written (markup included)

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_cues", "max_cue_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limits.{name} must be a positive whole number, not {value!r}")


DEFAULT_LIMITS = InputLimits()


def _how(field: str) -> str:
    return _HOW.format(field=field, env=field.upper())


def check_file_size(size: int, name: str | None, limits: InputLimits, *, unit: str = "bytes") -> None:
    """Refuse a file (or text, ``unit="characters"``) larger than ``limits.max_file_bytes``."""
    if size > limits.max_file_bytes:
        raise InputTooLargeError(
            f"{'file' if unit == 'bytes' else 'text'} of {size:,} {unit} is over the limit of "
            f"{limits.max_file_bytes:,} bytes; {_how('max_file_bytes')}",
            name,
        )


def check_text_size(text: str, name: str | None, limits: InputLimits) -> None:
    """Already-decoded text: a character is at least one byte in any encoding we read."""
    check_file_size(len(text), name, limits, unit="characters")


def check_cue_count(count: int, name: str | None, line: int | None, limits: InputLimits) -> None:
    """Called as cues are found: refuses the first cue past ``limits.max_cues`` (``line`` is its line)."""
    if count > limits.max_cues:
        raise InputTooLargeError(
            f"more than {limits.max_cues:,} cues in one file (the limit): cue {count:,} is at this line; {_how('max_cues')}",
            name,
            line,
        )


def refuse_many_cues_early(text: str, marker: str, cue_line: re.Pattern[str], name: str | None, limits: InputLimits) -> None:
    """Refuse, from the text alone, a file whose cues are plainly past ``limits.max_cues``: before
    it is split into lines and its cues are built (a few hundred bytes of objects per cue).

    ``marker`` is a string every cue line holds (``"-->"``); ``cue_line`` a ``re.M`` pattern that
    matches only lines that surely are cues (a canonical timing line). Files that pass are counted
    exactly by the reader (:func:`check_cue_count`)."""
    if text.count(marker) <= limits.max_cues:
        return
    for n, m in enumerate(cue_line.finditer(text), 1):
        if n > limits.max_cues:
            raise InputTooLargeError(
                f"more than {limits.max_cues:,} cues in one file (the limit): the cue at this line is past it; "
                f"{_how('max_cues')}",
                name,
                text.count("\n", 0, m.start()) + 1,
            )


def check_cue_sizes(track: Track, cue_lines: list[int], name: str | None, limits: InputLimits) -> None:
    """Refuse the first cue whose text is longer than ``limits.max_cue_chars`` (``cue_lines[i]`` is
    the line of cue ``i``'s timing)."""
    most = limits.max_cue_chars
    for i, cue in enumerate(track.cues):
        if len(cue.text) > most:
            line = cue_lines[i] if i < len(cue_lines) else None
            raise InputTooLargeError(
                f"cue {i + 1} holds {len(cue.text):,} characters, over the limit of {most:,}; {_how('max_cue_chars')}",
                name,
                line,
            )
