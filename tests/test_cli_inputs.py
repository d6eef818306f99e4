"""`localise translate` and bad input: parse warnings printed with their lines and listed in the
reports, --strict refusing a file with lost input, size limits and output-format limits checked
before anything is translated (the engine is never called)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localise.cli import app
from localise.errors import InputTooLargeError, RenderError, UnreadableCueError
from localise.formats.limits import InputLimits
from localise.model import Translation
from localise.pipeline import LocaliseOptions, localise_files

runner = CliRunner()

DAMAGED = """\
1
00:00:01,000 --> 00:00:02,000
你好。

2
00:00:03,0x0 --> 00:00:04,000
坏的时间。

3
00:00:05,000 --> 00:00:06,000
再见。
"""


class CountingEngine:
    """A real engine object for the pipeline (``translate(texts, src, tgt)``) that counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def translate(self, texts, src, tgt):  # noqa: ANN001, ANN201
        self.calls += 1
        return [Translation(f"line {n}", 0.9) for n, _ in enumerate(texts)]


@pytest.fixture()
def damaged(tmp_path: Path) -> Path:
    path = tmp_path / "ep01.srt"
    path.write_text(DAMAGED, encoding="utf-8")
    return path


def test_translate_prints_parse_warnings_and_the_report_lists_them(damaged: Path, tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(damaged), "--to", "en", "--model", str(tiny_model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{damaged}:6: bad-timing" in result.output and "00:00:03,0x0" in result.output
    report = json.loads((out / "ep01.en.report.json").read_text(encoding="utf-8"))
    [warning] = [w for w in report["track"]["parse_warnings"] if w["code"] == "bad-timing"]
    assert warning["line"] == 6 and warning["lost"] is True and warning["cue"] is None
    assert "坏的时间" in warning["message"]
    assert [c["source"] for c in report["cues"]] == ["你好。", "再见。"]  # nothing merged into a neighbour


def test_strict_refuses_the_file_and_writes_nothing(damaged: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(damaged), "--to", "en", "--model", str(tmp_path / "no-model"),
                                 "--out", str(out), "--strict"])
    assert result.exit_code == 1
    assert f"{damaged}:6: --strict" in result.output and "bad-timing" in result.output
    assert not out.exists()


def test_strict_accepts_a_file_with_repairs_only(tmp_path: Path) -> None:
    path = tmp_path / "ep.srt"
    path.write_text("1\n00:00:01.000 --> 00:00:02,000\n你好。\n\n3\n00:00:03,000 --> 00:00:04,000\n再见。\n", encoding="utf-8")
    engine = CountingEngine()
    written = localise_files([path], ["en"], tmp_path / "out", LocaliseOptions(engine=engine), strict=True)
    assert engine.calls == 1 and len(written) == 3
    report = json.loads((tmp_path / "out" / "ep.en.report.json").read_text(encoding="utf-8"))
    codes = {w["code"]: w["lost"] for w in report["track"]["parse_warnings"]}
    assert codes == {"timestamp-format": False, "index-sequence": False}


def test_library_strict_error_is_typed_and_located(damaged: Path, tmp_path: Path) -> None:
    engine = CountingEngine()
    seen: list[tuple[Path, int]] = []
    with pytest.raises(UnreadableCueError) as info:
        localise_files([damaged], ["en"], tmp_path / "out", LocaliseOptions(engine=engine), strict=True,
                       on_warnings=lambda path, track: seen.append((path, len(track.warnings))))
    assert (info.value.path, info.value.line) == (str(damaged), 6)
    assert seen == [(damaged, 2)] and engine.calls == 0


def test_substation_time_limit_is_checked_before_translating(tmp_path: Path) -> None:
    """The probe: a cue past 9:59:59.99 failed only when the ASS output was written, after the
    translation had run. Now the run stops before the engine is called, naming file and cue."""
    late = tmp_path / "late.srt"
    late.write_text("1\n09:59:58,000 --> 09:59:59,000\n你好。\n\n2\n09:59:59,500 --> 10:00:01,000\n再见。\n", encoding="utf-8")
    engine = CountingEngine()
    with pytest.raises(RenderError, match=r"late\.srt: cue 2: SubStation cannot hold a time past 9:59:59\.99"):
        localise_files([late], ["en"], tmp_path / "out", LocaliseOptions(engine=engine), fmt="ass")
    assert engine.calls == 0 and not (tmp_path / "out").exists()
    assert len(localise_files([late], ["en"], tmp_path / "out", LocaliseOptions(engine=engine), fmt="vtt")) == 3
    result = runner.invoke(app, ["translate", str(late), "--to", "en", "--model", str(tmp_path / "no-model"),
                                 "--format", "ass", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 1 and "cue 2: SubStation cannot hold a time past 9:59:59.99" in result.output


def test_size_limits_apply_before_translating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ep.srt"
    path.write_text(DAMAGED.replace("0x0", "000"), encoding="utf-8")
    engine = CountingEngine()
    with pytest.raises(InputTooLargeError, match="max_cue_chars"):
        localise_files([path], ["en"], tmp_path / "out", LocaliseOptions(engine=engine), limits=InputLimits(max_cue_chars=2))
    assert engine.calls == 0
    monkeypatch.setenv("LOCALISE_LIMITS__MAX_CUES", "2")
    result = runner.invoke(app, ["translate", str(path), "--to", "en", "--model", str(tmp_path / "no-model"),
                                 "--out", str(tmp_path / "cli")])
    assert result.exit_code == 1 and f"{path}:10: more than 2 cues in one file" in result.output


def test_substation_source_past_its_own_limit_is_refused_before_translating(tmp_path: Path) -> None:
    """An ASS file whose times were written past 9:59:59.99 (readable, hours past 9) cannot be
    written back as ASS: refused before the engine runs; as SRT it translates."""
    path = tmp_path / "late.ass"
    path.write_text("[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
                    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
                    "Dialogue: 0,9:59:58.00,10:00:02.00,Default,,0,0,0,,你好。\n", encoding="utf-8")
    engine = CountingEngine()
    with pytest.raises(RenderError, match=r"late\.ass: cue 1: SubStation cannot hold a time past 9:59:59\.99 \(10:00:02\.000\)"):
        localise_files([path], ["en"], tmp_path / "out", LocaliseOptions(engine=engine))
    assert engine.calls == 0
    assert len(localise_files([path], ["en"], tmp_path / "out", LocaliseOptions(engine=engine), fmt="srt")) == 3
