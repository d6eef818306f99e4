"""Input size limits: file bytes, cues per file, characters per cue — refused early, naming the file,
the line and the setting; memory measured in a separate process (no timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localise.cli import app
from localise.config import load_settings
from localise.errors import ConfigError, InputTooLargeError, ParseError
from localise.formats.limits import DEFAULT_LIMITS, InputLimits
from localise.io import parse_text, read_track

REPO = Path(__file__).resolve().parents[2]

ASS_HEAD = "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"


def srt(n: int, text: str = "你好。") -> str:
    return "".join(f"{i}\n00:00:{i % 60:02d},000 --> 00:00:{i % 60:02d},500\n{text}\n\n" for i in range(1, n + 1))


def vtt(n: int, text: str = "你好。") -> str:
    return "WEBVTT\n\n" + "".join(f"00:{i % 60:02d}.000 --> 00:{i % 60:02d}.500\n{text}\n\n" for i in range(1, n + 1))


def ass(n: int, text: str = "你好。") -> str:
    return ASS_HEAD + "".join(f"Dialogue: 0,0:00:{i % 60:02d}.00,0:00:{i % 60:02d}.50,Default,,0,0,0,,{text}\n" for i in range(1, n + 1))


def test_defaults_are_generous_and_finite() -> None:
    assert DEFAULT_LIMITS.max_file_bytes == 64 * 1024 * 1024
    assert DEFAULT_LIMITS.max_cues == 100_000
    assert DEFAULT_LIMITS.max_cue_chars == 10_000
    with pytest.raises(ValueError):
        InputLimits(max_cues=0)


@pytest.mark.parametrize("make,line_of_cue_4", [(srt, 14), (vtt, 12), (ass, 9)])
def test_one_cue_past_the_limit_is_refused_at_its_line(make, line_of_cue_4: int) -> None:
    limits = InputLimits(max_cues=3)
    assert len(parse_text(make(3), name="ep.x", limits=limits).cues) == 3
    with pytest.raises(InputTooLargeError) as info:
        parse_text(make(4), name="ep.x", limits=limits)
    assert info.value.path == "ep.x" and info.value.line == line_of_cue_4
    assert "limits.max_cues" in str(info.value) and "LOCALISE_LIMITS__MAX_CUES" in str(info.value)


@pytest.mark.parametrize("make,line_of_cue_1", [(srt, 2), (vtt, 3), (ass, 6)])
def test_a_cue_longer_than_the_limit_is_refused_naming_it(make, line_of_cue_1: int) -> None:
    limits = InputLimits(max_cue_chars=50)
    fits = make(2, "长" * 50)
    assert len(parse_text(fits, limits=limits).cues) == 2
    with pytest.raises(InputTooLargeError) as info:
        parse_text(make(2, "长" * 51), name="ep.x", limits=limits)
    assert "cue 1 holds 51 characters" in str(info.value) and "limits.max_cue_chars" in str(info.value)
    assert info.value.path == "ep.x" and info.value.line == line_of_cue_1


def test_file_size_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.srt"
    path.write_text(srt(3), encoding="utf-8")
    size = path.stat().st_size
    assert len(read_track(path, limits=InputLimits(max_file_bytes=size)).cues) == 3
    with pytest.raises(InputTooLargeError) as info:
        read_track(path, limits=InputLimits(max_file_bytes=size - 1))
    assert str(path) in str(info.value) and f"{size:,} bytes" in str(info.value) and "max_file_bytes" in str(info.value)
    with pytest.raises(InputTooLargeError):  # bytes in hand, and text already decoded, alike
        read_track(path.read_bytes(), name="x.srt", limits=InputLimits(max_file_bytes=size - 1))
    with pytest.raises(InputTooLargeError):
        parse_text(srt(3), limits=InputLimits(max_file_bytes=10))


def test_limits_come_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "localise.toml"
    config.write_text("[limits]\nmax_cues = 7\n", encoding="utf-8")
    assert load_settings(config).limits.input_limits() == InputLimits(max_cues=7)
    monkeypatch.setenv("LOCALISE_LIMITS__MAX_CUE_CHARS", "99")
    assert load_settings().limits.input_limits() == InputLimits(max_cue_chars=99)
    monkeypatch.setenv("LOCALISE_LIMITS__MAX_CUE_CHARS", "0")
    with pytest.raises(ConfigError, match="limits.max_cue_chars"):
        load_settings()


def test_inspect_refuses_a_file_over_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "many.srt"
    path.write_text(srt(5), encoding="utf-8")
    monkeypatch.setenv("LOCALISE_LIMITS__MAX_CUES", "4")
    result = CliRunner().invoke(app, ["inspect", str(path)])
    assert result.exit_code == 1
    assert f"{path}:18:" in result.output and "more than 4 cues in one file" in result.output


# --- memory, measured in a child process (peak RSS; no timings) ---------------------------------

_MEASURE = """
import json, sys
import psutil
from benchmarks.memory import PeakRSS
from localise.errors import InputTooLargeError
from localise.io import read_track
read_track(sys.argv[2])  # imports and first-use caches
start = psutil.Process().memory_info().rss / 2**20
outcome, cues = "read", 0
with PeakRSS() as peak:  # resets the kernel's high-water mark: this block's own peak
    try:
        cues = len(read_track(sys.argv[1]).cues)
    except InputTooLargeError as exc:
        outcome = str(exc)
print(json.dumps({"grew_kb": (peak.mb - start) * 1024, "outcome": outcome, "cues": cues, "method": peak.method}))
"""


def _measure(path: Path, small: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(small)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.srt"
    path.write_text(srt(20), encoding="utf-8")
    return path


def test_a_200_mb_file_is_refused_without_being_read(tmp_path: Path, small: Path) -> None:
    """The probe: a 200 MB SRT took 3.4 GB in `localise inspect`. Now it is refused by its size
    (a sparse file: its bytes would cost 200 MB of memory if anything read them)."""
    path = tmp_path / "huge.srt"
    with open(path, "wb") as fh:
        fh.write(srt(100).encode("utf-8"))
        fh.truncate(200 * 1024 * 1024)
    result = _measure(path, small)
    assert "over the limit" in result["outcome"] and "huge.srt" in result["outcome"]
    assert result["grew_kb"] < 20 * 1024


@pytest.mark.parametrize("make,suffix", [(srt, "srt"), (vtt, "vtt"), (ass, "ass")])
def test_too_many_cues_are_refused_before_cues_are_built(make, suffix: str, tmp_path: Path, small: Path) -> None:
    """Short cues cost most (a few hundred bytes of objects per cue; 13x the file's bytes before):
    past max_cues the file is refused from its text, before it is split into lines, so memory stays
    a small multiple of the file's bytes."""
    path = tmp_path / f"many.{suffix}"
    path.write_text(make(130_000, "好。"), encoding="utf-8")
    size_kb = path.stat().st_size / 1024
    result = _measure(path, small)
    assert "more than 100,000 cues in one file" in result["outcome"] and path.name in result["outcome"]
    assert result["grew_kb"] < 6 * size_kb


def test_reading_under_the_limits_stays_a_small_multiple_of_the_file(tmp_path: Path, small: Path) -> None:
    """Long cues (the file's bytes are text, not per-cue objects): within ~3x the file, where
    the read bytes, the decoded text and its lines meet."""
    path = tmp_path / "long.srt"
    path.write_text(srt(1_500, "长句子，" * 2_000), encoding="utf-8")
    size_kb = path.stat().st_size / 1024
    assert size_kb > 30 * 1024
    result = _measure(path, small)
    assert result["outcome"] == "read" and result["cues"] == 1_500
    assert result["grew_kb"] < 4 * size_kb


def test_refusals_are_parse_errors() -> None:
    """Callers that catch ParseError (inspect, the flows' bad-input rows) catch these too."""
    assert issubclass(InputTooLargeError, ParseError)


@pytest.mark.parametrize("make,suffix", [(srt, "srt"), (vtt, "vtt"), (ass, "ass")])
def test_short_cues_under_the_limit_cost_their_objects_and_no_more(make, suffix: str, tmp_path: Path, small: Path) -> None:
    """Each cue is a few Python objects (ASS keeps every event field): at most ~1.5 kB a cue on
    top of a few times the file's bytes; ``max_cues`` bounds the total (~150 MB at the default)."""
    path = tmp_path / f"short.{suffix}"
    path.write_text(make(50_000, "你好，今天下雨。"), encoding="utf-8")
    size_kb = path.stat().st_size / 1024
    result = _measure(path, small)
    assert result["outcome"] == "read" and result["cues"] == 50_000
    assert result["grew_kb"] < 4 * size_kb + 1.5 * 50_000


@pytest.mark.parametrize("table", ["limits", "quality_gate"])
def test_an_unknown_key_in_a_settings_table_is_an_error_not_ignored(tmp_path: Path, table: str) -> None:
    """A key misspelt or placed under the wrong [table] (a top-level key written after a table
    header lands in that table in TOML) must not be dropped silently."""
    from localise.errors import ConfigError

    config = tmp_path / "localise.toml"
    config.write_text(f'targets = ["en"]\n[{table}]\nglossary_optional = true\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{table}\.glossary_optional"):
        load_settings(config)
