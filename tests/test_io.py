"""localise.io: paths and bytes in, format detection, conversion on request, atomic UTF-8 writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from localise.errors import ParseError, RenderError, UnknownFormatError
from localise.io import guess_format, parse_text, read_track, render_track, write_track

SRT = "1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<i>你好</i>，世界\n\n2\n00:00:02,500 --> 00:00:04,000\n第二句\n第二行\n"


@pytest.mark.parametrize("text,fmt", [
    (SRT, "srt"),
    ("WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n", "vtt"),
    ("\ufeffWEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\nhi\r\n", "vtt"),
    ("[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\n\n[Events]\n", "ass"),
    ("[Script Info]\nScriptType: v4.00\n\n[V4 Styles]\n\n[Events]\n", "ssa"),
    ("1\r00:00:01,000 --> 00:00:02,000\rbare CR line ends\r", "srt"),
])
def test_guess_format(text: str, fmt: str) -> None:
    assert guess_format(text) == fmt


def test_guess_format_refuses_html_and_prose() -> None:
    with pytest.raises(UnknownFormatError, match="HTML"):
        guess_format("<!doctype html>\n<html><body>hi</body></html>")
    with pytest.raises(UnknownFormatError, match="TTML"):
        guess_format('<?xml version="1.0"?><tt xmlns="http://www.w3.org/ns/ttml"></tt>')
    with pytest.raises(UnknownFormatError):
        guess_format("Once upon a time.\nThe end.\n")


def test_read_from_path_bytes_and_text(tmp_path: Path) -> None:
    path = tmp_path / "ep01.srt"
    path.write_bytes(SRT.encode("utf-16"))
    from_path = read_track(path)
    from_bytes = read_track(SRT.encode("gb18030"), name="ep01.srt")
    from_text = parse_text(SRT)
    assert from_path.encoding == "utf-16" and from_bytes.encoding == "gb18030" and from_text.encoding is None
    assert from_path.source_name == str(path)
    assert [c.text for c in from_path.cues] == [c.text for c in from_bytes.cues] == [c.text for c in from_text.cues]


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no such file") as info:
        read_track(tmp_path / "missing.srt")
    assert "missing.srt" in str(info.value)
    with pytest.raises(ParseError, match="folder"):
        read_track(tmp_path)
    with pytest.raises(UnknownFormatError, match="unknown format"):
        parse_text(SRT, format="sbv")
    bad = "WEBVTT\n\n00:01.000 --> 00:02.000\nok\n"
    with pytest.raises(ParseError) as info:
        parse_text("hello\n" + bad, format="vtt", name="x.vtt")
    assert str(info.value).startswith("x.vtt:1:")


def test_write_track_is_utf8_idempotent_and_atomic(tmp_path: Path) -> None:
    track = parse_text(SRT)
    out = write_track(track, tmp_path / "deep" / "ep01.srt")
    first = out.read_bytes()
    assert first.decode("utf-8").startswith("1\n00:00:01,000 --> 00:00:02,000\n")
    assert write_track(read_track(out), tmp_path / "again.srt").read_bytes() == first
    broken = track.with_texts(["ok", "a\n\nb"])
    with pytest.raises(RenderError, match="cue 2"):
        write_track(broken, tmp_path / "broken.srt")
    assert not (tmp_path / "broken.srt").exists() and not list(tmp_path.glob("*.tmp"))


def test_conversion_follows_the_extension_or_the_argument(tmp_path: Path) -> None:
    track = parse_text(SRT)
    vtt = read_track(write_track(track, tmp_path / "ep01.vtt"))
    assert vtt.format == "vtt" and [c.text for c in vtt.cues] == ["<i>你好</i>，世界", "第二句\n第二行"]
    assert vtt.cues[0].extras["settings"] == "line:0"  # {\an8}: top of the picture
    ass = parse_text(render_track(track, "ass"))
    assert ass.cues[0].text == "{\\an8}{\\i1}你好{\\i0}，世界"
    back = parse_text(render_track(ass, "srt"))
    assert back.cues[0].text == "{\\an8}<i>你好</i>，世界"
    assert [(c.start_ms, c.end_ms) for c in back.cues] == [(c.start_ms, c.end_ms) for c in track.cues]
    top = parse_text(render_track(vtt, "srt"))
    assert top.cues[0].text.startswith("{\\an8}")


def test_track_survives_json() -> None:
    from localise.model import Track

    track = read_track(SRT.encode("utf-8"), name="ep.srt")
    assert Track.from_dict(track.to_dict()) == track
    ass = parse_text(render_track(track, "ass"))
    import json

    assert Track.from_dict(json.loads(json.dumps(ass.to_dict()))) == ass
