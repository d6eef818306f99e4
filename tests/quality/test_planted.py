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
