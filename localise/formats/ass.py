"""ASS / SSA (SubStation Alpha): sections kept line for line, events read by their Format line.

Why not ``pysubs2.load`` for reading and writing: its SubStation reader ignores the
``Format:`` line of ``[Events]`` and ``[V4+ Styles]`` (a file with another field order loses
fields — see mantas-done ``ass_different_format.ass``), drops ``;`` comments, unknown sections
and unparsed lines, and rewrites style numbers (``20.0`` -> ``20``) and colours. Typesetters'
files must come back with exactly their styles, so every section other than ``[Events]`` is kept
verbatim in ``Track.extras["sections"]``, and each Dialogue line is split by the file's own
Format line. pysubs2 still does the parts it does well: the timestamp grammar
(``pysubs2.time.TIMESTAMP``), Aegisub-style centisecond rounding
(``SubstationFormat.ms_to_timestamp``) and the default header for tracks converted to ASS.

Text convention: ``Cue.text`` is the event text with ``\\N`` turned into ``"\\n"``; override
blocks ``{\\...}``, soft breaks ``\\n`` and hard spaces ``\\h`` stay as written.
Cues are the ``Dialogue:`` events. ``Comment:`` events, ``;`` lines and lines we cannot read
stay raw in ``Track.extras["event_lines"]`` (``{"line", "before_cue"}``) and are written back
in place. ``Cue.extras`` holds every other event field by its lower-cased Format name
(``layer``, ``style``, ``name``, ``marginl``, ``marginr``, ``marginv``, ``effect``; ``marked`` in SSA),
as written. ``Track.extras["events_format"]`` is the Format line's field list.
"""

from __future__ import annotations

import re
from typing import Any

from pysubs2.formats.substation import SubstationFormat
from pysubs2.time import TIMESTAMP, TIMESTAMP_SHORT, timestamp_to_ms

from localise.errors import ParseError, RenderError
from localise.formats.base import check_timings, normalise_newlines, refuse_control_characters, refuse_times, require_cues, split_lines
from localise.formats.limits import DEFAULT_LIMITS, InputLimits, check_cue_count, check_cue_sizes, refuse_many_cues_early
from localise.model import Cue, ParseWarning, Track

_SECTION = re.compile(r"^\s*\[[^\]]+\]\s*$")
_DIALOGUE_LINES = re.compile(r"^[ \t]*Dialogue:", re.M)  # events that are cues (the early cue count)
DEFAULT_FORMAT = {
    "ass": ["Layer", "Start", "End", "Style", "Name", "MarginL", "MarginR", "MarginV", "Effect", "Text"],
    "ssa": ["Marked", "Start", "End", "Style", "Name", "MarginL", "MarginR", "MarginV", "Effect", "Text"],
}
_FIELD_DEFAULTS = {"layer": "0", "marked": "Marked=0", "style": "Default", "name": "", "actor": "",
                   "marginl": "0", "marginr": "0", "marginv": "0", "effect": ""}


def looks_like(text: str) -> str | None:
    """``"ass"`` or ``"ssa"`` when ``text`` has SubStation sections, else ``None``."""
    head = text[:20000]
    if re.search(r"^\s*\[V4\+ Styles\]", head, re.I | re.M):
        return "ass"
    if re.search(r"^\s*\[V4 Styles\]", head, re.I | re.M):
        return "ssa"
    if re.search(r"^\s*\[Script Info\]", head, re.I | re.M) or re.search(r"^\s*\[Events\]", head, re.I | re.M):
        m = re.search(r"^\s*ScriptType\s*:\s*v?4\.00(\+?)", head, re.I | re.M)
        return "ssa" if m and not m.group(1) else "ass"
    return None


def _time(raw: str) -> tuple[int, bool] | None:
    """``(ms, negative)`` for a SubStation timestamp (pysubs2 grammar), ``None`` if unreadable."""
    raw = raw.strip()
    negative = raw.startswith("-")
    raw = raw.lstrip("-")
    m = TIMESTAMP.fullmatch(raw) or TIMESTAMP_SHORT.fullmatch(raw)
    if m is None:
        # hours past 9 (at most 7 digits: int() refused a 5,000-digit hour with a traceback)
        m = re.fullmatch(r"(\d{1,7}):(\d{1,2}):(\d{1,2})[.,](\d{1,3})", raw)
        if m is None:
            return None
    return timestamp_to_ms(m.groups()), negative


def parse(text: str, name: str | None = None, fmt: str | None = None, *, limits: InputLimits | None = None) -> Track:
    """Read ASS/SSA text; ``fmt`` is ``"ass"`` or ``"ssa"`` (guessed from the sections if omitted).
    An event whose times cannot be read stays in the file as written, untranslated, with a
    ``bad-event`` warning naming its line."""
    limits = limits or DEFAULT_LIMITS
    fmt = fmt or looks_like(text) or "ass"
    text, warnings = normalise_newlines(text)
    refuse_many_cues_early(text, "Dialogue:", _DIALOGUE_LINES, name, limits)
    lines = split_lines(text)
    sections: list[dict[str, Any]] = []
    preamble = []
    event_lines: list[dict[str, Any]] = []
    cues: list[Cue] = []
    cue_lines: list[int] = []
    fields: list[str] | None = None
    in_events = False
    for number, line in enumerate(lines, 1):
        if _SECTION.match(line):
            in_events = line.strip().lower() == "[events]"
            sections.append({"name": line.strip(), **({"events": True} if in_events else {"lines": []})})
            continue
        if not sections:
            if line.strip():
                preamble.append(line)
            continue
        if not in_events:
            sections[-1]["lines"].append(line)
            continue
        stripped = line.strip()
        if not stripped:
            continue
        key, _, rest = line.lstrip().partition(":")
        if key == "Format" and fields is None:
            fields = [f.strip() for f in rest.split(",")]
            continue
        if key != "Dialogue":
            if key != "Comment" and not stripped.startswith(";"):
                warnings.append(ParseWarning("unparsed-line", f"line in [Events] that is no event, kept as written: {stripped[:60]!r}", None, number))
            event_lines.append({"line": line, "before_cue": len(cues)})
            continue
        if fields is None:
            fields = list(DEFAULT_FORMAT[fmt])
            warnings.append(ParseWarning("missing-format-line", f"[Events] has no Format line; the standard {fmt.upper()} field order assumed", None, number))
        cue = _event(rest.lstrip(" "), fields)
        if isinstance(cue, str):
            warnings.append(ParseWarning("bad-event", f"{cue}; line kept as written, not a cue", len(cues), number))
            event_lines.append({"line": line, "before_cue": len(cues)})
            continue
        if cue.extras.pop("_negative", False):
            warnings.append(ParseWarning("negative-time", "negative timestamp read as 0", len(cues), number))
        if cue.start_ms % 10 or cue.end_ms % 10:
            # SubStation times are centiseconds (libass reads ".766" as 766 cs); round as Aegisub does
            cue.start_ms, cue.end_ms = _centi(cue.start_ms), _centi(cue.end_ms)
            warnings.append(ParseWarning("timestamp-precision", "millisecond timestamps rounded to centiseconds", len(cues), number))
        cues.append(cue)
        cue_lines.append(number)
        if len(cues) > limits.max_cues:
            check_cue_count(len(cues), name, number, limits)
    if not sections:
        raise ParseError("no [Script Info] / [Events] sections: not a SubStation file", name, 1)
    for section in sections:  # blank lines that only separate sections are the writer's business
        while section.get("lines") and not section["lines"][-1].strip():
            section["lines"].pop()
    if preamble:
        warnings.append(ParseWarning("stray-text", f"{len(preamble)} line(s) before the first section ignored", None, 1))
    extras: dict[str, Any] = {"sections": sections, "events_format": fields or list(DEFAULT_FORMAT[fmt])}
    if event_lines:
        extras["event_lines"] = event_lines
    if not any(s.get("events") for s in sections):
        raise ParseError("no [Events] section", name)
    track = Track(cues=cues, format=fmt, extras=extras, source_name=name, warnings=warnings)
    require_cues(track, name)
    check_cue_sizes(track, cue_lines, name, limits)
    check_timings(track, cue_lines)
    return track


def _event(rest: str, fields: list[str]) -> Cue | str:
    """A cue from the text after ``Dialogue:``, or the reason it cannot be read."""
    values = rest.split(",", len(fields) - 1)
    if len(values) < len(fields):
        return f"{len(values)} fields where the Format line names {len(fields)}"
    extras: dict[str, Any] = {}
    start = end = None
    text = ""
    for field, value in zip(fields, values):
        key = field.lower()
        if key in ("start", "end"):
            parsed = _time(value)
            if parsed is None:
                return f"unreadable {field} time {value!r}"
            ms, negative = parsed
            if negative:
                extras["_negative"] = True
                ms = 0
            if key == "start":
                start = ms
            else:
                end = ms
        elif key == "text":
            text = value
        else:
            extras[key] = value
    if start is None or end is None:
        return "the Format line names no Start/End field"
    return Cue(start, end, text.replace("\\N", "\n"), "", extras)


def _default_header(fmt: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Sections of an empty pysubs2 file (Script Info, one Default style) for converted tracks."""
    import pysubs2

    empty = pysubs2.SSAFile().to_string(fmt)
    return parse_sections(empty)


def _convert_header(sections: list[dict[str, Any]], fmt: str) -> tuple[list[dict[str, Any]], list[str]]:
    """ASS <-> SSA: the style lines differ in fields and colour notation; pysubs2 converts them."""
    import pysubs2

    text = "\n".join(line for s in sections if not s.get("events") for line in [s["name"], *s["lines"]])
    return parse_sections(pysubs2.SSAFile.from_string(text + "\n[Events]\n").to_string(fmt))


def parse_sections(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``(sections, events_format)`` of a SubStation text with no events."""
    sections: list[dict[str, Any]] = []
    fields: list[str] = []
    for line in split_lines(normalise_newlines(text)[0]):
        if _SECTION.match(line):
            events = line.strip().lower() == "[events]"
            sections.append({"name": line.strip(), **({"events": True} if events else {"lines": []})})
        elif sections and not sections[-1].get("events"):
            sections[-1]["lines"].append(line)
        elif sections and line.startswith("Format:"):
            fields = [f.strip() for f in line.partition(":")[2].split(",")]
    return sections, fields


def _centi(ms: int) -> int:
    return (ms + 5) - (ms + 5) % 10


def _timestamp(ms: int) -> str:
    return SubstationFormat.ms_to_timestamp(ms)


def render(track: Track, fmt: str | None = None) -> str:
    """ASS/SSA text for ``track``. Times are written in centiseconds (the format's resolution)."""
    fmt = fmt or (track.format if track.format in ("ass", "ssa") else "ass")
    refuse_control_characters(track, fmt.upper())
    sections = track.extras.get("sections")
    fields = track.extras.get("events_format")
    if not sections or not fields:
        sections, fields = _default_header(fmt)
    elif track.format in ("ass", "ssa") and fmt != track.format:
        sections, fields = _convert_header(sections, fmt)
    keys = [f.lower() for f in fields]
    out: list[str] = []
    for section in sections:
        if out:
            out.append("")
        out.append(section["name"])
        if not section.get("events"):
            body = list(section["lines"])
            while body and not body[-1].strip():
                body.pop()
            out.extend(body)
            continue
        out.append("Format: " + ", ".join(fields))
        event_lines = list(track.extras.get("event_lines", []))
        before: dict[Any, list[str]] = {}  # kept lines by the cue they precede: one pass, not one per cue
        for e in event_lines:
            before.setdefault(e.get("before_cue", 0), []).append(e["line"])
        for n, cue in enumerate(track.cues):
            if before:
                out.extend(before.get(n, ()))
            out.append("Dialogue: " + ",".join([_field(cue, key, n) for key in keys]))
        out.extend(e["line"] for e in event_lines if e.get("before_cue", 0) >= len(track.cues))
    return "\n".join(out) + "\n"


def _field(cue: Cue, key: str, n: int) -> str:
    if key == "start":
        return _timestamp(_non_negative(cue.start_ms, n))
    if key == "end":
        return _timestamp(_non_negative(cue.end_ms, n))
    if key == "text":
        if "\\N" in cue.text:
            raise RenderError(f"cue {n + 1}: literal '\\N' in cue text; hard line breaks are written as a newline in Cue.text")
        return cue.text.replace("\n", "\\N")
    value = str(cue.extras.get(key, _FIELD_DEFAULTS.get(key, "")))
    if "," in value or "\n" in value:
        raise RenderError(f"cue {n + 1}: event field {key!r} cannot hold {value!r} (comma or line break)")
    return value


#: 9:59:59.99, the largest SubStation timestamp (one hour digit); pysubs2 would clamp silently.
MAX_TIME_MS = 35_999_990


def refuse_unwritable_times(track: Track, fmt: str = "ass", name: str | None = None) -> None:
    """What :func:`render` would refuse about times, said before any work is done on ``track``:
    negative times and times past 9:59:59.99. Names the file and the cue."""
    refuse_times(track, "SubStation", name=name, high=MAX_TIME_MS, high_text="9:59:59.99")


def _non_negative(ms: int, n: int) -> int:
    if ms < 0:
        raise RenderError(f"cue {n + 1}: SubStation cannot hold a negative time ({ms} ms)")
    if ms > MAX_TIME_MS:
        raise RenderError(f"cue {n + 1}: SubStation cannot hold a time past 9:59:59.99 ({ms} ms)")
    return ms


# --- read-only views of the verbatim sections ---------------------------------------------------


def _section(track: Track, *names: str) -> dict[str, Any] | None:
    wanted = {n.lower() for n in names}
    return next((s for s in track.extras.get("sections", []) if s["name"].lower() in wanted), None)


def script_info(track: Track) -> dict[str, str]:
    """``[Script Info]`` as a dict (``;`` comment lines left out), e.g. ``PlayResX``, ``Title``."""
    section = _section(track, "[Script Info]")
    info: dict[str, str] = {}
    for line in section["lines"] if section else []:
        if line.strip() and not line.lstrip().startswith(";") and ":" in line:
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    return info


def styles(track: Track) -> dict[str, dict[str, str]]:
    """Each style by name, its fields named by the section's own Format line (values as written),
    e.g. ``styles(track)["Default"]["Fontsize"]``. The section text stays the one source of truth."""
    section = _section(track, "[V4+ Styles]", "[V4 Styles]", "[V4 Styles+]")
    result: dict[str, dict[str, str]] = {}
    fields: list[str] = []
    for line in section["lines"] if section else []:
        key, _, value = line.strip().partition(":")
        if key == "Format":
            fields = [f.strip() for f in value.split(",")]
        elif key == "Style" and fields:
            values = [v.strip() for v in value.split(",", len(fields) - 1)]
            style = dict(zip(fields, values))
            result[style.get("Name", values[0])] = style
    return result
