"""`localise inspect` through the real CLI app."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from localise.cli import app


def test_inspect_reports_each_file(tmp_path: Path) -> None:
    good = tmp_path / "ep1.srt"
    good.write_bytes("1\n00:00:01,000 --> 00:00:03,000\n<i>你好世界</i>\n\n2\n00:00:02,000 --> 00:00:04.000\n再见\n".encode("gb18030"))
    result = CliRunner().invoke(app, ["inspect", str(good)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "format: srt" in out and "encoding: gb18030" in out and "cues: 2" in out and "duration: 3.000 s" in out
    assert "cps median: 1.5" in out and "cps worst: cue 1 2.0" in out
    assert "overlap" in out and "timestamp-format" in out


def test_inspect_exits_non_zero_on_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "page.srt"
    bad.write_text("<!DOCTYPE html><html><body>404</body></html>")
    result = CliRunner().invoke(app, ["inspect", str(bad)])
    assert result.exit_code == 1
    assert "page.srt" in result.output and "HTML" in result.output


def test_inspect_names_a_cue_left_out_for_its_timing_line(tmp_path: Path) -> None:
    """The probe: a malformed timestamp made the cue vanish with only a 'stray text' note (or its
    lines silently became text of the cue above)."""
    path = tmp_path / "ep.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\n你好。\n\n2\n00:00:03,0x0 --> 00:00:04,000\n坏的时间。\n\n"
                    "3\n00:00:05,000 --> 00:00:06,000\n再见。\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "cues: 2" in result.output and "[line 6] bad-timing" in result.output and "坏的时间" in result.output
    assert "stray-text" not in result.output and "'你好。\\n2" not in result.output
