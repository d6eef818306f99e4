"""The length-ratio bounds are reproducible from the corpus and behave as calibrated."""

from __future__ import annotations

import hashlib
import tomllib

from localise.quality.calibrate import (
    DEFAULT_CORPUS_FILE, calibrate, load_ratio_table, main, quantile, ratio_bounds, read_pairs,
)
from localise.quality.text import content_length


def test_stored_bounds_are_what_the_calibration_computes(corpus, tmp_path):
    tsv = corpus / DEFAULT_CORPUS_FILE
    out = tmp_path / "length_ratios.toml"
    main([str(tsv), "--out", str(out)])
    assert tomllib.loads(out.read_text(encoding="utf-8")) == load_ratio_table()
    assert load_ratio_table()["meta"]["sha256"] == hashlib.sha256(tsv.read_bytes()).hexdigest()


def test_about_one_percent_of_the_calibration_pairs_fall_outside(corpus):
    pairs = read_pairs(corpus / DEFAULT_CORPUS_FILE)
    judged = outside = 0
    for zh, en in pairs:
        s, t = content_length(zh), content_length(en)
        bounds = ratio_bounds("zh", "en", s)
        if bounds is None:
            continue
        judged += 1
        outside += not (bounds.lower <= t / s <= bounds.upper)
    assert judged > 3000
    assert 0.005 < outside / judged < 0.02


def test_quantile_matches_linear_interpolation():
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([1.0, 2.0], 0.0) == 1.0 and quantile([1.0, 2.0], 1.0) == 2.0


def test_calibrate_buckets():
    pairs = [("一二三四", "abcdefghijkl")] * 10 + [("一二三四五六七八", "abcdefghijklmnop")] * 10
    result = calibrate(pairs)
    first, second = result["buckets"]
    assert first["lower"] == first["upper"] == 3.0 and second["median"] == 2.0


def test_bounds_for_other_directions_and_pairs():
    forward = ratio_bounds("zh", "en", 10)
    reverse = ratio_bounds("en", "zh", 28)
    assert forward.calibrated and reverse.calibrated
    assert reverse.upper < 1  # Chinese is shorter than English
    assert abs(reverse.lower * load_ratio_table()["pairs"]["zh-en"]["buckets"][1]["upper"] - 1) < 1e-9
    es = ratio_bounds("zh", "es", 10)
    assert not es.calibrated and es.lower < forward.lower and es.upper > forward.upper
    assert ratio_bounds("zh", "en", 3) is None  # too short to judge
