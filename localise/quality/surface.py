"""Surface slips a reviewer expects a QA tool to catch: the ``punctuation`` and ``spelling`` checks.

Why a module of its own: these look at the translation's characters and words only (Xbench and
Subtitle Edit catch the same), and they need language data (``localise/data/surface.toml``) and a
spelling dictionary rather than the source. Real slips in professional files: "Hi！" with a
full-width mark; "You affairs…" for "Your affairs…".

``punctuation`` (minor): full-width CJK punctuation in a target that is not written with it, doubled
spaces, a space before a mark the language never spaces (per-language data: French spaces « : ; ! ? »),
brackets and quotes that do not balance (apostrophes in don't, 'cause, students' are not quotes).

``spelling`` (minor): words not in the target language's Hunspell dictionaries (Debian ``hunspell-*``
packages, reached through Enchant by ``pyenchant``), with a suggestion (a known word one common
typo away, else the dictionary's own). Names are not misspellings: capitalised words inside a
sentence or called out ("Wanqing, wait!"), words of the series glossary, names and words the track
itself keeps using are skipped. Answers are cached per distinct word: a track repeats its words. Where no dictionary is
installed for the target language the check is unavailable: :func:`unavailable_checks` says so for
the report, and the check raises nothing.

Track-wide names reach the check when the caller shares the track with each cue: a ``track_memo``
dict on the :class:`~localise.quality.checks.CueContext`, the same object for every cue of one
``check_track`` call, holding ``"target_plain"`` (every cue's words). Without it, names at the
start of a sentence are known only from the glossary.
"""

from __future__ import annotations

import re
import threading
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from localise.errors import ConfigError
from localise.model import Flag
from localise.quality.text import base_lang, char_script, plain_text, scripts_of


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return tomllib.loads(resources.files("localise.data").joinpath("surface.toml").read_text(encoding="utf-8"))


def _norm(lang: str) -> str:
    return lang.replace("_", "-").lower()


def _layered(section: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """``section.default``, then the primary subtag's table, then the exact code's."""
    merged = dict(section.get("default") or {})
    lowered = {_norm(k): v for k, v in section.items()}
    for code in dict.fromkeys((base_lang(lang), _norm(lang))):
        merged.update(lowered.get(code) or {})
    return merged


# --- punctuation: language rules -----------------------------------------------------------------

#: Full-width and CJK punctuation: the FFxx forms of ASCII marks, the ideographic space, comma and
#: full stop, the CJK brackets 〈〉《》「」『』【】〔〕〖〗〘〙〚〛, the middle dot ・ and the half-width
#: CJK forms ｡｢｣､･. Not "…" nor "—": those are written in Latin text too.
FULLWIDTH = re.compile("[\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u3000-\u3003\u3008-\u3011\u3014-\u301f\u30fb]")


@dataclass(frozen=True)
class PunctuationRules:
    """What counts as a punctuation slip in one target language (from ``surface.toml``)."""

    fullwidth_ok: bool
    no_space_before: frozenset[str]
    brackets: tuple[tuple[str, str], ...]
    quotes: tuple[tuple[tuple[str, str], ...], ...]  # groups of alternative (open, close) spellings
    symmetric_quotes: tuple[str, ...]
    single_quote: bool
    inverted: tuple[tuple[str, str], ...]
    elisions: frozenset[str]
    #: matches wherever any rule could find something (most lines have no such place)
    trigger: re.Pattern[str]

    @property
    def quote_chars(self) -> frozenset[str]:
        chars = {ch for group in self.quotes for pair in group for ch in pair} | set(self.symmetric_quotes)
        return frozenset(chars | ({"'", "‘", "’"} if self.single_quote else set()))


def _pairs(items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        if len(item) != 2:
            raise ConfigError(f"localise/data/surface.toml: a pair is two characters, not {item!r}")
        out.append((item[0], item[1]))
    return tuple(out)


@lru_cache(maxsize=256)
def punctuation_rules(lang: str) -> PunctuationRules:
    """The punctuation conventions of ``lang`` (exact code, then primary subtag, then the default)."""
    d = _layered(_data()["punctuation"], lang)
    fullwidth_ok = base_lang(lang) in set(d.get("fullwidth_languages", ()))
    brackets = _pairs(d.get("brackets", ()))
    quotes = tuple(_pairs(group) for group in d.get("quotes", ()))
    symmetric = tuple(d.get("symmetric_quotes", ()))
    single_quote = bool(d.get("single_quote", False))
    inverted = _pairs(d.get("inverted", ()))
    no_space_before = frozenset(d.get("no_space_before", ""))
    marks = {ch for pair in brackets + inverted for ch in pair} | {ch for g in quotes for p in g for ch in p}
    marks |= set(symmetric) | ({"'", "‘", "’"} if single_quote else set())
    alternatives = ["  "]
    if marks:
        alternatives.append("[" + re.escape("".join(sorted(marks))) + "]")
    if no_space_before:
        alternatives.append(" [" + re.escape("".join(sorted(no_space_before))) + "]")
    if not fullwidth_ok:
        alternatives.append(FULLWIDTH.pattern)
    return PunctuationRules(
        fullwidth_ok=fullwidth_ok,
        no_space_before=no_space_before,
        brackets=brackets,
        quotes=quotes,
        symmetric_quotes=symmetric,
        single_quote=single_quote,
        inverted=inverted,
        elisions=frozenset(e.replace("’", "'").lower() for e in d.get("elisions", ())),
        trigger=re.compile("|".join(alternatives)),
    )


# --- punctuation: findings on a text ------------------------------------------------------------


#: What to write instead, where NFKC does not say (CJK marks with no compatibility mapping).
_LATIN_FOR = {"。": ".", "、": ",", "「": "“", "」": "”", "『": "‘", "』": "’", "【": "[", "】": "]",
              "《": "“", "》": "”", "〈": "‘", "〉": "’", "〔": "(", "〕": ")", "〖": "[", "〗": "]",
              "〘": "[", "〙": "]", "〚": "[", "〛": "]", "・": "·", "〃": '"', "\u3000": " ", "〜": "~",
              "〝": "“", "〞": "”", "〟": "”", "｡": ".", "､": ",", "｢": "“", "｣": "”", "･": "·"}


def _latin_for(ch: str) -> str:
    if ch in _LATIN_FOR:
        return _LATIN_FOR[ch]
    folded = unicodedata.normalize("NFKC", ch)
    return folded if folded != ch and folded.isascii() else ""


def _char_name(ch: str) -> str:
    return "IDEOGRAPHIC SPACE" if ch == "\u3000" else unicodedata.name(ch, f"U+{ord(ch):04X}")


def fullwidth_marks(text: str) -> list[str]:
    """The distinct full-width/CJK punctuation marks of ``text``, in order of first appearance."""
    return list(dict.fromkeys(FULLWIDTH.findall(text)))


_CJK_LETTERS = frozenset({"han", "kana", "hangul"})


def _has_cjk_letters(text: str) -> bool:
    return not text.isascii() and any(char_script(ch) in _CJK_LETTERS for ch in text if ord(ch) >= 0x1100)


_SPACE_RUN = re.compile(r" {2,}")
_WORD_END = re.compile(r"\S*$")
_WORD_START = re.compile(r"\S*")
_CONTEXT = 12  # characters of the words on each side shown in the reason


def doubled_spaces(text: str) -> list[str]:
    """Each place where two or more spaces stand between words (``"word  word"``), as written.

    The words around are read from at most :data:`_CONTEXT` characters on each side: a pattern that
    captured the whole word before each run retried it from every character of a long word
    (quadratic: 0.8 s for one 8,000-character cue)."""
    out = []
    for line in text.split("\n"):
        line = line.strip(" ")
        for m in _SPACE_RUN.finditer(line):
            before = _WORD_END.search(line, max(0, m.start() - _CONTEXT), m.start()).group()
            after = _WORD_START.match(line, m.end(), m.end() + _CONTEXT).group()
            out.append(before + m.group() + after)
    return out


_ELLIPSIS_START = re.compile(r"\.\.|\. \.")


def spaces_before(text: str, marks: frozenset[str]) -> list[str]:
    """Each ``"word ,"``: a space before one of ``marks`` after a word. Not an ellipsis (``"Wait ..."``,
    ``". . ."``), a decimal (``" .5"``), an emoticon or a mark that starts a word (``" .NET"``)."""
    if not marks or " " not in text:
        return []
    out = []
    for line in text.split("\n"):
        i = line.find(" ")
        while i != -1:
            j = i
            while j < len(line) and line[j] == " ":
                j += 1
            if 0 < i and j < len(line) and line[j] in marks:
                before, mark, after = line[i - 1], line[j], line[j + 1 : j + 2]
                word_before = before.isalnum() or before in "”\"’)]»"
                ends = not after or after.isspace() or after in "\"”’)]»" or (after in marks and mark != ".")
                ellipsis = mark == "." and _ELLIPSIS_START.match(line, j) is not None
                emoticon = mark in ":;" and after in ")(DPp"
                if word_before and ends and not ellipsis and not emoticon:
                    start = line.rfind(" ", 0, i) + 1
                    out.append(line[start:j + 1])
            i = line.find(" ", j)
    return out


def _is_letter(ch: str) -> bool:
    return ch.isalpha() or ch.isdigit()


@dataclass(frozen=True)
class Unmatched:
    """One mark that nothing balances: ``mark`` at ``pos``; ``opens``: an opener without its closer."""

    mark: str
    pos: int
    opens: bool


def _balance(text: str, open_: str, close: str) -> list[Unmatched]:
    """Openers and closers matched innermost first; what is left over."""
    stack: list[int] = []
    out: list[Unmatched] = []
    for i, ch in enumerate(text):
        if ch == open_:
            stack.append(i)
        elif ch == close:
            if stack:
                stack.pop()
            else:
                out.append(Unmatched(ch, i, False))
    out.extend(Unmatched(open_, i, True) for i in stack)
    return sorted(out, key=lambda u: u.pos)


_OPENS = "\"'“‘«„‚([{-–—¿¡"
_CLOSES = "'.,!?…;:\"”’»)]}"


def _single_quotes(text: str, elisions: frozenset[str]) -> list[Unmatched]:
    """Single quotes that are quotation marks and unbalanced. Apostrophes are told apart by their
    place in the word: inside it (don't) never counts; at its start ('cause, '90s) or its end
    (students', goin') it may close or open a quotation but is never reported left over."""
    events: list[tuple[int, bool, bool]] = []  # (position, opens, definite)
    n = len(text)
    skip: set[int] = set()
    for i, ch in enumerate(text):
        if ch not in "'‘’" or i in skip:
            continue
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < n else " "
        if _is_letter(prev) and _is_letter(nxt):
            continue  # don't, l'homme
        if not _is_letter(prev) and (prev.isspace() or prev in _OPENS) and not nxt.isspace():
            m = re.match(r"['‘’][^\W\d_]*['‘’]?", text[i:])
            word = (m.group(0) if m else "'").replace("‘", "'").replace("’", "'").lower()
            if word in elisions and len(word) > 2 and word.endswith("'"):
                skip.add(i + len(word) - 1)  # rock 'n' roll: both marks are apostrophes
                continue
            elided = nxt.isdigit() or word.rstrip("'") in elisions or (
                ch == "’" and "'" not in text and "‘" not in text)  # '90s, 'cause, ’cause in typographic text
            events.append((i, True, not elided))
        elif not _is_letter(nxt) and (_is_letter(prev) or prev in _CLOSES):
            if ch == "‘":
                continue
            word = re.search(r"[^\W\d_]+$", text[:i])
            possessive = prev in "sS" or bool(word and word.group(0).lower().endswith("in"))  # students', goin'
            events.append((i, False, not possessive))
    if not any(definite for _, _, definite in events):
        return []
    # Single quotes do not nest: a sure closer takes the latest sure opener (else the latest
    # elision); then the possessives may close what is still open; what is left of the sure marks
    # is unbalanced.
    open_sure: list[int] = []
    open_maybe: list[int] = []
    maybe_closers: list[int] = []
    out: list[Unmatched] = []
    for i, opens, definite in events:
        if opens:
            (open_sure if definite else open_maybe).append(i)
        elif not definite:
            maybe_closers.append(i)
        elif open_sure:
            open_sure.pop()
        elif open_maybe:
            open_maybe.pop()
        else:
            out.append(Unmatched(text[i], i, False))
    for i in list(open_sure):
        later = next((k for k in maybe_closers if k > i), None)
        if later is not None:
            maybe_closers.remove(later)
            open_sure.remove(i)
    out.extend(Unmatched(text[i], i, True) for i in open_sure)
    return sorted(out, key=lambda u: u.pos)


_EMOTICON = re.compile(r"(?<!\S)[:;]-?[()\[\]](?!\S)")


def unbalanced_marks(text: str, rules: PunctuationRules) -> list[Unmatched]:
    """Brackets, quotation marks and inverted marks of ``text`` that nothing balances."""
    out: list[Unmatched] = []
    plain = _EMOTICON.sub(lambda m: " " * len(m.group(0)), text) if ":" in text or ";" in text else text
    for o, c in rules.brackets:
        if o in plain or c in plain:
            out.extend(_balance(plain, o, c))
    for group in rules.quotes:
        if not any(ch in text for pair in group for ch in pair):
            continue
        best: list[Unmatched] | None = None
        for o, c in group:  # balanced when any one spelling used in the text balances
            if o in text or c in text:
                found = _balance(text, o, c)
                if best is None or len(found) < len(best):
                    best = found
        out.extend(best or [])
    for q in rules.symmetric_quotes:
        if text.count(q) % 2:  # one is left over: a first one in closing position closes an earlier quote
            first = text.find(q)
            closes = first > 0 and not text[first - 1].isspace() and (first + 1 == len(text) or not _is_letter(text[first + 1]))
            out.append(Unmatched(q, first, False) if closes else Unmatched(q, text.rfind(q), True))
    if rules.single_quote and ("'" in text or "‘" in text or "’" in text):
        out.extend(_single_quotes(text, rules.elisions))
    for o, c in rules.inverted:
        start = text.find(o)
        while start != -1:
            rest = text[start + 1 :]
            end = re.search(r"[.!?…]", rest)
            # a sentence going on into the next cue has no final mark yet: not unbalanced
            if end is not None and c not in rest[: end.end()]:
                out.append(Unmatched(o, start, True))
            start = text.find(o, start + 1)
    return sorted(out, key=lambda u: u.pos)


#: Quotation marks of any language, by pair, for asking whether the *source* leaves a quote open.
_ANY_QUOTES = (("“", "”"), ("「", "」"), ("『", "』"), ("«", "»"), ("„", "“"), ("﹁", "﹂"), ("﹃", "﹄"))


def open_quote(text: str) -> bool:
    """Whether ``text`` leaves a quotation open or closes one it did not open (any script)."""
    if text.count('"') % 2 or text.count("＂") % 2:
        return True
    for o, c in _ANY_QUOTES:
        if o in text or c in text:
            if o == "„":
                if text.count("„") != text.count("“") and text.count("“") != text.count("”"):
                    return True
            elif text.count(o) != text.count(c):
                return True
    return False


# --- the punctuation check ----------------------------------------------------------------------

def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split()) if text.strip() else text
    return "«" + (text if len(text) <= limit else text[: limit - 1] + "…") + "»"


def _fullwidth_reason(marks: list[str], lang: str) -> str:
    parts = []
    for ch in marks:
        instead = _latin_for(ch)
        parts.append(f"«{ch}» ({_char_name(ch).lower()}" + (f"; write «{instead}»)" if instead.strip() else ")"))
    return f"full-width (CJK) punctuation in the {lang} translation: " + ", ".join(parts)


def check_punctuation(ctx: Any) -> list[Flag]:
    """Full-width marks, doubled spaces, spaces before marks, unbalanced brackets and quotes."""
    text = ctx.target_plain
    rules = punctuation_rules(ctx.tgt_lang)
    if rules.trigger.search(text) is None:
        return []
    problems: list[str] = []
    if not rules.fullwidth_ok and not text.isascii() and not _has_cjk_letters(text):
        # with CJK letters in the line, `untranslated` says what is wrong
        marks = fullwidth_marks(text)
        if marks:
            problems.append(_fullwidth_reason(marks, ctx.tgt_lang))
    doubled = doubled_spaces(text)
    if doubled:
        problems.append("doubled space in " + ", ".join(f"«{d}»" for d in doubled[:3]))
    spaced = spaces_before(text, rules.no_space_before)
    if spaced:
        problems.append("space before punctuation in " + ", ".join(_quote(s) for s in spaced[:3]))
    unmatched = _unbalanced_in_cue(ctx, rules)
    if unmatched:
        problems.append("unbalanced " + ", ".join(
            f"«{u.mark}» ({'opened, never closed' if u.opens else 'closed, never opened'})" for u in unmatched[:3]))
    if not problems:
        return []
    return [ctx.flag("punctuation", "; ".join(problems))]


def _unbalanced_in_cue(ctx: Any, rules: PunctuationRules) -> list[Unmatched]:
    """Unbalanced marks of the cue that its sentence does not balance either.

    A quotation may run over cues (subtitle style guides close it only in its last cue), so an
    unbalanced quotation mark is forgiven where the source leaves one open too, where it opens a
    quotation in a cue whose sentence goes on into the next (no final mark), or where it closes
    a quotation the previous cue opened. Brackets have no such excuse."""
    text = ctx.target_plain
    found = unbalanced_marks(text, rules)
    if not found:
        return []
    if len(getattr(ctx, "unit_cues", ())) > 1:  # judged as one sentence too
        if "unbalanced" not in ctx.unit_memo:
            ctx.unit_memo["unbalanced"] = {u.mark for u in unbalanced_marks(ctx.unit_target, rules)}
        in_unit = ctx.unit_memo["unbalanced"]
        found = [u for u in found if u.mark in in_unit]
    quotes = rules.quote_chars
    if any(u.mark in quotes for u in found):
        source_open = open_quote(ctx.unit_source or ctx.source_plain)
        previous_open = False
        if ctx.previous is not None and any(not u.opens and u.mark in quotes for u in found):
            previous_text = plain_text(ctx.previous.text, ctx.target_format)
            previous_open = any(u.opens and u.mark in quotes for u in unbalanced_marks(previous_text, rules))
        goes_on = text.rstrip().rstrip("\"'”’»«“)]").rstrip()[-1:] not in _SENTENCE_END
        found = [u for u in found if u.mark not in quotes
                 or not (source_open or (u.opens and goes_on) or (previous_open and not u.opens))]
    return found


# --- spelling: dictionaries --------------------------------------------------------------------

_BROKER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _broker() -> Any:
    """Enchant's broker preferring Hunspell, or ``None`` where pyenchant/libenchant is missing."""
    try:
        import enchant
    except (ImportError, OSError):  # no pyenchant, or no libenchant-2 on the machine
        return None
    broker = enchant.Broker()
    try:
        broker.set_ordering("*", "hunspell,aspell,myspell")
    except Exception:  # an older Enchant without the setting: its own order
        pass
    return broker


def _candidates(lang: str) -> tuple[list[str], bool]:
    """Dictionary tags to try for ``lang`` and whether any one of them will do.

    A code with a region (``pt-BR``, ``en-GB``) wants that dictionary first (``pt_BR``); a bare
    code (``en``, ``pt``) is the language in any of its spellings, so every listed dictionary that
    is installed is used (en_US and en_GB: "colour" and "color" are both English)."""
    parts = lang.replace("_", "-").split("-")
    base = parts[0].lower()
    regional = len(parts) > 1 and len(parts[1]) == 2
    tags = [f"{base}_{parts[1].upper()}"] if regional else []
    table = {_norm(k): v for k, v in _data().get("spelling", {}).get("dictionaries", {}).items()}
    if _norm(lang) in table or base in table:
        preferred = list(table.get(_norm(lang), table.get(base, [])))
        if not preferred:
            return [], False  # listed without a dictionary: spelling does not apply (zh, ja, th...)
        tags += preferred
    tags.append(base)
    return list(dict.fromkeys(tags)), not regional


@lru_cache(maxsize=64)
def dictionary_tags(lang: str) -> tuple[str, ...]:
    """The installed dictionaries used for ``lang`` (``("en_US", "en_GB")``; empty: none)."""
    broker = _broker()
    if broker is None:
        return ()
    candidates, any_spelling = _candidates(lang)
    if not candidates:
        return ()
    with _BROKER_LOCK:
        found = [tag for tag in candidates if broker.dict_exists(tag)]
        if not found:
            base = candidates[-1]
            found = sorted(t for t in broker.list_languages() if t.split("_")[0].lower() == base)
    return tuple(found if any_spelling else found[:1])


def dictionary_tag(lang: str) -> str | None:
    """The first dictionary used for ``lang`` (``"en_US"``), or ``None``."""
    tags = dictionary_tags(lang)
    return tags[0] if tags else None


def spelling_available(lang: str) -> bool:
    """Whether a spelling dictionary is installed for ``lang``."""
    return bool(dictionary_tags(lang))


def unavailable_checks(tgt_lang: str) -> list[str]:
    """Checks of this module that cannot run for ``tgt_lang`` here (for ``checks_unavailable``)."""
    return [] if spelling_available(tgt_lang) else ["spelling"]


@lru_cache(maxsize=64)
def extra_words(lang: str) -> frozenset[str]:
    """Words right in ``lang`` that the dictionaries lack (``surface.toml`` ``[spelling.words]``:
    ``"*"`` for every language, then the primary subtag, then the exact code)."""
    table = {_norm(k): v for k, v in (_data().get("spelling", {}).get("words") or {}).items()}
    words: set[str] = set()
    for code in dict.fromkeys(("*", base_lang(lang), _norm(lang))):
        words.update(table.get(code) or ())
    return frozenset(words)


class Speller:
    """Hunspell dictionaries of one language, answers cached per distinct word (a track repeats
    its words). A word is right when any of the dictionaries, or the project's word list, knows it."""

    _MAX_CACHED = 200_000

    def __init__(self, tags: Sequence[str], dictionaries: Sequence[Any], words: Iterable[str] = ()) -> None:
        self.tags = tuple(tags)
        self.tag = " or ".join(self.tags)  # for reasons: "not in the en_US or en_GB dictionary"
        self._dicts = tuple(dictionaries)
        self._words = frozenset(w.lower() for w in words)
        self.scripts = scripts_of(self.tags[0].split("_")[0])
        #: without capitals a name looks like any word: shorter words of a caseless script are not checked
        self.caseless_min_letters = int(_data().get("spelling", {}).get("caseless_min_letters", 4))
        self._known: dict[str, bool] = {}
        self._status: dict[str, int] = {}
        self._fine: set[str] = set()  # the words whose status is FINE, for one superset test a line
        self._fine_pieces: set[str] = set()  # whitespace-separated pieces made only of FINE words
        self._suggested: dict[str, str | None] = {}
        self._near: dict[str, str | None] = {}
        self._lock = threading.Lock()  # Hunspell handles are not safe across threads

    def status(self, word: str) -> int:
        """:data:`FINE` (known, or never checked: one letter, all capitals, mixed case, another
        script), :data:`NAME_LIKE` (capitalised and unknown: a slip only where it starts a sentence
        and is no name) or :data:`UNKNOWN` (lower case and unknown). Cached per word."""
        found = self._status.get(word)
        if found is None:
            shape = _word_shapes(word)
            if len(word) < 2 or shape in ("upper", "mixed") or not _in_scripts(word, self.scripts):
                found = FINE
            elif not word.replace("'", "").replace("’", "").replace("-", "").isalpha():
                found = FINE  # a token of the quick pass with a digit or _ (3rd, x2): not a word
            elif len(word) < self.caseless_min_letters and word.upper() == word.lower():
                found = FINE  # a short word of a caseless script: as likely a name as a slip
            elif _known_word(self, word):
                found = FINE
            else:
                found = NAME_LIKE if shape == "title" else UNKNOWN
            if len(self._status) > self._MAX_CACHED:
                self._status.clear()
                self._fine.clear()
            self._status[word] = found
            if found == FINE:
                self._fine.add(word)
        return found

    def any_doubtful(self, words: Sequence[str]) -> bool:
        """Whether any of ``words`` is not :data:`FINE` (the common answer, no, in one set operation)."""
        if self._fine.issuperset(words):
            return False
        status = self._status
        for word in words:
            found = status.get(word)
            if found is None:
                found = self.status(word)
            if found:
                return True
        return False

    def line_fine(self, text: str) -> bool:
        """Whether every word of ``text`` is :data:`FINE`. Whitespace-separated pieces already seen
        fine ("you?", "me.") answer in one set operation; the others are split into words."""
        pieces = text.split()
        fine = self._fine_pieces
        if fine.issuperset(pieces):
            return True
        for piece in pieces:
            if piece not in fine:
                if self.any_doubtful(TOKENS.findall(piece)):
                    return False
                if len(fine) > self._MAX_CACHED:
                    fine.clear()
                fine.add(piece)
        return True

    def known(self, word: str) -> bool:
        answer = self._known.get(word)
        if answer is None:
            with self._lock:
                if len(self._known) > self._MAX_CACHED:
                    self._known.clear()
                answer = word.lower() in self._words or any(d.check(word) for d in self._dicts)
                self._known[word] = answer
        return answer

    def near_miss(self, word: str) -> str | None:
        """A known word one common typo away: two letters swapped (teh, recieve), a letter typed
        twice or once too few (carrta, busines), a vowel for another (definately), a letter too many.
        About 10 lookups a letter: cheap enough for every unknown word, unlike the dictionary's own
        search (tens of milliseconds, most of it spent on words that are no typo at all)."""
        if word in self._near:
            return self._near[word]
        lower = word.lower()
        n = len(lower)
        candidates: list[str] = [lower[:i] + lower[i + 1] + lower[i] + lower[i + 2:] for i in range(n - 1)]
        candidates += [lower[:i] + lower[i + 1:] for i in range(1, n) if lower[i] == lower[i - 1]]
        candidates += [lower[:i] + lower[i] + lower[i:] for i in range(n)]
        candidates += [lower[:i] + v + lower[i + 1:] for i in range(n) if lower[i] in _VOWELS for v in _VOWELS
                       if v != lower[i]]
        candidates += [lower[:i] + lower[i + 1:] for i in range(n)]
        found = None
        for candidate in dict.fromkeys(candidates):
            if len(candidate) > 1 and candidate != lower and self.known(candidate):
                found = candidate
                break
        if found is not None and word[:1].isupper():
            found = found[:1].upper() + found[1:]
        if len(self._near) > self._MAX_CACHED // 10:
            self._near.clear()
        self._near[word] = found
        return found

    def suggestion(self, word: str, *, search: bool = True) -> str | None:
        """:meth:`near_miss`, else (``search``) the first dictionary's first suggestion."""
        found = self.near_miss(word)
        if found is not None or not search or len(word) > 30:
            return found
        if word not in self._suggested:
            with self._lock:
                if len(self._suggested) > self._MAX_CACHED // 10:
                    self._suggested.clear()
                offered = self._dicts[0].suggest(word)
                self._suggested[word] = offered[0] if offered else None
        return self._suggested[word]


_VOWELS = "aeiouy"


_SPELLERS_LOCK = threading.Lock()


@lru_cache(maxsize=32)
def _speller_by_tags(tags: tuple[str, ...], lang_words: frozenset[str]) -> Speller:
    with _SPELLERS_LOCK:
        return Speller(tags, [_broker().request_dict(tag) for tag in tags], lang_words)


@lru_cache(maxsize=64)
def speller_for(lang: str) -> Speller | None:
    """The cached :class:`Speller` of ``lang``, or ``None`` where no dictionary is installed."""
    tags = dictionary_tags(lang)
    return _speller_by_tags(tags, extra_words(lang)) if tags else None


# --- spelling: words and names -----------------------------------------------------------------

#: A word: letters, with inner apostrophes or hyphens (don't, l'homme, well-known); not next to
#: a digit or another word character (3rd, x2), nor after an apostrophe ('cause is an elision).
WORD = re.compile(r"(?<![\w'’])[^\W\d_]+(?:['’\-][^\W\d_]+)*(?!\w)")
#: The quick pass: word-character runs (twice as fast as :data:`WORD`); a line whose tokens are
#: all known words has nothing for :data:`WORD` to find, so most lines stop here.
TOKENS = re.compile(r"\w+(?:['’\-]\w+)*")
_SENTENCE_END = frozenset(".!?…。！？")
_OPENING = " \t\n\"'“”‘’«»„‚¿¡([{-–—‐>"


_INITIALS = re.compile(r"(?:[^\W\d_]\.)+")


@lru_cache(maxsize=64)
def abbreviations(lang: str) -> frozenset[str]:
    """Abbreviations after which a capital does not start a sentence ("M. Burgundy", "Mr. Lin")."""
    table = {_norm(k): v for k, v in (_data().get("spelling", {}).get("abbreviations") or {}).items()}
    return frozenset(table.get(_norm(lang)) or table.get(base_lang(lang)) or ())


def _sentence_start(text: str, start: int, abbreviated: frozenset[str] = frozenset()) -> bool:
    """Whether the word at ``start`` begins a sentence (or the cue): it follows a final mark that
    is not the full stop of an abbreviation (``abbreviated``) or of initials (J.T.)."""
    before = text[:start].rstrip(_OPENING)
    if not before:
        return True
    if before[-1] not in _SENTENCE_END:
        return False
    if before[-1] == ".":
        last = before.rsplit(None, 1)[-1].lstrip(_OPENING)
        if last in abbreviated or _INITIALS.fullmatch(last):
            return False
    return True


def _word_shapes(word: str) -> str:
    """``lower`` (also a caseless script), ``title``, ``upper`` or ``mixed`` (McDonald, iPhone)."""
    if word.islower() or word.upper() == word.lower():  # caseless scripts (Arabic, Thai) count as lower
        return "lower"
    if word.isupper():
        return "upper"
    core = word.replace("'", "").replace("’", "")
    parts = [p for p in re.split(r"[-]", core) if p]
    if all(p[:1].isupper() and (p[1:].islower() or not p[1:]) for p in parts):
        return "title"
    if core[:1].isupper() and core[1:].islower():
        return "title"
    return "mixed"


def _in_scripts(word: str, scripts: frozenset[str]) -> bool:
    if word.isascii():
        return "latin" in scripts
    return all(char_script(ch) in scripts for ch in word if ch.isalpha())


def track_names(texts: Iterable[str], lang: str, *, min_repeats: int = 2) -> frozenset[str]:
    """Names of a track: words capitalised inside a sentence, or capitalised ``min_repeats`` times
    at the start of one and never written in lower case (Wanqing, Wanqing, ... in a series)."""
    scripts = scripts_of(lang)
    abbreviated = abbreviations(lang)
    inside: set[str] = set()
    capitalised: Counter[str] = Counter()
    lower: set[str] = set()
    for text in texts:
        if not text:
            continue
        for m in WORD.finditer(text):
            word = m.group(0)
            shape = _word_shapes(word)
            if shape == "lower":
                lower.add(word)
            elif shape == "title" and _in_scripts(word, scripts):
                if _sentence_start(text, m.start(), abbreviated):
                    capitalised[word] += 1
                else:
                    inside.add(word)
    repeated = {w for w, k in capitalised.items() if k >= min_repeats and w.lower() not in lower}
    return frozenset(inside | repeated)


def track_vocabulary(texts: Iterable[str], *, min_cues: int = 3) -> frozenset[str]:
    """Words (as written) of a track whose lower-case form occurs in ``min_cues`` cues or more.

    Why: a slip of the keyboard is rarely made the same way three times, while the words a
    series keeps using and the dictionary lacks (matcha, dango, a sect's name) are its vocabulary."""
    per_cue: Counter[str] = Counter()
    forms: dict[str, set[str]] = {}
    for text in texts:
        if not text:
            continue
        seen = set(WORD.findall(text))
        for word in seen:
            forms.setdefault(word.lower(), set()).add(word)
        per_cue.update({w.lower() for w in seen})
    return frozenset(form for low, k in per_cue.items() if k >= min_cues for form in forms[low])


def track_word_sets(texts: Iterable[str], lang: str, *, min_repeats: int = 2, min_cues: int = 3) -> frozenset[str]:
    """``track_names(texts, lang, min_repeats=...) | track_vocabulary(texts, min_cues=...)`` (those two stay
    the plain reference forms, pinned to this by a property test), what
    the spelling check asks once per track, at a fraction of their cost: each distinct line is read
    once (a track repeats its lines; its count stands for its repeats), each distinct word's shape
    is worked out once, and only capitalised words are looked at where they stand."""
    lines = Counter(t for t in texts if t)
    per_cue: Counter[str] = Counter()  # lower-case form -> cues holding it
    words: set[str] = set()
    words_of: list[tuple[str, int, set[str]]] = []
    for text, times in lines.items():
        seen = set(WORD.findall(text))
        words |= seen
        words_of.append((text, times, seen))
        lows = {w.lower() for w in seen}
        if times == 1:
            per_cue.update(lows)
        else:
            for low in lows:
                per_cue[low] += times
    scripts = scripts_of(lang)
    shape = {}
    for w in words:
        k = _word_shapes(w)
        shape[w] = "other" if k == "title" and not _in_scripts(w, scripts) else k
    lower = {w for w, k in shape.items() if k == "lower"}
    titled = frozenset(w for w, k in shape.items() if k == "title")
    abbreviated = abbreviations(lang)
    inside: set[str] = set()
    capitalised: Counter[str] = Counter()
    for text, times, seen in words_of:
        if titled.isdisjoint(seen):
            continue
        for m in WORD.finditer(text):
            word = m.group(0)
            if word in titled:
                if _sentence_start(text, m.start(), abbreviated):
                    capitalised[word] += times
                else:
                    inside.add(word)
    repeated = {w for w, k in capitalised.items() if k >= min_repeats and w.lower() not in lower}
    forms: dict[str, set[str]] = {}
    for w in words:
        forms.setdefault(w.lower(), set()).add(w)
    vocabulary = {form for low, k in per_cue.items() if k >= min_cues for form in forms[low]}
    return frozenset(inside | repeated | vocabulary)


@lru_cache(maxsize=16)
def glossary_words(glossary: Any, lang: str) -> frozenset[str]:
    """Words of the series glossary that are right in a ``lang`` line: every word of its terms for
    ``lang``, and the capitalised words (names) of its terms for any language."""
    words: set[str] = set()
    if glossary is None:
        return frozenset()
    for entry in getattr(glossary, "entries", ()):
        own = glossary.target_for(entry.targets, lang)
        if own:
            words.update(m.group(0) for m in WORD.finditer(own))
        for target in entry.targets.values():
            for m in WORD.finditer(target or ""):
                if _word_shapes(m.group(0)) == "title":
                    words.add(m.group(0))
    return frozenset(words)


FINE, NAME_LIKE, UNKNOWN = 0, 1, 2


@dataclass(frozen=True)
class Misspelling:
    word: str
    suggestion: str | None


#: Accented capitals often written without their accent (French and Spanish typography): Ecoutez, Etre.
_ACCENTED_CAPITALS = {"A": "ÀÂÁÄ", "E": "ÉÈÊË", "I": "ÎÏÍ", "O": "ÔÓÖ", "U": "ÙÛÚÜ", "C": "Ç", "N": "Ñ"}
_LIGATURES = (("oe", "œ"), ("Oe", "Œ"), ("ae", "æ"), ("Ae", "Æ"))


def _known_word(speller: Speller, word: str) -> bool:
    if speller.known(word):
        return True
    # an accented capital written plain (Ecoutez for Écoutez), oe for œ (coeur for cœur)
    if any(speller.known(accented + word[1:]) for accented in _ACCENTED_CAPITALS.get(word[:1], "")):
        return True
    if any(a in word for a, _ in _LIGATURES):
        joined = word
        for a, b in _LIGATURES:
            joined = joined.replace(a, b)
        if speller.known(joined):
            return True
    # well-known: each part; y'know, l’homme: parts of two letters or more
    parts = [p for p in re.split(r"[-'’]", word) if len(p) > 1]
    return len(parts) > 1 and all(speller.known(p) for p in parts)


_VOCATIVE = frozenset(",!?")
_POSSESSIVE = re.compile(r"['’]s$|(?<=s)['’]$")


def misspellings(text: str, lang: str, *, names: Iterable[str] = (), speller: Speller | None = None,
                 suggest: bool = True) -> list[Misspelling]:
    """Words of ``text`` the dictionary of ``lang`` does not know, names aside (in order, once each).

    Checked: lower-case words, and capitalised words that start a sentence. Skipped: words of one
    letter, all-capital words (acronyms, shouting), mixed case (McDonald), capitalised words inside
    a sentence or called out at its start ("Wanqing, wait!"): names; words in ``names``; words in
    another script than the language's.
    """
    speller = speller or speller_for(lang)
    if speller is None or speller.line_fine(text):
        return []
    names = names if isinstance(names, (set, frozenset)) else frozenset(names)
    abbreviated = abbreviations(lang)
    out: dict[str, Misspelling] = {}
    for m in WORD.finditer(text):
        word = m.group(0)
        status = speller.status(word)
        if status == FINE or word in out or word in names or _POSSESSIVE.sub("", word) in names:
            continue  # Mingxuan's: the name's possessive
        if status == NAME_LIKE and (not _sentence_start(text, m.start(), abbreviated)
                                    or text[m.end():m.end() + 1] in _VOCATIVE):
            continue  # a name inside a sentence, or one called out ("Wanqing, wait!", "Howie!")
        out[word] = Misspelling(word, speller.suggestion(word) if suggest else None)
    return list(out.values())


# --- confusions: right words in the wrong slot --------------------------------------------------

@dataclass(frozen=True)
class Confusion:
    word: str
    suggest: str
    next: frozenset[str]
    after: frozenset[str]
    final: bool


@lru_cache(maxsize=64)
def _confusion_trigger(lang: str) -> re.Pattern[str] | None:
    """Matches wherever a rule of ``lang`` could fire (a word of the rule, then one of its next words)."""
    rules = confusion_rules(lang)
    if not rules:
        return None
    alternatives = [rf"\b{re.escape(r.word)}\s+(?:{'|'.join(map(re.escape, sorted(r.next)))})(?![\w'’])" for r in rules]
    return re.compile("|".join(alternatives), re.IGNORECASE)


@lru_cache(maxsize=64)
def _confusion_probe(lang: str) -> re.Pattern[str] | None:
    """Finds the first word of any rule of ``lang`` in any case (a line without one needs no rule)."""
    words = {r.word for r in confusion_rules(lang)}
    shortest = sorted(w for w in words if not any(o != w and o in w for o in words))  # "you" covers "your"
    return re.compile("|".join(map(re.escape, shortest)), re.IGNORECASE) if shortest else None


@lru_cache(maxsize=64)
def confusion_rules(lang: str) -> tuple[Confusion, ...]:
    table = {_norm(k): v for k, v in (_data().get("confusions") or {}).items()}
    rows = table.get(_norm(lang)) or table.get(base_lang(lang)) or []
    return tuple(Confusion(r["word"].lower(), r["suggest"], frozenset(w.lower() for w in r["next"]),
                           frozenset(w.lower() for w in r.get("after", ())), bool(r.get("final", False)))
                 for r in rows)


_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|[^\w\s]")
_CLAUSE_MARKS = frozenset(".,;:!?…-–—\"“”«»()")


def confusions(text: str, lang: str) -> list[tuple[str, str]]:
    """``(as written, suggested)`` for each rule of ``lang`` that fires ("You affairs" -> "Your affairs")."""
    trigger = _confusion_trigger(lang)
    if trigger is None or trigger.search(text) is None:
        return []
    rules = confusion_rules(lang)
    toks = _TOKEN.findall(text.replace("’", "'"))
    out = []
    for i, tok in enumerate(toks[:-1]):
        low = tok.lower()
        for rule in rules:
            if low != rule.word or toks[i + 1].lower() not in rule.next:
                continue
            prev = toks[i - 1].lower() if i else ""
            if i and prev not in _CLAUSE_MARKS and prev not in rule.after:
                continue
            if rule.final and i + 2 < len(toks) and toks[i + 2] not in _CLAUSE_MARKS:
                continue
            fixed = rule.suggest[:1].upper() + rule.suggest[1:] if tok[:1].isupper() else rule.suggest
            out.append((f"{tok} {toks[i + 1]}", f"{fixed} {toks[i + 1]}"))
    return out


# --- the spelling check -------------------------------------------------------------------------

def _names_for(ctx: Any) -> frozenset[str]:
    names = glossary_words(ctx.glossary, ctx.tgt_lang) if ctx.glossary is not None else frozenset()
    track_memo = getattr(ctx, "track_memo", None)
    if isinstance(track_memo, dict) and "target_plain" in track_memo:
        if "spelling_names" not in track_memo:  # once per track, on its first doubtful word
            texts = track_memo["target_plain"]
            found = track_word_sets(texts, ctx.tgt_lang, min_repeats=int(ctx.thresholds["spelling_name_repeats"]),
                                    min_cues=int(ctx.thresholds["spelling_vocabulary_cues"]))
            # the glossary's words joined in too: one set per track, not a union per doubtful line
            track_memo["spelling_names"] = found | names
        names = track_memo["spelling_names"]
    return names


def _letters(text: str) -> str:
    return "".join(filter(str.isalnum, text.casefold()))


def check_spelling(ctx: Any) -> list[Flag]:
    """Words the target language's dictionary does not know; a word in the wrong slot (``confusions``)."""
    text = ctx.target_plain
    if not text.strip():
        return []
    flags = []
    probe = _confusion_probe(ctx.tgt_lang)
    if probe is not None and probe.search(text):
        slips = confusions(text, ctx.tgt_lang)
        if slips:
            flags.append(ctx.flag("spelling", "wrong word? " + ", ".join(f"«{a}» → «{b}»" for a, b in slips),
                                  case="confusion"))
    speller = speller_for(ctx.tgt_lang)
    if speller is None or speller.line_fine(text):
        return flags
    if _letters(text) == _letters(ctx.source_plain):
        return flags  # the source line left as it is: `untranslated` says so, not a spelling slip
    found = misspellings(text, ctx.tgt_lang, names=_names_for(ctx), speller=speller, suggest=False)
    if not found:
        return flags
    th = ctx.thresholds
    words = sum(1 for m in WORD.finditer(text) if len(m.group(0)) > 1)
    max_words = int(th["spelling_max_words"])
    # Most of the line unknown: another language or garbled output, not typos. No suggestions
    # then: the dictionary's search costs ~40 ms a word, fine for a slip, not for a garbled track.
    garbled = len(found) > words * float(th["spelling_garbled_share"])
    if garbled and len(found) > 1:
        listed = ", ".join(f"«{m.word}»" for m in found[:max_words]) + ("…" if len(found) > max_words else "")
        flags.append(ctx.flag("spelling", f"{len(found)} of {words} words are not in the {speller.tag} dictionary "
                                          f"({listed}): wrong language or garbled text?"))
        return flags
    # the dictionary's own search only where the line is plainly in the language
    search = len(found) <= words * float(th["spelling_search_share"])
    parts = []
    for m in found[:max_words]:
        hint = None if garbled else speller.suggestion(m.word, search=search)
        parts.append(f"«{m.word}»" + (f" (did you mean «{hint}»?)" if hint else ""))
    more = f" and {len(found) - max_words} more" if len(found) > max_words else ""
    flags.append(ctx.flag("spelling", f"not in the {speller.tag} dictionary: " + ", ".join(parts) + more))
    return flags


__all__ = [
    "FULLWIDTH", "Misspelling", "PunctuationRules", "Speller", "Unmatched", "check_punctuation", "check_spelling",
    "confusions", "dictionary_tag", "dictionary_tags", "doubled_spaces", "extra_words", "fullwidth_marks", "glossary_words", "misspellings",
    "open_quote", "punctuation_rules", "track_vocabulary", "abbreviations", "spaces_before", "speller_for", "spelling_available", "track_names",
    "track_word_sets",
    "unavailable_checks", "unbalanced_marks",
]
