"""Chinese word segmentation: one segmenter for every check that needs word boundaries.

Why one module: the number check (is 三 inside 老三?) and the meaning checks (which words does a
sentence hold?) must agree on what a word is, and a second dictionary in memory costs a second
to load. Why rjieba: it is jieba's algorithm and dictionary compiled (jieba-rs, MIT), giving the
same words as jieba's dictionary mode — identical on 58,794 distinct lines of the shared corpus,
our subtitles and the benchmark track — at about a thirteenth of the cost; segmentation was a
fifth of ``localise check``'s time on a long track. HMM off: unknown names stay single
characters, which the pinyin matching of names reads.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

_LOCK = threading.Lock()
_CUT: Any = None


def cut(text: str) -> list[str]:
    """The words of ``text`` in order (punctuation, spaces and Latin runs are words too), so that
    the lengths add up to ``len(text)``. The dictionary loads on the first call."""
    global _CUT
    if _CUT is None:
        with _LOCK:
            if _CUT is None:
                import rjieba

                _CUT = rjieba.cut
    return _CUT(text, False)


@lru_cache(maxsize=65536)
def word_bounds(text: str) -> tuple[int, ...]:
    """Offsets where the words of ``text`` start, and ``len(text)`` (cached per distinct text)."""
    bounds = [0]
    for word in cut(text):
        bounds.append(bounds[-1] + len(word))
    return tuple(bounds)


def loaded() -> bool:
    """Whether the dictionary has been loaded in this process (it is only when a text needs it)."""
    return _CUT is not None


__all__ = ["cut", "loaded", "word_bounds"]
