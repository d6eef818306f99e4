"""The planted-defect benchmark's planters (benchmarks/defects.py) and its evaluation figures."""

from __future__ import annotations

import random

import pytest

from benchmarks.defects import CAUGHT_BY, KINDS, SPACING, plant
from benchmarks.quality_data import load_pairs


@pytest.fixture(scope="module")
def episode():
    return next(p for p in load_pairs("evaluation") if p.kind == "subtitles" and p.glossary)


@pytest.mark.parametrize("kind", KINDS)
def test_a_planter_changes_only_words_at_the_cues_it_names(episode, kind):
    target, planted = plant(episode.source, episode.target, kind, random.Random(1), glossary=episode.glossary)
    assert planted, f"{kind}: nothing planted in {episode.name}"
    assert [(c.start_ms, c.end_ms) for c in target.cues] == [(c.start_ms, c.end_ms) for c in episode.target.cues]
    touched = {c for p in planted for c in p.cues}
    changed = {i for i, (a, b) in enumerate(zip(episode.target.cues, target.cues)) if a.text != b.text}
    assert changed and changed <= touched
    assert all(p.caught_by == CAUGHT_BY[kind] for p in planted)
    if kind not in ("swap", "shift-run"):
        firsts = sorted(p.cues[0] for p in planted)
        assert all(b - a >= SPACING for a, b in zip(firsts, firsts[1:]))


def test_the_same_seed_plants_the_same_defects(episode):
    a = plant(episode.source, episode.target, "dropped-half", random.Random(5))
    b = plant(episode.source, episode.target, "dropped-half", random.Random(5))
    assert [c.text for c in a[0].cues] == [c.text for c in b[0].cues] and a[1] == b[1]


def test_evaluation_figures_cover_every_kind_on_the_evaluation_split_only():
    from benchmarks.quality_recall import evaluation_figures

    fig = evaluation_figures(kinds=("empty", "wrong-number"))
    assert fig["split"] == "evaluation" and fig["clean"]["cues"] >= 250
    assert set(fig["recall"]) == {"empty", "wrong-number"}
    assert fig["recall"]["empty"]["planted"] > 0 and fig["recall"]["empty"]["recall"] == 1.0
    calibration = {p.name for p in load_pairs("calibration")}
    assert not calibration & set(fig["episodes"])


def test_calibration_figures_measure_the_calibration_split_only():
    """``--split calibration`` measures the split the thresholds are tuned on, never the evaluation split."""
    from benchmarks.quality_recall import evaluation_figures

    fig = evaluation_figures(split="calibration", kinds=("empty",), count=1)
    assert fig["split"] == "calibration" and fig["recall"]["empty"]["recall"] == 1.0
    evaluation = {p.name for p in load_pairs("evaluation")}
    assert not evaluation & set(fig["episodes"])


def test_recut_keeps_the_words_and_their_order_and_moves_only_boundaries_and_times():
    """benchmarks.recut: the English cut again as an independent subtitler would (merged neighbours,
    times a few frames off) — the same words in the same order, cues in order, seeded."""
    from benchmarks.recut import recut

    pair = next(p for p in load_pairs("calibration", corpus=None) if p.name == "binjiang-case-01")
    a, b = recut(pair.target, random.Random(3)), recut(pair.target, random.Random(3))
    assert [c.text for c in a.cues] == [c.text for c in b.cues]
    assert len(a.cues) < len(pair.target.cues)  # some neighbours merged
    assert " ".join(c.text.replace("\n", " ") for c in a.cues) == " ".join(
        c.text.replace("\n", " ") for c in pair.target.cues)
    assert all(c.end_ms - c.start_ms >= 700 for c in a.cues)
    assert all(x.end_ms < y.start_ms for x, y in zip(a.cues, a.cues[1:]))
    assert any((c.start_ms, c.end_ms) not in {(t.start_ms, t.end_ms) for t in pair.target.cues} for c in a.cues)
    held = [c.text for c in pair.target.cues if sum(t.text == c.text for t in pair.target.cues) > 1]
    assert held and all(h in [c.text for c in a.cues] for h in held)  # a held-over line is never merged


def test_calibration_figures_include_the_recut_english():
    from benchmarks.quality_recall import evaluation_figures

    fig = evaluation_figures(split="calibration", kinds=("empty",), count=1)
    recut = fig["clean"]["recut"]
    assert recut["cues"] > 0 and 0 <= recut["need_review"] <= recut["cues"]
