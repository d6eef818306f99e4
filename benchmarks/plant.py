"""Planted meaning defects for recall measurements: drop the second half of a line, swap two
lines N cues apart, shift a run of cues by one, append an unrelated sentence.

Why a module: ``benchmarks/quality_recall.py`` and the meaning tests plant the same defects;
each function takes the clean target texts (one per cue) and returns the changed texts and the
cue positions (0-based) that now carry the defect — the cues a checker should flag.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

_WORDS = re.compile(r"\S+")


def drop_second_half(texts: Sequence[str], i: int) -> tuple[list[str], list[int]]:
    """Cue ``i`` keeps the first half of its words ("Why did you come to the mountain?" -> "Why did you")."""
    out = list(texts)
    words = _WORDS.findall(texts[i])
    keep = max(1, len(words) // 2)
    out[i] = " ".join(words[:keep])
    return out, [i]


def swap(texts: Sequence[str], i: int, distance: int) -> tuple[list[str], list[int]]:
    """Cues ``i`` and ``i + distance`` trade translations."""
    out = list(texts)
    j = i + distance
    out[i], out[j] = texts[j], texts[i]
    return out, [i, j]


def shift_run(texts: Sequence[str], start: int, length: int = 10, by: int = 1) -> tuple[list[str], list[int]]:
    """Cues ``start`` .. ``start + length - 1`` show the translation ``by`` cues later (a vendor
    file that slipped by one line for a stretch)."""
    out = list(texts)
    for k in range(start, start + length):
        out[k] = texts[k + by]
    return out, list(range(start, start + length))


def shift_all(texts: Sequence[str], by: int = 1) -> tuple[list[str], list[int]]:
    """The whole track slipped by ``by`` lines (the last cues repeat the last translation)."""
    out = [texts[min(k + by, len(texts) - 1)] for k in range(len(texts))]
    return out, list(range(len(texts)))


def append_sentence(texts: Sequence[str], i: int, sentence: str) -> tuple[list[str], list[int]]:
    """Cue ``i`` gets an unrelated sentence after its own translation."""
    out = list(texts)
    base = texts[i].rstrip()
    sep = " " if base.endswith((".", "!", "?", "…")) else ". "
    out[i] = base + sep + sentence
    return out, [i]


def pick(n: int, count: int, seed: int, margin: int = 0) -> list[int]:
    """``count`` distinct positions in ``[margin, n - margin)``, reproducibly."""
    rng = random.Random(seed)
    pool = list(range(margin, max(margin, n - margin)))
    return sorted(rng.sample(pool, min(count, len(pool))))


__all__ = ["append_sentence", "drop_second_half", "pick", "shift_all", "shift_run", "swap"]
