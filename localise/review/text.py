"""Text helpers shared by the review store, translation memory and XLIFF: markup-free text and the
normalised key that makes a reviewed cue and a later run's translation unit compare equal."""

from __future__ import annotations

import re
import unicodedata

from localise.formats.markup import plain_text

_CJK = r"\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


def source_key(text: str) -> str:
    """Normalised source for exact translation-memory matching: NFKC, markup removed, line breaks
    and spaces next to CJK characters dropped (a unit joins a sentence's lines without them), other
    runs of space collapsed. A cue reviewed in episode 3 and the same line as a unit in episode 40
    give the same key."""
    text = unicodedata.normalize("NFKC", plain_text(text))
    text = _SPACE_NEAR_CJK.sub("", text)
    return " ".join(text.split())


_BREAK_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\n(?=[{_CJK}])")


def unwrap(text: str, lang: str | None = None) -> str:
    """A reviewed line as one plain run of words for reuse: markup removed and line breaks joined,
    since the pipeline wraps and restores markup itself. Lines join with a space, or with nothing in
    a language written without spaces (``lang``; without one, nothing between two CJK characters).
    Dialogue cues (``- a\n- b``) keep their break."""
    text = plain_text(text).replace("\r\n", "\n").strip()
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) > 1 and all(line.startswith(("-", "\u2013")) for line in lines):
        return "\n".join(lines)
    if lang is not None:
        from localise.layout import is_no_space_lang

        return ("" if is_no_space_lang(lang) else " ").join(lines)
    return " ".join(_BREAK_BETWEEN_CJK.sub("", "\n".join(lines)).split("\n"))
