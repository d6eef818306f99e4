"""Low-confidence thresholds calibrated per model and pair (localise.quality.confidence)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localise.cli import app
from localise.errors import ConfigError
from localise.quality.confidence import (
    CALIBRATION_FILE, ConfidenceCalibration, calibrate, find, load, thresholds_with_calibration, to_toml,
)

CALIBRATION = Path(__file__).parent / "data" / "subtitles" / "calibration"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "tingyu-teahouse"


def test_the_threshold_is_the_quantile_of_known_confidences():
    threshold, n = calibrate([0.9, None, 0.1, 0.5, 0.7, 0.3], 0.25)
    assert n == 5 and threshold == 0.3
    with pytest.raises(ValueError):
        calibrate([None, None])


def test_a_calibration_file_round_trips_and_bad_files_name_themselves(tmp_path):
    entry = ConfidenceCalibration("zh-es", 0.2113, 0.05, 300, 'zh->en "m"  then  en->es m2', "x")
    path = tmp_path / "c.toml"
    path.write_text(to_toml([entry]), encoding="utf-8")
    assert load(path) == {"zh-es": entry}
    path.write_text('[pairs."zh-en"]\nthreshold = 3\nquantile = 0.05\nn = 4\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="c.toml"):
        load(path)


def test_user_thresholds_win_over_the_calibration():
    entry = ConfidenceCalibration("zh-en", 0.31, 0.05, 200)
    merged = thresholds_with_calibration(None, entry, "en")
    assert merged["languages"]["en"]["low_confidence"] == 0.31
    assert thresholds_with_calibration({"low_confidence": 0.7}, entry, "en")["low_confidence"] == 0.7
    assert "low_confidence" not in thresholds_with_calibration({"low_confidence": 0.7}, entry, "en")["languages"]["en"]


def test_calibrate_a_model_then_the_pipeline_flags_against_it(tiny_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    sources = sorted(CALIBRATION.glob("*.zh.srt"))[:2]
    result = CliRunner().invoke(app, ["models", "calibrate", str(model), *map(str, sources), "--to", "en",
                                      "--quantile", "0.2"])
    assert result.exit_code == 0, result.output
    table = find(str(model))
    entry = table["zh-en"]
    assert (model / CALIBRATION_FILE).is_file() and entry.n > 20 and 0 <= entry.threshold <= 1
    from localise.io import read_track
    from localise.pipeline import LocaliseOptions, localise_tracks

    [done] = localise_tracks([read_track(SAMPLES / "ep01.srt")], ["en"], options=LocaliseOptions(model=str(model)))
    cues = done.report["cues"]
    confidences = [c["confidence"] for c in cues if c["confidence"] is not None]
    low = [c for c in cues if any(f["code"] == "low-confidence" for f in c["flags"])]
    assert len(low) == sum(1 for x in confidences if x < entry.threshold) > 0
    assert all("quantile of this route's confidence" in f["reason"] for c in low for f in c["flags"]
               if f["code"] == "low-confidence")
    assert done.report["signature"]["thresholds"]["values"]["low_confidence"] == entry.threshold
