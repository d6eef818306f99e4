"""Planted defects: clean professional translations made wrong in the ways real vendor files and
engines go wrong, so recall can be measured on lines the rules were never tuned on.

Each planter takes a clean episode pair and a random generator and returns the damaged target
track plus what it did (:class:`Planted`: the kind, the cues it touched, the flag codes that count
as catching it). Cues, count and timings never change — only the words, as with a real defect.
Planters pick cues far enough apart (:data:`SPACING`) that two planted defects never share a
sentence, and skip cues a kind cannot apply to (a wrong number needs a number).

The text operations of the meaning kinds (dropped half, swap, shift, appended sentence) are
:mod:`benchmarks.plant`'s, shared with ``benchmarks.meaning_recall``; this module picks the cues.

Kinds (issue 14 item 6 and issue 13 item 8): ``empty``, ``untranslated``, ``wrong-number``,
``dropped-half``, ``repeated-phrase``, ``added-sentence``, ``broken-markup``, ``glossary-miss``,
``swap`` (two cues 2–30 apart exchange translations), ``shift-run`` (ten cues each show the
previous cue's translation), ``punctuation`` (a full-width mark left in), ``misspelling``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import plant as edits
from localise.formats.markup import plain_text
from localise.model import Track

#: planted cues of one copy are at least this many cues apart
SPACING = 6

#: flag codes that count as catching each kind
CAUGHT_BY: dict[str, frozenset[str]] = {
    "empty": frozenset({"empty"}),
    "untranslated": frozenset({"untranslated"}),
    "wrong-number": frozenset({"number"}),
    "dropped-half": frozenset({"omission"}),
    "repeated-phrase": frozenset({"repetition"}),
    "added-sentence": frozenset({"addition"}),
    "broken-markup": frozenset({"markup"}),
    "glossary-miss": frozenset({"glossary"}),
    "swap": frozenset({"misalignment", "omission", "addition"}),
    "shift-run": frozenset({"misalignment"}),
    "punctuation": frozenset({"punctuation"}),
    "misspelling": frozenset({"spelling"}),
}
KINDS: tuple[str, ...] = tuple(CAUGHT_BY)

#: unrelated sentences appended by ``added-sentence`` (written for this benchmark)
UNRELATED = (
    "The parking lot closes at nine on weekdays.",
    "Her brother sold the old piano last spring.",
    "Please remember to water the plants tomorrow.",
    "The train to the airport was delayed again.",
    "We painted the kitchen a pale shade of green.",
    "The museum has a new exhibit about whales.",
)

_NUMBER_WORDS = {"one": "four", "two": "five", "three": "seven", "four": "nine", "five": "eight", "six": "two",
                 "seven": "three", "eight": "six", "nine": "one", "ten": "forty", "twenty": "sixty",
                 "hundred": "thousand", "thousand": "million", "million": "billion", "week": "month",
                 "half": "a third"}
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[A-Za-z]{5,}")


@dataclass(frozen=True)
class Planted:
    kind: str
    cues: tuple[int, ...]  # 0-based cue positions whose words changed
    detail: str = ""

    @property
    def caught_by(self) -> frozenset[str]:
        return CAUGHT_BY[self.kind]


def _words(track: Track, i: int) -> str:
    return plain_text(track.cues[i].text, track.format)


def _set(texts: list[str], i: int, text: str) -> None:
    texts[i] = text


def _candidates(source: Track, target: Track, ok: Callable[[int], bool]) -> list[int]:
    return [i for i in range(len(target.cues)) if _words(source, i).strip() and _words(target, i).strip() and ok(i)]


def _spread(cands: Sequence[int], k: int, rng: random.Random, taken: set[int]) -> list[int]:
    pool = list(cands)
    rng.shuffle(pool)
    picked: list[int] = []
    for i in pool:
        if all(abs(i - j) >= SPACING for j in taken | set(picked)):
            picked.append(i)
        if len(picked) == k:
            break
    return picked


def _wrong_number(text: str) -> str | None:
    m = _DIGITS.search(text)
    if m:
        value = int(m.group())
        return text[: m.start()] + str(value * 10 if value else 7) + text[m.end():]
    for word, other in _NUMBER_WORDS.items():
        m = re.search(rf"\b{word}\b", text, flags=re.IGNORECASE)
        if m:
            return text[: m.start()] + other + text[m.end():]
    return None


def _misspell(text: str, rng: random.Random) -> str | None:
    words = [m for m in _WORD.finditer(text) if m.group().islower()]
    if not words:
        return None
    m = rng.choice(words)
    w = m.group()
    k = rng.randrange(1, len(w) - 2)
    bad = w[:k] + w[k + 1] + w[k] + w[k + 2:]  # two letters swapped
    return None if bad == w else text[: m.start()] + bad + text[m.end():]


def _glossary_targets(glossary: Path | None) -> dict[str, str]:
    if glossary is None:
        return {}
    from localise.glossary import Glossary

    g = Glossary.load(glossary)
    out = {}
    for entry in g.entries:
        target = g.target_for(entry.targets, "en")
        if target:
            out[entry.term] = target
    return out


def plant(source: Track, target: Track, kind: str, rng: random.Random, *, count: int = 3,
          glossary: Path | None = None) -> tuple[Track, list[Planted]]:
    """``target`` with up to ``count`` defects of ``kind`` (fewer where the episode has no fitting
    cue), and what was planted."""
    texts = [c.text for c in target.cues]
    planted: list[Planted] = []
    taken: set[int] = set()
    n = len(texts)

    def simple(ok: Callable[[int], bool], change: Callable[[int], str | None]) -> None:
        for i in _spread(_candidates(source, target, ok), count * 3, rng, taken):
            if len(planted) == count:
                break
            new = change(i)
            if new is None or new == texts[i]:
                continue
            texts[i] = new
            taken.add(i)
            planted.append(Planted(kind, (i,), new))

    if kind == "empty":
        simple(lambda i: True, lambda i: "")
    elif kind == "untranslated":
        simple(lambda i: True, lambda i: _words(source, i))
    elif kind == "wrong-number":
        simple(lambda i: bool(_wrong_number(_words(target, i))), lambda i: _wrong_number(_words(target, i)))
    elif kind == "dropped-half":
        plain = [_words(target, k) for k in range(n)]
        simple(lambda i: len(plain[i].split()) >= 6, lambda i: edits.drop_second_half(plain, i)[0][i])
    elif kind == "repeated-phrase":
        def loop(i: int) -> str | None:
            words = re.sub(r"[^\w' ]", "", _words(target, i)).split()
            return " ".join(words + words[-2:] * 3) if len(words) >= 2 else None
        simple(lambda i: len(_words(target, i).split()) >= 2, loop)
    elif kind == "added-sentence":
        plain = [_words(target, k) for k in range(n)]
        simple(lambda i: True, lambda i: edits.append_sentence(plain, i, rng.choice(UNRELATED))[0][i])
    elif kind == "broken-markup":
        simple(lambda i: "<" not in target.cues[i].text, lambda i: "<i>" + _words(target, i))
    elif kind == "glossary-miss":
        terms = _glossary_targets(glossary)

        def miss(i: int) -> str | None:
            words = _words(target, i)
            for term, rendering in terms.items():
                if term in _words(source, i) and rendering in words:
                    return words.replace(rendering, "the other one")
            return None
        simple(lambda i: miss(i) is not None, miss)
    elif kind == "punctuation":
        simple(lambda i: _words(target, i).rstrip()[-1:] in "!?.", lambda i: _words(target, i).rstrip()[:-1]
               + {"!": "！", "?": "？", ".": "。"}[_words(target, i).rstrip()[-1]])
    elif kind == "misspelling":
        simple(lambda i: _misspell(_words(target, i), random.Random(i)) is not None,
               lambda i: _misspell(_words(target, i), rng))
    elif kind == "swap":
        cands = _candidates(source, target, lambda i: len(_words(target, i)) >= 12)
        for i in _spread(cands, count * 3, rng, taken):
            if len(planted) == count:
                break
            far = [j for j in cands if 2 <= abs(j - i) <= 30 and all(abs(j - t) >= SPACING for t in taken | {i})
                   and _words(target, j) != _words(target, i)]
            if not far:
                continue
            j = rng.choice(far)
            texts = edits.swap(texts, i, j - i)[0]
            taken |= {i, j}
            planted.append(Planted(kind, (i, j), f"cues {i + 1} and {j + 1} exchanged"))
    elif kind == "shift-run":
        run = 10
        if n >= run + 2:
            start = rng.randrange(1, n - run)
            texts = edits.shift_run(texts, start, run, by=-1)[0]  # each cue shows the previous cue's words
            planted.append(Planted(kind, tuple(range(start, start + run)), f"cues {start + 1}–{start + run} shifted by one"))
    else:
        raise ValueError(f"unknown defect kind {kind!r}; known: {', '.join(KINDS)}")
    return target.with_texts(texts), planted
