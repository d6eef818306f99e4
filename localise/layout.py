"""Layout of translated text: the style table per language, line wrapping, character counts.

Why a module of its own: units, the glossary and quality checks all need the same notion of what a
"character", a "word boundary" and a "line" are for a language; they import it from here so the
line that is wrapped is the line that is measured.

Line breaking:

* space-separated scripts (Latin, Cyrillic, Korean Hangul, Arabic...) break at spaces only;
* Chinese and Japanese break between any two characters, never inside a run of Latin letters or
  digits, and follow kinsoku shori: no line starts with closing punctuation (``，。」）…`` and
  small kana) and no line ends with opening punctuation (``「（《``);
* Thai has no spaces between words: it breaks at spaces and at word boundaries found by
  PyThaiNLP's ``newmm`` segmenter (dictionary-based maximal matching, bundled dictionary, works
  offline) — never inside a word.

Text is never truncated: text that does not fit ``max_lines`` lines of ``max_chars_per_line`` is
laid out over ``max_lines`` (over-long) lines and left for the quality checks to flag.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from localise.errors import ConfigError

__all__ = [
    "Style",
    "style_for",
    "load_style_table",
    "wrap",
    "text_length",
    "is_cjk",
    "is_no_space_lang",
    "join_pieces",
    "join_all",
    "split_dialogue",
    "break_atoms",
    "join_atoms",
    "break_quality",
]

# --------------------------------------------------------------------------------------------
# Scripts and punctuation

_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width and half-width forms
    (0x20000, 0x3FFFF),  # extensions B..
)

#: Languages written without spaces between words *or* sentences: pieces join with "".
_NO_SPACE_LANGS = frozenset({"zh", "ja", "yue", "wuu", "cmn", "lzh", "gan", "hak", "nan"})

#: Kinsoku: characters that may not start a line (closing brackets, punctuation, small kana...).
NO_LINE_START = frozenset(
    ")]}）］｝〕〉》」』】〙〗〟’”｠»"
    "、。，．・：；？！‼⁇⁈⁉…‥〜～ー"
    "ヽヾゝゞ々〻ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    ",.!?:;%"
)
#: Kinsoku: characters that may not end a line (opening brackets and quotes).
NO_LINE_END = frozenset("([{（［｛〔〈《「『【〘〖〝‘“｟«")

#: Punctuation after which a line break or a cue boundary reads naturally.
STRONG_PUNCT = frozenset("。！？!?.…；;‼⁇⁈⁉")
WEAK_PUNCT = frozenset("，、,：:—–")

#: Words a line should not end on (a noun is not separated from its article), by language.
_NO_LINE_END_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"a", "an", "the"}),
    "es": frozenset({"el", "la", "los", "las", "un", "una", "unos", "unas"}),
    "pt": frozenset({"o", "a", "os", "as", "um", "uma", "uns", "umas"}),
    "fr": frozenset({"le", "la", "les", "un", "une", "des", "l'", "d'"}),
    "it": frozenset({"il", "lo", "la", "i", "gli", "le", "un", "uno", "una"}),
    "de": frozenset({"der", "die", "das", "ein", "eine", "einen", "einem", "einer"}),
}

#: A dialogue line: a hyphen, en dash or em dash, then optional space, then not a digit
#: (so "-5 degrees" is not taken for a speaker turn).
_DIALOGUE_LINE = re.compile(r"^([-‐‑–—][ \t\u00a0]*)(?![\d])(?=\S)")

_MARKUP = re.compile(r"<[A-Za-z/][^<>]*>|\{\\[^{}]*\}")


def is_cjk(ch: str) -> bool:
    """True for Chinese/Japanese characters and CJK punctuation (not Hangul: Korean uses spaces)."""
    cp = ord(ch)
    if cp < 0x2E80:  # below the first range: Latin, Cyrillic, Thai, Hangul Jamo...
        return False
    if 0x4E00 <= cp <= 0x9FFF:  # the common case: a unified ideograph
        return True
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_thai(ch: str) -> bool:
    return 0x0E00 <= ord(ch) <= 0x0E7F


def _base_lang(lang: str) -> str:
    return lang.replace("_", "-").split("-")[0].lower()


def is_no_space_lang(lang: str) -> bool:
    """Languages whose sentences join without a space (Chinese, Japanese)."""
    return _base_lang(lang) in _NO_SPACE_LANGS


def join_pieces(a: str, b: str) -> str:
    """Join two pieces of text (lines, cue texts): no space where either side is CJK, else one space."""
    a, b = a.rstrip(), b.lstrip()
    if not a:
        return b
    if not b:
        return a
    if is_cjk(a[-1]) or is_cjk(b[0]):
        return a + b
    return a + " " + b


def join_all(pieces: Iterable[str]) -> str:
    """``join_pieces`` over many pieces in one pass: the same text as folding them one by one
    (``join_pieces(join_pieces(a, b), c)``...), without copying the text joined so far once per
    piece (a cue of thousands of lines joined piece by piece is quadratic in its length)."""
    out: list[str] = []  # the text so far; out[-1] is one piece (never only whitespace)
    for piece in pieces:
        b = piece.lstrip()
        if not out:
            if b:
                out.append(b)
            continue
        out[-1] = out[-1].rstrip()
        if b:
            out.append(b if is_cjk(out[-1][-1]) or is_cjk(b[0]) else " " + b)
    return "".join(out)


def split_dialogue(lines: list[str]) -> list[tuple[str, str]] | None:
    """Speaker turns of a cue's lines, as ``(dash, text)``, or ``None`` when the cue is not dialogue.

    A cue is dialogue when its first line starts with a dash, or when a later line does
    (the "first speaker without dash" convention; that speaker's dash is ``""``). A line without a
    dash after a dash line continues that speaker (a wrapped turn).
    """
    lines = [ln.strip() for ln in lines if ln.strip()]
    dashed = [_DIALOGUE_LINE.match(ln) for ln in lines]
    if not any(dashed):
        return None
    turns: list[tuple[str, list[str]]] = []
    for ln, m in zip(lines, dashed):
        if m:
            turns.append((m.group(1), [ln[m.end():].strip()]))
        elif not turns:
            turns.append(("", [ln]))
        else:
            turns[-1][1].append(ln)
    return [(dash, join_all(pieces)) for dash, pieces in turns]


# --------------------------------------------------------------------------------------------
# Counting


def text_length(text: str) -> int:
    """Characters as counted for line length and reading speed.

    Spaces and punctuation count (as in the Netflix guides); line breaks, markup tags
    (``<i>``, ``{\\an8}``), combining marks (Thai vowel and tone marks, accents written as
    combining characters) and zero-width format characters do not.
    """
    if "<" in text or "{" in text:  # every markup pattern starts with one of these
        text = _MARKUP.sub("", text)
    if text.isascii():  # no combining mark or format character in ASCII
        return len(text) - text.count("\n") - text.count("\r")
    return len(text.translate(_UNCOUNTED))


class _Uncounted(dict):
    """``str.translate`` table that deletes what :func:`text_length` does not count, filled lazily."""

    def __missing__(self, cp: int) -> int | None:
        ch = chr(cp)
        out = None if ch in "\r\n" or unicodedata.category(ch) in ("Mn", "Me", "Cf") else cp
        self[cp] = out
        return out


_UNCOUNTED = _Uncounted()


# --------------------------------------------------------------------------------------------
# Style table


@dataclass(frozen=True)
class Style:
    """Layout limits for one target language (see ``localise/data/styles.toml``)."""

    max_chars_per_line: int = 42
    max_lines: int = 2
    max_cps: float = 17
    min_duration_ms: int = 833
    max_duration_ms: int = 7000
    min_gap_ms: int = 83
    #: hard ceiling, a multiple of max_cps and max_chars_per_line: the quality checks flag a cue
    #: over a limit as minor, and as major only past limit x ceiling
    ceiling: float = 1.3


_STYLE_FIELDS = {f.name for f in fields(Style)}


@lru_cache(maxsize=None)
def _packaged_table() -> dict[str, Any]:
    data = resources.files("localise").joinpath("data/styles.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def load_style_table(path: str | Path | None = None) -> dict[str, Any]:
    """The packaged style table, or a TOML file of the same shape (``[default]``, ``[languages.X]``)."""
    if path is None:
        return _packaged_table()
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read style table: {exc}") from exc


def _apply(style: Style, values: Mapping[str, Any], where: str) -> Style:
    picked: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            continue  # a nested table (audience variant) is not a field
        if key not in _STYLE_FIELDS:
            raise ConfigError(f"{where}: unknown style field {key!r} (known: {', '.join(sorted(_STYLE_FIELDS))})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{where}: {key} must be a non-negative number, not {value!r}")
        if key == "ceiling" and value < 1:
            raise ConfigError(f"{where}: ceiling must be at least 1 (a multiple of the limits), not {value!r}")
        picked[key] = float(value) if key in ("max_cps", "ceiling") else int(value)
    return replace(style, **picked)


def _lookup(table: Mapping[str, Any], lang: str) -> tuple[str, Mapping[str, Any]] | None:
    languages = {k.lower(): (k, v) for k, v in table.get("languages", {}).items()}
    aliases = {k.lower(): v for k, v in table.get("aliases", {}).items()}
    for key in (lang.lower(), str(aliases.get(lang.lower(), "")).lower(), _base_lang(lang)):
        if key and key in languages:
            return languages[key]
    return None


def style_for(lang: str, overrides: Mapping[str, Any] | None = None, *, audience: str | None = None) -> Style:
    """The style for ``lang``: the packaged table, then ``overrides``.

    ``overrides`` is either flat (``{"max_cps": 15}``: applies to this language) or shaped like the
    table (``{"default": {...}, "languages": {"en": {...}}}``), so a ``[style]`` section of a config
    file can be passed as it is. ``audience="children"`` picks a ``[languages.X.children]`` table.
    Unknown languages get ``[default]``: 42 characters, 2 lines, 17 CPS.
    """
    table = _packaged_table()
    style = _apply(Style(), table.get("default", {}), "styles.toml [default]")
    layers: list[tuple[str, Mapping[str, Any]]] = []
    found = _lookup(table, lang)
    if found:
        layers.append((f"styles.toml [languages.{found[0]}]", found[1]))
    if overrides:
        if "default" in overrides or "languages" in overrides:
            extra = [k for k in overrides if k not in ("default", "languages", "aliases")]
            if extra:
                raise ConfigError(f"style overrides: unknown keys {extra}")
            layers.insert(0, ("style overrides [default]", overrides.get("default", {})))
            found_o = _lookup(overrides, lang)
            if found_o:
                layers.append((f"style overrides [languages.{found_o[0]}]", found_o[1]))
        else:
            layers.append(("style overrides", overrides))
    for where, values in layers:
        style = _apply(style, values, where)
        if audience:
            variant = values.get(audience)
            if isinstance(variant, Mapping):
                style = _apply(style, variant, f"{where} [{audience}]")
    if style.max_chars_per_line < 1 or style.max_lines < 1 or style.max_cps <= 0:
        raise ConfigError(f"style for {lang!r}: line length, lines and CPS must be positive: {style}")
    if style.min_duration_ms > style.max_duration_ms:
        raise ConfigError(f"style for {lang!r}: min_duration_ms > max_duration_ms")
    return style


# --------------------------------------------------------------------------------------------
# Breaking text into atoms (unbreakable pieces) with the separators between them


def _thai_words(chunk: str) -> list[str]:
    """Thai word segmentation with PyThaiNLP ``newmm`` (maximal matching over its bundled dictionary)."""
    from pythainlp.tokenize import word_tokenize  # lazy: ~1 s import

    return [w for w in word_tokenize(chunk, engine="newmm", keep_whitespace=False) if w]


def _glue(pieces: list[str]) -> list[str]:
    """Attach kinsoku characters: closing punctuation to the piece before, opening to the piece after."""
    out: list[str] = []
    pending_open = ""
    for piece in pieces:
        # pending_open holds only opening marks, so the test below reads the new piece alone: over
        # pending_open too it was quadratic in a run of opening marks (15 s for 9,600 of 「)
        opening_only = all(ch in NO_LINE_END for ch in piece)
        piece = pending_open + piece
        pending_open = ""
        if out and piece[0] in NO_LINE_START:
            out[-1] += piece
        elif opening_only:
            pending_open = piece
        else:
            out.append(piece)
    if pending_open:
        if out:
            out[-1] += pending_open
        else:
            out.append(pending_open)
    return out


def _split_chunk(chunk: str) -> list[str]:
    """A space-free chunk into atoms: CJK characters one by one, Thai words, other runs whole."""
    if chunk.isascii():  # no CJK, no Thai: one atom
        return [chunk]
    has_cjk = any(is_cjk(ch) for ch in chunk)
    has_thai = any(_is_thai(ch) for ch in chunk)
    if not has_cjk and not has_thai:
        return [chunk]
    pieces: list[str] = []
    run = ""
    run_kind = ""
    for ch in chunk:
        kind = "cjk" if is_cjk(ch) else "thai" if _is_thai(ch) else "other"
        if kind == "cjk":
            if run:
                pieces.extend(_thai_words(run) if run_kind == "thai" else [run])
                run, run_kind = "", ""
            pieces.append(ch)
        elif kind == run_kind or not run:
            run += ch
            run_kind = kind
        else:
            pieces.extend(_thai_words(run) if run_kind == "thai" else [run])
            run, run_kind = ch, kind
    if run:
        pieces.extend(_thai_words(run) if run_kind == "thai" else [run])
    return _glue(pieces)


def join_atoms(atoms: list[str], seps: list[str]) -> str:
    """``atoms[0] + seps[0] + atoms[1] + ...`` (the text back, whitespace runs collapsed)."""
    if not seps:
        return atoms[0] if atoms else ""
    if all(s == " " for s in seps):
        return " ".join(atoms)
    return atoms[0] + "".join(s + a for s, a in zip(seps, atoms[1:]))


def break_atoms(text: str, lang: str | None = None) -> tuple[list[str], list[str]]:
    """Unbreakable atoms of ``text`` and the separators between them (``" "`` or ``""``).

    ``len(seps) == len(atoms) - 1``. Joining ``atoms[i] + seps[i] + ...`` gives the text back with
    whitespace runs collapsed. A break between atoms drops the separator.
    """
    if text.isascii():  # no CJK, no Thai: every space-free chunk is one atom
        atoms = text.split()
        return atoms, [" "] * (len(atoms) - 1)
    atoms: list[str] = []
    seps: list[str] = []
    for chunk in text.split():
        sub = _split_chunk(chunk)
        if not sub:
            continue
        if atoms:
            seps.append(" ")
        atoms.append(sub[0])
        for piece in sub[1:]:
            seps.append("")
            atoms.append(piece)
    return atoms, seps


_CLOSING = "".join(sorted(NO_LINE_START - STRONG_PUNCT - WEAK_PUNCT))


@lru_cache(maxsize=65536)  # words recur: one series wraps a few thousand distinct atoms many times over
def break_quality(atom: str, lang: str | None = None) -> float:
    """How good a line break after ``atom`` is: >0 after punctuation, <0 after an article."""
    last = atom[-1]
    # look through closing quotes/brackets: 走吧。」 ends a sentence
    stripped = atom.rstrip(_CLOSING)
    last = stripped[-1] if stripped else last
    if last in STRONG_PUNCT:
        return 1.0
    if last in WEAK_PUNCT:
        return 0.6
    if atom.lower() in _NO_LINE_END_WORDS.get(_base_lang(lang or ""), ()):
        return -1.0
    return 0.0


# --------------------------------------------------------------------------------------------
# Wrapping


def _best_lines(atoms: list[str], seps: list[str], n: int, limit: int, lang: str) -> tuple[tuple[float, float], list[str]]:
    """Split atoms into exactly ``n`` lines, minimising (overflow, imbalance - break quality).

    Dynamic programming over break points, linear-ish in the number of atoms whatever the length
    of the text (a cue may hold a whole script): the first line starts at atom 0 (O(atoms)); the
    last line must end at the last atom, so only that one state is computed (O(atoms)); a middle
    line's states are filled by divide and conquer (O(atoms log atoms)), which is exact here
    because a line's cost is a convex function of its length (``(len - target)² - bonus(end)``,
    overflow ``max(0, len - limit)``): the best start of a line never moves left when its end
    moves right, so each half of the ends only searches its half of the starts."""
    m = len(atoms)
    lens = [text_length(a) for a in atoms]
    seplens = [len(s) for s in seps]
    # prefix[i] = length of atoms[0..i) joined with their separators, counted to the start of atom i
    prefix = [0] * (m + 1)
    for i in range(m):
        prefix[i + 1] = prefix[i] + lens[i] + (seplens[i] if i < m - 1 else 0)
    # a line of atoms a..b-1 is end[b] - prefix[a] long (its last separator is not on the line)
    end = [prefix[b] - (seplens[b - 1] if 0 < b < m else 0) for b in range(m + 1)]
    total = end[m]
    target = total / n
    bonus = [break_quality(atoms[i], lang) * 0.12 * target**2 for i in range(m)]  # ~a third of a line
    inf = (float("inf"), float("inf"))
    # dp[k][b]: best cost of putting atoms[0..b) on k lines; back[k][b]: where its last line starts
    dp: list[list[tuple[float, float]]] = [[inf] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    dp[0][0] = (0.0, 0.0)

    def cost(k: int, a: int, b: int) -> tuple[float, float]:
        """Atoms[0..a) on k - 1 lines, then atoms a..b-1 as line k."""
        ln = end[b] - prefix[a]
        score = (ln - target) ** 2 - (bonus[b - 1] if b < m else 0.0)  # a break after atoms[b-1]
        if k == 1 and n > 1 and ln > target:  # prefer a bottom-heavy pyramid: a long first line costs a little
            score += 0.5
        prev = dp[k - 1][a]
        return (prev[0] + (ln - limit if ln > limit else 0), prev[1] + score)

    for k in range(1, n + 1):
        first_b, last_b = (m, m) if k == n else (k, m - (n - k))  # line k ends after atom b-1
        # line k starts at atom k-1 at the earliest, at the last end of line k-1 at the latest
        pending = [(first_b, last_b, k - 1, 0 if k == 1 else last_b - 1)]
        while pending:
            lo, hi, a_lo, a_hi = pending.pop()
            if lo > hi:
                continue
            b = (lo + hi) // 2
            best, arg = inf, a_lo
            for a in range(a_lo, min(a_hi, b - 1) + 1):  # the leftmost best start, as a full scan finds it
                c = cost(k, a, b)
                if c < best:
                    best, arg = c, a
            dp[k][b], back[k][b] = best, arg
            pending.append((lo, b - 1, a_lo, arg))
            pending.append((b + 1, hi, arg, a_hi))
    lines: list[str] = []
    b = m
    for k in range(n, 0, -1):
        a = back[k][b]
        parts = [atoms[a]]
        for i in range(a + 1, b):
            parts.append(seps[i - 1] + atoms[i])
        lines.append("".join(parts))
        b = a
    lines.reverse()
    return dp[n][m], lines


def wrap(text: str, lang: str, style: Style) -> str:
    """Lay ``text`` out in at most ``style.max_lines`` balanced lines; never drops a character.

    Existing line breaks are re-flowed, except in dialogue cues (``"- a\\n- b"``) where each
    speaker keeps a line of their own. Text that fits one line stays on one line.
    """
    raw_lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if not raw_lines:
        return ""
    turns = split_dialogue(raw_lines) if len(raw_lines) > 1 else None
    if turns and len(turns) > 1:
        return "\n".join(" ".join((dash + body).split()) for dash, body in turns)
    para = join_all(raw_lines)
    atoms, seps = break_atoms(para, lang)
    if not atoms:
        return para
    one_line = join_atoms(atoms, seps)
    limit = style.max_chars_per_line
    if text_length(one_line) <= limit or style.max_lines <= 1 or len(atoms) == 1:
        return one_line
    best: list[str] = [one_line]
    for n in range(2, min(style.max_lines, len(atoms)) + 1):
        (overflow, _), lines = _best_lines(atoms, seps, n, limit, lang)
        best = lines
        if overflow == 0:
            break
    return "\n".join(best)
