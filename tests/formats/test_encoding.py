"""Encoding detection: BOMs, UTF-8, GB18030 (not GBK), Big5, cp125x; twins in the corpus agree."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from localise.errors import EncodingError, ParseError
from localise.formats.encoding import decode_bytes
from localise.io import read_track

#: non-UTF-8 corpus file -> its UTF-8 twin (same cues)
TWINS = {
    "byroot__pysrt/tests__static__bom-utf-16-be.srt": "byroot__pysrt/tests__static__bom-utf-8.srt",
    "byroot__pysrt/tests__static__bom-utf-16-le.srt": "byroot__pysrt/tests__static__bom-utf-8.srt",
    "byroot__pysrt/tests__static__bom-utf-32-be.srt": "byroot__pysrt/tests__static__bom-utf-8.srt",
    "byroot__pysrt/tests__static__bom-utf-32-le.srt": "byroot__pysrt/tests__static__bom-utf-8.srt",
    "byroot__pysrt/tests__static__windows-1252.srt": "byroot__pysrt/tests__static__utf-8.srt",
    "tkarabela__pysubs2/derived__TEST_SRT_FILE_WIN1250.cp1250.srt": "tkarabela__pysubs2/tests__test_cli.py__TEST_SRT_FILE_WIN1250_2.srt",
    "tkarabela__pysubs2/derived__test_big5_read_write.big5.srt": "tkarabela__pysubs2/tests__formats__test_subrip.py__test_big5_read_write_1.srt",
    "asticode__go-astisub/testdata__example-in-non-utf8.srt": "asticode__go-astisub/testdata__missing-sequence-in.srt",
    "asticode__go-astisub/testdata__example-in-non-utf8.vtt": "asticode__go-astisub/testdata__example-in.vtt",
}


@pytest.mark.parametrize("legacy,twin", sorted(TWINS.items()))
def test_encoding_twins_decode_to_the_same_cues(corpus: Path, legacy: str, twin: str) -> None:
    a, b = read_track(corpus / legacy), read_track(corpus / twin)
    assert a.encoding not in ("utf-8", "utf-8-sig")
    assert [(c.start_ms, c.end_ms, c.text) for c in a.cues] == [(c.start_ms, c.end_ms, c.text) for c in b.cues]


def test_gbk_file_reads_as_gb18030(corpus: Path) -> None:
    track = read_track(corpus / "ylysyym__aspasia/tests__data__gbk.srt")
    assert track.encoding == "gb18030"
    assert [c.text for c in track.cues] == ["这是中文", "还有更多的中文", "再见"]


def test_gb18030_only_characters_survive() -> None:
    text = "1\n00:00:01,000 --> 00:00:02,000\n等一下⋯⋯你是谁？\n\n2\n00:00:03,000 --> 00:00:04,000\n我是你的霸道总裁⋯\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    track = read_track(text.encode("gb18030"), name="ep1.srt")
    assert track.encoding == "gb18030"
    assert track.cues[0].text == "等一下⋯⋯你是谁？"


@pytest.mark.parametrize("bom,codec,name", [
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
])
def test_boms(bom: bytes, codec: str, name: str) -> None:
    text, encoding = decode_bytes(bom + "WEBVTT\n\n00:01.000 --> 00:02.000\n你好\n".encode(codec))
    assert encoding == name and text.startswith("WEBVTT")


def test_legacy_single_byte_encodings() -> None:
    arabic = "1\n00:00:01,000 --> 00:00:02,000\nمرحبا بكم في المسلسل الجديد\n\n2\n00:00:03,000 --> 00:00:04,000\nأين ذهبت يا حبيبي؟\n"
    text, encoding = decode_bytes(arabic.encode("cp1256"))
    assert text == arabic and encoding == "cp1256"


def test_empty_and_binary_are_refused() -> None:
    with pytest.raises(ParseError, match="empty"):
        decode_bytes(b"  \n", "a.srt")
    with pytest.raises(EncodingError, match="binary") as info:
        decode_bytes(bytes(range(256)) * 8, "clip.mp4")
    assert "clip.mp4" in str(info.value)
