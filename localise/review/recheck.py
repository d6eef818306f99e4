"""Checks of a reviewer's edited line before it is saved: line length, line count, reading speed
and glossary — the pipeline's own quality checks run on a one-cue track, so a line is judged the
same way whether a machine or a person wrote it. Also the glossary terms a line contains."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from localise.model import Cue, Flag, Track
from localise.review.schema import ReviewTrack
from localise.review.text import plain_text


@functools.lru_cache(maxsize=64)
def _load_glossary(path: str, mtime_ns: int) -> Any:
    from localise.glossary import Glossary

    return Glossary.load(path)


def glossary_for(series: str, glossary_dir: Path | None) -> Any | None:
    """The series' glossary (``<dir>/<series>.csv`` or ``.tbx``), or ``None`` when there is none."""
    if glossary_dir is None:
        return None
    for ext in ("csv", "tbx"):
        path = Path(glossary_dir) / f"{series}.{ext}"
        if path.is_file():
            return _load_glossary(str(path.resolve()), path.stat().st_mtime_ns)
    return None


def glossary_terms(glossary: Any | None, source: str, language: str) -> list[dict[str, str]]:
    """Terms found in ``source`` with their ``language`` rendering, for the reviewer's eyes."""
    if glossary is None:
        return []
    terms = []
    for match in glossary.find(plain_text(source)):
        targets = getattr(match, "targets", {}) or {}
        terms.append({"term": match.term, "target": targets.get(language, "")})
    return terms


def recheck(track: ReviewTrack, cue_index: int, text: str, *, glossary: Any | None = None,
            styles: dict[str, dict[str, Any]] | None = None) -> list[dict[str, str]]:
    """Flags the pipeline's checks give ``text`` as cue ``cue_index`` of ``track`` (no confidence:
    a person's line has no engine score)."""
    from localise.layout import style_for

    cue = track.cues[cue_index]
    fmt = track.format or "srt"
    source = Track([Cue(cue["start_ms"], cue["end_ms"], cue["source"])], format=fmt)
    target = Track([Cue(cue["start_ms"], cue["end_ms"], text)], format=fmt)
    style = style_for(track.language, (styles or {}).get(track.language))
    try:
        from localise.quality.checks import check_track
    except ImportError:  # quality package not in this checkout yet: the layout rules alone
        return [f.to_dict() for f in _layout_flags(target.cues[0], track.language, style, glossary, source)]
    flags: list[list[Flag]] = check_track(source, target, src_lang=track.src_lang, tgt_lang=track.language,
                                          glossary=glossary, style=style, confidences=[None])
    return [f.to_dict() for f in flags[0]]


def _layout_flags(cue: Cue, lang: str, style: Any, glossary: Any | None, source: Track) -> list[Flag]:
    """Length, line count, reading speed (layout's style table) and glossary verification."""
    from localise.layout import text_length

    flags = []
    lines = plain_text(cue.text).split("\n")
    longest = max(text_length(line) for line in lines)
    if longest > style.max_chars_per_line or len(lines) > style.max_lines:
        flags.append(Flag("length", "major", f"{len(lines)} line(s), longest {longest} characters; "
                          f"allowed {style.max_lines} x {style.max_chars_per_line}"))
    seconds = max(cue.duration_ms, 1) / 1000
    cps = text_length(plain_text(cue.text)) / seconds
    if cps > style.max_cps:
        flags.append(Flag("reading-speed", "major", f"{cps:.1f} characters per second; allowed {style.max_cps}"))
    if glossary is not None:
        flags.extend(glossary.verify(plain_text(source.cues[0].text), plain_text(cue.text), lang))
    return flags
