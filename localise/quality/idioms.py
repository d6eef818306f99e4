"""Set phrases in a Chinese source (chengyu 成语, proverbs 俗语, 歇后语): units rendered by meaning.

Why: professional subtitles render an idiom by what it means ("三十六计，走为上计" -> "Run!",
"画蛇添足" -> "Don't overdo it"), so the dictionary glosses of its characters rarely meet the
translation. Counted word by word, a freely rendered idiom looks like dropped content (a false
``omission``), its rendering like words no source word accounts for (``addition``), and the line
like one that belongs elsewhere (``misalignment``). The meaning checks therefore treat each set
phrase as one unit (``meaning._adequacy``): its glosses count when the translation holds them;
rendered freely it is neither uncovered source content nor leaves its rendering unaccounted for.

What counts as a set phrase, from data, no per-call scan (the index is built once per lexicon):

- a segmented word the dictionary marks "(idiom)" (``Lexicon.idioms``, from CC-CEDICT);
- a segmented word of four Chinese characters that is no proper noun: the four-character set
  phrase is a class of its own (jieba's dictionary keeps 一劳永逸, 狼心狗肺 as one word);
- a phrase of ``localise/data/lexicons/idioms.<lang>.txt`` (and that file in ``$LOCALISE_LEXICONS``
  folders: reviewers extend it), the literal set phrases of four or more characters of
  ``localise/data/non_quantities.txt`` (the number check's list), and the dictionary's idioms of
  five or more characters: matched on the Chinese letters of the text across word and punctuation
  boundaries (三十六计，走为上计 is three segments; 外甥打灯笼——照舅 five).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localise.quality.lexicon import LEXICON_DIR, Lexicon
from localise.quality.text import base_lang

_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_HAN = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@dataclass(frozen=True)
class IdiomIndex:
    """The set phrases of one lexicon's source language."""

    words: frozenset[str]  # a segmented word that is a set phrase on its own
    phrases: dict[str, tuple[str, ...]]  # first three letters -> phrases (Chinese letters only), longest first
    memo: dict[str, bool] = field(default_factory=dict, compare=False)  # word -> is a set phrase, once per word


def idiom_files(lang: str) -> tuple[Path, ...]:
    """``idioms.<lang>.txt`` in ``$LOCALISE_LEXICONS`` folders and the packaged lexicon folder."""
    name = f"idioms.{base_lang(lang)}.txt"
    folders = [Path(p) for p in os.environ.get("LOCALISE_LEXICONS", "").split(os.pathsep) if p] + [LEXICON_DIR]
    return tuple(path for folder in folders if (path := folder / name).is_file())


def parse_idioms(lines: Sequence[str]) -> list[str]:
    """Entries of an idiom list: one phrase a line, ``#`` comments; only its Chinese letters count."""
    out = []
    for line in lines:
        entry = _NOT_HAN.sub("", line.split("#", 1)[0])
        if len(entry) >= 2:
            out.append(entry)
    return out


def build_index(lex: Lexicon) -> IdiomIndex:
    listed: list[str] = []
    for path in idiom_files(lex.src_lang):
        listed.extend(parse_idioms(path.read_text(encoding="utf-8").splitlines()))
    if base_lang(lex.src_lang) == "zh":
        from localise.quality.numbers import default_non_quantities

        listed.extend(e for e in default_non_quantities()
                      if "{" not in e and len(e) >= 4 and not _NOT_HAN.search(e))
    marked = [h for w in lex.idioms if len(h := _NOT_HAN.sub("", w)) >= 5]
    phrases: dict[str, set[str]] = {}
    for p in (*listed, *marked):
        if len(p) >= 4:
            phrases.setdefault(p[:3], set()).add(p)
    return IdiomIndex(frozenset(lex.idioms) | frozenset(listed),
                      {k: tuple(sorted(v, key=len, reverse=True)) for k, v in phrases.items()})


_INDEXES: dict[int, tuple[Lexicon, IdiomIndex]] = {}
_LOCK = threading.Lock()


def idiom_index(lex: Lexicon) -> IdiomIndex:
    """The lexicon's idiom index, built once per lexicon and process."""
    found = _INDEXES.get(id(lex))
    if found is None or found[0] is not lex:
        with _LOCK:
            found = _INDEXES[id(lex)] = (lex, build_index(lex))
    return found[1]


def is_set_phrase(word: str, lex: Lexicon, index: IdiomIndex) -> bool:
    """Whether one segmented word is a set phrase on its own (``idiom_groups`` asks only of words
    of four letters or more)."""
    if word in index.words:
        return True
    return len(word) == 4 and word not in lex.proper and all(_HAN_CHAR.match(ch) for ch in word)


def idiom_groups(text: str, words: Sequence[Any], offsets: Sequence[int], lex: Lexicon) -> tuple[int, ...]:
    """Per content word of ``text`` (``words[k]`` starts at ``offsets[k] + words[k].start``) the
    index of the first word of the set phrase it belongs to, or -1; ``()`` when the text holds no
    set phrase (the common case: the adequacy loop then runs as it always did)."""
    index = idiom_index(lex)
    memo = index.memo
    groups: list[int] | None = None
    for k, w in enumerate(words):
        if len(w.text) < 4:
            continue  # set phrases have four letters or more (the few of three are left to the glosses)
        one = memo.get(w.text)
        if one is None:
            one = memo[w.text] = is_set_phrase(w.text, lex, index)
        if one:
            if groups is None:
                groups = [-1] * len(words)
            groups[k] = k
    phrases = index.phrases
    han = _NOT_HAN.sub("", text)
    starts = [i for i in range(len(han) - 3) if han[i : i + 3] in phrases]  # mostly none: done
    if starts:
        # phrases over several words: matched on the text's Chinese letters, mapped back to positions
        where = [m.start() for m in _HAN_CHAR.finditer(text)]
        i, n = starts[0], len(han)
        while i < n - 3:
            hit = next((p for p in phrases.get(han[i : i + 3], ()) if han.startswith(p, i)), None)
            if hit is None:
                i += 1
                continue
            first, last = where[i], where[i + len(hit) - 1]
            members = [k for k, w in enumerate(words)
                       if offsets[k] + w.start <= last and offsets[k] + w.end > first]
            if members:
                if groups is None:
                    groups = [-1] * len(words)
                for k in members:
                    groups[k] = members[0]
            i += len(hit)
    return tuple(groups) if groups is not None else ()


def clear_cache() -> None:
    _INDEXES.clear()


__all__ = ["IdiomIndex", "build_index", "clear_cache", "idiom_files", "idiom_groups", "idiom_index",
           "is_set_phrase", "parse_idioms"]
