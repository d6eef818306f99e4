"""WebVTT: a block parser after the W3C WebVTT parsing rules, not pysubs2.

Why not pysubs2: its WebVTT reader is its SubRip reader with ``.`` for ``,``. It drops cue
identifiers, cue settings (``align:start line:0``), the header text, and the NOTE, STYLE and
REGION blocks, and cannot say on which line a cue went wrong. The promise here is "same cues,
same settings, same styling", so the file is read block by block as the specification's
"collect a WebVTT block" algorithm does, and everything that is not a cue travels in
``Track.extras`` and is written back in place.

Text convention: ``Cue.text`` is the raw cue text (tags ``<i>``, ``<c.x>``, ``<v Name>``,
``<00:01.000>`` and entities ``&amp;`` as written); lines joined with ``"\\n"``.
Extras: ``Cue.extras["settings"]`` — the cue settings string as written;
``Track.extras["header"]`` — the ``WEBVTT`` line; ``["header_lines"]`` — lines after it
(``Kind:``, ``X-TIMESTAMP-MAP=...``); ``["blocks"]`` — NOTE/STYLE/REGION blocks, each
``{"kind", "text", "before_cue"}``, written back before cue number ``before_cue``.
"""

from __future__ import annotations

import re
from typing import Any

from localise.errors import ParseError, RenderError
from localise.formats.base import check_timings, normalise_newlines, refuse_blank_lines, refuse_control_characters, require_cues, split_lines
from localise.formats.limits import DEFAULT_LIMITS, InputLimits, check_cue_count, check_cue_sizes, refuse_many_cues_early
from localise.model import Cue, ParseWarning, Track

_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
#: More hour (or minute) digits than this are no time: int() refused a 5,000-digit one with a traceback.
MAX_HOUR_DIGITS = 7
_STRICT_TS = re.compile(r"^(?:(\d{2,}):)?(\d{2}):(\d{2})\.(\d{3})$")
_LENIENT_TS = re.compile(r"^(?:(\d+):)?(\d+):(\d{1,2})(?:[.,](\d{1,3}))?$")
_TIMESTAMP_CHARS = re.compile(r"^[\d:.,]+")
#: Timing lines written as the specification says, found in a whole text (the early cue count).
_STRICT_TIMING_LINES = re.compile(r"^(?:\d{2,}:)?\d{2}:\d{2}\.\d{3}[ \t]+-->[ \t]+(?:\d{2,}:)?\d{2}:\d{2}\.\d{3}(?:[ \t].*)?$", re.M)


def looks_like(text: str) -> bool:
    """Whether ``text`` starts (after blank lines) with the ``WEBVTT`` signature."""
    first = next((line for line in split_lines(text.lstrip("\ufeff")) if line.strip()), "")
    return bool(_HEADER.match(first.rstrip()))


def _timestamp(raw: str) -> tuple[int, bool] | None:
    """``(ms, strict)`` for a WebVTT timestamp; ``strict`` is False when only the lenient form matched."""
    m = _STRICT_TS.match(raw)
    strict = m is not None
    if m is None:
        m = _LENIENT_TS.match(raw)
        if m is None:
            return None
    h, mi, s, frac = m.groups()
    if len(h or "") > MAX_HOUR_DIGITS or len(mi) > MAX_HOUR_DIGITS or int(mi) > 59 or int(s) > 59:  # int() refuses 4,300+ digits
        return None
    ms = int((frac or "0").ljust(3, "0"))
    return ((int(h or 0) * 60 + int(mi)) * 60 + int(s)) * 1000 + ms, strict


def parse_timing(line: str) -> tuple[int, int, str, bool] | None:
    """``(start_ms, end_ms, settings, strict)`` for a cue timing line; ``None`` when its
    timestamps cannot be read (the specification drops such a cue)."""
    rest = line.strip(" \t")
    m = _TIMESTAMP_CHARS.match(rest)
    if not m:
        return None
    start = _timestamp(m.group())
    rest = rest[m.end():].lstrip(" \t")
    if not rest.startswith("-->"):
        return None
    rest = rest[3:].lstrip(" \t")
    m = _TIMESTAMP_CHARS.match(rest)
    if not m or start is None:
        return None
    end = _timestamp(m.group())
    if end is None:
        return None
    settings = rest[m.end():]
    return start[0], end[0], " ".join(settings.split()), start[1] and end[1] and (not settings or settings[0] in " \t")


def _blocks(lines: list[str], i: int) -> list[tuple[int, list[str], bool]]:
    """Blocks from line ``i`` on: ``(first line number, lines, ended_by_arrow)``. A line with
    ``-->`` after a cue's timing line starts a new block even without a blank line (spec)."""
    blocks: list[tuple[int, list[str], bool]] = []
    n = len(lines)
    while i < n:
        while i < n and not lines[i].strip():
            i += 1
        if i >= n:
            break
        start, block, seen_arrow, by_arrow = i, [], False, False
        while i < n and lines[i].strip():
            line = lines[i]
            if "-->" in line:
                if not seen_arrow and len(block) < 2:
                    seen_arrow = True
                elif seen_arrow or len(block) >= 2:
                    by_arrow = True
                    break
            block.append(line)
            i += 1
        blocks.append((start, block, by_arrow))
    return blocks


def parse(text: str, name: str | None = None, *, require_header: bool = True, limits: InputLimits | None = None) -> Track:
    """Read WebVTT text. ``require_header=False`` accepts a file whose ``WEBVTT`` line is missing
    (with a warning) — used when the file name says ``.vtt``. A cue whose timing cannot be read is
    left out with a ``bad-timing`` warning naming its line (as the specification drops it)."""
    limits = limits or DEFAULT_LIMITS
    text, warnings = normalise_newlines(text)
    refuse_many_cues_early(text, "-->", _STRICT_TIMING_LINES, name, limits)
    lines = split_lines(text)
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i:
        warnings.append(ParseWarning("leading-blank-lines", f"{i} blank line(s) before the WEBVTT signature", None, 1))
    extras: dict[str, Any] = {}
    if i < len(lines) and _HEADER.match(lines[i].rstrip()):
        extras["header"] = lines[i].rstrip()
        i += 1
        header_lines = []
        while i < len(lines) and lines[i].strip() and ("-->" not in lines[i] or lines[i].startswith("Region:")):
            header_lines.append(lines[i])
            i += 1
        if header_lines:
            extras["header_lines"] = header_lines
    elif require_header:
        raise ParseError("not WebVTT: the first line is not 'WEBVTT'", name, i + 1)
    else:
        extras["header"] = "WEBVTT"
        warnings.append(ParseWarning("missing-header", "no WEBVTT signature line; read as WebVTT by its file name", None, 1))

    cues: list[Cue] = []
    cue_lines: list[int] = []
    blocks_out: list[dict[str, Any]] = []
    last_block_was_cue = False
    for first, block, by_arrow in _blocks(lines, i):
        was_cue, last_block_was_cue = last_block_was_cue, False
        timing_at = next((k for k, line in enumerate(block[:2]) if "-->" in line), None)
        head = block[0]
        if timing_at is None:
            kind = head.split(maxsplit=1)[0] if head.split() else ""
            if kind in ("NOTE", "STYLE", "REGION") and (head == kind or head[len(kind)] in " \t"):
                if kind != "NOTE" and cues:
                    warnings.append(ParseWarning("late-block", f"{kind} block after the first cue (players ignore it); kept", len(cues), first + 1))
                blocks_out.append({"kind": kind, "text": "\n".join(block), "before_cue": len(cues)})
            elif cues and not cues[-1].text and was_cue and not by_arrow:
                # text separated from its timing line by a blank line: give it back to that cue
                cues[-1].text = "\n".join(block)
                warnings.append(ParseWarning("blank-line-in-cue", "blank line between the timing line and the text removed", len(cues) - 1, first + 1))
            else:
                warnings.append(ParseWarning("unparsed-block", f"block that is no cue, NOTE, STYLE or REGION dropped: {head!r}", None, first + 1))
            continue
        timing = parse_timing(block[timing_at])
        if timing is None:
            warnings.append(ParseWarning("bad-timing", f"unreadable cue timing, cue dropped: {block[timing_at]!r}", None, first + timing_at + 1))
            continue
        start, end, settings, strict = timing
        pos = len(cues)
        if not strict:
            warnings.append(ParseWarning("timestamp-format", "timestamps not written as [HH:]MM:SS.mmm; read leniently", pos, first + timing_at + 1))
        cue_id = block[0] if timing_at == 1 else ""
        cue_lines.append(first + timing_at + 1)
        if len(cue_lines) > limits.max_cues:
            check_cue_count(len(cue_lines), name, cue_lines[-1], limits)
        cues.append(Cue(start, end, "\n".join(block[timing_at + 1 :]), cue_id, {"settings": settings} if settings else {}))
        last_block_was_cue = True
        if by_arrow:
            warnings.append(ParseWarning("missing-blank-line", "a timing line follows this cue's text without a blank line", pos, first + len(block) + 1))

    track = Track(cues=cues, format="vtt", extras={**extras, **({"blocks": blocks_out} if blocks_out else {})}, source_name=name, warnings=warnings)
    require_cues(track, name)
    check_cue_sizes(track, cue_lines, name, limits)
    check_timings(track, cue_lines)
    return track


def format_timestamp(ms: int) -> str:
    """``HH:MM:SS.mmm`` (hours grow past two digits when needed)."""
    s, ms = divmod(ms, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def render(track: Track) -> str:
    """WebVTT text for ``track``; raises :class:`RenderError` for text WebVTT cannot hold."""
    refuse_control_characters(track, "WebVTT")
    refuse_blank_lines(track, "WebVTT")
    header = str(track.extras.get("header") or "WEBVTT")
    out = [header, *track.extras.get("header_lines", []), ""]
    blocks = list(track.extras.get("blocks", []))
    by_cue: dict[Any, list[str]] = {}  # blocks by the cue they precede: one pass, not one per cue
    for block in blocks:
        by_cue.setdefault(block.get("before_cue", 0), []).extend([block["text"], ""])

    def emit_blocks(before: int) -> None:
        if by_cue:
            out.extend(by_cue.get(before, ()))

    for n, cue in enumerate(track.cues):
        emit_blocks(n)
        if cue.start_ms < 0 or cue.end_ms < 0:
            raise RenderError(f"cue {n + 1}: WebVTT cannot hold a negative time ({cue.start_ms} -> {cue.end_ms} ms)")
        if "-->" in cue.text:
            raise RenderError(f"cue {n + 1}: WebVTT cue text cannot contain '-->' (write '--&gt;'): {cue.text!r}")
        if cue.id and ("-->" in cue.id or "\n" in cue.id or not cue.id.strip()):
            raise RenderError(f"cue {n + 1}: WebVTT cannot hold the cue identifier {cue.id!r}")
        if cue.id:
            out.append(cue.id)
        settings = str(cue.extras.get("settings", "")).strip()
        out.append(f"{format_timestamp(cue.start_ms)} --> {format_timestamp(cue.end_ms)}" + (f" {settings}" if settings else ""))
        if cue.text:
            out.append(cue.text)
        out.append("")
    emit_blocks(len(track.cues))
    for block in blocks:
        if block.get("before_cue", 0) > len(track.cues):
            out.extend([block["text"], ""])
    return "\n".join(out)


# --- cue settings, interpreted ------------------------------------------------------------------

_PERCENT = re.compile(r"^(\d{1,3})(\.\d*)?%$")
_INTEGER = re.compile(r"^-?\d+$")


def region_ids(track: Track) -> set[str]:
    """Identifiers of the regions a track defines (``REGION`` blocks and legacy ``Region:`` header lines)."""
    ids: set[str] = set()
    texts = [b["text"] for b in track.extras.get("blocks", []) if b.get("kind") == "REGION"]
    texts += [line[len("Region:"):] for line in track.extras.get("header_lines", []) if line.startswith("Region:")]
    for text in texts:
        for token in text.split():
            key, _, value = token.partition("=") if "=" in token else token.partition(":")
            if key == "id" and value:
                ids.add(value)
    return ids


def interpret_settings(settings: str, regions: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """What a player makes of a cue settings string: ``align``, ``line``, ``lineAlign``, ``position``,
    ``positionAlign``, ``size``, ``snapToLines``, ``vertical``, ``region`` (vtt.js names and defaults;
    an unknown or malformed setting is ignored, the first valid value of a setting wins).

    The text itself is what round-trips (``Cue.extras["settings"]``); this is for checks and conversions.
    """
    values: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if not values.get(key) and value != "":
            values[key] = value

    def percent(key: str, raw: str) -> bool:
        if _PERCENT.match(raw):
            number = float(raw[:-1])
            if 0 <= number <= 100:
                put(key, _number(number))
                return True
        return False

    for token in settings.split():
        parts = token.split(":")
        if len(parts) != 2:
            continue
        key, value = parts
        if key == "region":
            if value in regions:
                put("region", value)
        elif key == "vertical":
            if value in ("rl", "lr"):
                put("vertical", value)
        elif key == "line":
            pieces = value.split(",")
            first = pieces[0]
            if _INTEGER.match(first) and len(first) <= 4000:  # int() refuses 4,300+ digits
                put("line", int(first))
            if percent("line", first):
                put("snapToLines", False)
            if first == "auto":
                put("line", "auto")
            if len(pieces) == 2 and pieces[1] in ("start", "middle", "end"):
                put("lineAlign", pieces[1])
        elif key == "position":
            pieces = value.split(",")
            percent("position", pieces[0])
            if len(pieces) == 2 and pieces[1] in ("start", "middle", "end"):
                put("positionAlign", pieces[1])
        elif key == "size":
            percent("size", value)
        elif key == "align":
            if value in ("start", "middle", "end", "left", "right"):
                put("align", value)
    align = values.get("align", "middle")
    return {
        "region": values.get("region", ""),
        "vertical": values.get("vertical", ""),
        "line": values.get("line", "auto"),
        "lineAlign": values.get("lineAlign", "start"),
        "position": values.get("position", "auto"),
        "positionAlign": values.get("positionAlign", {"left": "start", "right": "end"}.get(align, align)),
        "size": values.get("size", 100),
        "snapToLines": values.get("snapToLines", True),
        "align": align,
    }


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value
