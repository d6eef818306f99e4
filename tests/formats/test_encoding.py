"""Encoding detection: BOMs, UTF-8, GB18030 (not GBK), Big5, cp125x; twins in the corpus agree."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# BOM-less UTF-16: Windows tools write it; with mostly-CJK text the detector gives no answer, so
# the NULs' side in each byte pair decides (the timing lines are ASCII). Binary data stays refused.
_CJK_LINES = ["你好。", "我们走吧。", "三天之后，林晚晴会回来。", "宇宙守护神  保护我们远离邪恶", "这茶……凉了"]


def _srt(lines: list[str]) -> str:
    return "".join(f"{i}\n00:00:{i:02d},000 --> 00:00:{i:02d},900\n{line}\n\n" for i, line in enumerate(lines, 1))


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_bomless_utf16_chinese_track_is_read_not_refused_as_binary(codec: str) -> None:
    text = _srt(_CJK_LINES * 4)
    decoded, encoding = decode_bytes(text.encode(codec), "ep01.srt")
    assert decoded == text and encoding == codec


#: Han characters; those at U+xx00 (一 U+4E00: a NUL on the other side of the pair) are 1 in 256 of
#: them, tolerated at up to 1 in 10 NULs (test below), not a whole track made of them.
_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF).filter(lambda ch: ord(ch) % 256 != 0)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.text(alphabet=_HAN, min_size=1, max_size=20), min_size=1, max_size=8),
       codec=st.sampled_from(["utf-16-le", "utf-16-be"]))
def test_bomless_utf16_decodes_to_the_same_text(lines: list[str], codec: str) -> None:
    text = _srt(lines)
    assert decode_bytes(text.encode(codec))[0] == text


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_bomless_utf16_with_han_characters_at_u_xx00_is_read(codec: str) -> None:
    text = _srt(["一个人。", "万一呢？", "乐不思蜀", "一一道来"] * 3)  # 一 is U+4E00: a NUL byte too
    assert decode_bytes(text.encode(codec))[0] == text


def test_binary_with_nuls_on_both_sides_of_each_pair_is_still_refused() -> None:
    import random
    import zlib

    rng = random.Random(7)
    payloads = [zlib.compress(_srt(_CJK_LINES * 40).encode("utf-8")) + b"\0\0\0\0",
                bytes(rng.randrange(256) for _ in range(4096)) + b"\0" * 8,
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(rng.randrange(256) for _ in range(2000))]
    for data in payloads:
        with pytest.raises(EncodingError, match="binary"):
            decode_bytes(data, "clip.bin")


# Lines in UTF-8 inside a file in a legacy encoding (pasted from elsewhere) are read garbled: said.
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "tingyu-teahouse"


@pytest.mark.parametrize("lines,codec,pasted", [
    (_CJK_LINES * 3, "gb18030", "她说这茶真香"),
    (["Привет, как дела?", "Мы идём домой.", "Это очень хороший чай.", "Где ты был вчера вечером?"] * 3, "cp1251",
     "Она сказала: чай остыл."),
])
def test_a_utf8_line_in_a_legacy_file_is_said_with_its_line(lines: list[str], codec: str, pasted: str) -> None:
    from localise.formats.encoding import decode_bytes_with_warnings

    legacy = _srt(lines).encode(codec)
    data = legacy + b"40\n00:00:40,000 --> 00:00:41,000\n" + pasted.encode("utf-8") + b"\n"
    text, encoding, warnings = decode_bytes_with_warnings(data, "ep01.srt")
    assert encoding == codec
    line = data.split(b"\n").index(pasted.encode("utf-8")) + 1
    assert [(w.code, w.line) for w in warnings] == [("encoding", line)]
    assert "mixed encodings" in warnings[0].message and codec in warnings[0].message


@pytest.mark.parametrize("codec", ["gb18030", "big5"])
def test_a_whole_legacy_file_gets_no_mixed_encoding_warning(codec: str) -> None:
    """The sample episodes, short lines included (一或两字 lines can be valid UTF-8 by chance)."""
    from localise.formats.encoding import decode_bytes_with_warnings

    for episode in sorted(SAMPLES.glob("ep*.srt")):
        text = episode.read_text(encoding="utf-8") + _srt(["嗯", "好", "走吧", "是吗", "哎"])
        data = text.encode(codec, errors="replace")
        assert decode_bytes_with_warnings(data, episode.name)[2] == [], episode


def test_the_corpus_mixed_encoding_file_is_not_read_silently(corpus: Path) -> None:
    track = read_track(corpus / "tkarabela__pysubs2" / "derived__test_multiencoding_passthrough.mixed.srt")
    assert [w.code for w in track.warnings] == ["encoding"]
