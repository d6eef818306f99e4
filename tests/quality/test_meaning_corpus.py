"""Meaning checks on real zh-en subtitles of the shared corpus (read in place; the `corpus` fixture
skips without it, or fails under CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import plant



@pytest.fixture(scope="module")
def pairs(corpus: Path):
    from benchmarks.meaning_recall import cerlancism_track

    return cerlancism_track(corpus)


def test_real_clean_track_has_no_major_meaning_flag(pairs):
    from benchmarks.meaning_recall import _check

    zh, en = [z for z, _ in pairs], [e for _, e in pairs]
    found = _check(zh, en)
    assert [(i, f.reason) for i, cue in enumerate(found) for f in cue
            if f.code in ("omission", "addition", "misalignment") and f.severity != "minor"] == []


def test_real_lines_swapped_12_apart_name_each_other(pairs):
    from benchmarks.meaning_recall import _check

    zh, en = [z for z, _ in pairs], [e for _, e in pairs]
    swapped, cues = plant.swap(en, 5, 12)
    found = _check(zh, swapped)
    mis = {i: f for i in cues for f in found[i] if f.code == "misalignment"}
    assert set(mis) == {5, 17}
    assert "cue 18 " in mis[5].reason and "cue 6 " in mis[17].reason


def test_planting_helpers_touch_only_the_cues_they_name(pairs):
    en = [e for _, e in pairs]
    for texts, cues in (plant.drop_second_half(en, 5), plant.swap(en, 2, 7), plant.shift_run(en, 3, 10),
                        plant.append_sentence(en, 4, "The tide was low.")):
        assert len(texts) == len(en)
        assert {i for i, (a, b) in enumerate(zip(en, texts)) if a != b} <= set(cues)
    assert plant.drop_second_half(en, 5)[0][5] == "I'm going to watch a"
