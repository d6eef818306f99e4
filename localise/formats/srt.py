"""SubRip (.srt): cues found by their timing lines, items built and written through pysrt.

Why we cut the file into blocks ourselves and hand each block to pysrt, rather than call
``pysrt.from_string``: pysrt splits on blank lines and *silently* drops every block it cannot
parse (``ERROR_PASS``) or merges two cues when the blank line between them is missing, and it
keeps no line numbers. Real files (editing suites, ASR tools, hand edits) have missing blank
lines, missing or stray indexes, ``.`` for ``,`` and short timestamps. So here a cue starts at
each timing line; the index, if any, is the digit line just above it; every repair is reported
as a :class:`ParseWarning` with the cue and line. pysrt then does what it is good at: timestamp
arithmetic (``SubRipTime``) and writing items (``SubRipItem``); a timing line written exactly as the
format says (nearly every line) is read by one strict regex and the same arithmetic inline, which
makes reading a 20,000-cue file several times faster.

Text convention: ``Cue.text`` keeps the HTML-like tags (``<i>``, ``<font ...>``) and ``{\\an8}``
as written; lines are joined with ``"\\n"``. Blank lines inside a cue cannot be written back
(a blank line ends the cue in every reader), so they are removed on read, with a warning.
Extras: ``Cue.extras["position"]`` holds SRT display coordinates (``X1:.. X2:..``) after the timing.
"""

from __future__ import annotations

import re

from pysrt import SubRipItem, SubRipTime

from localise.errors import ParseError, RenderError
from localise.formats.base import check_timings, is_blank, normalise_newlines, refuse_blank_lines, refuse_control_characters, require_cues, split_lines
from localise.formats.limits import DEFAULT_LIMITS, InputLimits, check_cue_count, check_cue_sizes, refuse_many_cues_early
from localise.model import Cue, ParseWarning, Track

#: More hour digits than this are no time (a line of 5,000 digits failed int() with a traceback).
MAX_HOUR_DIGITS = 7
MAX_INDEX_DIGITS = 18  # an index longer than this is kept, but not checked for its sequence
_TS = r"(?:(\d+)\s*:\s*)?(\d{1,2})\s*:\s*(\d{1,2})(?:\s*([,.])\s*(\d{1,3}))?"
#: A timing line, leniently: optional hours, 1-2 digit fields, ``,`` or ``.`` or no milliseconds,
#: ``-->`` or ``->`` with or without spaces, and whatever follows (SRT display coordinates).
TIMING = re.compile(rf"^\s*{_TS}\s*(-->|->|—>)\s*{_TS}(?P<rest>(?:\s.*)?)$")
_CANONICAL_TS = re.compile(r"^\d{2,}:\d{2}:\d{2},\d{3}$")
_INDEX = re.compile(r"^\s*\d+\s*$")
_SPACED_ARROW = re.compile(r"\d --> \d")
#: The timing line as it should be written. TIMING reads such a line with exactly these groups (its
#: first, greedy choice), so it is read here directly, with nothing to repair.
_CANONICAL_TIMING = re.compile(r"^(\d{2,}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2,}):(\d{2}):(\d{2}),(\d{3})(?P<rest>(?:\s.*)?)$")
#: The same, found in a whole text (for the early cue count: one C-level pass, no objects per line).
_CANONICAL_TIMING_LINES = re.compile(r"^\d{2,}:\d{2}:\d{2},\d{3} --> \d{2,}:\d{2}:\d{2},\d{3}(?:[ \t].*)?$", re.M)


#: What a timing line that TIMING cannot read still looks like: a clock figure (``00:03``)...
_CLOCK = re.compile(r"\d+\s*:\s*\d+(?:\s*:\s*\d+)?")
#: ... and an arrow, however written (``-->``, ``->``, ``- >``, ``=>``, ``—>``, ``→``)...
_ARROWISH = re.compile(r"-+\s*>|[=—–]\s*>|→")


def _timing_like(line: str) -> bool:
    """A line meant as a timing line: a clock figure and an arrow, or two clock figures."""
    clocks = _CLOCK.findall(line)
    return bool(clocks) and (len(clocks) >= 2 or _ARROWISH.search(line) is not None)


def _meant_as_timing(line: str) -> bool:
    """Timing-like, or an SRT arrow however garbled what stands around it."""
    return "-->" in line or _timing_like(line)


def _lost_cue_starts(lines: list[str], lo: int, hi: int, after_blank: bool) -> list[int]:
    """Where, in ``lines[lo:hi]`` (a cue's text, or what stands before the first cue), a cue
    begins whose timing line cannot be read; its lines must not be taken for text of the cue above.

    Such a cue begins at an index line that follows a blank line, and at a line meant as a timing
    line (:func:`_meant_as_timing`) that follows a blank line or an index line (then at that index).
    ``after_blank`` says whether ``lines[lo]`` follows a blank line or the start of the file.
    Other text after a blank line stays the cue's text (a blank line inside a cue, repaired with a
    warning); :func:`render` refuses cue text that would read back as such a cue."""
    starts: list[int] = []
    j = lo
    while j < hi:
        line = lines[j]
        blank_before = after_blank if j == lo else is_blank(lines[j - 1])
        if blank_before and _INDEX.match(line):
            starts.append(j)
            j += 1
            if j < hi and not is_blank(lines[j]):
                j += 1  # the unreadable timing line (or whatever stands there) belongs to this cue
            continue
        if blank_before:
            if _meant_as_timing(line):
                starts.append(j)
        elif j > lo and lines[j - 1].strip().isdecimal() and _meant_as_timing(line):  # (cheap tests first:
            starts.append(j - 1)  # this runs over every line of every cue)
        j += 1
    return starts


def _lost_cue_warning(lines: list[str], start: int, stop: int, after_cue: int) -> ParseWarning:
    """The warning for the cue in ``lines[start:stop]`` that is left out (its timing is unreadable)."""
    where = f"after cue {after_cue}" if after_cue else "before the first cue"
    indexed = _INDEX.match(lines[start]) is not None
    timing = start + 1 if indexed else start
    if indexed and (timing >= stop or not _meant_as_timing(lines[timing])):  # the index, then text at once
        problem, timing, text_from = f"index line {lines[start].strip()!r} with no timing line", start, start + 1
    else:
        problem, text_from = f"its timing line cannot be read: {lines[timing][:80]!r}", timing + 1
    text = [ln for ln in lines[text_from:stop] if not is_blank(ln)]
    shown = f"; its text: {text[0][:60]!r}" + (f" and {len(text) - 1} more line(s)" if len(text) > 1 else "") if text else ""
    return ParseWarning("bad-timing", f"cue {where} left out: {problem}{shown}", None, timing + 1)


def looks_like(text: str) -> bool:
    """Whether ``text`` has at least one SRT timing line."""
    return any(TIMING.match(line) for line in split_lines(text)[:400])


def _to_ms(h: str | None, m: str, s: str, sep: str | None, frac: str | None) -> int:
    # A 1- or 2-digit fraction is a decimal fraction of a second (",5" = 500 ms, ",04" = 40 ms).
    ms = int((frac or "0").ljust(3, "0"))
    return SubRipTime(int(h or 0), int(m), int(s), ms).ordinal


def parse_timing(line: str) -> tuple[int, int, str, list[str]] | None:
    """``(start_ms, end_ms, rest, repairs)`` for a timing line, ``None`` if it is not one.

    ``repairs`` names each way the line departs from ``HH:MM:SS,mmm --> HH:MM:SS,mmm``.
    """
    c = _CANONICAL_TIMING.match(line)
    if c and max(len(c.group(1)), len(c.group(5))) > MAX_HOUR_DIGITS:
        return None
    if c:  # the usual line: SubRipTime's arithmetic (h, m, s, ms -> ms) without the objects
        h1, m1, s1, f1, h2, m2, s2, f2 = map(int, c.groups()[:8])
        start = ((h1 * 60 + m1) * 60 + s1) * 1000 + f1
        end = ((h2 * 60 + m2) * 60 + s2) * 1000 + f2
        return start, end, c.group("rest").strip(), []
    m = TIMING.match(line)
    if not m:
        return None
    g = m.groups()
    if max(len(g[0] or ""), len(g[6] or "")) > MAX_HOUR_DIGITS:
        return None
    start = _to_ms(*g[0:5])
    end = _to_ms(*g[6:11])
    repairs: list[str] = []
    if "." in (g[3], g[9]):
        repairs.append("'.' instead of ',' before milliseconds")
    if g[3] is None or g[9] is None:
        repairs.append("missing milliseconds (read as 000)")
    elif len(g[4]) != 3 or len(g[10]) != 3:
        repairs.append("milliseconds not written with 3 digits (read as a decimal fraction)")
    if g[0] is None or g[6] is None or len(g[1]) != 2 or len(g[2]) != 2 or len(g[7]) != 2 or len(g[8]) != 2:
        repairs.append("hours/minutes/seconds not written as HH:MM:SS")
    if g[5] != "-->" or not _SPACED_ARROW.search(line):
        repairs.append("arrow not written as ' --> '")
    return start, end, m.group("rest").strip(), repairs


def _timing_lines(lines: list[str], name: str | None, limits: InputLimits) -> list[tuple[int, tuple[int, int, str, list[str]]]]:
    """``(line index, parse_timing(line))`` of every timing line; refuses a file with more cues
    than ``limits.max_cues`` as soon as it finds one more (before any cue is built)."""
    timings = []
    most = limits.max_cues
    for i, line in enumerate(lines):
        # every arrow TIMING accepts ends in ">": other lines need no regex
        if ">" in line and (t := parse_timing(line)) is not None:
            timings.append((i, t))
            if len(timings) > most:
                check_cue_count(len(timings), name, i + 1, limits)
    return timings


def parse(text: str, name: str | None = None, *, limits: InputLimits | None = None) -> Track:
    """Read SRT text into a :class:`Track` (see module doc for the repairs it makes).

    A cue whose timing line cannot be read is left out with a ``bad-timing`` warning naming its
    line; its lines never become text of the cue above."""
    limits = limits or DEFAULT_LIMITS
    text, warnings = normalise_newlines(text)
    refuse_many_cues_early(text, "-->", _CANONICAL_TIMING_LINES, name, limits)
    lines = split_lines(text)
    timings = _timing_lines(lines, name, limits)
    if not timings:
        raise ParseError("no SRT timing line ('00:00:01,000 --> 00:00:02,000') found", name)

    # Where each cue block starts: its index line when there is one, else its timing line.
    starts: list[int] = []
    for k, (i, _) in enumerate(timings):
        floor = timings[k - 1][0] + 1 if k else 0
        starts.append(i - 1 if i - 1 >= floor and _INDEX.match(lines[i - 1]) else i)

    cues: list[Cue] = []
    cue_lines: list[int] = []
    lost = _lost_cue_starts(lines, 0, starts[0], True)
    stray = [j for j in range(lost[0] if lost else starts[0]) if not is_blank(lines[j])]
    if stray:
        warnings.append(ParseWarning("stray-text", f"{len(stray)} line(s) before the first cue ignored: {lines[stray[0]]!r}", None, stray[0] + 1))
    for n, first in enumerate(lost):
        warnings.append(_lost_cue_warning(lines, first, lost[n + 1] if n + 1 < len(lost) else starts[0], 0))
    previous_id: int | None = None
    for k, (i, (start, end, rest, repairs)) in enumerate(timings):
        pos = len(cues)
        block_start = starts[k]
        block_end = starts[k + 1] if k + 1 < len(timings) else len(lines)
        has_index = block_start != i
        if has_index:
            cue_id = lines[block_start].strip()
            number = int(cue_id) if len(cue_id) <= MAX_INDEX_DIGITS else None  # int() refuses 4,300+ digits
            if previous_id is not None and number is not None and number != previous_id + 1:
                warnings.append(ParseWarning("index-sequence", f"index {cue_id} follows {previous_id}; kept", pos, block_start + 1))
            previous_id = number
        else:
            cue_id = str(pos + 1)
            previous_id = None
            warnings.append(ParseWarning("missing-index", f"no index line; numbered {cue_id}", pos, i + 1))
        if k and block_start > 0 and not is_blank(lines[block_start - 1]):
            warnings.append(ParseWarning("missing-blank-line", "no blank line before this cue", pos, block_start + 1))
        if repairs:
            warnings.append(ParseWarning("timestamp-format", "; ".join(repairs), pos, i + 1))
        lost = _lost_cue_starts(lines, i + 1, block_end, False)
        for n, first in enumerate(lost):
            warnings.append(_lost_cue_warning(lines, first, lost[n + 1] if n + 1 < len(lost) else block_end, pos + 1))
        body = lines[i + 1 : lost[0] if lost else block_end]
        while body and is_blank(body[-1]):
            body.pop()
        while body and is_blank(body[0]):
            body.pop(0)
        if any(is_blank(b) for b in body):
            warnings.append(ParseWarning("blank-line-in-cue", "blank line(s) inside the cue text removed", pos, i + 2))
            body = [b for b in body if not is_blank(b)]
        extras = {"position": rest} if rest else {}
        cues.append(Cue(start, end, "\n".join(body), cue_id, extras))
        cue_lines.append(i + 1)

    warnings.sort(key=lambda w: w.line or 0)  # left-out cues among the others, in file order
    track = Track(cues=cues, format="srt", source_name=name, warnings=warnings)
    require_cues(track, name, need_text=True)
    check_cue_sizes(track, cue_lines, name, limits)
    check_timings(track, cue_lines)
    return track


def render(track: Track) -> str:
    """SRT text for ``track`` (UTF-8 is the caller's business). Cue ids that are not numbers
    (WebVTT identifiers after a conversion) are replaced by the cue's position."""
    refuse_control_characters(track, "SRT")
    refuse_blank_lines(track, "SRT")
    out: list[str] = []
    for n, cue in enumerate(track.cues, 1):
        if cue.start_ms < 0 or cue.end_ms < 0:
            raise RenderError(f"cue {n}: SRT cannot hold a negative time ({cue.start_ms} -> {cue.end_ms} ms)")
        previous = ""
        for line in cue.text.split("\n"):
            if ">" in line and TIMING.match(line):  # every arrow TIMING accepts ends in ">"
                raise RenderError(f"cue {n}: SRT cannot hold a text line that reads as a timing line: {line!r}")
            if _INDEX.match(previous) and _meant_as_timing(line):
                raise RenderError(f"cue {n}: SRT cannot hold a number line followed by a line that reads as a timing line: {previous!r}, {line!r}")
            previous = line
        index = cue.id.strip() if cue.id.strip().isdigit() else str(n)  # keep "001" as written
        position = str(cue.extras.get("position", ""))
        # what str(SubRipItem(...)) writes, with pysrt's own patterns, without two SubRipTime objects per cue
        out.append(_ITEM % (index, _time(cue.start_ms), _time(cue.end_ms), f" {position}" if position.strip() else "", cue.text))
        out.append("\n")
    return "".join(out)


_ITEM = SubRipItem.ITEM_PATTERN
_TIME = SubRipTime.TIME_PATTERN


def _time(ms: int) -> str:
    """``SubRipTime.from_ordinal(ms)`` as pysrt prints it (``HH:MM:SS,mmm``; ms is not negative here)."""
    ms = int(ms)
    return _TIME % (ms // 3_600_000, ms % 3_600_000 // 60_000, ms % 60_000 // 1000, ms % 1000)
