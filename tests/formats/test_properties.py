"""Property: read(write(track)) == track for every format, or the writer refuses with RenderError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest

from localise.errors import ParseError, RenderError
from localise.io import parse_text, render_track
from localise.model import Cue, Track

WORDS = st.sampled_from([
    "你好", "霸道总裁", "⋯⋯", "مرحبا", "สวัสดีครับ", "😀🎬", "안녕", "<i>", "</i>", "{\\an8}", "{\\i1}", "&amp;",
    "-->", "a --> b", "00:00:01,000 --> 00:00:02,000", "1", "WEBVTT", "NOTE", "[Events]", "Dialogue:", ",", " ", "\n", "\n\n",
    "\\N", "\\h", "hello", "Ünïcödé", "\t", "",
])
TEXT = st.lists(WORDS, max_size=8).map("".join)


@st.composite
def tracks(draw: st.DrawFn, fmt: str) -> Track:
    n = draw(st.integers(1, 5))
    cues = []
    for i in range(n):
        start = draw(st.integers(0, 10_000_000))
        end = start + draw(st.integers(0, 100_000))
        if fmt in ("ass", "ssa"):  # SubStation times are centiseconds
            start, end = start - start % 10, end - end % 10
        cue_id = str(i + 1) if fmt == "srt" else (draw(st.sampled_from(["", "intro", str(i), "第一"])) if fmt == "vtt" else "")
        extras = {"settings": draw(st.sampled_from(["align:start line:0", "position:10%"]))} if fmt == "vtt" and draw(st.booleans()) else {}
        if fmt == "ass":
            extras = {"layer": str(draw(st.integers(0, 3))), "style": "Default", "name": draw(st.sampled_from(["", "张三", "Bob Li"])),
                      "marginl": "0", "marginr": "0", "marginv": draw(st.sampled_from(["0", "0030"])), "effect": ""}
        cues.append(Cue(start, end, draw(TEXT), cue_id, extras))
    return Track(cues=cues, format=fmt)


def _check(track: Track) -> None:
    try:
        text = render_track(track)
    except RenderError as exc:
        assert "cue" in str(exc)
        return
    if track.format == "srt" and not any(c.text.strip() for c in track.cues):
        # an SRT of timing lines only reads as a truncated file, by design
        with pytest.raises(ParseError, match="text"):
            parse_text(text, format="srt")
        return
    again = parse_text(text, format=track.format)
    assert [(c.id, c.start_ms, c.end_ms, c.text, c.extras) for c in again.cues] == [
        (c.id, c.start_ms, c.end_ms, c.text, c.extras) for c in track.cues
    ]
    assert render_track(again) == text


PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(tracks("srt"))
def test_srt_round_trip(track: Track) -> None:
    _check(track)


@PROFILE
@given(tracks("vtt"))
def test_vtt_round_trip(track: Track) -> None:
    _check(track)


@PROFILE
@given(tracks("ass"))
def test_ass_round_trip(track: Track) -> None:
    _check(track)
