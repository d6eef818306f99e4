"""Small text measures the checks share: plain words, scripts, content length, tokens, tags.

Why here and not in ``layout``/``formats``: the checks need a few measures those modules do not
promise (script of each character, letters-only length for length ratios, the tag inventory of a
cue). Where the other modules hold the answer (``plain_text``, ``text_length``) it is used.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

# the one markup stripper of checks, units, reports and review, re-exported for the checks' callers
from localise.formats.markup import plain_text
from localise.layout import text_length

# --- lengths ---------------------------------------------------------------------------------

def display_length(text: str) -> int:
    """Characters as counted for line length and reading speed (``layout.text_length``: no markup,
    no line breaks), so checks and the line wrapper count alike."""
    return int(text_length(text))


# --- scripts -----------------------------------------------------------------------------------

@lru_cache(maxsize=65536)
def char_script(ch: str) -> str | None:
    """The writing system of one letter (``None`` for anything that is not a letter)."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    cp = ord(ch)
    if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9D:
        return "kana"
    if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FFFF or 0xF900 <= cp <= 0xFAFF:
        return "han"
    if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
        return "hangul"
    if 0x0E00 <= cp <= 0x0E7F:
        return "thai"
    if 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0xFB50 <= cp <= 0xFEFF:
        return "arabic"
    if 0x0400 <= cp <= 0x04FF:
        return "cyrillic"
    if 0x0590 <= cp <= 0x05FF:
        return "hebrew"
    if 0x0900 <= cp <= 0x097F:
        return "devanagari"
    if cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF or 0xFF21 <= cp <= 0xFF5A:
        return "latin"
    return "other"


#: The scripts a language is written in. Languages not listed are taken to be Latin-script.
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    "zh": frozenset({"han"}),
    "ja": frozenset({"han", "kana"}),
    "ko": frozenset({"hangul", "han"}),
    "th": frozenset({"thai"}),
    "ar": frozenset({"arabic"}),
    "fa": frozenset({"arabic"}),
    "ur": frozenset({"arabic"}),
    "he": frozenset({"hebrew"}),
    "ru": frozenset({"cyrillic"}),
    "uk": frozenset({"cyrillic"}),
    "hi": frozenset({"devanagari"}),
}


@lru_cache(maxsize=1024)
def base_lang(lang: str) -> str:
    """``pt-BR`` -> ``pt``; ``zh-Hans`` -> ``zh``."""
    return lang.replace("_", "-").split("-")[0].lower()


@lru_cache(maxsize=1024)
def scripts_of(lang: str) -> frozenset[str]:
    return LANGUAGE_SCRIPTS.get(base_lang(lang), frozenset({"latin"}))


def script_counts(text: str) -> Counter[str]:
    """How many letters of each script the text holds."""
    if text.isascii():  # the ASCII letters are the only ASCII characters of category L: Latin
        letters = sum(map(str.isalpha, text))
        return Counter({"latin": letters}) if letters else Counter()
    return Counter(s for s in map(char_script, text) if s is not None)


#: Languages written without spaces between words: tokens are characters.
UNSPACED = frozenset({"zh", "ja", "th", "lo", "km", "my"})


def content_length(text: str) -> int:
    """Letters and digits only: the measure length ratios are calibrated on (see calibrate.py).

    Punctuation and spaces are left out because languages punctuate and space differently.
    """
    # str.isalnum is exactly "category L* or N*" for every code point (checked over all of Unicode)
    return sum(map(str.isalnum, text))


_WORD = re.compile(r"\w+", re.UNICODE)


def tokens(text: str, lang: str) -> list[str]:
    """Lower-cased words; single letters for languages written without spaces."""
    if base_lang(lang) in UNSPACED:
        return [ch for ch in text.lower() if ch.isalnum()]  # isalnum == category L* or N*
    if text.isascii():  # lower-casing ASCII keeps every word a word
        return _WORD.findall(text.lower())
    return [w.lower() for w in _WORD.findall(text)]


# --- tags --------------------------------------------------------------------------------------

# VTT classes (``<c.yellow.bg_blue>``) hold no ``<``: a class that could run over the next tag's ``<``
# to the end of the text made every ``<x.`` of a long cue scan the rest of it (quadratic).
_HTML_OPEN_CLOSE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)((?:\.[^\s<>]*)?)[^<>]*?(/?)>")
_ASS_NAMES = (
    "alpha", "blur", "bord", "clip", "fade", "fad", "frx", "fry", "frz", "fax", "fay", "fscx", "fscy",
    "fsp", "fs", "fn", "fe", "iclip", "kf", "ko", "org", "move", "pos", "pbo", "shad", "xbord", "ybord",
    "xshad", "yshad", "an", "be", "fr", "a", "b", "c", "i", "k", "K", "p", "q", "r", "s", "t", "u",
)


def _ass_tag_name(raw: str) -> str:
    """``\\1c&H..&`` -> ``1c``; ``\\fs20`` -> ``fs``; ``\\i1`` -> ``i``."""
    m = re.match(r"(\d?)([a-zA-Z]+)", raw)
    if not m:
        return raw
    digit, letters = m.groups()
    for name in _ASS_NAMES:
        if letters.startswith(name):
            return digit + name
    return digit + letters


_ASS_BLOCK = re.compile(r"\{\\[^{}]*\}")


def ass_tags(text: str) -> list[str]:
    """Names of the override tags in ``{\\...}`` blocks, in order (``\\N``/``\\h`` are not tags)."""
    names: list[str] = []
    for block in _ASS_BLOCK.findall(text):
        for part in block[1:-1].split("\\")[1:]:
            if part:
                names.append(_ass_tag_name(part))
    return names


def html_tags(text: str) -> list[tuple[str, str]]:
    """``("open"|"close"|"self", name)`` for each HTML-like tag, in order (VTT classes dropped)."""
    out = []
    for m in _HTML_OPEN_CLOSE.finditer(text):
        slash, name, _cls, selfclose = m.groups()
        kind = "close" if slash else ("self" if selfclose else "open")
        out.append((kind, name.lower()))
    return out


def unbalanced(tags: list[tuple[str, str]]) -> list[str]:
    """Opening tags never closed and closing tags never opened (``<v>``/``<lang>`` need no close in VTT)."""
    stack: list[str] = []
    problems: list[str] = []
    for kind, name in tags:
        if kind == "open":
            stack.append(name)
        elif kind == "close":
            if name in stack:
                while stack:
                    top = stack.pop()
                    if top == name:
                        break
                    problems.append(f"<{top}> not closed")
            else:
                problems.append(f"</{name}> without <{name}>")
    problems.extend(f"<{n}> not closed" for n in stack if n not in ("v", "lang"))
    return problems
