"""SRT reading: every repair is reported with its cue and line; bad input is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.errors import ParseError, RenderError, UnknownFormatError
from localise.io import parse_text, read_track, render_track


def codes(track) -> set[tuple[str, int | None]]:
    return {(w.code, w.cue) for w in track.warnings}


def test_clean_file_has_no_warnings_and_renders_identically() -> None:
    text = "1\n00:00:01,000 --> 00:00:02,500\n<i>你好</i>\n\n2\n00:00:03,000 --> 00:00:04,000 X1:10 X2:20 Y1:5 Y2:9\n{\\an8}再见\n第二行\n"
    track = parse_text(text)
    assert track.format == "srt" and track.warnings == []
    assert track.cues[1].extras == {"position": "X1:10 X2:20 Y1:5 Y2:9"}
    assert track.cues[1].text == "{\\an8}再见\n第二行"
    assert render_track(track) == text + "\n"


def test_recoverable_defects_are_repaired_and_reported() -> None:
    text = (
        "garbage before\n\n"
        "1\n00:00:01.000 --> 00:00:02,000\none\n"  # period/comma mix, no blank line after
        "00:00:05,000 --> 00:00:04,000\ntwo\n\n"  # missing index, end before start
        "7\n00:00:03,000->00:00:06,000\nthree\n\nstill three\n\n"  # index jump, arrow, blank line inside
        "8\n00:00:05,500 --> 00:00:07\nfour\n"  # overlap, missing milliseconds
    )
    track = parse_text(text, name="ep.srt")
    assert [c.text for c in track.cues] == ["one", "two", "three\nstill three", "four"]
    assert [c.id for c in track.cues] == ["1", "2", "7", "8"]
    found = codes(track)
    for expected in [("stray-text", None), ("timestamp-format", 0), ("missing-blank-line", 1), ("missing-index", 1),
                     ("end-before-start", 1), ("out-of-order", 2), ("timestamp-format", 2),
                     ("blank-line-in-cue", 2), ("overlap", 3), ("timestamp-format", 3)]:
        assert expected in found, expected
    assert all(w.line for w in track.warnings)
    assert track.cues[3].end_ms == 7000
    again = parse_text(render_track(track))
    assert [(c.start_ms, c.end_ms, c.text) for c in again.cues] == [(c.start_ms, c.end_ms, c.text) for c in track.cues]


@pytest.mark.parametrize("data,error,fragment", [
    (b"", ParseError, "empty"),
    (b"<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>", UnknownFormatError, "HTML"),
    (b"just some words\nand more words\n", UnknownFormatError, "not a subtitle track"),
    (b"some text\n00:00:00,500 --> 00:00:07,000", ParseError, "text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, ParseError, "binary"),
])
def test_bad_input_is_refused_naming_the_file(data: bytes, error: type, fragment: str) -> None:
    with pytest.raises(error, match=fragment) as info:
        read_track(data, name="episode-01.srt")
    assert "episode-01.srt" in str(info.value)


def test_writer_refuses_text_srt_cannot_hold() -> None:
    track = parse_text("1\n00:00:01,000 --> 00:00:02,000\nhi\n")
    with pytest.raises(RenderError, match="cue 1"):
        render_track(track.with_texts(["00:00:01,000 --> 00:00:02,000"]))
    with pytest.raises(RenderError, match="blank line"):
        render_track(track.with_texts(["a\n\nb"]))
    assert parse_text(render_track(track.with_texts(["a --> b\n12"]))).cues[0].text == "a --> b\n12"


def test_leading_zero_indexes_are_kept() -> None:
    track = parse_text("001\n00:00:01,000 --> 00:00:02,000\none\n\n002\n00:00:02,000 --> 00:00:03,000\ntwo\n")
    assert [c.id for c in track.cues] == ["001", "002"]
    assert render_track(track).startswith("001\n")


TIMESTAMP = st.tuples(st.integers(0, 120), st.integers(0, 99), st.integers(0, 99), st.integers(0, 999))


@settings(max_examples=200, deadline=None)
@given(TIMESTAMP, TIMESTAMP, st.sampled_from(["", " X1:10 X2:20", "  ", "\t", " x"]))
def test_canonical_timing_line_reads_as_the_lenient_grammar_does(a, b, rest) -> None:
    """Canonical lines take a strict-regex shortcut; it must agree with TIMING + pysrt arithmetic."""
    from pysrt import SubRipTime

    from localise.formats.srt import TIMING, parse_timing

    line = "{:02d}:{:02d}:{:02d},{:03d} --> {:02d}:{:02d}:{:02d},{:03d}".format(*a, *b) + rest
    g = TIMING.match(line).groups()
    start = SubRipTime(int(g[0]), int(g[1]), int(g[2]), int(g[4])).ordinal
    end = SubRipTime(int(g[6]), int(g[7]), int(g[8]), int(g[10])).ordinal
    assert parse_timing(line) == (start, end, g[11].strip(), [])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 10**6), st.sampled_from(["1", "001", "abc", ""]),
                          st.sampled_from(["", "X1:1 X2:2", " "])), min_size=1, max_size=5))
def test_rendered_items_are_what_pysrt_writes(cues) -> None:
    from pysrt import SubRipItem, SubRipTime

    from localise.model import Cue, Track

    track = Track([Cue(s, s + d, "一行\nline", i, {"position": p} if p else {}) for s, d, i, p in cues], "srt")
    expected = []
    for n, (s, d, i, p) in enumerate(cues, 1):
        item = SubRipItem(0, SubRipTime.from_ordinal(s), SubRipTime.from_ordinal(s + d), "一行\nline", p)
        item.index = i if i.isdigit() else str(n)
        expected.append(str(item) + "\n")
    assert render_track(track) == "".join(expected)
