"""A cue that cannot be read (a malformed timestamp) is never dropped silently and never becomes
text of another cue: it is read, or left out with a warning that names its line and says input was
lost (what ``translate --strict`` refuses). SRT, WebVTT and ASS alike, for arbitrary timing lines."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localise.errors import RenderError
from localise.formats.base import LOST_INPUT_CODES, lost_input
from localise.io import parse_text, render_track
from localise.model import Cue, Track

PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: what a damaged timestamp is made of (no line break: the damage stays on its line)
DAMAGE = st.text(alphabet="0123456789:,.->x —\t;/", max_size=40)


def _check(text: str, fmt: str, damaged_lines: set[int]) -> None:
    """The three cues 甲一 / 乙二 / 丙三, the second one's timing damaged."""
    track = parse_text(text, format=fmt, name=f"ep.{fmt}")
    texts = [c.text for c in track.cues]
    assert texts[0] == "甲一" and texts[-1] == "丙三", texts  # neighbours never absorb the damaged cue
    if texts == ["甲一", "乙二", "丙三"]:
        return  # the damaged line still reads as a timing line
    assert texts == ["甲一", "丙三"], texts
    lost = lost_input(track.warnings)
    assert lost, f"the cue vanished silently: {track.warnings}"
    assert any(w.line in damaged_lines for w in lost), (damaged_lines, lost)
    assert all(w.code in LOST_INPUT_CODES for w in lost)


@PROFILE
@given(DAMAGE)
def test_srt_damaged_timing_line_with_an_index(damage: str) -> None:
    text = f"1\n00:00:01,000 --> 00:00:02,000\n甲一\n\n2\n{damage}\n乙二\n\n3\n00:00:05,000 --> 00:00:06,000\n丙三\n"
    _check(text, "srt", {5, 6})


@PROFILE
@given(st.lists(st.sampled_from("0123456789x:;. ,/—"), min_size=18, max_size=18))
def test_srt_damaged_timestamps_without_index_lines(chars: list[str]) -> None:
    """Files without index lines: the digits of the timing line damaged, the arrow left."""
    digits = iter(chars)
    damaged = "".join(next(digits) if ch.isdigit() else ch for ch in "00:00:03,000 --> 00:00:04,000")
    text = f"00:00:01,000 --> 00:00:02,000\n甲一\n\n{damaged}\n乙二\n\n00:00:05,000 --> 00:00:06,000\n丙三\n"
    _check(text, "srt", {4})


@PROFILE
@given(DAMAGE, st.booleans())
def test_vtt_damaged_timing_line(damage: str, with_id: bool) -> None:
    ident = "second\n" if with_id else ""
    text = f"WEBVTT\n\n00:01.000 --> 00:02.000\n甲一\n\n{ident}{damage}\n乙二\n\n00:05.000 --> 00:06.000\n丙三\n"
    _check(text, "vtt", {6, 7})  # the block's first line, or the damaged line after an identifier


@PROFILE
@given(st.text(alphabet="0123456789:.x -;/", max_size=20))
def test_ass_damaged_start_time(damage: str) -> None:
    head = "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    text = (head + "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,甲一\n"
            f"Dialogue: 0,{damage},0:00:04.00,Default,,0,0,0,,乙二\n"
            "Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,丙三\n")
    _check(text, "ass", {7})
    track = parse_text(text, format="ass")
    if len(track.cues) == 2:  # an event left out of the translation is still written back as it was
        assert f"Dialogue: 0,{damage},0:00:04.00" in render_track(track)


def test_the_probe_a_malformed_timestamp_in_srt() -> None:
    """The probe: the middle cue vanished, its lines became text of the cue above, and `inspect`
    only said 'stray text' (or 'blank line in cue')."""
    text = "1\n00:00:01,000 --> 00:00:02,000\n你好。\n\n2\n00:00:03,0x0 --> 00:00:04,000\n坏的时间。\n\n3\n00:00:05,000 --> 00:00:06,000\n再见。\n"
    track = parse_text(text, name="ep.srt")
    assert [c.text for c in track.cues] == ["你好。", "再见。"]
    [lost] = lost_input(track.warnings)
    assert (lost.code, lost.line) == ("bad-timing", 6)
    assert "00:00:03,0x0 --> 00:00:04,000" in lost.message and "坏的时间" in lost.message
    first = text.replace("1\n00:00:01,000 --> 00:00:02,000\n你好。\n\n", "")  # the damaged cue comes first
    [lost] = lost_input(parse_text(first, name="ep.srt").warnings)
    assert (lost.code, lost.line) == ("bad-timing", 2)


def test_a_blank_line_inside_a_cue_still_keeps_its_text() -> None:
    """Text after a blank line that is no cue (no index, no timing) stays the cue's text, repaired."""
    track = parse_text("1\n00:00:01,000 --> 00:00:02,000\n第一行\n\n第二行\n\n2\n00:00:03,000 --> 00:00:04,000\n再见\n")
    assert [c.text for c in track.cues] == ["第一行\n第二行", "再见"]
    assert not lost_input(track.warnings) and any(w.code == "blank-line-in-cue" for w in track.warnings)


def test_srt_writer_refuses_text_that_would_read_back_as_a_lost_cue() -> None:
    track = Track([Cue(0, 1000, "3\n00:00:0x --> soon")], "srt")
    with pytest.raises(RenderError, match="cue 1"):
        render_track(track)
