"""`localise check`: a translation from anywhere, aligned by time, checked, reported; exit status as a gate."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from localise.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def check(*args: str):
    return runner.invoke(app, ["check", *map(str, args)])


def test_defects_reported_and_gate_fails(tmp_path):
    report, html = tmp_path / "es.report.json", tmp_path / "es.report.html"
    result = check(DATA / "zh.es.srt", "--source", DATA / "zh.source.srt", "--glossary", DATA / "glossary.csv",
                   "--report", report, "--html", html, "--fail-on", "critical")
    assert result.exit_code == 1, result.output
    assert "flagged cues" in result.output and "untranslated" in result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["target_language"] == "es"  # from the file name zh.es.srt
    by_index = {c["index"]: {f["code"] for f in c["flags"]} for c in data["cues"]}
    assert by_index[3] == {"glossary"} and by_index[4] == {"empty"} and by_index[1] == set()
    assert data["summary"]["by_severity"]["critical"] >= 2
    assert "<!DOCTYPE html>" in html.read_text(encoding="utf-8")


def test_gate_passes_below_the_chosen_severity(corpus, tmp_path):
    folder = corpus / "Cerlancism__chatgpt-subtitle-translator"
    report = tmp_path / "r.json"
    result = check(folder / "test__data__test_cn_multiline.srt.out_English.srt", "--source",
                   folder / "test__data__test_cn_multiline.srt", "--to", "en", "--fail-on", "critical",
                   "--reference", folder / "test__data__test_cn_multiline.srt.out_Custom.srt", "--report", report)
    assert result.exit_code == 0, result.output
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    assert summary["cues_at_or_above"]["critical"] == 0
    assert summary["reference"]["bleu"]["signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert "bleu" in result.output
    # the same translation fails a stricter gate: cue 19 is read at 32 characters per second and
    # cue 6 is one line of 57 characters, both past the style table's hard ceiling (1.3 x 20 cps,
    # 1.3 x 42 characters): major; cue 12's 21.5 cps and 43 characters are everyday practice (minor)
    assert summary["cues_at_or_above"]["major"] == 2
    assert summary["need_review_cues"] == 2
    cues = json.loads(report.read_text(encoding="utf-8"))["cues"]
    assert [c["index"] for c in cues if c["need_review"]] == [6, 19]
    assert {f["severity"] for f in cues[11]["flags"]} == {"minor"}
    assert check(folder / "test__data__test_cn_multiline.srt.out_English.srt", "--source",
                 folder / "test__data__test_cn_multiline.srt", "--to", "en", "--fail-on", "major").exit_code == 1


def test_a_translation_cut_differently_is_aligned_by_time(tmp_path):
    source = tmp_path / "ep.srt"
    source.write_text("1\n00:00:01,000 --> 00:00:03,000\n早上好，妈妈。\n\n2\n00:00:03,200 --> 00:00:05,000\n"
                      "您今天好吗？\n\n3\n00:00:05,200 --> 00:00:08,000\n他有五千万。\n", encoding="utf-8")
    target = tmp_path / "ep.en.vtt"
    target.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:05.000\nGood morning, Mom. How are you today?\n\n"
                      "00:00:05.200 --> 00:00:08.000\nHe has fifty thousand.\n", encoding="utf-8")
    report = tmp_path / "r.json"
    result = check(target, "--source", source, "--report", report, "--fail-on", "critical")
    assert result.exit_code == 0, result.output
    cues = json.loads(report.read_text(encoding="utf-8"))["cues"]
    assert [c["source"] for c in cues] == ["早上好，妈妈。\n您今天好吗？", "他有五千万。"]
    assert [f["code"] for f in cues[1]["flags"]] == ["number"] and cues[0]["flags"] == []
    assert check(target, "--source", source, "--fail-on", "major").exit_code == 1


def test_bad_input_gives_a_clear_message_and_exit_2(tmp_path):
    missing = check(tmp_path / "nope.en.srt", "--source", DATA / "zh.source.srt")
    assert missing.exit_code == 2 and "nope.en.srt" in missing.output
    no_lang = check(DATA / "zh.source.srt", "--source", DATA / "zh.source.srt")
    assert no_lang.exit_code == 2 and "--to" in no_lang.output
    same = check(DATA / "zh.en.srt", "--source", DATA / "zh.source.srt", "--to", "zh")
    assert same.exit_code == 2 and "source language" in same.output
    bad_sev = check(DATA / "zh.en.srt", "--source", DATA / "zh.source.srt", "--fail-on", "fatal")
    assert bad_sev.exit_code == 2 and "--fail-on" in bad_sev.output
    garbage = tmp_path / "garbage.en.srt"
    garbage.write_bytes(b"\x00\x01 not subtitles \xff" * 20)
    bad = check(garbage, "--source", DATA / "zh.source.srt")
    assert bad.exit_code == 2 and "garbage.en.srt" in bad.output
    glossary = tmp_path / "g.csv"
    glossary.write_bytes(b"\xff\xfez\x00h\x00")
    bad_glossary = check(DATA / "zh.en.srt", "--source", DATA / "zh.source.srt", "--glossary", glossary)
    assert bad_glossary.exit_code == 2 and "g.csv" in bad_glossary.output


def test_input_limits_come_from_the_settings(tmp_path, monkeypatch):
    """`check` reads both tracks within the configured size limits (file or LOCALISE_LIMITS__*),
    so a limit raised for big files lets them in and a tight one refuses, naming the setting."""
    config = tmp_path / "settings.toml"
    config.write_text("[limits]\nmax_cues = 2\n", encoding="utf-8")
    refused = check(DATA / "zh.es.srt", "--source", DATA / "zh.source.srt", "--config", config)
    assert refused.exit_code == 2 and "max_cues" in refused.output, refused.output
    monkeypatch.setenv("LOCALISE_LIMITS__MAX_CUES", "2")
    assert check(DATA / "zh.es.srt", "--source", DATA / "zh.source.srt").exit_code == 2
    monkeypatch.setenv("LOCALISE_LIMITS__MAX_CUES", "100000")
    assert check(DATA / "zh.es.srt", "--source", DATA / "zh.source.srt").exit_code in (0, 1)


def test_a_target_language_that_is_no_language_tag_is_bad_input():
    """`--to klingon` would turn the meaning and spelling checks off and let the gate pass: refused,
    like `translate` refuses it."""
    for bad in ("klingon", "x/../y"):
        result = check(DATA / "zh.es.srt", "--source", DATA / "zh.source.srt", "--to", bad)
        assert result.exit_code == 2 and "BCP 47" in result.output, result.output
