"""`localise translate` end to end through the real CLI, the tiny Marian model and real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localise.cli import app

runner = CliRunner()

SRT = """\
1
00:00:01,000 --> 00:00:02,500
<i>林晓</i>，你听我说

2
00:00:02,600 --> 00:00:04,000
这件事不是你想的那样。

3
00:00:05,000 --> 00:00:07,000
- 你去哪儿？
- 我回公司。

4
00:00:09,000 --> 00:00:11,000
{\\an8}顾总来了！
"""

ASS = """\
[Script Info]
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,60,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,1,2,10,10,40,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:03.00,Default,林晓,0,0,0,,{\\an8}你终于来了。
Dialogue: 1,0:00:04.00,0:00:06.00,Default,顾总,0,0,0,,我{\\i1}一直{\\i0}在等你。
"""

REPORT_FIELDS = {"index", "start_ms", "end_ms", "source", "translation", "unit", "confidence", "flags"}


def translate(*args: str):  # noqa: ANN201
    return runner.invoke(app, ["translate", *args])


def _outputs(out: Path) -> list[str]:
    """The output folder's files, without the resume cache (``.localise-cache``)."""
    return [p.name for p in out.iterdir() if p.name != ".localise-cache"]


def _staging(out: Path) -> list[Path]:
    """Staging folders of runs (``.localise-*``), not the resume cache."""
    return [p for p in out.glob(".localise-*") if p.name != ".localise-cache"]


@pytest.fixture()
def inputs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    srt = folder / "ep01.srt"
    srt.write_text(SRT, encoding="utf-8")
    ass = folder / "ep02.ass"
    ass.write_text(ASS, encoding="utf-8-sig")
    return [srt, ass]


def test_writes_a_track_and_two_reports_per_input_and_language(
    inputs: list[Path], tmp_path: Path, tiny_model: Path
) -> None:
    from localise.io import read_track

    out = tmp_path / "out"
    result = translate(*map(str, inputs), "--to", "en,es,pt", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 0, result.output
    for source in inputs:
        original = read_track(source)
        for lang in ("en", "es", "pt"):
            ext = source.suffix.lstrip(".")
            track = read_track(out / f"{source.stem}.{lang}.{ext}")
            assert [(c.start_ms, c.end_ms) for c in track.cues] == [(c.start_ms, c.end_ms) for c in original.cues]
            report = json.loads((out / f"{source.stem}.{lang}.report.json").read_text(encoding="utf-8"))
            assert set(report) >= {"source", "target_language", "cues", "summary"}
            assert report["target_language"] == lang
            assert len(report["cues"]) == len(original.cues)
            for cue in report["cues"]:
                assert REPORT_FIELDS <= set(cue)
                assert all({"code", "severity", "reason"} <= set(f) for f in cue["flags"])
            html = (out / f"{source.stem}.{lang}.report.html").read_text(encoding="utf-8")
            assert html.lstrip().lower().startswith("<!doctype html")
    # nothing else left behind (no staging folder); the resume cache stays beside the outputs
    assert len(_outputs(out)) == 2 * 3 * 3 and (out / ".localise-cache").is_dir()


def test_ass_keeps_styles_names_layers_and_positioning(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    from localise.io import read_track

    out = tmp_path / "out"
    result = translate(str(inputs[1]), "--to", "en", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 0, result.output
    source, track = read_track(inputs[1]), read_track(out / "ep02.en.ass")
    assert [c.extras for c in track.cues] == [c.extras for c in source.cues]
    assert track.cues[0].text.startswith("{\\an8}")
    assert "{\\i1}" in track.cues[1].text and "{\\i0}" in track.cues[1].text


def test_format_option_converts(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "out"
    result = translate(str(inputs[0]), "--to", "en", "--model", str(tiny_model), "--out", str(out), "--format", "vtt")
    assert result.exit_code == 0, result.output
    assert (out / "ep01.en.vtt").read_text(encoding="utf-8").lstrip("\ufeff").startswith("WEBVTT")


def test_glossary_terms_present_or_flagged(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    glossary = tmp_path / "series.csv"
    glossary.write_text("zh,en\n林晓,Lin Xiao\n顾总,President Gu\n", encoding="utf-8")
    out = tmp_path / "out"
    result = translate(
        str(inputs[0]), "--to", "en", "--model", str(tiny_model), "--glossary", str(glossary), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "ep01.en.report.json").read_text(encoding="utf-8"))
    for cue in report["cues"]:
        for term, target in (("林晓", "Lin Xiao"), ("顾总", "President Gu")):
            if term in cue["source"]:
                assert target in cue["translation"] or any(f["code"] == "glossary" for f in cue["flags"])


def test_bad_input_fails_the_run_and_writes_nothing(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    bad = tmp_path / "in" / "broken.srt"
    bad.write_bytes(b"\x00\x01\x02 not a subtitle \xff\xfe")
    out = tmp_path / "out"
    result = translate(*map(str, inputs), str(bad), "--to", "en", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code != 0
    assert "broken.srt" in result.output
    assert not out.exists()


def test_missing_model_is_named(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    missing = tmp_path / "no-such-model"
    result = translate(str(inputs[0]), "--to", "en", "--model", str(missing), "--out", str(out))
    assert result.exit_code != 0
    assert "no-such-model" in result.output
    assert not out.exists()


def test_unreadable_glossary_is_named(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "out"
    result = translate(
        str(inputs[0]), "--to", "en", "--model", str(tiny_model), "--glossary", str(tmp_path / "nope.csv"),
        "--out", str(out),
    )
    assert result.exit_code != 0 and "nope.csv" in result.output
    assert not out.exists()


def test_unknown_engine_is_refused(inputs: list[Path], tmp_path: Path) -> None:
    result = translate(str(inputs[0]), "--to", "en", "--engine", "babelfish", "--out", str(tmp_path / "out"))
    assert result.exit_code != 0 and "babelfish" in result.output


def test_ctranslate2_engine(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    pytest.importorskip("ctranslate2")
    converted = tmp_path / "tiny-ct2"
    result = runner.invoke(app, ["models", "convert", str(tiny_model), str(converted)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    result = translate(
        str(inputs[0]), "--to", "en,es", "--engine", "ctranslate2", "--model", str(converted), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    for lang in ("en", "es"):
        assert (out / f"ep01.{lang}.srt").exists() and (out / f"ep01.{lang}.report.json").exists()


def _long_srt(path: Path, cues: int) -> Path:
    lines = ["林晓，你听我说", "这件事不是你想的那样。", "- 你去哪儿？\n- 我回公司。", "{\\an8}顾总来了！",
             "我们明天见。", "你为什么不告诉我", "因为我怕你会离开。", "好"]
    blocks = []
    for n in range(cues):
        start = n * 2500
        blocks.append(f"{n + 1}\n{_ts(start)} --> {_ts(start + 2000)}\n{lines[n % len(lines)]}{n}\n")
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def _ts(ms: int) -> str:
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


@pytest.mark.slow
def test_two_thousand_cues_into_three_languages(tmp_path: Path, tiny_model: Path) -> None:
    source = _long_srt(tmp_path / "long.srt", 2000)
    out = tmp_path / "out"
    result = translate(str(source), "--to", "en,es,pt", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 0, result.output
    for lang in ("en", "es", "pt"):
        report = json.loads((out / f"long.{lang}.report.json").read_text(encoding="utf-8"))
        assert len(report["cues"]) == 2000
        assert [c["index"] for c in report["cues"]] == sorted(c["index"] for c in report["cues"])
        assert (out / f"long.{lang}.srt").stat().st_size > 0


def test_corpus_chinese_dialogue(corpus: Path, tmp_path: Path, tiny_model: Path) -> None:
    """A real Chinese SRT (UTF-8 BOM, multi-line cues) from the shared corpus, read in place."""
    from localise.io import read_track

    source = corpus / "Cerlancism__chatgpt-subtitle-translator" / "test__data__test_cn_multiline.srt"
    out = tmp_path / "out"
    result = translate(str(source), "--to", "en", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 0, result.output
    original = read_track(source)
    track = read_track(out / f"{source.stem}.en.srt")
    assert [(c.id, c.start_ms, c.end_ms) for c in track.cues] == [(c.id, c.start_ms, c.end_ms) for c in original.cues]


def test_corpus_fansub_ass_keeps_positioning(corpus: Path, tmp_path: Path, tiny_model: Path) -> None:
    """A real Chinese fansub ASS: stacked override blocks ({\\an8}{\\fs20}{\\fad...}) stay in front of
    the translated words, and styles, layers and margins are unchanged."""
    from localise.io import read_track

    source = corpus / "fpsluozi__FPSLuoziASSSubs" / "模板__ZAK提督特效字幕av2092341.ass"
    out = tmp_path / "out"
    result = translate(str(source), "--to", "en", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 0, result.output
    original = read_track(source)
    track = read_track(out / f"{source.stem}.en.ass")
    assert len(track.cues) == len(original.cues)
    positioned = 0
    for before, after in zip(original.cues, track.cues):
        assert (before.start_ms, before.end_ms, before.extras) == (after.start_ms, after.end_ms, after.extras)
        if before.text.startswith("{\\an8"):
            lead = before.text[: before.text.index("}") + 1]
            assert after.text.startswith(lead), (before.text, after.text)
            positioned += 1
    assert positioned >= 5


def test_failed_run_leaves_an_existing_folder_as_it_was(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work", encoding="utf-8")
    result = translate(str(inputs[0]), "--to", "en", "--model", str(tmp_path / "absent-model"), "--out", str(out))
    assert result.exit_code != 0
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_hub_model_offline_is_named(inputs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = translate(str(inputs[0]), "--to", "en", "--out", str(tmp_path / "out"))  # default table: opus-mt-zh-en
    assert result.exit_code != 0
    assert "Helsinki-NLP/opus-mt-zh-en" in result.output


def test_inputs_with_the_same_name_are_refused(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    twin = other / inputs[0].name
    twin.write_text(inputs[0].read_text(encoding="utf-8"), encoding="utf-8")
    result = translate(str(inputs[0]), str(twin), "--to", "en", "--model", str(tiny_model), "--out", str(tmp_path / "o"))
    assert result.exit_code != 0 and "ep01.srt" in result.output


def test_output_folder_that_cannot_be_made_is_an_error(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = translate(str(inputs[0]), "--to", "en", "--model", str(tiny_model), "--out", str(blocker / "out"))
    assert result.exit_code != 0 and "a-file" in result.output


# ---------------------------------------------------------------- output safety (issue 12)


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("to", ["x/../../y", "en,x/../../y", "../en", "en/..", "en\x1b[31m", "e\nn", "e n", "en_US",
                                "xx-zz-invalid-tag-here", "/etc/passwd"])
def test_language_codes_that_are_not_bcp47_are_refused_before_anything_is_written(
    inputs: list[Path], tmp_path: Path, tiny_model: Path, to: str
) -> None:
    before = _tree(tmp_path)
    out = tmp_path / "out"
    result = translate(str(inputs[0]), "--to", to, "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert "BCP 47" in result.output and "\x1b" not in result.output
    assert _tree(tmp_path) == before  # no en outputs, no out folder, nothing beside it
    assert _tree(tmp_path.parent) == sorted(str(p.relative_to(tmp_path.parent)) for p in tmp_path.parent.rglob("*"))


def test_source_language_is_checked_too(inputs: list[Path], tmp_path: Path) -> None:
    result = translate(str(inputs[0]), "--to", "en", "--from", "zh/../x", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "source language" in result.output and not (tmp_path / "out").exists()


def test_valid_tags_of_several_subtags_are_accepted(inputs: list[Path], tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "out"
    result = translate(str(inputs[0]), "--to", "en-GB", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "ep01.en-GB.srt").is_file()


def test_control_characters_never_reach_file_names(tmp_path: Path, tiny_model: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    source = folder / "ep\x1b[31m01\u202e\x07.srt"  # a terminal escape, a bidi override, a bell
    source.write_text(SRT, encoding="utf-8")
    out = tmp_path / "out"
    result = translate(str(source), "--to", "en", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(_outputs(out))
    assert names == ["ep_[31m01__.en.report.html", "ep_[31m01__.en.report.json", "ep_[31m01__.en.srt"]


@pytest.mark.parametrize("kill", ["SIGKILL", "SIGTERM"])
def test_staging_folder_of_a_killed_run_is_swept_by_the_next_run(inputs: list[Path], tmp_path: Path,
                                                                  tiny_model: Path, kill: str) -> None:
    """SIGKILL or SIGTERM while a run works: its hidden .localise-* folder stays; the next run
    removes it, and never the folder of a run still working (it holds a lock on it)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    many = tmp_path / "many.srt"
    many.write_text("".join(f"{i + 1}\n00:{i // 60:02d}:{i % 60:02d},000 --> 00:{i // 60:02d}:{i % 60:02d},800\n"
                            f"第{i}句话，你听我说。\n\n" for i in range(600)), encoding="utf-8")
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "localise", "translate", str(many), "--to", "en,es",
                             "--model", str(tiny_model), "--out", str(out)], cwd=repo,
                            env={**os.environ, "PYTHONPATH": str(repo)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _staging(out):
            assert proc.poll() is None, "the run ended before it staged anything"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(getattr(signal, kill))
        proc.wait(timeout=30)
    [dead] = _staging(out)

    from localise.outputs import OutputBatch

    with OutputBatch(out) as alive:  # a run working right now, beside the next one
        result = translate(str(inputs[0]), "--to", "en", "--model", str(tiny_model), "--out", str(out))
        assert result.exit_code == 0, result.output
        assert not dead.exists() and alive.staging.exists()
    assert not _staging(out)
    assert sorted(_outputs(out)) == ["ep01.en.report.html", "ep01.en.report.json", "ep01.en.srt"]
