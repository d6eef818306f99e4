"""Meaning checks from a bilingual lexicon: does the translation say what the source says?

Why lexical: surface checks (length ratios, scripts, numbers) miss a fluent translation of the
right length that drops a clause, belongs to another cue, or adds a sentence. A dictionary
(``localise.quality.lexicon``) says which target words may render each source word; a sentence
whose source content words find no rendering, or whose translation's words no source word
accounts for, needs a reviewer. Engine-independent, offline, and cheap: every distinct source
clause is segmented once (``segment``: jieba's dictionary, compiled) and every distinct translation tokenised once per process.

The signals:

- :func:`adequacy` ``(source, target, src, tgt, glossary) -> Adequacy`` for one sentence: which
  source content words are covered (a gloss, a glossary term, a transliterated name or a number
  found in the translation) and which translation content words are accounted for.
- :func:`omission_signal`, :func:`addition_signal`: the lexical halves of ``omission`` and
  ``addition``; ``checks.check_omission``/``check_addition`` combine them with the length ratio.
- :func:`analyse_track` ``(sources, targets, ...) -> TrackMeaning``: ``misalignment`` per sentence
  (a translation accounted for clearly better by a neighbouring source within ±30 sentences, or a
  run shifted by some positions) and track-level findings (the whole file shifted) — one finding,
  not a flag on every cue. Memoised per track, so the per-cue check and the report share it.
- :func:`check_pivot` checks the English hop of a zh->en->X pivot against the source.

Precision over recall (a flag is a request for a reviewer's time): professional subtitles
condense, so a sentence is flagged only when much is missing in absolute *and* relative terms.
Thresholds are data (``thresholds.toml``: ``meaning_*``).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from localise.model import Flag
from localise.quality import idioms, segment
from localise.quality.lexicon import Lexicon, dangling_words, function_words, key_maker, load_lexicon, lexicon_source
from localise.quality.text import base_lang
from localise.quality.thresholds import over_defaults

# --- source side (Chinese) -----------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9A-Za-z]+")
_NUMERALS = frozenset("〇零一二三四五六七八九十百千万亿两半俩仨0123456789")
_DETERMINERS = frozenset("这那每哪一两几某各整")  # + a measure word: 这辆, 一个, 每个 are function words
_SPACED_WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)*")


class SourceWord(NamedTuple):
    """A content word of the source: its place, its glosses' keys, its characters' keys."""

    text: str
    start: int
    end: int
    keys: frozenset[str]  # keys of the word's own glosses (empty when the lexicon lacks it)
    char_keys: frozenset[str]  # keys of its characters' glosses (back-off; empty for one character)
    number: bool  # a numeral (matched by any number in the translation)


@dataclass(frozen=True, slots=True)  # no __dict__: one per distinct text, many per track
class SourceInfo:
    text: str
    words: tuple[SourceWord, ...]  # start/end relative to their Han run; add ``offsets[i]`` for the text
    keys: frozenset[str]  # every key any content word may be rendered by
    has_number: bool
    offsets: tuple[int, ...] = ()  # per word, where its run starts in ``text``
    #: per word, the first word of the set phrase (idiom, proverb) it belongs to, or -1; ``()``
    #: when the text holds none (see localise.quality.idioms)
    idiom_of: tuple[int, ...] = ()




def _chinese_run(run: str, lex: Lexicon, function: frozenset[str]) -> tuple[tuple[SourceWord, ...], frozenset[str]]:
    """(content words, every key the run may be rendered by): a function word is never counted
    as omitted, but what it may be rendered by ("very" for 很, "again" for 又) is accounted for."""
    out = []
    pos = 0
    fkeys: set[str] = set()
    entry = _WORD_FACTS.get(id(lex))
    if entry is None or entry[0] is not lex:  # another lexicon at a reused id: start afresh
        entry = _WORD_FACTS[id(lex)] = (lex, {})
    known = entry[1]
    for word in segment.cut(run):
        start, pos = pos, pos + len(word)
        facts = known.get(word)
        if facts is None:
            facts = known[word] = _source_word_facts(word, lex, function)
        if facts is _SKIP:
            continue
        if type(facts) is frozenset:  # a function word: what it may be rendered by
            fkeys.update(facts)
            continue
        keys, char_keys, number = facts
        out.append(SourceWord(word, start, pos, keys, char_keys, number))
    return tuple(out), frozenset(fkeys.union(*(w.keys for w in out), *(w.char_keys for w in out)))


#: id(lexicon) -> source word -> its facts (see _source_word_facts): a word ("合同", "你") stands in
#: many runs, its glosses and parts are looked up once per pass
_WORD_FACTS: dict[int, tuple[Lexicon, dict[str, Any]]] = {}
_SKIP: Any = object()


def _source_word_facts(word: str, lex: Lexicon, function: frozenset[str]) -> Any:
    """A function word: the keys it may be rendered by (a frozenset); a word that can neither
    match nor count: ``_SKIP``; a content word: ``(keys, char_keys, number)``."""
    if word in function or (len(word) == 2 and word[0] in _DETERMINERS and word[1] in lex.classifiers):
        found = lex.get(word) or frozenset()
        return found if len(found) <= 4 else frozenset()  # 很 -> very, 又 -> again; not 在's or 上's dozen senses
    number = any(ch in _NUMERALS for ch in word)
    keys = lex.get(word) or frozenset()
    if not keys and _has_letters(word):  # a Latin word in the source ("DJ", "Tom")
        k = key_maker(lex.tgt_lang).key(word)
        keys = frozenset((k,)) if k else frozenset()
    char_keys = _part_keys(word, lex, function) if len(word) > 1 else frozenset()
    if not keys and not char_keys and not number and not _has_letters(word):
        return _SKIP  # nothing known about it (a rare character): it can neither match nor count
    return (keys, char_keys, number)


def _part_keys(word: str, lex: Lexicon, function: frozenset[str]) -> frozenset[str]:
    """Back-off for a word the lexicon lacks or whose own glosses miss: the keys of its parts,
    longest dictionary words first (小男孩 -> 小 + 男孩), then single characters."""
    parts: set[str] = set()
    i, n = 0, len(word)
    while i < n:
        for size in range(min(n - i, lex.max_len), 0, -1):
            if size == n:  # the word itself is not its own part
                continue
            piece = word[i : i + size]
            found = lex.get(piece)
            if found is not None or size == 1:
                if found and piece not in function and piece not in _NUMERALS:
                    parts.update(found)
                i += size
                break
        else:
            i += 1
    return frozenset(parts)


def _has_letters(word: str) -> bool:
    return any(ch.isascii() and ch.isalpha() for ch in word)


def _spaced_source(text: str, lex: Lexicon) -> list[SourceWord]:
    """Words of a source in a spaced language (a pivot's English, a TSV lexicon's source)."""
    keys_of = key_maker(lex.src_lang)
    out = []
    for m in _SPACED_WORD.finditer(text):
        w = m.group()
        number = w[0].isdigit()
        k = keys_of.key(w) if not number else None
        if not number and k is None:
            continue
        keys = lex.get(w.lower()) or lex.get(k or "") or frozenset()
        out.append(SourceWord(w, m.start(), m.end(), keys, frozenset(), number))
    return out


_SOURCE_CACHE: dict[tuple[str, str, str], SourceInfo] = {}
_TARGET_CACHE: dict[tuple[str, str], "TargetInfo"] = {}
_CACHE_LIMIT = 200_000


def source_info(text: str, lex: Lexicon) -> SourceInfo:
    """The source's content words, segmented once per distinct text and process."""
    ck = (text, lex.src_lang, lex.tgt_lang)
    found = _SOURCE_CACHE.get(ck)
    if found is not None:
        return found
    if base_lang(lex.src_lang) in ("zh", "ja"):
        function = function_words(lex.src_lang)
        words: list[SourceWord] = []
        offsets: list[int] = []
        run_keys: list[frozenset[str]] = []
        for m in _HAN.finditer(text):
            found, f = _clause_words(m.group(), lex, function)
            words.extend(found)
            offsets.extend([m.start()] * len(found))
            run_keys.append(f)
        keys = run_keys[0] if len(run_keys) == 1 else frozenset().union(*run_keys)
        idiom_of = idioms.idiom_groups(text, words, offsets, lex) if words else ()
    else:
        words = _spaced_source(text, lex)
        offsets = [0] * len(words)
        keys = frozenset().union(*(w.keys for w in words))
        idiom_of = ()
    info = SourceInfo(text, tuple(words), keys, any(w.number for w in words), tuple(offsets), idiom_of)
    if len(_SOURCE_CACHE) > _CACHE_LIMIT:
        _SOURCE_CACHE.clear()
    _SOURCE_CACHE[ck] = info
    return info


_CLAUSE_CACHE: dict[tuple[str, int], tuple[tuple[SourceWord, ...], frozenset[str]]] = {}


def _clause_words(run: str, lex: Lexicon, function: frozenset[str]) -> tuple[tuple[SourceWord, ...], frozenset[str]]:
    """A Han run's words; runs repeat across lines ("什么", "对不起"), so they are segmented once."""
    ck = (run, id(lex))
    found = _CLAUSE_CACHE.get(ck)
    if found is None:
        if len(_CLAUSE_CACHE) > _CACHE_LIMIT:
            _CLAUSE_CACHE.clear()
        found = _CLAUSE_CACHE[ck] = _chinese_run(run, lex, function)
    return found


def _reading_index(info: SourceInfo, lex: Lexicon) -> tuple[list[frozenset[str]], dict[str, list[int]]]:
    """Per source character its toneless readings, and reading -> positions (built once per source)."""
    memo = _READINGS.get(info.text)
    if memo is None:
        readings = lex.readings
        per_char = [readings.get(ch, frozenset()) for ch in info.text]
        starts: dict[str, list[int]] = {}
        for i, rs in enumerate(per_char):
            for r in rs:
                starts.setdefault(r, []).append(i)
        if len(_READINGS) > _CACHE_LIMIT:
            _READINGS.clear()
        memo = _READINGS[info.text] = (per_char, starts)
    return memo


_READINGS: dict[str, tuple[list[frozenset[str]], dict[str, list[int]]]] = {}


def _name_span(token: str, info: SourceInfo, lex: Lexicon) -> tuple[int, int] | None:
    """Where ``token`` ("Lin", "Wanqing") transliterates 1–3 consecutive source characters."""
    per_char, starts = _reading_index(info, lex)
    t = token.lower()
    for size in range(1, min(6, len(t)) + 1):
        for i in starts.get(t[:size], ()):
            end = _spell(t, size, i + 1, per_char, 2)
            if end is not None:
                return (i, end)
    return None


@lru_cache(maxsize=65536)
def _syllables(lex_id: int) -> frozenset[str]:
    lex = _LEX_BY_ID[lex_id]
    return frozenset().union(*lex.readings.values())


_LEX_BY_ID: dict[int, Lexicon] = {}
_SPELLABLE: dict[str, bool] = {}


def _spellable(t: str, lex: Lexicon) -> bool:
    """Whether ``t`` can be written as 1–3 pinyin syllables at all (once per word): only such
    words are looked for as names among the source's characters."""
    found = _SPELLABLE.get(t)
    if found is None:
        _LEX_BY_ID[id(lex)] = lex
        syllables = _syllables(id(lex))

        def ok(rest: str, left: int) -> bool:
            if not rest:
                return True
            return left > 0 and any(rest[:k] in syllables and ok(rest[k:], left - 1) for k in range(1, min(6, len(rest)) + 1))

        found = _SPELLABLE[t] = ok(t, 3)
    return found


def _spell(t: str, done: int, pos: int, per_char: list[frozenset[str]], left: int) -> int | None:
    if done == len(t):
        return pos
    if not left or pos >= len(per_char):
        return None
    for r in per_char[pos]:
        if t.startswith(r, done):
            end = _spell(t, done + len(r), pos + 1, per_char, left - 1)
            if end is not None:
                return end
    return None


# --- target side ---------------------------------------------------------------------------------

_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million "
    "billion dozen half first second third fourth fifth once twice double triple k m".split()
)
#: a sentence of the translation ends after . ! ? … and a space — not after the point of a.m./p.m. or of a
#: title before a name ("at 2 p.m. sharp", "Mr. Qian, where were you?")
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])(?<![aApP]\.[mM]\.)(?<!\b[MD]r\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)\s+|(?<=[。！？])")
_DIGIT = re.compile(r"\d")
_new_tuple = tuple.__new__  # a NamedTuple without its Python-level __new__ (a third of the cost per word)
_MAY_END = re.compile(r"[.!?…。！？]\s*\S")


class TargetWord(NamedTuple):
    text: str
    key: str | None  # None: a function word
    capital: bool  # capitalised and not the first word of a sentence: maybe a name
    number: bool
    sentence: int  # index of the sentence of the translation it stands in


@dataclass(frozen=True, slots=True)  # no __dict__: one per distinct text, many per track
class TargetInfo:
    text: str
    words: tuple[TargetWord, ...]
    keys: frozenset[str]
    has_number: bool
    sentences: int
    #: distinct capitalised words with a key, (text, key) in order: the only words that may be a
    #: transliterated name (``_adequacy`` looks at these, not at every word of every pair)
    named: tuple[tuple[str, str], ...] = ()

    @property
    def content(self) -> list[TargetWord]:
        return [w for w in self.words if w.key or w.number]


def target_info(text: str, lang: str) -> TargetInfo:
    """The translation's words with their keys, once per distinct text and process."""
    ck = (text, lang)
    found = _TARGET_CACHE.get(ck)
    if found is not None:
        return found
    known = _WORD_INFO.get(lang)
    if known is None:
        known = _WORD_INFO[lang] = {}
    words: list[TargetWord] = []
    keys: set[str] = set()
    has_number = False
    sentence = 0
    named: dict[str, str] = {}
    new = _new_tuple
    for part in _SENTENCE_END.split(text) if _MAY_END.search(text) else (text,):
        first = True
        for w in _SPACED_WORD.findall(part):
            facts = known.get(w)
            if facts is None:
                facts = known[w] = _word_info(w, lang)
            k, number, capital, at_start, inside = facts
            if number:
                has_number = True
            elif k:
                keys.add(k)
                if w[0].isupper():
                    named.setdefault(w, k)
            if not sentence:  # the usual case: the word's own two instances, shared by every text
                words.append(at_start if first else inside)
            else:
                words.append(new(TargetWord, (w, k, capital and not first, number, sentence)))
            first = False
        if not first:
            sentence += 1
    info = TargetInfo(text, tuple(words), frozenset(keys), has_number or _DIGIT.search(text) is not None, sentence,
                      tuple(named.items()))
    if len(_TARGET_CACHE) > _CACHE_LIMIT:
        _TARGET_CACHE.clear()
    _TARGET_CACHE[ck] = info
    return info


#: lang -> word -> (key, a number, capitalised and not "I", its TargetWord first in the text's first
#: sentence, its TargetWord later in that sentence): a word's facts are found once per pass, not once
#: per sentence it stands in (the key maker's lemmatiser is the cost), and the (immutable) words of
#: first sentences are shared, not made anew per text
_WORD_INFO: dict[str, dict[str, tuple[str | None, bool, bool, TargetWord, TargetWord]]] = {}


def _word_info(w: str, lang: str) -> tuple[str | None, bool, bool, TargetWord, TargetWord]:
    if w[0].isdigit() or w.lower() in _NUMBER_WORDS:
        word = TargetWord(w, None, False, True, 0)
        return (None, True, False, word, word)
    k = key_maker(lang).key(w)
    capital = w[0].isupper() and w != "I"
    return (k, False, capital, TargetWord(w, k, False, False, 0), TargetWord(w, k, capital, False, 0))


# --- adequacy of one sentence --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)  # no __dict__: one per distinct text, many per track
class Adequacy:
    """How much of a sentence the translation renders, by the lexicon.

    ``coverage``: share of source content words found rendered; ``accounted``: share of the
    translation's content words some source word accounts for (names not recognised as the
    source's are left out of that share). ``uncovered`` / ``unaccounted`` name the words;
    ``added_span`` is the longest run of unaccounted content words (function words between them
    do not break it), ``added_sentence`` a whole sentence of the translation none of whose
    content words is accounted for."""

    source_words: int
    covered: int
    uncovered: tuple[str, ...]
    uncovered_chars: int
    target_words: int
    accounted_words: int
    unaccounted: tuple[str, ...]
    added_span: tuple[str, ...]
    added_sentence: tuple[str, ...]
    source_sentences: int = 1
    target_sentences: int = 1
    #: set phrases of the source rendered freely (no gloss found): neither covered nor uncovered
    loose: tuple[str, ...] = ()
    #: translation words credited to those set phrases (counted in ``accounted_words``)
    free: int = 0

    @property
    def coverage(self) -> float:
        return self.covered / self.source_words if self.source_words else 1.0

    @property
    def accounted(self) -> float:
        return self.accounted_words / self.target_words if self.target_words else 1.0

    @property
    def score(self) -> float:
        """Harmonic mean of coverage and accounted share (1.0 when neither side has content)."""
        c, a = self.coverage, self.accounted
        return 2 * c * a / (c + a) if c + a else 0.0

    @property
    def lexical_score(self) -> float:
        """:attr:`score` without the words credited to freely rendered set phrases: what the
        dictionary itself finds (the neighbour search for misalignment compares this, else an
        idiom-only neighbour would explain any short translation)."""
        if not self.free:
            return self.score
        c = self.coverage
        a = (self.accounted_words - self.free) / self.target_words if self.target_words else 1.0
        return 2 * c * a / (c + a) if c + a else 0.0


_ADEQUACY_CACHE: dict[tuple[str, str, str, str, Any], Adequacy] = {}


def adequacy(source: str, target: str, src_lang: str, tgt_lang: str, glossary: Any = None) -> Adequacy | None:
    """The lexical adequacy of ``target`` as a translation of ``source`` (one sentence unit), or
    ``None`` where no lexicon exists for the pair. Memoised per (text pair, languages, glossary)."""
    lex = load_lexicon(src_lang, tgt_lang)
    if lex is None:
        return None
    ck = (source, target, src_lang, tgt_lang, _glossary_key(glossary))
    found = _ADEQUACY_CACHE.get(ck)
    if found is None:
        found = _remember(ck, _adequacy(source_info(source, lex), target_info(target, tgt_lang), lex, glossary, tgt_lang))
    return found


def _remember(ck: tuple[str, str, str, str, Any], found: Adequacy) -> Adequacy:
    if len(_ADEQUACY_CACHE) > _CACHE_LIMIT:
        _ADEQUACY_CACHE.clear()
    _ADEQUACY_CACHE[ck] = found
    return found


def _adequacy(src: SourceInfo, tgt: TargetInfo, lex: Lexicon, glossary: Any, tgt_lang: str) -> Adequacy:
    covered_spans: list[tuple[int, int]] = []
    missing_terms: list[tuple[int, int]] = []  # glossary terms whose target is missing: the glossary check's
    extra_keys: set[str] = set()
    terms = glossary_terms(glossary, src.text) if glossary is not None and src.words else ()
    if terms:
        low_target = tgt.text.casefold()
        for m in terms:
            rendering = _term_rendering(glossary, m.targets, tgt_lang)
            if rendering is None:
                continue
            if rendering[0] in low_target:
                covered_spans.append((m.start, m.end))
                extra_keys.update(rendering[1])
            else:
                missing_terms.append((m.start, m.end))
    name_tokens: set[str] = set()
    t_words = tgt.words
    s_keys = src.keys
    if src.words and lex.readings:
        # a capitalised word not rendered from the source may be a transliterated name ("Lin", "Wanqing")
        for text, key in tgt.named:  # each distinct capitalised word once
            if key not in s_keys and _spellable(text.lower(), lex):
                where = _name_span(text, src, lex)
                if where:
                    covered_spans.append(where)
                    name_tokens.add(text)
    uncovered: list[str] = []
    uncovered_chars = 0
    keys = tgt.keys
    t_number = tgt.has_number
    pairs = zip(src.words, src.offsets)
    if missing_terms:
        missing = _marked(missing_terms)
        pairs = [(w, o) for w, o in pairs if not _inside(w, o, missing)]  # type: ignore[assignment]
    covered = _marked(covered_spans)
    n_words = 0
    isdisjoint = keys.isdisjoint
    loose: list[str] = []
    budget = 0  # translation words the source's set phrases may take (see below)
    if src.idiom_of:
        n_words, placed, budget = _with_set_phrases(src, missing_terms, covered, keys, t_number)
        uncovered = [text for _, text, phrase in placed if not phrase]
        loose = [text for _, text, phrase in placed if phrase]
        uncovered_chars = sum(len(w) for w in uncovered)
        if uncovered and loose:
            # other content is missing too: then a phrase without a rendering is evidence as well,
            # as one weak word (two letters' worth), not as the several words it is made of
            n_words += len(loose)
            uncovered_chars += 2 * len(loose)
            uncovered = [text for _, text, _ in placed]
    else:
        for (text, start, end, w_keys, char_keys, number), o in pairs:
            n_words += 1
            if (not isdisjoint(w_keys) or (char_keys and not isdisjoint(char_keys))
                    or (number and t_number) or (covered and not covered.isdisjoint(range(start + o, end + o)))):
                continue
            uncovered.append(text)
            uncovered_chars += end - start
    # translation side
    accounted = total = 0
    unaccounted: list[str] = []
    span: list[str] = []
    best_span: list[str] = []
    per_sentence: dict[int, list[int]] = {}
    sentence_words: dict[int, list[str]] = {}
    several = tgt.sentences > 1
    s_number = src.has_number
    foreign = _foreign_number_words(src.text, tgt.text, lex, glossary, tgt_lang) if s_number and tgt.has_number else None
    for text, key, capital, number, sentence in t_words:
        if number:
            ok = (s_number and (foreign is None or foreign.renders(text))) or (
                bool(extra_keys) and text.lower() in extra_keys)
        elif key:
            ok = key in s_keys or key in extra_keys or text in name_tokens
            if not ok and capital:
                continue  # a name the source does not show in a form we know: neither way
        else:
            continue
        total += 1
        if several:
            counts = per_sentence.setdefault(sentence, [0, 0])
            counts[0] += 1
            counts[1] += ok
            if not ok:
                sentence_words.setdefault(sentence, []).append(text)
        if ok:
            accounted += 1
            span = []
        else:
            unaccounted.append(text)
            span.append(text)
            if len(span) > len(best_span):
                best_span = list(span)
    added_sentence: tuple[str, ...] = ()
    # a sentence of nothing but function words ("I will!", "No.") renders a short reply: beside it,
    # a sentence none of whose words the source accounts for is one more, as beside a rendered one
    if per_sentence:  # filled only for a translation of several sentences
        # beside nothing but function-word sentences, three words at least ("Oh. Good morning." is a greeting)
        least = 2 if len(per_sentence) > 1 else 3
        for s, (n, ok_n) in per_sentence.items():
            if n >= least and not ok_n and n > len(added_sentence):
                added_sentence = tuple(sentence_words[s])
    free = 0
    if budget and not uncovered and unaccounted and len(unaccounted) <= budget:
        # every source word outside the set phrases has its rendering, and the words no source word
        # accounts for are no more than the phrases could take (three content words a phrase):
        # those words render the phrases by meaning ("showing off in front of an expert" for
        # 班门弄斧, whose glosses give only "expert"). More words than that stay unaccounted, so a
        # sentence appended to a line holding an idiom is still an addition.
        free, accounted = len(unaccounted), total
        unaccounted, best_span, added_sentence = [], [], ()
    return Adequacy(n_words, n_words - len(uncovered), tuple(uncovered), uncovered_chars, total,
                    accounted, tuple(unaccounted), tuple(best_span), added_sentence,
                    _sentence_count(src.text), max(tgt.sentences, 1), tuple(loose), free)


def _foreign_number_words(source: str, target: str, lex: Lexicon, glossary: Any, tgt_lang: str) -> "_ForeignNumbers":
    """Which number words of the translation render none of the source's values: those of the
    number check's extra numbers and its conflicts' translation side (and, while a source value is
    unsaid, every number word no match holds). Any other number word counts as rendered when the
    source holds a number: "forty years" under 有一半的董事 does not, so a line moved there from the
    cue that says 四十年 no longer passes as half rendered."""
    from localise.quality import numbers

    found = numbers.compare_texts(source, target, lex.src_lang, tgt_lang, glossary=glossary)
    if not found.extra and not found.conflicts and not found.missing:
        return _NO_FOREIGN
    foreign = frozenset(w.lower() for n in (*found.extra, *(t for _s, t in found.conflicts))
                        for w in _SPACED_WORD.findall(n.text))
    # with a source value unsaid, a loose number word of the translation ("Half the board" under
    # 我跟了老爷四十年) renders nothing either: only the words of matched numbers count
    credited = (frozenset(w.lower() for _s, t in found.matched for w in _SPACED_WORD.findall(t.text))
                if found.missing else None)
    return _ForeignNumbers(foreign, credited)


class _ForeignNumbers(NamedTuple):
    foreign: frozenset[str]  # words of target numbers with no value in the source
    credited: frozenset[str] | None  # when not None: the only number words that count as rendered

    def renders(self, word: str) -> bool:
        w = word.lower()
        return w not in self.foreign and (self.credited is None or w in self.credited)


_NO_FOREIGN = _ForeignNumbers(frozenset(), None)


def _with_set_phrases(src: SourceInfo, missing_terms: list[tuple[int, int]], covered: set[int], keys: frozenset[str],
                      t_number: bool) -> tuple[int, list[tuple[int, str, bool]], int]:
    """The source-side count of :func:`_adequacy` for a text holding set phrases: a phrase is one
    unit, covered when any of its words is; a phrase without a rendering is *loose* (rendered by
    meaning), neither covered nor uncovered. Returns (units, the uncovered words and loose phrases
    in source order as (position, text, is a phrase), the translation words the phrases may take:
    three each, two for a phrase of three letters)."""
    missing = _marked(missing_terms) if missing_terms else None
    n_words = 0
    phrases: dict[int, list[Any]] = {}  # first word -> [covered, texts]
    placed: list[tuple[int, str, bool]] = []
    for k, ((text, start, end, w_keys, char_keys, number), o) in enumerate(zip(src.words, src.offsets)):
        if missing and not missing.isdisjoint(range(start + o, end + o)):
            continue
        hit = (not keys.isdisjoint(w_keys) or (char_keys and not keys.isdisjoint(char_keys))
               or (number and t_number) or (covered and not covered.isdisjoint(range(start + o, end + o))))
        g = src.idiom_of[k]
        if g >= 0:
            state = phrases.setdefault(g, [False, []])
            state[0] = state[0] or bool(hit)
            state[1].append(text)
            continue
        n_words += 1
        if not hit:
            placed.append((k, text, False))
    budget = 0
    for g, (hit, texts) in phrases.items():
        phrase = "".join(texts)
        budget += min(len(phrase) - 1, 3)
        if hit:
            n_words += 1
        else:
            placed.append((g, phrase, True))
    placed.sort()
    return n_words, placed, budget


_SOURCE_END = re.compile(r"[。！？!?…]+(?=.)")
#: where a source clause ends: sentence marks, and the comma, semicolon and colon that Chinese joins
#: whole sentences with (大年三十的，哪儿都堵。 is one sentence in Chinese, two in English: "It's New
#: Year's Eve. Traffic's everywhere."), and a space between two Chinese letters (film subtitles often
#: write one instead of a comma); a comma inside a number (2,000) ends nothing
_CLAUSE_END = re.compile(
    r"(?:[。！？!?…；;，：]|(?<!\d)[,:](?!\d)|(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff]))+(?=.)")


def _sentence_count(text: str) -> int:
    return 1 + len(_SOURCE_END.findall(text.strip()))


def clause_count(text: str) -> int:
    """How many sentences a translation of ``text`` may make without adding one: its clauses, since
    English subtitles routinely make each comma-joined Chinese clause a sentence of its own."""
    return 1 + len(_CLAUSE_END.findall(text.strip()))


_TERMS: dict[tuple[Any, str], list[Any]] = {}


def _glossary_key(glossary: Any) -> Any:
    """A glossary's content hash (``Glossary.version``) for cache keys: an ``id`` may be reused."""
    return None if glossary is None else getattr(glossary, "version", None) or id(glossary)


def glossary_terms(glossary: Any, text: str) -> list[Any]:
    """``glossary.find(text)``, once per glossary and distinct text (the glossary check and the
    adequacy of the same sentence share it)."""
    ck = (_glossary_key(glossary), text)
    found = _TERMS.get(ck)
    if found is None:
        if len(_TERMS) > _CACHE_LIMIT:
            _TERMS.clear()
        found = _TERMS[ck] = glossary.find(text)
    return found


_RENDERINGS: dict[tuple[Any, str, tuple[tuple[str, str], ...]], tuple[str, frozenset[str]] | None] = {}


def _term_rendering(glossary: Any, targets: Mapping[str, str], tgt_lang: str) -> tuple[str, frozenset[str]] | None:
    """A glossary term's required rendering, case-folded, and the keys it accounts for (its
    lemmas' keys and its words: "first" of "first love"); None where it sets no rule for the
    language. Once per term and pass: the lemmatiser is the cost."""
    ck = (_glossary_key(glossary), tgt_lang, tuple(targets.items()))
    if ck in _RENDERINGS:
        return _RENDERINGS[ck]
    term = glossary.target_for(targets, tgt_lang)
    found = None
    if term:
        keys = set(key_maker(tgt_lang).keys(term))
        keys.update(w.lower() for w in _SPACED_WORD.findall(term))
        found = (term.casefold(), frozenset(keys))
    if len(_RENDERINGS) > _CACHE_LIMIT:
        _RENDERINGS.clear()
    _RENDERINGS[ck] = found
    return found


def _marked(spans: list[tuple[int, int]]) -> set[int]:
    """The character positions the spans cover: a word's test is then linear in its own length,
    not in the number of spans (a long cue full of names was quadratic)."""
    return {i for s, e in spans for i in range(s, e)}


def _inside(w: SourceWord, offset: int, marked: set[int]) -> bool:
    return not marked.isdisjoint(range(w.start + offset, w.end + offset))


# --- omission and addition -----------------------------------------------------------------------

@dataclass(frozen=True)
class Signal:
    """A lexical finding for one sentence: ``strong`` stands on its own (major), otherwise it
    needs the length ratio to agree."""

    strong: bool
    reason: str


def _words(words: Sequence[str], limit: int = 6) -> str:
    shown = "、".join(words[:limit]) if words and not words[0].isascii() else ", ".join(words[:limit])
    return shown + (" …" if len(words) > limit else "")


def omission_signal(a: Adequacy, th: Mapping[str, Any], short: bool = False) -> Signal | None:
    """Much of the source's content has no rendering in the translation. ``short``: the length
    ratio already says the translation is short, so less lexical evidence confirms it."""
    n_un = len(a.uncovered)
    if not a.target_words or not a.source_words:
        return None  # a translation without content words ("No!") gives the lexicon nothing to judge
    share = n_un / a.source_words
    if short:
        if (n_un >= 1 and a.uncovered_chars >= th["meaning_omission_short_min_chars"]
                and share >= th["meaning_omission_short_share"]):
            return Signal(True, f"{n_un} of {a.source_words} source content words have no rendering in the "
                                f"translation: {_words(a.uncovered)}")
        return None
    if n_un < th["meaning_omission_min_words"] or a.uncovered_chars < th["meaning_omission_min_chars"]:
        return None
    if share < th["meaning_omission_share"]:
        return None
    strong = share >= th["meaning_omission_strong_share"] and n_un >= th["meaning_omission_strong_words"]
    return Signal(strong, f"{n_un} of {a.source_words} source content words have no rendering in the "
                          f"translation: {_words(a.uncovered)}")


def addition_signal(a: Adequacy, th: Mapping[str, Any], source_clauses: int | None = None) -> Signal | None:
    """A stretch of the translation that no source word accounts for. ``source_clauses``
    (:func:`clause_count` of the source) lets a comma-joined Chinese clause be a sentence of its own."""
    span = a.added_span
    if a.added_sentence and len(a.added_sentence) >= th["meaning_addition_sentence_words"]:
        # a sentence more than the source has, none of whose words the source accounts for
        extra = a.target_sentences > a.source_sentences
        if (extra and source_clauses is not None and a.target_sentences <= source_clauses and a.uncovered
                and a.accounted_words >= a.target_words - len(a.added_sentence) > 0
                and len(a.added_sentence) < th["meaning_addition_clause_words"]):
            # not more sentences than the source has clauses, every other word of the translation
            # rendering the source, a source word left without a rendering, and a short sentence: a clause made a
            # sentence in words the lexicon does not know (大过年的，吵什么？ -> "It's New Year's. Stop
            # fighting."), not a sentence added
            extra = False
        return Signal(extra or len(a.added_sentence) >= th["meaning_addition_strong_span"],
                      f"a sentence of the translation that no source word accounts for: «{_words(a.added_sentence)}»")
    if len(span) < th["meaning_addition_span"]:
        return None
    share = 1 - a.accounted
    if share < th["meaning_addition_share"]:
        return None
    strong = len(span) >= th["meaning_addition_strong_span"]
    return Signal(strong, f"{len(span)} words in a row that no source word accounts for: «{_words(span)}»")


# --- the whole track: misalignment ---------------------------------------------------------------

@dataclass(frozen=True)
class Misplaced:
    """Sentence ``position``'s translation belongs to the source of sentence ``belongs``."""

    position: int
    belongs: int
    own_score: float
    their_score: float
    run: tuple[int, int] | None = None  # first and last position of a shifted run it is part of


@dataclass(frozen=True)
class TrackFinding:
    """A finding about a whole track (the report's track section), not about one cue."""

    code: str
    severity: str
    reason: str
    first: int  # first sentence position concerned (0-based)
    last: int
    offset: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "reason": self.reason, "first": self.first,
                "last": self.last, "offset": self.offset}


@dataclass
class TrackMeaning:
    """The meaning analysis of a track's sentences (positions are sentence positions)."""

    adequacy: list[Adequacy | None]
    misplaced: dict[int, Misplaced] = field(default_factory=dict)
    findings: list[TrackFinding] = field(default_factory=list)
    shifted: frozenset[int] = frozenset()  # positions explained by a track-level shift
    available: bool = True


_TRACK_CACHE: dict[tuple[Any, ...], TrackMeaning] = {}
_TRACK_LOCK = threading.Lock()


def analyse_track(sources: Sequence[str], targets: Sequence[str], src_lang: str, tgt_lang: str,
                  glossary: Any = None, thresholds: Mapping[str, Any] | None = None) -> TrackMeaning:
    """Adequacy of every sentence and where translations sit in the wrong place. ``sources[i]`` /
    ``targets[i]`` are sentence *i*'s texts. Memoised for the last few tracks (the per-cue check
    and the report's track section ask for the same)."""
    th = _thresholds(thresholds)
    ck = (tuple(sources), tuple(targets), src_lang, tgt_lang, _glossary_key(glossary), tuple(sorted(th.items())))
    with _TRACK_LOCK:
        found = _TRACK_CACHE.get(ck)
    if found is not None:
        return found
    lex = load_lexicon(src_lang, tgt_lang)
    if lex is None:
        result = TrackMeaning([None] * len(targets), available=False)
    else:
        result = _analyse(list(sources), list(targets), src_lang, tgt_lang, glossary, lex, th)
    with _TRACK_LOCK:
        if len(_TRACK_CACHE) >= 4:
            _TRACK_CACHE.pop(next(iter(_TRACK_CACHE)))
        _TRACK_CACHE[ck] = result
    return result


def _thresholds(thresholds: Mapping[str, Any] | None) -> dict[str, Any]:
    return over_defaults(DEFAULTS, thresholds)


#: Defaults of the ``meaning_*`` thresholds (thresholds.toml holds the same; these serve callers
#: that pass no thresholds).
DEFAULTS: dict[str, Any] = {
    "meaning_omission_min_words": 2,
    "meaning_omission_min_chars": 3,
    "meaning_omission_share": 0.6,
    "meaning_omission_strong_share": 0.8,
    "meaning_omission_strong_words": 5,
    "meaning_omission_short_min_chars": 2,
    "meaning_omission_short_share": 0.55,
    "meaning_addition_span": 3,
    "meaning_addition_share": 0.5,
    "meaning_addition_strong_span": 5,
    "meaning_addition_sentence_words": 2,
    "meaning_addition_clause_words": 3,
    "meaning_misalignment_window": 30,
    "meaning_misalignment_poor": 0.5,
    "meaning_misalignment_min_score": 0.6,
    "meaning_misalignment_margin": 0.35,
    "meaning_misalignment_min_words": 1,
    "meaning_shift_min_run": 3,
    "meaning_misalignment_sample": 200,
    "meaning_misalignment_sample_found": 0.1,
    "meaning_shift_track_share": 0.6,
}


def _analyse(sources: list[str], targets: list[str], src_lang: str, tgt_lang: str, glossary: Any, lex: Lexicon,
             th: Mapping[str, Any]) -> TrackMeaning:
    n = len(targets)
    ad: list[Adequacy | None] = []
    s_infos = [source_info(s, lex) for s in sources]
    t_infos = [target_info(t, tgt_lang) for t in targets]
    g_key = _glossary_key(glossary)
    for i in range(n):
        if i < len(sources) and sources[i].strip() and targets[i].strip():
            # adequacy() with the texts' words at hand: the same memo, without looking them up again
            ck = (sources[i], targets[i], src_lang, tgt_lang, g_key)
            found = _ADEQUACY_CACHE.get(ck)
            ad.append(found if found is not None else
                      _remember(ck, _adequacy(s_infos[i], t_infos[i], lex, glossary, tgt_lang)))
        else:
            ad.append(None)
    result = TrackMeaning(ad)
    poor, min_words = float(th["meaning_misalignment_poor"]), int(th["meaning_misalignment_min_words"])
    candidates_for = [i for i, a in enumerate(ad) if a is not None and a.score < poor and a.target_words >= min_words]
    if not candidates_for:
        return result
    best: dict[int, tuple[int, float, float]] = {}
    informative = sum(1 for a in ad if a is not None and a.target_words >= min_words)
    sample_size = int(th["meaning_misalignment_sample"])
    if len(candidates_for) > sample_size and len(candidates_for) > 0.5 * informative:
        # most of the track matches its source poorly: a sample says whether neighbours explain it
        # (a shifted file) or nothing does (another episode's source, a very free translation);
        # then one finding for the track and no search per sentence, which would find noise
        step = len(candidates_for) / sample_size
        sample = [candidates_for[int(k * step)] for k in range(sample_size)]
        _search(sample, ad, s_infos, t_infos, sources, targets, src_lang, tgt_lang, glossary, th, best)
        # a shift puts many of the sample at one offset; chance matches spread over the window
        agree = Counter(j - i for i, (j, _, _) in best.items()).most_common(1)
        if not agree or agree[0][1] < th["meaning_misalignment_sample_found"] * sample_size:
            result.findings.append(TrackFinding(
                "misalignment", "major",
                f"{len(candidates_for)} of {informative} sentences match their source poorly by the lexicon and "
                f"no neighbouring source explains them: is this the translation of this source?",
                candidates_for[0], candidates_for[-1], 0))
            return result
        best.clear()
    _search(candidates_for, ad, s_infos, t_infos, sources, targets, src_lang, tgt_lang, glossary, th, best)
    return _conclude(result, best, ad, informative, th)


def _search(candidates_for: list[int], ad: list[Adequacy | None], s_infos: list[SourceInfo], t_infos: list[TargetInfo],
            sources: list[str], targets: list[str], src_lang: str, tgt_lang: str, glossary: Any,
            th: Mapping[str, Any], best: dict[int, tuple[int, float, float]]) -> None:
    """For each position, the neighbouring source (within the window) that explains its translation best."""
    window = int(th["meaning_misalignment_window"])
    min_words = int(th["meaning_misalignment_min_words"])
    min_score, margin = float(th["meaning_misalignment_min_score"]), float(th["meaning_misalignment_margin"])
    for i in candidates_for:
        a = ad[i]
        assert a is not None
        t_keys = t_infos[i].keys
        own_hits = len(t_keys & s_infos[i].keys) if i < len(s_infos) else 0
        need = max(min_words, own_hits + 1, min_score * 0.75 * len(t_keys))  # else the score cannot reach min_score
        # shared keys with each neighbouring source: a set intersection per neighbour, small
        # target set against the source's set (no index to build for the whole track)
        hits: Counter[int] = Counter()
        for j in range(max(0, i - window), min(len(s_infos), i + window + 1)):
            if j != i:
                h = len(t_keys & s_infos[j].keys)
                if h >= need:
                    hits[j] = h
        for j, h in hits.most_common(3):
            if h < need:
                break
            other = adequacy(sources[j], targets[i], src_lang, tgt_lang, glossary)
            if other is None:
                continue
            score = other.lexical_score  # a neighbour's idiom credits no translation but its own
            if score < min_score or score < a.score + margin:
                continue
            if i not in best or score > best[i][1]:
                best[i] = (j, score, a.score)


def _conclude(result: TrackMeaning, best: dict[int, tuple[int, float, float]], ad: list[Adequacy | None],
              informative: int, th: Mapping[str, Any]) -> TrackMeaning:
    """Shifted track, shifted runs and single misplaced sentences from the best neighbours found."""
    if not best:
        return result
    offsets = {i: j - i for i, (j, _, _) in best.items()}
    # a whole track shifted: most informative sentences agree on one offset
    common = Counter(offsets.values()).most_common(1)[0]
    if informative >= 10 and common[1] >= th["meaning_shift_track_share"] * informative:
        d = common[0]
        members = sorted(i for i, o in offsets.items() if o == d)
        first, last = members[0], members[-1]
        result.shifted = frozenset(range(first, last + 1))
        direction = "later" if d > 0 else "earlier"
        result.findings.append(TrackFinding(
            "misalignment", "major",
            f"the translation is shifted against the source by {abs(d)} line{'s' if abs(d) > 1 else ''} "
            f"from sentence {first + 1} to sentence {last + 1}: each translation belongs to the source {abs(d)} "
            f"line{'s' if abs(d) > 1 else ''} {direction} ({len(members)} of {informative} sentences agree)",
            first, last, d))
    # runs of the same offset (gaps of uninformative sentences allowed)
    min_run = int(th["meaning_shift_min_run"])
    order = sorted(offsets)
    runs: list[list[int]] = []
    for i in order:
        if runs and offsets[runs[-1][-1]] == offsets[i] and i - runs[-1][-1] <= 2:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        d = offsets[run[0]]
        in_run = len(run) >= min_run
        for i in run:
            if i in result.shifted:
                continue
            j = i + d
            mutual = offsets.get(j) == -d
            if not in_run and not mutual:
                continue  # a lone chance match is noise: a single misplaced line must be a clear swap
            result.misplaced[i] = Misplaced(i, j, best[i][2], best[i][1], (run[0], run[-1]) if in_run else None)
    return result


def misalignment_reason(m: Misplaced, source_of: str, cue_of: int, own_cue: int | None = None) -> str:
    """The reason text for a cue flag (``cue_of`` is the 1-based cue number of the other source)."""
    text = " ".join(source_of.split())
    text = text if len(text) <= 30 else text[:29] + "…"
    base = (f"this translation belongs to cue {cue_of} «{text}», not to its own source "
            f"(lexical match {m.their_score:.2f} there, {m.own_score:.2f} here)")
    if m.run:
        base += f"; part of a run of sentences shifted by {m.belongs - m.position:+d}"
    return base


# --- the per-cue checks (registered in checks.CHECKS) --------------------------------------------

@dataclass
class TrackContext:
    """What the per-cue meaning checks need of the whole track, built once by ``check_track``:
    every cue's words and the sentence (cue group) each cue belongs to. ``memo`` holds the
    track's analysis, shared by all its cues."""

    source_plain: Sequence[str]
    target_plain: Sequence[str]
    groups: Sequence[tuple[int, ...]]
    src_lang: str
    tgt_lang: str
    memo: dict[str, Any] = field(default_factory=dict)

    def sentences(self) -> tuple[list[tuple[int, ...]], list[str], list[str], dict[int, int]]:
        """(cue groups in track order, their source texts, their target texts, cue -> position)."""
        if "sentences" not in self.memo:
            order: list[tuple[int, ...]] = []
            position: dict[int, int] = {}
            seen: dict[tuple[int, ...], int] = {}
            for i, g in enumerate(self.groups):
                if g not in seen:
                    seen[g] = len(order)
                    order.append(g)
                position[i] = seen[g]
            src = [_join([self.source_plain[k] for k in g], self.src_lang) for g in order]
            tgt = [_join([self.target_plain[k] for k in g], self.tgt_lang) for g in order]
            self.memo["sentences"] = (order, src, tgt, position)
        return self.memo["sentences"]

    def analysis(self, glossary: Any, thresholds: Mapping[str, Any]) -> TrackMeaning:
        if "analysis" not in self.memo:
            _, src, tgt, _ = self.sentences()
            self.memo["analysis"] = analyse_track(src, tgt, self.src_lang, self.tgt_lang, glossary, thresholds)
        return self.memo["analysis"]


def _join(texts: list[str], lang: str) -> str:
    sep = "" if base_lang(lang) in ("zh", "ja", "th", "lo", "km", "my") else " "
    return sep.join(t.replace("\n", sep) for t in texts if t)


def _cue_analysis(ctx: Any) -> tuple[TrackMeaning, int] | None:
    """The track's analysis and this cue's sentence position (None: no lexicon or no track)."""
    track = getattr(ctx, "track", None)
    if track is None:
        return None
    found = track.memo.get("cue_analysis", _UNSET)  # asked by several checks of every cue: once per track
    if found is _UNSET:
        found = None
        if available(ctx.src_lang, ctx.tgt_lang):
            result = track.analysis(ctx.glossary, ctx.thresholds)
            if result.available:
                found = (result, track.sentences()[3])
        track.memo["cue_analysis"] = found
    if found is None:
        return None
    return found[0], found[1][ctx.index]


_UNSET: Any = object()


def _unit_adequacy(ctx: Any) -> Adequacy | None:
    if "adequacy" not in ctx.unit_memo:
        ok = ctx.unit_source.strip() and ctx.unit_target.strip() and available(ctx.src_lang, ctx.tgt_lang)
        ctx.unit_memo["adequacy"] = (adequacy(ctx.unit_source, ctx.unit_target, ctx.src_lang, ctx.tgt_lang,
                                              ctx.glossary) if ok else None)
    return ctx.unit_memo["adequacy"]


def _misplaced(ctx: Any) -> bool:
    """This cue's translation is explained by a misalignment (its own flag, or the track's);
    asked by omission and addition alike, answered once per sentence."""
    memo = ctx.unit_memo
    if "misplaced" not in memo:
        found = _cue_analysis(ctx)
        memo["misplaced"] = found is not None and (found[1] in found[0].misplaced or found[1] in found[0].shifted)
    return memo["misplaced"]


def check_misalignment(ctx: Any) -> list[Flag]:
    """``misalignment``: the cue's translation belongs to another cue's source (see :func:`analyse_track`)."""
    found = _cue_analysis(ctx)
    if found is None:
        return []
    result, pos = found
    m = result.misplaced.get(pos)
    if m is None:
        if pos in result.shifted or result.findings:
            return []  # the track-level finding says it
        from localise.quality import alignment  # cue by cue: shifts and swaps inside multi-cue sentences

        return alignment.cue_flags(ctx)
    order, src, _, _ = ctx.track.sentences()
    other = order[m.belongs]
    return [ctx.flag("misalignment", misalignment_reason(m, src[m.belongs], other[0] + 1, ctx.index + 1)
                     + ctx.where)]


#: marks that end a source sentence; a translated sentence may end with any mark instead of a letter
_SOURCE_FINAL_MARKS = "。？！?!…"
_TARGET_END_OK = re.compile(r"[^\w\s]\W*$|^\W*$")


def stops_mid_sentence(source: str, target: str) -> str | None:
    """The translation's last words when it ends on a letter although its source sentence ends with
    a full stop, question or exclamation mark: a line cut off ("Why did you"). On the calibration
    split no clean sentence does this (0 of 3,844), while a truncated engine output always does."""
    source, target = source.rstrip(), target.rstrip()
    if not source or not target or source[-1] not in _SOURCE_FINAL_MARKS or not _WORD_CHAR.match(target[-1]):
        return None  # ends on a mark (or is nothing but marks): _TARGET_END_OK, read at the last character
    return " ".join(target.split()[-3:])


#: On a stripped text, ``_TARGET_END_OK.search`` fails exactly when the last character is a word
#: character; testing that one character spares a search from every position of every line.
_WORD_CHAR = re.compile(r"\w")


_LAST_WORD = re.compile(r"([^\W\d_]+(?:['’][^\W\d_]+)*\.?)$")  # "Mr." keeps its point; "I'm" its apostrophe


def stops_on_dangling_word(target: str, lang: str) -> str | None:
    """The cue's last word when its text stops on a word no whole line ends on ("Sign it, and for",
    "I knew his"; ``dangling.<lang>.txt``): the words after it were cut off. Judged per cue, so a
    line cut inside a sentence that runs on over several cues is seen too."""
    words = dangling_words(lang)
    if not words:
        return None
    tail = target.rstrip().rsplit(None, 1)  # a match holds no space: the last word is where it can be
    # its last 64 characters: no listed word is longer, and a search over a 10,000-letter token that
    # ends in a digit would try every start (quadratic on hostile text)
    m = _LAST_WORD.search(tail[-1][-64:]) if tail else None
    return m.group(1) if m and m.group(1).lower().replace("’", "'") in words else None


#: marks after which an English line goes on: a cue ending on one continues in the next cue
_CONTINUING_MARKS = frozenset(",;:，；：")
_NEXT_LINE_START = re.compile(r"[\s\-–—\"'“‘(\[]*(\w+)")


def stops_on_a_comma(ctx: Any) -> str | None:
    """The mark a cue's translation stops on when its source ends the sentence (。！？) and the next
    cue's translation starts another sentence (a capital; or there is no next cue): the rest of the
    sentence was cut off ("With the manual gone," for 剑谱丢了，师父一定急坏了。). A subtitler who
    runs a sentence on into the next cue goes on in lower case. No clean cue of the calibration
    split (0 of 4,398) ends so."""
    target, source = ctx.target_plain.rstrip(), ctx.source_plain.rstrip()
    if not target or not source or target[-1] not in _CONTINUING_MARKS or source[-1] not in "。？！?!":
        return None
    track = ctx.track
    following = track.target_plain[ctx.index + 1] if track is not None and ctx.index + 1 < len(track.target_plain) else ""
    m = _NEXT_LINE_START.match(following)
    if m and not m.group(1)[0].isupper():
        return None  # the sentence goes on in the next cue ("…, | and then…")
    return target[-1]


def dropped_turns(source: str, target: str) -> tuple[int, int] | None:
    """(the source's speaker turns, the translation's) when a two-speaker cue lost a turn: both sides
    are dialogue (a dash per speaker, ``layout.split_dialogue``) and the translation has fewer turns
    ("-谁？\n-是我。" -> "- Who's there?"). A translation without any dash may have merged the turns on
    purpose: not this rule's."""
    if "\n" not in source:
        return None
    from localise.layout import split_dialogue

    src_turns = split_dialogue(source.split("\n"))
    if src_turns is None or len(src_turns) < 2:
        return None
    tgt_turns = split_dialogue(target.split("\n"))
    if tgt_turns is None or len(tgt_turns) >= len(src_turns):
        return None
    return len(src_turns), len(tgt_turns)


def omission_flags(ctx: Any, length_reason: str | None) -> list[Flag]:
    """``omission`` from the length ratio (``length_reason``, or None when the length is fine)
    and the lexicon together: both agree -> major; the length alone while the lexicon finds the
    source's content rendered -> minor (a condensed line); the lexicon alone -> major only when
    strong (most of a long source unrendered), else nothing (paraphrase as often as not). No
    lexicon for the pair: the length signal as it always was."""
    a = _unit_adequacy(ctx)
    if a is None:
        return [ctx.flag("omission", length_reason)] if length_reason else []
    if _misplaced(ctx):
        return []  # the misalignment flag says why the words differ
    signal = omission_signal(a, ctx.thresholds, short=bool(length_reason))
    cut = stops_mid_sentence(ctx.unit_source, ctx.unit_target)
    if cut and (a.uncovered or a.loose or a.target_words <= a.source_words):
        # on its own (0 of 3,906 clean calibration sentences stop so), unless every source word is
        # rendered and then some: a run-on repetition ("I love you and I love you too"), not a cut
        also = (f" and {len(a.uncovered)} of {a.source_words} source content words have no rendering: "
                f"{_words(a.uncovered)}" if a.uncovered else "")
        return [ctx.flag("omission", f"the translation stops mid-sentence («…{cut}», no closing mark where the source "
                                     f"has one){also}" + (f"; {length_reason}" if length_reason else "") + ctx.where)]
    dangling = stops_on_dangling_word(ctx.target_plain, ctx.tgt_lang)
    if dangling:  # per cue: a cut inside a sentence that runs on over several cues
        return [ctx.flag("omission", f"this line stops on «{dangling}», a word no whole line ends on: the words "
                                     "after it seem cut off" + (f"; {length_reason}" if length_reason else ""))]
    turns = dropped_turns(ctx.source_plain, ctx.target_plain)
    if turns:  # per cue: a speaker's turn is a line of its own
        return [ctx.flag("omission", f"the source gives {turns[0]} speakers' turns (a dash each), the translation "
                                     f"{turns[1]}: a speaker's line seems dropped"
                                     + (f"; {length_reason}" if length_reason else ""))]
    # per cue, as the dangling word; only with source words of the sentence unrendered: an engine's
    # "Hello, | I'm Xiao Wang." spread over 你好。｜我是小王。 renders every word and is no cut
    mark = stops_on_a_comma(ctx) if a.uncovered else None
    if mark:
        also = (f"; {len(a.uncovered)} of {a.source_words} source content words of the sentence have no rendering: "
                f"{_words(a.uncovered)}" if a.uncovered else "")
        return [ctx.flag("omission", f"this line stops on «{mark}» where its source ends the sentence, and the next "
                                     f"line starts another: the rest of the sentence seems cut off{also}"
                                     + (f"; {length_reason}" if length_reason else ""))]
    if length_reason and signal:
        return [ctx.flag("omission", length_reason + "; " + signal.reason + ctx.where)]
    if length_reason:
        return [ctx.flag("omission", length_reason + f"; the lexicon finds {a.covered} of {a.source_words} source "
                                                     "content words rendered (condensed?)", case="lexical")]
    if signal and signal.strong:  # a weak lexical signal alone is paraphrase as often as not
        return [ctx.flag("omission", "words may be missing: " + signal.reason + ctx.where)]
    return []


def addition_flags(ctx: Any, length_reason: str | None) -> list[Flag]:
    """``addition`` from the length ratio and the lexicon, combined like :func:`omission_flags`."""
    a = _unit_adequacy(ctx)
    if a is None:
        return [ctx.flag("addition", length_reason)] if length_reason else []
    if _misplaced(ctx):
        return []
    # the clauses matter only for a sentence added to the translation: counted only then
    signal = addition_signal(a, ctx.thresholds, clause_count(ctx.unit_source) if a.added_sentence else None)
    if length_reason and signal:
        return [ctx.flag("addition", length_reason + "; " + signal.reason + ctx.where)]
    if length_reason:
        return [ctx.flag("addition", length_reason + f"; the lexicon accounts for {a.accounted_words} of "
                                                     f"{a.target_words} content words", case="lexical")]
    if signal and signal.strong:
        return [ctx.flag("addition", "words may have been added: " + signal.reason + ctx.where)]
    return []


def track_findings(source: Any, target: Any, *, src_lang: str, tgt_lang: str, glossary: Any = None,
                   units: Any = None, source_plain: Sequence[str] | None = None,
                   target_plain: Sequence[str] | None = None, thresholds: Any = None) -> list[dict[str, Any]]:
    """Track-level meaning findings for the report's track section (``[{"code": "misalignment",
    "severity", "reason", "first", "last", "offset"}]``; cue numbers in reasons are 1-based). Takes
    the same arguments as ``check_track`` and shares its memoised analysis."""
    from localise.quality.checks import _groups, _plain_texts, align_by_time
    from localise.quality.thresholds import load_thresholds

    if not available(src_lang, tgt_lang):
        return []
    if len(source.cues) != len(target.cues):
        source, units, source_plain = align_by_time(source, target), None, None
    track = TrackContext(_plain_texts(source, source_plain, "source_plain"),
                         _plain_texts(target, target_plain, "target_plain"),
                         _groups(len(target.cues), units), src_lang, tgt_lang)
    from localise.quality import alignment

    return alignment.track_findings(track, glossary, load_thresholds(tgt_lang, thresholds))


# --- pivot ---------------------------------------------------------------------------------------

def check_pivot(sources: Sequence[str], pivots: Sequence[str], src_lang: str, pivot_lang: str = "en",
                glossary: Any = None, thresholds: Mapping[str, Any] | None = None) -> list[list[Flag]]:
    """Omission/addition/misalignment flags of a pivot's first hop (zh -> en of zh -> en -> es),
    one list per sentence; where no lexicon exists for ``src_lang -> pivot_lang`` every list is
    empty (see :func:`available`). The reasons say that the pivot is what is judged."""
    th = _thresholds(thresholds)
    track = analyse_track(sources, pivots, src_lang, pivot_lang, glossary, th)
    out: list[list[Flag]] = []
    for i, a in enumerate(track.adequacy):
        flags: list[Flag] = []
        if a is not None and i not in track.shifted and i not in track.misplaced:
            om, add = omission_signal(a, th), addition_signal(a, th)
            if om:
                flags.append(Flag("omission", "major" if om.strong else "minor",
                                  f"pivot ({pivot_lang}) hop: " + om.reason))
            if add:
                flags.append(Flag("addition", "major" if add.strong else "minor",
                                  f"pivot ({pivot_lang}) hop: " + add.reason))
        m = track.misplaced.get(i)
        if m is not None:
            flags.append(Flag("misalignment", "major", f"pivot ({pivot_lang}) hop: "
                              + misalignment_reason(m, sources[m.belongs], m.belongs + 1)))
        out.append(flags)
    return out


def clear_caches() -> None:
    """Forget every memoised segmentation, adequacy and track analysis (benchmarks time a cold run)."""
    for cache in (_SOURCE_CACHE, _TARGET_CACHE, _CLAUSE_CACHE, _ADEQUACY_CACHE, _TRACK_CACHE, _TERMS, _READINGS,
                  _WORD_INFO, _RENDERINGS, _WORD_FACTS):
        cache.clear()
    idioms.clear_cache()


def available(src_lang: str, tgt_lang: str) -> bool:
    """Whether the meaning checks can judge the pair (a lexicon exists)."""
    return lexicon_source(src_lang, tgt_lang) is not None


def checks_unavailable(src_lang: str, tgt_lang: str) -> list[str]:
    """``["meaning"]`` where no lexicon exists for the pair (the report's ``checks_unavailable``)."""
    return [] if available(src_lang, tgt_lang) else ["meaning"]


__all__ = ["Adequacy", "Misplaced", "Signal", "TrackFinding", "TrackMeaning", "addition_signal", "adequacy",
           "analyse_track", "available", "addition_flags", "check_misalignment", "check_pivot", "checks_unavailable",
           "misalignment_reason", "omission_flags", "omission_signal", "source_info", "target_info", "track_findings",
           "TrackContext"]
