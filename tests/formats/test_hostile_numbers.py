"""Numbers too long for ``int()`` in a subtitle file are bad input, never a traceback.

Python refuses to convert a string of more than 4,300 digits (``sys.get_int_max_str_digits``); a
5,000-digit hour in an SRT, WebVTT or ASS timing line, a 5,000-digit SRT index, WebVTT ``line:``
setting or ``&#...;`` character reference stopped ``localise inspect``/``translate`` with a
``ValueError`` traceback. Each is now either read (the number ignored where it means nothing) or
refused with a typed error naming the file."""

from __future__ import annotations

import pytest

from localise.errors import LocaliseError
from localise.io import parse_text, render_track

BIG = "9" * 5000
ASS_HEAD = (
    "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, "
    "SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
    "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\nStyle: Default,Arial,20,"
    "&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1\n\n[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)
GOOD_SRT = "1\n00:00:01,000 --> 00:00:02,000\nfine\n"

REFUSED = {
    "srt-hours": f"1\n{BIG}:00:01,000 --> {BIG}:00:09,000\nhi\n",
    "srt-lenient-hours": f"1\n{BIG}:0:1.5 -> {BIG}:0:9.5\nhi\n",
    "vtt-hours": f"WEBVTT\n\n{BIG}:00:00.000 --> {BIG}:00:01.000\nhi\n",
    "vtt-minutes": f"WEBVTT\n\n{BIG}:00.000 --> {BIG}:01.000\nhi\n",
    "ass-hours": ASS_HEAD + f"Dialogue: 0,{BIG}:00:01.00,{BIG}:00:09.00,Default,,0,0,0,,hi\n",
}
READ = {
    "srt-index": f"{BIG}\n00:00:01,000 --> 00:00:02,000\nhi\n\n{BIG}1\n00:00:03,000 --> 00:00:04,000\nho\n",
    "vtt-line": f"WEBVTT\n\n00:00.000 --> 00:01.000 line:{BIG}\nhi\n",
    "vtt-charref": f"WEBVTT\n\n00:00.000 --> 00:01.000\n&#{BIG};\n",
    "vtt-hex-charref": f"WEBVTT\n\n00:00.000 --> 00:01.000\n&#x{'f' * 5000};\n",
    "srt-hours-beside-a-good-cue": f"1\n{BIG}:00:01,000 --> {BIG}:00:09,000\nhi\n\n2\n00:00:10,000 --> 00:00:11,000\nok\n",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unreadable_huge_numbers_are_refused_with_a_typed_error(name: str) -> None:
    with pytest.raises(LocaliseError) as err:
        parse_text(REFUSED[name], name=f"{name}.sub")
    assert f"{name}.sub" in str(err.value)


@pytest.mark.parametrize("name", sorted(READ))
def test_huge_numbers_that_mean_nothing_are_read_around(name: str) -> None:
    track = parse_text(READ[name], name=f"{name}.sub")
    assert track.cues
    render_track(track)
    for fmt in ("srt", "vtt", "ass"):
        try:
            render_track(track, fmt)
        except LocaliseError:
            pass  # a format that cannot hold the text says so, typed


def test_a_huge_hour_leaves_out_only_its_own_cue() -> None:
    track = parse_text(READ["srt-hours-beside-a-good-cue"], name="x.srt")
    assert [c.text for c in track.cues] == ["ok"]
    assert any(w.code == "bad-timing" and w.line == 2 for w in track.warnings)


def test_a_huge_character_reference_stays_text() -> None:
    from localise.formats.markup import strip_markup

    assert strip_markup(f"&#{BIG};", "vtt") == f"&#{BIG};"
    assert strip_markup("&#233;t&#xE9;", "vtt") == "été"
