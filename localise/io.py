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
from localise.formats.base import paused_gc, refuse_times
from localise.formats.limits import DEFAULT_LIMITS, InputLimits, check_file_size, check_text_size
from localise.formats.encoding import decode_bytes_with_warnings
from localise.formats.markup import convert_markup
from localise.model import Track

__all__ = ["read_track", "parse_text", "render_track", "write_track", "guess_format", "check_writable", "InputLimits"]


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


def parse_text(text: str, *, format: str | None = None, name: str | None = None, limits: InputLimits | None = None) -> Track:
    """Parse already-decoded subtitle text. ``format`` forces a reader; otherwise it is guessed.
    ``limits`` (default :data:`~localise.formats.limits.DEFAULT_LIMITS`) bound the text's size,
    its cue count and each cue's length: :class:`~localise.errors.InputTooLargeError` past them."""
    limits = limits or DEFAULT_LIMITS
    check_text_size(text, name, limits)
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

            return vtt.parse(text, name, require_header=False, limits=limits)
        if fmt in ("ass", "ssa"):
            return module.parse(text, name, fmt, limits=limits)
        return module.parse(text, name, limits=limits)


def read_track(
    source: str | os.PathLike[str] | bytes,
    *,
    name: str | None = None,
    format: str | None = None,
    limits: InputLimits | None = None,
) -> Track:
    """Read a subtitle file (a path) or its bytes into a :class:`Track`.

    Raises :class:`~localise.errors.ParseError` (or its subclasses ``EncodingError``,
    ``UnknownFormatError``, ``InputTooLargeError``) naming the file and, where it applies, the line.
    ``limits`` (default :data:`~localise.formats.limits.DEFAULT_LIMITS`): a file over
    ``max_file_bytes`` is refused before it is read.
    """
    limits = limits or DEFAULT_LIMITS
    if isinstance(source, (bytes, bytearray)):
        check_file_size(len(source), name, limits)
        data = bytes(source)
    else:
        path = Path(source)
        name = name or str(path)
        data = _read_bounded(path, name, limits)
    text, encoding, warnings = decode_bytes_with_warnings(data, name)
    del data  # the text is all that is needed from here on
    track = parse_text(text, format=format, name=name, limits=limits)
    track.encoding = encoding
    track.warnings[:0] = warnings
    return track


def _read_bounded(path: Path, name: str, limits: InputLimits) -> bytes:
    """The file's bytes, refused (``InputTooLargeError``) past ``limits.max_file_bytes`` before they
    are read; the read itself stops one byte past the limit (a growing file, a pipe, ``/dev/zero``)."""
    try:
        with path.open("rb") as fh:
            check_file_size(os.fstat(fh.fileno()).st_size, name, limits)
            data = fh.read(limits.max_file_bytes + 1)
    except FileNotFoundError:
        raise ParseError("no such file", name) from None
    except IsADirectoryError:
        raise ParseError("is a folder, not a subtitle file", name) from None
    check_file_size(len(data), name, limits)
    return data


def check_writable(track: Track, format: str | None = None, *, name: str | None = None) -> None:
    """Refuse, before any work is done on ``track``, what rendering it as ``format`` (default: its
    own) would refuse whatever the words: times the format cannot hold (negative; past SubStation's
    9:59:59.99). Raises :class:`~localise.errors.RenderError` naming the file and the cue."""
    fmt = format or track.format
    if fmt not in FORMAT_NAMES:
        raise UnknownFormatError(f"unknown format {fmt!r}; expected one of {', '.join(FORMAT_NAMES)}", name)
    name = name or track.source_name
    if fmt in ("ass", "ssa"):
        from localise.formats import ass

        ass.refuse_unwritable_times(track, fmt, name)
    else:
        refuse_times(track, "SRT" if fmt == "srt" else "WebVTT", name=name)


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
