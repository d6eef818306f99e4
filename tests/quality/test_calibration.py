"""The length-ratio bounds are reproducible from the corpus and behave as calibrated."""

from __future__ import annotations

import hashlib
import tomllib

from localise.quality.calibrate import (
    DEFAULT_CORPUS_FILE, calibrate, load_ratio_table, main, quantile, ratio_bounds, read_pairs,
)
from localise.quality.text import content_length


def test_stored_bounds_are_what_the_calibration_computes(corpus, tmp_path):
    """The packaged table is `python -m benchmarks.calibrate_lengths` on the calibration split."""
    from benchmarks.calibrate_lengths import main as calibrate_lengths

    out = tmp_path / "length_ratios.toml"
    calibrate_lengths(["--out", str(out)])
    assert tomllib.loads(out.read_text(encoding="utf-8")) == load_ratio_table()


def test_a_single_tsv_still_calibrates(corpus, tmp_path):
    tsv = corpus / DEFAULT_CORPUS_FILE
    out = tmp_path / "length_ratios.toml"
    main([str(tsv), "--out", str(out)])
    table = tomllib.loads(out.read_text(encoding="utf-8"))
    assert table["meta"]["sha256"] == hashlib.sha256(tsv.read_bytes()).hexdigest()
    assert [b["min"] for b in table["pairs"]["zh-en"]["buckets"]] == [4, 8, 12]


def test_combined_bounds_hold_for_every_register():
    from localise.quality.calibrate import calibrate_sources

    written = [("一二三四五", "abcdefghijklmno")] * 30  # ratio 3
    spoken = [("一二三四五", "abcde")] * 25 + [("一二三四五", "abcdefghijklmnopqrstuvwxy")] * 5  # 1 and 5
    few = [("一二三四五", "a")] * 5  # too few pairs to set bounds
    combined = calibrate_sources({"written": written, "spoken": spoken, "few": few})
    (bucket,) = combined["buckets"]
    assert bucket["lower"] == 1.0 and bucket["upper"] == 5.0 and set(bucket["from"]) == {"written", "spoken"}


def test_about_one_percent_of_the_written_calibration_pairs_fall_outside(corpus):
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
    assert 0.002 < outside / judged < 0.02  # bounds widened by the subtitle register


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
    # Chinese is shorter than English in the typical line (the median ratio, inverted, lies inside the
    # reverse bounds); the film calibration's condensed lines (三十六计，走为上计！ -> "Run!") let the
    # reverse upper bound pass 1, so the test no longer asks that of the 0.5 % tail
    assert load_ratio_table()["pairs"]["zh-en"]["median"] > 1
    assert reverse.lower < 1 / load_ratio_table()["pairs"]["zh-en"]["median"] < reverse.upper
    assert abs(reverse.lower * load_ratio_table()["pairs"]["zh-en"]["buckets"][1]["upper"] - 1) < 1e-9
    es = ratio_bounds("zh", "es", 10)
    assert not es.calibrated and es.lower < forward.lower and es.upper > forward.upper
    assert ratio_bounds("zh", "en", 3) is None  # too short to judge
