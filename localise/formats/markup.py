"""Keep markup out of the words a translation engine sees, and put it back afterwards.

Dialects (``Track.format``): ``srt`` (HTML-like ``<i> <b> <u> <s> <font ...>`` plus ASS-style
``{\\an8}`` blocks that SRT players honour), ``vtt`` (any ``<...>`` tag — ``<c.x>``, ``<v Name>``,
``<ruby>``, ``<00:01.000>`` — and the entities ``&amp; &lt; &gt; &nbsp; &lrm; &rlm;``, which
become characters in the plain text), ``ass``/``ssa`` (override blocks ``{\\...}``, soft break
``\\n`` and hard space ``\\h``; text inside a ``{\\p1}`` drawing is not words).

The restore rule (documented because people will look at the results):

1. If the translated plain text equals the source plain text, the original text comes back.
2. Markup before the first word and after the last word is *whole-cue* markup (``{\\an8}``,
   ``<i>`` around the whole cue): it is put back at the very start / end, unchanged.
3. Every other span is anchored at its relative position inside its line (when source and
   translation have the same number of lines) or inside the whole text (when they do not).
   That position is scaled to the translation and snapped to the nearest word boundary: an
   opening tag to a word start, a closing tag to a word end, others to either. In scripts
   written without spaces (CJK, Thai, Lao, Khmer, Myanmar) every character boundary counts.
   So a tag that opens a line still opens the line, and ``我<i>真的</i>爱你`` ->
   ``I <i>really</i> love you``. Spans never swap order and an opened span never ends empty
   when a word is left to cover.
4. ``\\h``/``\\n`` (ASS) stand for a space in the plain text; when they land on a space of the
   translation they replace it.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

DIALECTS = ("srt", "vtt", "ass", "ssa")

_ASS_BLOCK = r"\{[^{}\n]*\}"
_SRT_TAGS = re.compile(r"</?(?:i|b|u|s|font|span|c|v|ruby|rt|lang)(?:[\s.][^<>\n]*)?>|" + _ASS_BLOCK, re.I)
_VTT_TOKENS = re.compile(r"<[^<>\n]*>|&(?:amp|lt|gt|nbsp|lrm|rlm|#\d{1,8}|#x[0-9a-fA-F]{1,8});")
_ASS_TOKENS = re.compile(_ASS_BLOCK + r"|\\[nh]")
_DRAWING = re.compile(r"\\p(\d+)")
_CLOSING_ASS = re.compile(r"^\{(?:\s*\\(?:[ibus]0|r[^\\}]*)\s*)+\}$")
_VTT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\u00a0": "&nbsp;", "\u200e": "&lrm;", "\u200f": "&rlm;"}


@dataclass
class _Token:
    raw: str
    plain: str  # what it contributes to the plain text ("" for tags, " " for \\h and \\n)
    markup: bool


@dataclass
class _Anchor:
    raw: str
    role: str  # "open", "close", "any"
    line: int  # line of the source plain text
    frac_line: float  # position inside that line, 0..1
    frac_all: float  # position inside the whole text body, 0..1
    space: bool  # stands for a space (\\h, \\n)


@dataclass
class Protected:
    """A cue text split into the words (``plain``) and the markup to put back (:meth:`restore`)."""

    plain: str
    dialect: str
    source: str
    prefix: str = ""
    suffix: str = ""
    anchors: list[_Anchor] = field(default_factory=list)
    lines: int = 1

    def restore(self, translated_plain: str) -> str:
        """``translated_plain`` with this text's markup put back (see the module doc for the rule)."""
        if translated_plain == self.plain:
            return self.source
        body = translated_plain
        escape = _escape_vtt if self.dialect == "vtt" else (lambda s: s)
        if not self.anchors:
            return self.prefix + escape(body) + self.suffix
        target_lines = body.split("\n")
        per_line = len(target_lines) == self.lines
        # absolute insertion points in ``body``
        line_starts = [0]
        for t in target_lines[:-1]:
            line_starts.append(line_starts[-1] + len(t) + 1)
        placed: list[tuple[int, _Anchor]] = []
        previous = 0
        previous_role = ""
        points = _Boundaries(body)  # every anchor searches the same body: index it once
        for anchor in self.anchors:
            if per_line:
                lo = line_starts[anchor.line]
                hi = lo + len(target_lines[anchor.line])
                frac = anchor.frac_line
            else:
                lo, hi, frac = 0, len(body), anchor.frac_all
            lo = max(lo, previous)
            hi = max(hi, lo)
            ideal = (line_starts[anchor.line] if per_line else 0) + frac * (
                len(target_lines[anchor.line]) if per_line else len(body)
            )
            strict = anchor.role == "close" and previous_role == "open"
            space = _nearest(points.spaces(), ideal, lo, hi) if anchor.space else None
            if space is not None:  # \h, \n take the place of a space of the translation
                placed.append((space, anchor))
                previous, previous_role = space + 1, anchor.role
                continue
            pos = _snap(points, ideal, lo, hi, anchor.role, previous if strict else None)
            placed.append((pos, anchor))
            previous, previous_role = pos, anchor.role
        out: list[str] = []
        cursor = 0
        for pos, anchor in placed:
            out.append(escape(body[cursor:pos]))
            if anchor.space and pos < len(body) and body[pos] == " ":
                pos += 1  # the \\h or \\n takes the place of the space
            out.append(anchor.raw)
            cursor = max(cursor, pos)
        out.append(escape(body[cursor:]))
        return self.prefix + "".join(out) + self.suffix


_VTT_ESCAPE_TABLE = str.maketrans(_VTT_ESCAPES)


def _escape_vtt(text: str) -> str:
    return text.translate(_VTT_ESCAPE_TABLE)


def _no_space_script(ch: str) -> bool:
    """Characters of scripts written without spaces between words: each is its own 'word'."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # CJK radicals, kana, CJK ideographs, punctuation
        or 0xAC00 <= o <= 0xD7AF  # Hangul syllables (spaced, but safe to split)
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x3FFFF
        or 0x0E00 <= o <= 0x0EFF  # Thai, Lao
        or 0x1000 <= o <= 0x109F  # Myanmar
        or 0x1780 <= o <= 0x17FF  # Khmer
    )


class _Boundaries:
    """The word boundaries of one text by role (and its spaces), computed once, kept sorted.

    Why: :meth:`Protected.restore` places every markup span of a cue in the same translated
    text; scanning that text for each span made a cue with many tags quadratic in its length.
    Lists per role (:func:`_all_boundaries`); lookups are binary searches (:func:`_nearest`).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._by_role: dict[str, list[int]] = {}
        self._spaces: list[int] | None = None

    def role(self, role: str) -> list[int]:
        if not self._by_role:
            self._by_role = _all_boundaries(self.text)
        return self._by_role[role]

    def spaces(self) -> list[int]:
        if self._spaces is None:
            self._spaces = [k for k, ch in enumerate(self.text) if ch == " "]
        return self._spaces


class _CharClasses(dict):
    """``str.translate`` table: each character to ``s`` (space), ``n`` (a script written without
    spaces, see :func:`_no_space_script`) or ``w`` (another word character); filled lazily."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        kind = "s" if ch.isspace() else "n" if _no_space_script(ch) else "w"
        self[cp] = kind
        return kind


_CHAR_CLASSES = _CharClasses()


def _all_boundaries(text: str) -> dict[str, list[int]]:
    """The positions in ``text`` where a span may be put, by role, in one pass over the text:
    ``open`` before a word, ``close`` after one, ``any`` either (or an end of the text). In scripts
    written without spaces every character boundary inside a run counts. A role without any
    position gets ``[0, len(text)]``."""
    classes = text.translate(_CHAR_CLASSES)
    n = len(text)
    opens: list[int] = []
    closes: list[int] = []
    anys: list[int] = []
    before = ""  # class of text[i - 1] ("" before the text)
    for i in range(n + 1):
        after = classes[i] if i < n else ""
        b_word = before in ("n", "w")
        a_word = after in ("n", "w")
        joint = before == "n" or after == "n" if before and after else False
        start = a_word and (not b_word or joint)
        end = b_word and (not a_word or joint)
        if start:
            opens.append(i)
        if end:
            closes.append(i)
        if start or end or i == 0 or i == n:
            anys.append(i)
        before = after
    return {"open": opens or [0, n], "close": closes or [0, n], "any": anys or [0, n]}


def _nearest(points: list[int], ideal: float, lo: int, hi: int) -> int | None:
    """The point of sorted ``points`` within ``[lo, hi]`` nearest to ``ideal`` (the smaller one on
    a tie), ``None`` when there is none: ``min(candidates, key=(distance, point))`` by bisection."""
    i = bisect.bisect_left(points, lo)
    j = bisect.bisect_right(points, hi)
    if i >= j:
        return None
    k = bisect.bisect_left(points, ideal, i, j)
    if k == i:
        return points[i]
    if k == j:
        return points[j - 1]
    below, above = points[k - 1], points[k]
    return below if ideal - below <= above - ideal else above


def _snap(points: _Boundaries, ideal: float, lo: int, hi: int, role: str, after: int | None) -> int:
    """Nearest boundary of the right kind to ``ideal`` within ``[lo, hi]`` (and past ``after``),
    else any boundary there, else ``lo``."""
    pos = _nearest(points.role(role), ideal, max(lo, after + 1) if after is not None else lo, hi)
    if pos is None:
        pos = _nearest(points.role("any"), ideal, lo, hi)
    return lo if pos is None else pos


def _role(raw: str, dialect: str) -> str:
    if raw.startswith("</"):
        return "close"
    if raw.startswith("<"):
        return "any" if raw[1:2].isdigit() else "open"
    if raw.startswith("{"):
        return "close" if _CLOSING_ASS.match(raw) else "open"
    return "any"


def tokenize(text: str, dialect: str) -> list[_Token]:
    """Split cue text into markup tokens and word tokens (see the module doc for each dialect)."""
    dialect = _dialect(dialect)
    pattern = {"srt": _SRT_TAGS, "vtt": _VTT_TOKENS, "ass": _ASS_TOKENS}[dialect]
    tokens: list[_Token] = []
    cursor = 0
    drawing = False

    def words(chunk: str) -> None:
        if chunk:
            tokens.append(_Token(chunk, "" if drawing else chunk, drawing))

    for m in pattern.finditer(text):
        words(text[cursor : m.start()])
        raw = m.group()
        cursor = m.end()
        if dialect == "vtt" and raw.startswith("&"):
            tokens.append(_Token(raw, html.unescape(raw), False))
        elif raw in ("\\n", "\\h"):
            tokens.append(_Token(raw, "" if drawing else " ", True))
        else:
            tokens.append(_Token(raw, "", True))
            if dialect == "ass":
                for level in _DRAWING.findall(raw):
                    drawing = level != "0"
    words(text[cursor:])
    return tokens


def _dialect(dialect: str) -> str:
    dialect = dialect.lower()
    if dialect == "ssa":
        return "ass"
    if dialect not in ("srt", "vtt", "ass"):
        raise ValueError(f"unknown markup dialect {dialect!r}; expected one of {DIALECTS}")
    return dialect


#: Characters without which a dialect's text holds no markup token (see the token patterns above).
_MARKUP_CHARS = {"srt": ("<", "{"), "vtt": ("<", "&"), "ass": ("{", "\\")}


def _has_markup(text: str, dialect: str) -> bool:
    """Whether ``text`` may hold a markup token; ``False`` means its words are ``text`` itself."""
    return any(ch in text for ch in _MARKUP_CHARS[dialect])


def protect(text: str, dialect: str) -> Protected:
    """Split ``text`` (in ``dialect``) into plain words and protected markup."""
    dialect = _dialect(dialect)
    if not _has_markup(text, dialect):  # the common cue: words only, nothing to anchor
        return Protected(plain=text, dialect=dialect, source=text, lines=text.count("\n") + 1)
    tokens = tokenize(text, dialect)
    plain = "".join(t.plain for t in tokens)
    # Whole-cue markup: markup tokens before the first / after the last visible character.
    first = next((k for k, t in enumerate(tokens) if not t.markup and t.plain.strip()), len(tokens))
    last = next((k for k in range(len(tokens) - 1, -1, -1) if not tokens[k].markup and tokens[k].plain.strip()), -1)
    head = [t for t in tokens[:first] if t.markup and not t.plain]
    tail = [t for t in tokens[last + 1 :] if t.markup and not t.plain] if last >= first else []
    if len(head) == len(tokens[:first]) and (last < first or len(tail) == len(tokens[last + 1 :])):
        prefix = "".join(t.raw for t in head)
        suffix = "".join(t.raw for t in tail)
        body_tokens = tokens[first : last + 1] if last >= first else []
    else:  # visible whitespace among the edge markup: treat everything as inner spans
        prefix = suffix = ""
        body_tokens = tokens
    body = "".join(t.plain for t in body_tokens)
    lines = body.split("\n")
    anchors: list[_Anchor] = []
    offset = 0
    line_no, line_start = 0, 0
    for t in body_tokens:
        if t.markup:
            in_line = offset - line_start
            length = len(lines[line_no]) or 1
            anchors.append(
                _Anchor(t.raw, _role(t.raw, dialect), line_no, min(in_line / length, 1.0), offset / (len(body) or 1), bool(t.plain))
            )
        for ch in t.plain:
            offset += 1
            if ch == "\n":
                line_no += 1
                line_start = offset
    return Protected(plain=plain, dialect=dialect, source=text, prefix=prefix, suffix=suffix, anchors=anchors, lines=len(lines))


def strip_markup(text: str, dialect: str) -> str:
    """The words of ``text`` without markup (hard line breaks kept as ``"\\n"``).

    Same as ``protect(text, dialect).plain`` without working out where the markup goes back."""
    dialect = _dialect(dialect)
    if not _has_markup(text, dialect):
        return text
    return "".join(t.plain for t in tokenize(text, dialect))


def plain_text(text: str, dialect: str | None = None) -> str:
    """The words of a cue: the one markup stripper that checks, units, reports and review share.

    ``dialect`` is the track's format (``srt``, ``vtt``, ``ass``/``ssa``); ``None`` (a line whose
    track format is unknown, e.g. a translator's text in the translation memory) reads it as SRT,
    which removes HTML-like tags and ``{\\...}`` override blocks, with ``\\N`` as a line break."""
    if dialect is None:
        return strip_markup(text.replace("\\N", "\n"), "srt")
    return strip_markup(text, dialect)


def plain_texts(texts: Sequence[str], dialect: str | None) -> list[str]:
    """:func:`plain_text` of every cue of a track. Why: most tracks hold no markup at all, and one
    scan of the joined text says so for 20,000 cues at once instead of a test per cue."""
    if dialect is not None:
        joined = "".join(texts)
        if not any(ch in joined for ch in _MARKUP_CHARS[_dialect(dialect)]):
            return list(texts)
    return [plain_text(t, dialect) for t in texts]


# --- conversion between dialects -------------------------------------------------------------

_HTML_TO_ASS = {"<i>": "{\\i1}", "</i>": "{\\i0}", "<b>": "{\\b1}", "</b>": "{\\b0}", "<u>": "{\\u1}", "</u>": "{\\u0}", "<s>": "{\\s1}", "</s>": "{\\s0}"}
_ASS_TO_HTML = {"i1": "<i>", "i0": "</i>", "b1": "<b>", "b0": "</b>", "u1": "<u>", "u0": "</u>", "s1": "<s>", "s0": "</s>"}
_ASS_TAG = re.compile(r"\\([ibus])(\d+)|\\(an\d)|\\([a-zA-Z]+)[^\\}]*")


def convert_markup(text: str, source: str, target: str) -> str:
    """``text`` from one markup dialect to another: italics, bold, underline and strike-out carry
    over; ``{\\an8}``-style positioning carries over between SRT and ASS; everything else a target
    cannot show is dropped. Plain characters are escaped as the target needs (``&`` in WebVTT)."""
    src, dst = _dialect(source), _dialect(target)
    if src == dst:
        return text
    if not _has_markup(text, src):  # one word token: what the loop below does with it
        return _escape_vtt(text) if dst == "vtt" else text.replace("\\N", "\n") if dst == "ass" else text
    out: list[str] = []
    for t in tokenize(text, src):
        if not t.markup:
            if dst == "vtt":
                out.append(_escape_vtt(t.plain))
            elif dst == "ass":  # an SRT with ASS breaks written literally: they meant a line break
                out.append(t.plain.replace("\\N", "\n"))
            else:
                out.append(t.plain)
            continue
        out.append(_convert_tag(t.raw, src, dst))
    return "".join(out)


def _convert_tag(raw: str, src: str, dst: str) -> str:
    if raw in ("\\n", "\\h"):
        return {"vtt": " " if raw == "\\n" else "&nbsp;", "srt": " " if raw == "\\n" else "\u00a0"}[dst]
    if raw.startswith("{"):  # ASS override block (in ASS or SRT text)
        if dst == "ass":
            return raw
        pieces = []
        for m in _ASS_TAG.finditer(raw):
            if m.group(1):
                html_tag = _ASS_TO_HTML.get(m.group(1) + ("0" if m.group(2) == "0" else "1"))
                if html_tag:
                    pieces.append(html_tag)
            elif m.group(3) and dst == "srt":
                pieces.append("{\\" + m.group(3) + "}")
        return "".join(pieces)
    if raw.startswith("<"):
        name = re.match(r"</?([a-zA-Z]+)", raw)
        simple = raw.lower() if name and name.group(1).lower() in ("i", "b", "u", "s") else None
        if simple is not None:
            simple = re.sub(r"^(</?[a-z])[^>]*>$", r"\1>", simple)
        if dst == "ass":
            return _HTML_TO_ASS.get(simple or "", "")
        if dst == "vtt":
            return simple if simple and simple not in ("<s>", "</s>") else ""
        return simple or ""
    return ""
