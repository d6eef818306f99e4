"""Coarse placement carried between {\\anN} and WebVTT cue settings."""

from __future__ import annotations

import pytest

from localise.formats.position import an_from_vtt_settings, vtt_settings_from_an


@pytest.mark.parametrize("text,dialect,rest,settings", [
    ("{\\an8}你好", "srt", "你好", "line:0"),
    ("{\\an7\\fad(200,200)}你好", "ass", "{\\fad(200,200)}你好", "line:0 align:start"),
    ("{\\an5}x", "ass", "x", "line:50%"),
    ("{\\an3}x", "srt", "x", "align:end"),
    ("{\\an2}x", "srt", "x", ""),
    ("no tag", "srt", "no tag", ""),
    ("{\\an8}x", "vtt", "{\\an8}x", ""),
])
def test_an_to_settings(text: str, dialect: str, rest: str, settings: str) -> None:
    assert vtt_settings_from_an(text, dialect) == (rest, settings)


@pytest.mark.parametrize("settings,an", [
    ("", 2), ("line:0", 8), ("line:0 align:start", 7), ("line:50%", 5), ("line:-1", 2), ("line:90%", 2),
    ("align:right", 3), ("line:10%,start align:end", 9),
])
def test_settings_to_an(settings: str, an: int) -> None:
    assert an_from_vtt_settings(settings) == an


@pytest.mark.parametrize("an", range(1, 10))
def test_round_trip_through_vtt(an: int) -> None:
    _, settings = vtt_settings_from_an(f"{{\\an{an}}}x", "ass")
    assert an_from_vtt_settings(settings) == an
