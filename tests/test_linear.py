"""Line-level work is linear (or n log n) in the length of a cue.

The probe: one 1 MB cue took 281 s to translate and 55 s to check (128 kB 10 s, 256 kB 27 s). The
quadratic paths were wrapping (a DP state for every end of the last line, each scanning every
start), markup restore (every tag scanned the whole translation for word boundaries) and joining
a cue's lines one by one. Proof without timings: the Python lines executed (``sys.settrace`` line
events, deterministic) for a cue 8x longer grow about 8x — a quadratic path would grow 64x.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import localise
from localise import layout
from localise.formats.markup import protect
from localise.layout import join_all, join_pieces, style_for, wrap
from localise.model import Cue, Track, Translation
from localise.pipeline import LocaliseOptions, localise_tracks
from localise.quality.checks import check_track
from localise.units import build_units, spread

PACKAGE = str(Path(localise.__file__).parent)
GROWTH = 8  # the long input is GROWTH times the short one
LINEAR = 12  # allowed growth of the work: GROWTH (linear) with room for n log n and fixed costs


def line_events(work: Callable[[], object]) -> int:
    """Lines of the library executed by ``work()`` (a deterministic count of Python-level work)."""
    count = 0

    def local(frame, event, arg):  # noqa: ANN001, ANN202
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame, event, arg):  # noqa: ANN001, ANN202
        return local if frame.f_code.co_filename.startswith(PACKAGE) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        work()
    finally:
        sys.settrace(previous)
    return count


def _cold(work: Callable[[], object]) -> Callable[[], object]:
    """``work`` with the checks' per-text memos emptied first: both sizes are counted cold (a
    memo hit for the short input alone would read as super-linear growth)."""
    from localise.quality import meaning

    def run() -> object:
        meaning.clear_caches()
        return work()
    return run


def growth(make: Callable[[int], Callable[[], object]], n: int) -> float:
    make(n)()  # first-use caches and imports out of the count
    return line_events(_cold(make(GROWTH * n))) / line_events(_cold(make(n)))


WORDS = ["你好", "我们", "茶馆", "今天", "下雨", "林师傅", "喝茶", "明天", "回来", "不行"]


def chinese(n: int, *, lines: bool = False, tags: str = "", seed: int = 1) -> str:
    """About ``n`` characters of Chinese with punctuation (line breaks, markup tags where asked)."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < n:
        word = rng.choice(WORDS)
        if tags and rng.random() < 0.3:
            word = tags.format(word)
        out.append(word)
        size += len(word)
        if rng.random() < 0.08:
            out.append(rng.choice("，。！？"))
        elif lines and rng.random() < 0.1:
            out.append("\n")
    return "".join(out)


def english(n_words: int, seed: int = 2) -> str:
    rng = random.Random(seed)
    words = ["the", "tea", "house", "is", "open", "today,", "rain.", "Master", "Lin", "waits"]
    return " ".join(rng.choice(words) for _ in range(n_words))


def test_wrap_is_linear_in_the_text() -> None:
    for lines in (2, 3):
        style = style_for("en", {"max_lines": lines})
        assert growth(lambda n: (lambda: wrap(english(n), "en", style)), 300) < LINEAR
    zh = style_for("zh")
    assert growth(lambda n: (lambda: wrap(chinese(n, lines=True), "zh", zh)), 400) < LINEAR


def test_wrap_is_linear_in_runs_of_punctuation() -> None:
    """Hostile cues: a run of opening marks (each glued to what follows) or closing marks. The
    opening-mark test read the whole run gathered so far for each mark: 9,600 of 「 took 15 s."""
    zh, en = style_for("zh"), style_for("en")
    for mark in ("「", "（", "」", "「你"):
        assert growth(lambda n, m=mark: (lambda: wrap(m * n, "zh", zh)), 300) < LINEAR
        assert growth(lambda n, m=mark: (lambda: wrap(m * n, "en", en)), 300) < LINEAR


def test_markup_restore_is_linear_in_the_cue() -> None:
    def make(n: int) -> Callable[[], object]:
        protected = protect(chinese(n, tags="<i>{}</i>"), "srt")
        translation = english(n // 2)
        return lambda: protected.restore(translation)

    assert growth(make, 400) < LINEAR

    def make_ass(n: int) -> Callable[[], object]:
        protected = protect(chinese(n, tags="{{\\i1}}{}{{\\i0}}\\h"), "ass")
        translation = english(n // 2)
        return lambda: protected.restore(translation)

    assert growth(make_ass, 400) < LINEAR


def test_units_and_spread_are_linear_in_the_cue() -> None:
    def make(n: int) -> Callable[[], object]:
        track = Track([Cue(0, 1000, "开始。"), Cue(1500, 60000, chinese(n, lines=True)), Cue(60500, 61000, "结束")], "srt")

        def work() -> None:
            units = build_units(track)
            spread(track, units, [english(max(1, len(u.source) // 3)) for u in units], "en")

        return work

    assert growth(make, 600) < LINEAR


def test_checks_are_linear_in_the_cue() -> None:
    """check_track on one long cue of words (and markup) against its translation."""
    def make(n: int) -> Callable[[], object]:
        source = Track([Cue(0, 60000, chinese(n, lines=True, tags="<i>{}</i>"))], "srt")
        target = source.with_texts([english(n // 2)])
        return lambda: check_track(source, target, src_lang="zh", tgt_lang="en")

    assert growth(make, 500) < LINEAR


class Echo:
    """An engine object: English-like words, about one per two source characters."""

    def translate(self, texts, src, tgt):  # noqa: ANN001, ANN201
        return [Translation(english(max(1, len(t) // 2), seed=len(t)), 0.9) for t in texts]


def test_the_whole_line_level_pipeline_is_linear_in_the_cue() -> None:
    """Units, glossary, spreading, wrapping, markup restore, checks and the report for one long cue."""
    glossary_rows = "zh,en\n林师傅,Master Lin\n茶馆,teahouse\n"

    def make(n: int) -> Callable[[], object]:
        from localise.glossary import Glossary

        glossary = Glossary.from_csv(glossary_rows)
        track = Track([Cue(0, 2000, "开始。", "1"), Cue(3000, 60000, chinese(n, lines=True, tags="<i>{}</i>"), "2")], "srt")
        options = LocaliseOptions(engine=Echo(), glossary=glossary)
        return lambda: localise_tracks([track], ["en"], options=options)

    assert growth(make, 600) < LINEAR


# --- the faster paths give the same results ------------------------------------------------------


def _full_dp(atoms: list[str], seps: list[str], n: int, limit: int, lang: str) -> tuple[float, float]:
    """The best cost over every way to break ``atoms`` into ``n`` lines (the plain O(n·m²) DP)."""
    m = len(atoms)
    lens = [layout.text_length(a) for a in atoms]
    prefix = [0] * (m + 1)
    for i in range(m):
        prefix[i + 1] = prefix[i] + lens[i] + (len(seps[i]) if i < m - 1 else 0)
    end = [prefix[b] - (len(seps[b - 1]) if 0 < b < m else 0) for b in range(m + 1)]
    target = end[m] / n
    bonus = [layout.break_quality(atoms[i], lang) * 0.12 * target**2 for i in range(m)]
    inf = (float("inf"), float("inf"))
    dp = [[inf] * (m + 1) for _ in range(n + 1)]
    dp[0][0] = (0.0, 0.0)
    for k in range(1, n + 1):
        for b in range(1, m + 1):
            for a in range(0, b):
                if dp[k - 1][a] == inf:
                    continue
                ln = end[b] - prefix[a]
                score = (ln - target) ** 2 - (bonus[b - 1] if b < m else 0.0) + (0.5 if k == 1 and n > 1 and ln > target else 0)
                cost = (dp[k - 1][a][0] + max(0, ln - limit), dp[k - 1][a][1] + score)
                dp[k][b] = min(dp[k][b], cost)
    return dp[n][m]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "the", "teahouse,", "rain.", "I", "你", "好。", "「喝茶」", "supercalifragilistic"]),
                min_size=2, max_size=14),
       st.integers(2, 4), st.integers(3, 30), st.sampled_from(["en", "zh"]))
def test_wrap_finds_the_optimal_breaks(words: list[str], n: int, limit: int, lang: str) -> None:
    atoms, seps = layout.break_atoms(" ".join(words), lang)
    if len(atoms) < n:
        return
    (overflow, score), lines = layout._best_lines(atoms, seps, n, limit, lang)
    best = _full_dp(atoms, seps, n, limit, lang)
    assert abs(overflow - best[0]) < 1e-6 and abs(score - best[1]) < 1e-6 * max(1.0, abs(best[1]))
    assert len(lines) == n and layout.join_atoms(atoms, seps).replace(" ", "") == "".join(lines).replace(" ", "")


@given(st.lists(st.sampled_from(["", " ", "  a", "b ", "你", " 好 ", "x y", "\t", "。", "Z", "\u3000茶"]), max_size=8))
def test_join_all_is_join_pieces_folded(pieces: list[str]) -> None:
    folded = ""
    for piece in pieces:
        folded = join_pieces(folded, piece)
    assert join_all(pieces) == folded


def _boundaries_one_role(text: str, role: str) -> list[int]:
    """The definition markup restore used per span before it indexed the text once (the oracle)."""
    from localise.formats.markup import _no_space_script

    points = []
    n = len(text)
    for i in range(n + 1):
        before = text[i - 1] if i else ""
        after = text[i] if i < n else ""
        b_word = bool(before) and not before.isspace()
        a_word = bool(after) and not after.isspace()
        joint = bool(before and after) and (_no_space_script(before) or _no_space_script(after))
        start = a_word and (not b_word or joint)
        end = b_word and (not a_word or joint)
        if (role == "open" and start) or (role == "close" and end) or (role == "any" and (start or end or i in (0, n))):
            points.append(i)
    return points or [0, n]


@given(st.text(alphabet=["a", " ", "你", "\n", "\u3000", "ไ", "é", "\t", ".", "\xa0", "😀", "가", "\u200b"], max_size=16))
def test_markup_boundaries_in_one_pass_equal_the_definition(text: str) -> None:
    from localise.formats.markup import _all_boundaries

    assert _all_boundaries(text) == {role: _boundaries_one_role(text, role) for role in ("open", "close", "any")}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["你好", "<i>", "</i>", " ", "tea", "\n", "。", "{\\an8}", "雨"]), max_size=20),
       st.lists(st.sampled_from(["the ", "cat", " ", "\n", "雨", "mat"]), max_size=20).map("".join))
def test_markup_restore_places_spans_as_the_nearest_boundary_rule_says(parts: list[str], translation: str) -> None:
    """Restore by bisection over the indexed boundaries equals the per-span scan it replaced."""
    from localise.formats import markup

    protected = protect("".join(parts), "srt")
    restored = protected.restore(translation)

    def scan_snap(points, ideal, lo, hi, role, after):  # noqa: ANN001, ANN202
        body = points.text
        candidates = [p for p in _boundaries_one_role(body, role) if lo <= p <= hi and (after is None or p > after)]
        if not candidates:
            candidates = [p for p in _boundaries_one_role(body, "any") if lo <= p <= hi] or [lo]
        return min(candidates, key=lambda p: (abs(p - ideal), p))

    original, markup._snap = markup._snap, scan_snap
    try:
        assert protected.restore(translation) == restored
    finally:
        markup._snap = original
