"""WebVTT reading: the mozilla/vtt.js expected parses as an oracle, plus our repairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localise.errors import ParseError, RenderError
from localise.io import parse_text, read_track, render_track
from localise.formats.vtt import interpret_settings, region_ids

#: Where we knowingly differ from vtt.js, and why.
DEVIATIONS = {
    # vtt.js needs 3 fraction digits; we read "00:00.00" as 0 ms and report a timestamp-format repair
    "tests__cue-times__fraction-digits": "lenient timestamps",
    # vtt.js reads "120:00.000" as 120 h; the W3C rules reject it; so do we (cue dropped, warned)
    "tests__cue-times__minimum-spots-over-sixty": "minutes over 59",
    # a block "-->" + timing line: vtt.js drops the next cue too; the W3C block rules keep it
    "tests__integration__id": "spec block collection",
}


def oracle_cases(corpus: Path) -> list[Path]:
    return sorted(corpus.glob("mozilla__vtt.js/*.json"))


def test_vttjs_oracle_cue_text_and_settings(corpus: Path) -> None:
    checked = 0
    for expected_file in oracle_cases(corpus):
        case = expected_file.stem
        if case in DEVIATIONS:
            continue
        expected = json.loads(expected_file.read_text(encoding="utf-8"))["cues"]
        source = expected_file.with_suffix(".vtt")
        if not expected:
            with pytest.raises(ParseError, match="no subtitle cue"):
                read_track(source)
            checked += 1
            continue
        track = read_track(source)
        regions = region_ids(track)
        got = []
        for cue in track.cues:
            settings = interpret_settings(cue.extras.get("settings", ""), regions)
            got.append({"id": cue.id, "text": cue.text, "startTime": cue.start_ms / 1000, "endTime": cue.end_ms / 1000, **settings})
        want = []
        for cue in expected:
            row = {key: cue[key] for key in got[0]}
            row["region"] = bool(cue["region"])  # vtt.js gives the region object; we compare that one applies
            want.append(row)
        for row in got:
            row["region"] = bool(row["region"])
        assert got == want, case
        checked += 1
    assert checked > 140


def test_deviations_are_reported(corpus: Path) -> None:
    fraction = read_track(corpus / "mozilla__vtt.js/tests__cue-times__fraction-digits.vtt")
    assert [w.code for w in fraction.warnings] == ["timestamp-format"]
    with pytest.raises(ParseError):
        read_track(corpus / "mozilla__vtt.js/tests__cue-times__minimum-spots-over-sixty.vtt")


SAMPLE = """WEBVTT - a title
Kind: captions
Language: zh

STYLE
::cue(.yellow) { color: yellow; }

REGION
id:bottom width:40% lines:3

NOTE made by hand

intro
00:00:01.000 --> 00:00:02.500 align:start line:0 region:bottom
<v 张三><c.yellow>你好</c> &amp; 再见

00:00:03.000 --> 00:00:04.000
第二句
第二行

NOTE trailing note
"""


def test_blocks_header_ids_settings_survive() -> None:
    track = parse_text(SAMPLE, name="sample.vtt")
    assert track.format == "vtt" and not track.warnings
    assert track.extras["header"] == "WEBVTT - a title"
    assert track.extras["header_lines"] == ["Kind: captions", "Language: zh"]
    assert [b["kind"] for b in track.extras["blocks"]] == ["STYLE", "REGION", "NOTE", "NOTE"]
    first, second = track.cues
    assert (first.id, first.start_ms, first.end_ms) == ("intro", 1000, 2500)
    assert first.extras["settings"] == "align:start line:0 region:bottom"
    assert interpret_settings(first.extras["settings"], region_ids(track))["region"] == "bottom"
    assert second.text == "第二句\n第二行"
    assert render_track(track) == SAMPLE


def test_repairs_are_warned_with_cue_and_line() -> None:
    text = "\n\nWEBVTT\n\n0:0:1.5 --> 0:0:2,000\none\n00:00:03.000 --> 00:00:02.000\ntwo\n"
    track = parse_text(text, name="x.vtt")
    codes = {(w.code, w.cue) for w in track.warnings}
    assert ("leading-blank-lines", None) in codes
    assert ("timestamp-format", 0) in codes
    assert ("missing-blank-line", 0) in codes
    assert ("end-before-start", 1) in codes
    assert [c.start_ms for c in track.cues] == [1500, 3000]
    assert all(w.line for w in track.warnings)


def test_missing_header_is_an_error_unless_the_name_says_vtt() -> None:
    body = "00:00:01.000 --> 00:00:02.000\nhello\n"
    track = parse_text(body, name="episode.vtt")
    assert track.format == "vtt" and "missing-header" in {w.code for w in track.warnings}
    with pytest.raises(ParseError) as info:
        parse_text(body, format="vtt", name="episode.txt")
    assert "episode.txt:1" in str(info.value)


def test_render_refuses_arrows_and_blank_lines() -> None:
    track = parse_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n")
    with pytest.raises(RenderError, match="cue 1"):
        render_track(track.with_texts(["a --> b"]))
    with pytest.raises(RenderError, match="blank line"):
        render_track(track.with_texts(["a\n\nb"]))
