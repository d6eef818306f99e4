"""Anchors: what a translation must carry whatever its wording — glossary terms (names, titles,
places) and numbers — used to find a translation that sits in the wrong place.

Why: condensed subtitle lines share few dictionary words with their source ("臣妾在等皇上。" →
"I was waiting for you."), so the lexical neighbour search of :mod:`localise.quality.meaning`
cannot tell a short line that was moved from one that was rendered freely. Anchors can: a
translation that says "Captain Zhou" or "80" where its own source has neither, while a nearby
source has that very term or value and *its* translation lacks it, was taken from that cue. This
is how a reviewer spots a swapped line, and it needs no dictionary.

Only evidence on both sides counts: the anchor is missing from the translation of the source that
holds it, and that translation has next to nothing of its source (it came from elsewhere); it is
present in another translation whose source lacks it, and that translation matches its own source
poorly. A name a subtitler moved into a neighbouring line for clarity fails these tests (both lines
are otherwise rendered), and a value said in words in one line and in digits in the next is matched
by value, not by spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from localise.quality import numbers

#: a number anchors a line when it is distinctive: a count under this, said in many lines
#: ("two", "one"), is not; a clock time, a span, an amount of money, a year or a percentage is
MIN_COUNT_ANCHOR = 10


@dataclass(frozen=True)
class Anchor:
    """One term or value of a source that its own translation lacks."""

    label: str  # for the reason: 'Captain Zhou' (周队), 80 (八十)
    term: str | None = None  # glossary source term
    rendering: str | None = None  # its required rendering in the target language
    number: numbers.Number | None = None


def _distinctive(n: numbers.Number) -> bool:
    if n.weak:
        return False
    if n.kind != "count" or n.days is not None:
        return True
    return any(v >= MIN_COUNT_ANCHOR for v in n.values)


def lost_anchors(source: str, target: str, src_lang: str, tgt_lang: str, glossary: Any) -> list[Anchor]:
    """The glossary terms and distinctive numbers of ``source`` that ``target`` does not carry."""
    found: list[Anchor] = []
    if glossary is not None:
        for match, rendering in glossary.missing(source, target, tgt_lang):
            if match.term not in target:  # copied, not translated: the untranslated check's
                found.append(Anchor(f"{rendering!r} ({match.term})", term=match.term, rendering=rendering))
    comparison = numbers.compare_texts(source, target, src_lang, tgt_lang, glossary=glossary)
    for n in [s for s, _t in comparison.conflicts] + list(comparison.missing):
        if _distinctive(n) and n.text not in target:
            found.append(Anchor(n.describe(), number=n))
    return found


def _foreign_numbers(source: str, target: str, src_lang: str, tgt_lang: str, glossary: Any) -> list[numbers.Number]:
    """Distinctive numbers of ``target`` with no value in ``source``; not a value a power of ten
    off its own source's ("by 80" for 八点 is that line's number misstated, not another line's)."""
    comparison = numbers.compare_texts(source, target, src_lang, tgt_lang, glossary=glossary)
    foreign = [t for s, t in comparison.conflicts if not numbers.slip_of(s, t)] + list(comparison.extra)
    return [t for t in foreign if _distinctive(t)]


def _spelled_by(rendering: str, source: str, src_lang: str, tgt_lang: str) -> bool:
    """The rendering's name words are the pinyin of characters of ``source``: "Mr. Qin" in the
    translation of 秦老先生 is that man's name, not the glossary's 秦总 taken from another line."""
    from localise.quality import meaning
    from localise.quality.lexicon import load_lexicon

    lex = load_lexicon(src_lang, tgt_lang)
    if lex is None:
        return False
    names = [w for w in rendering.split() if w[:1].isupper() and w.isalpha() and meaning._spellable(w.lower(), lex)]
    info = meaning.source_info(source, lex)
    return bool(names) and all(meaning._name_span(w, info, lex) is not None for w in names)


@dataclass(frozen=True)
class Moved:
    """Unit ``position``'s translation carries ``anchors`` of unit ``belongs``'s source."""

    position: int
    belongs: int
    anchors: tuple[str, ...]


def moved_translations(sources: Sequence[str], targets: Sequence[str], src_lang: str, tgt_lang: str,
                       glossary: Any, poor: Callable[[int], bool], window: int,
                       context: Callable[[int], tuple[str, str]] | None = None,
                       taken: Callable[[int], bool] = lambda i: False,
                       unrelated: Callable[[int], bool] | None = None) -> dict[int, Moved]:
    """Each poorly matched translation that carries the lost anchors of a source within ``window``
    units (see the module doc); the nearest such source wins.

    Units are sentences, or cues with ``context(i)``: the source and translation of the sentence
    cue *i* belongs to. Then a cue's anchor is lost only when its whole sentence's translation lacks
    it, and a translation carries one only when its whole sentence's source lacks it: a name moved
    to the next cue of the same sentence is no evidence. ``poor(i)``: unit *i*'s translation
    matches its own source poorly. Cost: only poor translations that hold a glossary rendering or a
    distinctive number are looked at, and only their neighbours' anchors are computed.

    Both translations must match their own source poorly, as two exchanged lines do: a source
    whose translation is empty, untranslated or otherwise well rendered (a name merely left out
    is the glossary check's) lends no anchor: ``unrelated(j)`` (default ``poor``) says the
    translation of the source that lost the anchor has next to nothing of it. ``taken(i)``: unit
    *i* is placed already.
    """
    unrelated = unrelated or poor
    n = min(len(sources), len(targets))
    around = context or (lambda i: (sources[i], targets[i]))
    lost_memo: dict[int, list[Anchor]] = {}

    def lost(j: int) -> list[Anchor]:
        if j not in lost_memo:
            lost_memo[j] = (lost_anchors(sources[j], around(j)[1], src_lang, tgt_lang, glossary)
                            if sources[j].strip() else [])
        return lost_memo[j]

    moved: dict[int, Moved] = {}
    for i in range(n):
        if not targets[i].strip() or taken(i) or not poor(i):
            continue
        own_source = around(i)[0]
        names = ([r for r in glossary.renderings_in(targets[i], tgt_lang)
                  if not _spelled_by(r, own_source, src_lang, tgt_lang)] if glossary is not None else [])
        values = _foreign_numbers(own_source, targets[i], src_lang, tgt_lang, glossary)
        if not names and not values:
            continue
        for j in sorted(range(max(0, i - window), min(n, i + window + 1)), key=lambda k: abs(k - i)):
            if j == i or not unrelated(j):
                continue
            held = [a.label for a in lost(j)
                    if (a.rendering in names and a.term not in own_source)
                    or (a.number is not None and any(a.number.matches(v) for v in values))]
            if held:
                moved[i] = Moved(i, j, tuple(held))
                break
    return moved
