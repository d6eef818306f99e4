"""The one entry point for subtitle files: bytes or paths in, :class:`Track` out, and back.

Sits above ``localise.formats`` (which never imports this module). Reading detects the
encoding (``formats.encoding``) and the format (content first, file extension as a tie-breaker),
parses, and collects every repair as a :class:`ParseWarning` on the track. Writing renders the
track's own format unless asked for another, converting markup between dialects.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from localise.errors import ParseError, UnknownFormatError
from localise.formats import EXTENSIONS, FORMAT_NAMES, format_module
from localise.formats.base import paused_gc
from localise.formats.encoding import decode_bytes_with_warnings
from localise.formats.markup import convert_markup
from localise.model import Track

__all__ = ["read_track", "parse_text", "render_track", "write_track", "guess_format"]


def guess_format(text: str) -> str:
    """``"srt" | "vtt" | "ass" | "ssa"`` from the content; :class:`UnknownFormatError` otherwise."""
    from localise.formats import ass, srt, vtt
    from localise.formats.base import normalise_newlines

    text = normalise_newlines(text[:200000])[0]
    if vtt.looks_like(text):
        return "vtt"
    sub = ass.looks_like(text)
    if sub:
        return sub
    head = text.lstrip("\ufeff \t\r\n")[:2000].lower()
    if head.startswith("<") and any(m in head for m in ("<html", "<!doctype", "<head", "<body", "<?xml", "<tt ", "<tt>", "<sami")):
        xml = any(m in head for m in ("<?xml", "<tt ", "<tt>", "<sami"))
        kind = "XML (TTML/SAMI are not supported)" if xml else "an HTML page"
        raise UnknownFormatError(f"this is {kind}, not an SRT, WebVTT or ASS subtitle track", None, 1)
    if srt.looks_like(text):
        return "srt"
    raise UnknownFormatError("not a subtitle track: no WEBVTT signature, no [Script Info]/[Events] section, no SRT timing line")


def _extension_format(name: str | None) -> str | None:
    return EXTENSIONS.get(Path(name).suffix.lower()) if name else None


def parse_text(text: str, *, format: str | None = None, name: str | None = None) -> Track:
    """Parse already-decoded subtitle text. ``format`` forces a reader; otherwise it is guessed."""
    if not text.strip("\ufeff \t\r\n"):
        raise ParseError("empty file", name)
    if format is not None and format not in FORMAT_NAMES:
        raise UnknownFormatError(f"unknown format {format!r}; expected one of {', '.join(FORMAT_NAMES)}", name)
    try:
        fmt = format or guess_format(text)
    except UnknownFormatError as exc:
        raise UnknownFormatError(exc.message, name, exc.line) from None
    module = format_module(fmt)
    with paused_gc():
        if fmt == "srt" and format is None and _extension_format(name) == "vtt":
            # a .vtt file without its WEBVTT line: read it as WebVTT (keeps '.' timestamps and settings)
            from localise.formats import vtt

            return vtt.parse(text, name, require_header=False)
        if fmt in ("ass", "ssa"):
            return module.parse(text, name, fmt)
        return module.parse(text, name)


def read_track(source: str | os.PathLike[str] | bytes, *, name: str | None = None, format: str | None = None) -> Track:
    """Read a subtitle file (a path) or its bytes into a :class:`Track`.

    Raises :class:`~localise.errors.ParseError` (or its subclasses ``EncodingError``,
    ``UnknownFormatError``) naming the file and, where it applies, the line.
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        name = name or str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ParseError("no such file", name) from None
        except IsADirectoryError:
            raise ParseError("is a folder, not a subtitle file", name) from None
    text, encoding, warnings = decode_bytes_with_warnings(data, name)
    track = parse_text(text, format=format, name=name)
    track.encoding = encoding
    track.warnings[:0] = warnings
    return track


def render_track(track: Track, format: str | None = None) -> str:
    """The text of ``track`` in its own format, or in ``format`` (markup converted)."""
    fmt = format or track.format
    if fmt not in FORMAT_NAMES:
        raise UnknownFormatError(f"unknown format {fmt!r}; expected one of {', '.join(FORMAT_NAMES)}")
    source_family = "ass" if track.format in ("ass", "ssa") else track.format
    target_family = "ass" if fmt in ("ass", "ssa") else fmt
    module = format_module(fmt)
    with paused_gc():
        if source_family != target_family:
            track = _converted(track, fmt)
        if fmt in ("ass", "ssa"):
            return module.render(track, fmt)
        return module.render(track)


def _converted(track: Track, fmt: str) -> Track:
    """The track with markup in ``fmt``'s dialect and the source format's extras left behind
    (cue ids and timings kept; what only the source format can say is dropped)."""
    from localise.formats import position

    regions = position.region_ids(track) if track.format == "vtt" else set()
    cues = []
    for cue in track.cues:
        extras: dict[str, str] = {}
        text = cue.text
        if fmt == "vtt":  # {\anN} at the start becomes cue settings
            text, settings = position.vtt_settings_from_an(text, track.format)
            if settings:
                extras["settings"] = settings
        text = convert_markup(text, track.format, fmt)
        if track.format == "vtt":  # cue settings become {\anN} (SRT players honour it too)
            an = position.an_from_vtt_settings(str(cue.extras.get("settings", "")), regions)
            if an != 2:
                text = f"{{\\an{an}}}" + text
        if fmt in ("srt", "vtt"):  # a blank line would end the cue there: drop empty lines
            text = "\n".join(line for line in text.split("\n") if line.strip())
        cues.append(replace(cue, text=text, extras=extras))
    return replace(track, cues=cues, format=fmt, extras={}, warnings=list(track.warnings))


def write_track(track: Track, path: str | os.PathLike[str], format: str | None = None) -> Path:
    """Write ``track`` as UTF-8 (no BOM) to ``path``; the format is ``format``, else the path's
    extension when it names one, else the track's own. Nothing is written if rendering fails."""
    out = Path(path)
    fmt = format or _extension_format(str(out)) or track.format
    text = render_track(track, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, out)
    return out
