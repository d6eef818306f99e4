"""ASS/SSA: sections verbatim, events by the file's own Format line, comments kept in place."""

from __future__ import annotations

import pytest

from localise.errors import RenderError
from localise.io import parse_text, render_track

ASS = """[Script Info]
; made by a typesetter
Title: 霸道总裁
ScriptType: v4.00+
PlayResX: 1920

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,方正准圆简体,20.0,&H00FFFFFF,&H0300FFFF,&H00000000,&H02000000,0,0,0,0,100,100,0,0,1,2,1,2,10,10,10,134

[Events]
Format: Layer, Start, End, Style, Actor, MarginL, MarginR, MarginV, Effect, Text
Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,note for the editor
Dialogue: 1,0:00:01.00,0:00:02.50,Default,张三,0010,0,0,,{\\an8}你好,{\\i1}世界{\\i0}\\N第二行
Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,Banner;5,胡\\h萝\\h卜

[Custom Section]
keep: me
"""


def test_everything_but_the_words_travels() -> None:
    track = parse_text(ASS)
    assert track.format == "ass" and track.warnings == []
    first, second = track.cues
    assert first.text == "{\\an8}你好,{\\i1}世界{\\i0}\n第二行"
    assert first.extras == {"layer": "1", "style": "Default", "actor": "张三", "marginl": "0010", "marginr": "0", "marginv": "0", "effect": ""}
    assert second.extras["effect"] == "Banner;5"
    assert track.extras["event_lines"][0]["line"].startswith("Comment:")
    assert render_track(track) == ASS


def test_ssa_conversion_and_other_field_orders() -> None:
    track = parse_text(ASS)
    ssa = render_track(track, "ssa")
    assert "[V4 Styles]" in ssa and "Format: Marked, Start" in ssa
    again = parse_text(ssa)
    assert again.format == "ssa"
    assert [(c.start_ms, c.end_ms, c.text) for c in again.cues] == [(c.start_ms, c.end_ms, c.text) for c in track.cues]


def test_millisecond_times_are_rounded_with_a_warning_and_negative_times_repaired() -> None:
    text = ASS.replace("0:00:01.00,0:00:02.50", "-0:00:00.50,0:00:02.506")
    track = parse_text(text)
    assert (track.cues[0].start_ms, track.cues[0].end_ms) == (0, 2510)
    assert {w.code for w in track.warnings} >= {"negative-time", "timestamp-precision"}


def test_render_refuses_commas_in_fields() -> None:
    track = parse_text(ASS)
    track.cues[0].extras["style"] = "a,b"
    with pytest.raises(RenderError, match="cue 1"):
        render_track(track)


def test_srt_to_ass_conversion_converts_markup() -> None:
    srt = parse_text("1\n00:00:01,000 --> 00:00:02,000\n<i>你好</i>\n世界\n")
    ass = parse_text(render_track(srt, "ass"))
    assert ass.cues[0].text == "{\\i1}你好{\\i0}\n世界"
    assert "[V4+ Styles]" in render_track(srt, "ass")


def test_style_and_info_views() -> None:
    from localise.formats.ass import script_info, styles

    track = parse_text(ASS)
    assert script_info(track)["Title"] == "霸道总裁"
    assert styles(track)["Default"]["Fontname"] == "方正准圆简体"
    assert styles(track)["Default"]["Fontsize"] == "20.0"


def test_time_past_ten_hours_is_refused_not_clamped() -> None:
    from localise.errors import RenderError
    from localise.io import render_track
    from localise.model import Cue, Track

    track = Track(cues=[Cue(start_ms=36_000_000, end_ms=36_001_000, text="late")], format="ass")
    with pytest.raises(RenderError, match="cue 1.*9:59:59.99"):
        render_track(track)
