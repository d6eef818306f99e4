"""The JSON report (exact shape) and the self-contained HTML page, rendered in headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from localise.io import read_track
from localise.model import Cue, Track, Unit
from localise.quality import build_report, check_track, render_html, write_report_json

DATA = Path(__file__).parent / "data"
CUE_KEYS = {"need_review", "index", "start_ms", "end_ms", "source", "translation", "unit", "confidence", "flags", "score"}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def hostile_report(reference: bool = True) -> dict:
    src = Track([Cue(0, 2000, "<i>早上好。</i>"), Cue(2100, 4000, "<script>alert('x')</script>你好"),
                 Cue(4100, 6000, "李明说：\"</td></tr><img src=x onerror=alert(1)>\"")], "srt", source_name="ep01.srt")
    tgt = src.with_texts(["<i>Good morning.</i>", "<script>alert('y')</script>Hello",
                          "Li Ming said: \"</td></tr><img src=x onerror=alert(2)>\""])
    flags = check_track(src, tgt, src_lang="zh", tgt_lang="en", confidences=[0.9, 0.2, None])
    return build_report(src, tgt, flags, target_language="en", src_lang="zh", confidences=[0.9, 0.2, None],
                        units=[[0], [1], [1]], reference=["Good morning!", "Hello <b>there</b>", "Li Ming said so."] if reference else None,
                        signature={"engine": "transformers", "model": "Helsinki-NLP/opus-mt-zh-en", "glossary": "abc123"})


def test_report_shape_is_exact():
    source = read_track(DATA / "zh.source.srt")
    target = read_track(DATA / "zh.en.srt")
    units = [Unit(id=i, cues=[i], source="") for i in range(len(source.cues))]
    flags = check_track(source, target, src_lang="zh", tgt_lang="en")
    report = build_report(source, target, flags=flags, target_language="en", units=units,
                          confidences=[0.9] * len(source.cues), signature={"engine": "x", "glossary": None})
    assert {"source", "target_language", "cues", "summary", "signature"} <= set(report)
    assert report["source"].endswith("zh.source.srt") and report["target_language"] == "en"
    assert len(report["cues"]) == len(target.cues)
    for i, cue in enumerate(report["cues"]):
        assert set(cue) == CUE_KEYS
        assert cue["index"] == i + 1 and cue["unit"] == i and cue["confidence"] == 0.9
        assert (cue["start_ms"], cue["end_ms"]) == (target.cues[i].start_ms, target.cues[i].end_ms)
        assert cue["translation"] == target.cues[i].text
        assert all(set(f) == {"code", "severity", "reason"} for f in cue["flags"])
        assert 0.0 <= cue["score"] <= 1.0 and (cue["score"] == 1.0) == (not cue["flags"])
    summary = report["summary"]
    assert summary["cues"] == len(target.cues) and summary["flagged_cues"] == sum(1 for c in report["cues"] if c["flags"])
    assert report["signature"]["engine"] == "x" and report["signature"]["thresholds"]["hash"]


def test_reference_adds_corpus_and_sentence_scores():
    report = hostile_report()
    ref = report["summary"]["reference"]
    assert {"bleu", "chrf", "chrf++", "ter"} <= set(ref) and "sentence_chrf" not in ref
    assert all(0 <= c["chrf"] <= 100 for c in report["cues"])
    assert report["cues"][1]["unit"] == 1 and report["cues"][1]["confidence"] == 0.2
    assert report["signature"]["reference_metrics"]["bleu"].startswith("nrefs:1")


def test_json_written_utf8(tmp_path):
    report = hostile_report()
    path = write_report_json(report, tmp_path / "out" / "ep01.en.report.json")
    assert json.loads(path.read_text(encoding="utf-8")) == report
    assert "早上好" in path.read_text(encoding="utf-8")


def test_html_escapes_everything_and_loads_nothing():
    page = render_html(hostile_report())
    assert "<script" not in page.lower()
    assert "<img" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page


@pytest.mark.integration
def test_html_renders_in_headless_chromium(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    html = tmp_path / "report.html"
    html.write_text(render_html(hostile_report()), encoding="utf-8")
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            assert page.title().startswith("Quality report")
            assert page.locator("tr#cue-2 td").nth(3).inner_text().startswith("<script>alert('y')</script>Hello")
            assert page.locator(".badge.major, .badge.minor, .badge.critical").count() >= 1
            # the no-script filter: only flagged cues stay visible
            clean = page.locator("tr.clean")
            assert clean.count() >= 1 and clean.first.is_visible()
            page.locator("#only-flagged").check()
            assert not clean.first.is_visible()
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert requests == [html.as_uri()]
    assert shot.stat().st_size > 10_000


def test_thresholds_in_the_signature_are_the_run_overrides():
    src = Track([Cue(0, 2000, "我明白了。")], "srt")
    tgt = src.with_texts(["I understand."])
    overrides = {"low_confidence": 0.8, "score": {"minor": 0.5}}
    flags = check_track(src, tgt, src_lang="zh", tgt_lang="en", confidences=[0.7], thresholds=overrides)
    report = build_report(src, tgt, flags, tgt_lang="en", src_lang="zh", confidences=[0.7],
                          signature={"engine": "x", "thresholds": overrides})
    assert [f["code"] for f in report["cues"][0]["flags"]] == ["low-confidence"]
    assert report["cues"][0]["score"] == 0.5
    sig = report["signature"]["thresholds"]
    assert sig["values"]["low_confidence"] == 0.8 and sig["overrides"] == overrides


def test_source_timing_problems_appear_once_at_the_top_of_the_html():
    from localise.model import Cue

    source = Track([Cue(0, 400, "嗯。"), Cue(440, 2400, "等等！"), Cue(2480, 2900, "好。")], "srt")
    target = source.with_texts(["Hm.", "Wait!", "Fine."])
    flags = check_track(source, target, src_lang="zh", tgt_lang="en")
    assert flags == [[], [], []]  # the translation keeps the source's timings: no cue flag
    report = build_report(source, target, flags, target_language="en", src_lang="zh")
    findings = report["track"]["source_findings"]
    assert {f["kind"]: f["cues"] for f in findings} == {"short": [1, 3], "gap": [2, 3]}
    html = render_html(report)
    top = html.index("Source problems")
    assert top < html.index("cues need review") and html.count("source cue(s) shown under the minimum") == 1
    assert report["summary"]["need_review_share"] == 0.0 and not any(c["need_review"] for c in report["cues"])
