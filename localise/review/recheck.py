"""Checks of a reviewer's edited line before it is saved: the pipeline's own quality checks, run on
the line inside its sentence (the cues around it), so a line is judged the same way whether a machine
or a person wrote it. Also the glossary terms a line contains."""

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


#: cues on each side of the edited one that the re-check sees: enough for the sentence it belongs to
CONTEXT_CUES = 4


def recheck(track: ReviewTrack, cue_index: int, text: str, *, glossary: Any | None = None,
            styles: dict[str, dict[str, Any]] | None = None,
            reviewed: dict[int, str] | None = None) -> list[dict[str, str]]:
    """Flags the pipeline's checks give ``text`` as cue ``cue_index`` of ``track`` — judged inside
    its sentence, as ``translate`` and ``check`` judge it (a term or number the sentence carries in
    the next cue is not missing). The neighbours keep their stored translations (``reviewed``
    overrides: lines reviewers already changed). No confidence: a person's line has no engine
    score. Timing is the source's, so no timing flag can come of an edit."""
    from localise.layout import style_for
    from localise.quality.checks import check_track

    fmt = track.format or "srt"
    lo, hi = max(0, cue_index - CONTEXT_CUES), min(len(track.cues), cue_index + CONTEXT_CUES + 1)
    window = track.cues[lo:hi]
    texts = [(reviewed or {}).get(lo + k, c.get("translation", "")) for k, c in enumerate(window)]
    texts[cue_index - lo] = text
    source = Track([Cue(c["start_ms"], c["end_ms"], c["source"]) for c in window], format=fmt)
    target = Track([Cue(c["start_ms"], c["end_ms"], t) for c, t in zip(window, texts)], format=fmt)
    style = style_for(track.language, (styles or {}).get(track.language))
    flags: list[list[Flag]] = check_track(source, target, src_lang=track.src_lang, tgt_lang=track.language,
                                          glossary=glossary, style=style, confidences=[None] * len(window))
    return [f.to_dict() for f in flags[cue_index - lo]]
