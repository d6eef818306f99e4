"""What every format module shares: line handling, timing checks and the warnings they report.

A format module exposes ``parse(text, name) -> Track`` (``text`` already decoded, line ends
normalised by :func:`split_lines`) and ``render(track) -> str``. Checks that do not depend on
the format (end before start, overlaps, order) live here so every format reports them alike.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager

from localise.errors import ParseError, RenderError
from localise.model import Cue, ParseWarning, Track

#: Line ends we accept: CRLF, bare CR, LF. ``str.splitlines`` would also split on U+2028,
#: form feeds and the like, which may legitimately sit inside cue text.
_LINE_END = re.compile(r"\r\n|\r|\n")


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector while a whole track is built, checked or rendered.

    Why: those steps allocate one or more small objects per cue (cues, per-cue results) and
    create no reference cycles. With tens of thousands of cues the allocations trigger full
    collections that walk every object of the process (a loaded model, other tracks) and find
    nothing: on a 20,000-cue track they cost as much as the work itself. Reference counting
    still frees everything as usual; the collector resumes on exit (untouched if the caller
    had disabled it).

    On exit, what the step kept (its result, the checks' per-text memos: hundreds of thousands
    of objects after a long track) goes straight to the oldest generation (``gc.freeze`` then
    ``gc.unfreeze``: two list splices). Else the first young collection after the step walks
    every one of them (0.3 s after checking 20,000 cues), then the middle one again, only to
    find them alive; the oldest generation's collections still see them, and any garbage cycle.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] > _MANY_YOUNG and not gc.get_freeze_count():  # never thaw a caller's freeze
            gc.freeze()
            gc.unfreeze()
        gc.enable()


#: Young objects over which :func:`paused_gc` moves them to the oldest generation on exit (a
#: short step's few objects are left to the young collection, as usual).
_MANY_YOUNG = 50_000


#: Warning codes that mean part of the input was not read as cue text: a cue whose timing line
#: cannot be read (left out), lines outside any cue, blocks no reader understands, events kept
#: verbatim but not translated, bytes no encoding explains. ``translate --strict`` refuses a file
#: with any of them; every other warning is a repair or a defect kept as the source has it.
LOST_INPUT_CODES = frozenset({"bad-timing", "stray-text", "unparsed-block", "bad-event", "unparsed-line", "encoding"})


def lost_input(warnings: list[ParseWarning]) -> list[ParseWarning]:
    """The warnings among ``warnings`` that say some input was not read as cue text."""
    return [w for w in warnings if w.code in LOST_INPUT_CODES]


def refuse_times(track: Track, fmt: str, *, name: str | None = None, high: int | None = None, high_text: str = "") -> None:
    """Times a format cannot hold, found before any work is done on the track: negative ones,
    and (``high``) ones past the format's largest timestamp. Names the file and the cue."""
    where = f"{name}: " if name else ""
    for n, cue in enumerate(track.cues, 1):
        for ms in (cue.start_ms, cue.end_ms):
            if ms < 0:
                raise RenderError(f"{where}cue {n}: {fmt} cannot hold a negative time ({ms} ms)")
            if high is not None and ms > high:
                raise RenderError(f"{where}cue {n}: {fmt} cannot hold a time past {high_text or _clock(high)} ({_clock(ms)})")


def _clock(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    return f"{h}:{rest // 60_000:02d}:{rest % 60_000 // 1000:02d}.{rest % 1000:03d}"


def normalise_newlines(text: str) -> tuple[str, list[ParseWarning]]:
    """Text with every line end turned into ``"\\n"``; the BOM removed.

    ``CR CR LF`` (a CRLF written through a text-mode layer that added another CR, seen in
    ASR tool output) counts as one line end, not as a blank line between every line.
    """
    warnings: list[ParseWarning] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r\r\n" in text:
        text = text.replace("\r\r\n", "\n")
        warnings.append(ParseWarning("line-ends", "CR CR LF line ends read as one line end"))
    if "\r" not in text:  # LF only (most files): no copy of the whole text
        return text, warnings
    return _LINE_END.sub("\n", text), warnings


def split_lines(text: str) -> list[str]:
    """Lines of already-normalised text (only ``"\\n"`` separates lines)."""
    return text.split("\n")


def is_blank(line: str) -> bool:
    """A separator line: empty or only spaces/tabs (some tools write a single space)."""
    return not line.strip(" \t")


def check_timings(track: Track, cue_lines: list[int] | None = None) -> None:
    """Report (never change) timing defects: end before start, cues out of order, overlaps.

    The promise is "same cues, same timings", so these are kept as the source has them; each
    one becomes a :class:`ParseWarning` naming the cue, so a person can decide.
    """
    previous: Cue | None = None
    for i, cue in enumerate(track.cues):
        line = cue_lines[i] if cue_lines and i < len(cue_lines) else None
        if cue.end_ms < cue.start_ms:
            track.warnings.append(
                ParseWarning("end-before-start", f"ends {cue.start_ms - cue.end_ms} ms before it starts; kept", i, line)
            )
        if previous is not None:
            if cue.start_ms < previous.start_ms:
                track.warnings.append(
                    ParseWarning("out-of-order", "starts before the cue above it; order kept as in the source", i, line)
                )
            elif cue.start_ms < previous.end_ms:
                track.warnings.append(
                    ParseWarning("overlap", f"overlaps the cue above by {previous.end_ms - cue.start_ms} ms; kept", i, line)
                )
        previous = cue


def require_cues(track: Track, name: str | None, *, need_text: bool = False) -> None:
    """Refuse a track with nothing to localise: no cue (or, with ``need_text``, no cue with text —
    for SRT, where a lone timing line after some garbage is a truncated file, not a track)."""
    if not track.cues:
        raise ParseError("no subtitle cue found", name)
    if need_text and not any(c.text.strip() for c in track.cues):
        raise ParseError(f"none of the {len(track.cues)} cues holds any text", name)


def refuse_control_characters(track: Track, fmt: str) -> None:
    """Text a line-based format cannot hold: carriage returns and NUL bytes."""
    for i, cue in enumerate(track.cues):
        if "\r" in cue.text or "\x00" in cue.text:
            raise RenderError(f"cue {i + 1}: {fmt} cannot hold a carriage return or NUL inside cue text")


def refuse_blank_lines(track: Track, fmt: str) -> None:
    """A blank line ends a cue in SRT and WebVTT, so cue text cannot contain (or end with) one."""
    for i, cue in enumerate(track.cues):
        if not cue.text:
            continue
        lines = cue.text.split("\n")
        if any(is_blank(line) for line in lines):
            raise RenderError(
                f"cue {i + 1}: {fmt} cannot hold a blank line inside cue text (it would end the cue): {cue.text!r}"
            )
