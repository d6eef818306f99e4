"""Bytes to text: BOMs first, then strict UTF-8, then charset-normalizer among the encodings
subtitle files really come in. Output is always ``str``; writers emit UTF-8.

GB2312/GBK guesses are decoded with GB18030, their superset: a GBK decoder loses characters
such as ``⋯`` that Chinese editing tools write.
"""

from __future__ import annotations

import codecs

from localise.errors import EncodingError, ParseError
from localise.model import ParseWarning

#: (BOM, codec that decodes what follows it, name reported: a Python codec that reads the BOM too)
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

#: Encodings the detector may choose from (Python codec names), in the order we prefer on ties.
CANDIDATES: tuple[str, ...] = (
    "gb18030",
    "big5",
    "shift_jis",
    "cp1250",
    "cp1251",
    "cp1252",
    "cp1256",
    "utf_16",
)  # no EUC-KR: short Chinese lines are misread as Korean, and our sources are Chinese

#: Detector answers decoded with a superset codec instead.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "shift_jis": "cp932", "euc_kr": "cp949"}


def decode_bytes(data: bytes, name: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` for subtitle bytes; raises :class:`EncodingError` naming the file."""
    text, encoding, _ = decode_bytes_with_warnings(data, name)
    return text, encoding


def decode_bytes_with_warnings(data: bytes, name: str | None = None) -> tuple[str, str, list[ParseWarning]]:
    """As :func:`decode_bytes`, plus warnings for lossy decoding (bytes no encoding explains)."""
    if not data.strip():
        raise ParseError("empty file", name)
    for bom, codec, reported in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), reported, []
            except UnicodeDecodeError as exc:
                raise EncodingError(f"has a {codec} byte-order mark but does not decode as {codec}: {exc}", name) from exc
    wide = _refuse_binary(data, name)
    if wide is not None:
        return data.decode(wide), wide, []
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(CANDIDATES)).best()
    if best is not None:
        reported = best.encoding.lower()
        codec = _SUPERSETS.get(reported, reported)
        try:
            return data.decode(codec), reported, _utf8_lines(data, reported)
        except UnicodeDecodeError:
            pass
    # No single encoding explains every byte (e.g. lines pasted from files in several encodings):
    # keep the UTF-8 we can read and mark the rest, rather than refuse the whole track.
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    line = text[: text.index("\ufffd")].count("\n") + 1
    return (
        text,
        "utf-8",
        [ParseWarning("encoding", f"{bad} byte sequence(s) decode in no single encoding; replaced with U+FFFD", None, line)],
    )


def _refuse_binary(data: bytes, name: str | None) -> str | None:
    """Refuse bytes that are not text at all (images, archives, video): NULs or many control
    bytes. Returns the codec when the NULs are those of BOM-less UTF-16/32 text."""
    sample = data[:4096]
    if b"\x00" in sample:
        # UTF-16/32 without a BOM has NULs too; let the detector have a go first.
        from charset_normalizer import from_bytes

        best = from_bytes(data, cp_isolation=["utf_16", "utf_32"]).best()
        codec = best.encoding if best is not None else _utf16_by_nul_positions(sample)
        if codec is None:
            raise EncodingError("binary data, not a text subtitle file (NUL bytes)", name)
        try:
            data.decode(codec)
        except UnicodeDecodeError as exc:
            raise EncodingError("binary data, not a text subtitle file (NUL bytes)", name) from exc
        return codec
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if controls > max(4, len(sample) // 100):
        raise EncodingError("binary data, not a text subtitle file (control bytes)", name)
    return None


def _utf16_by_nul_positions(sample: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when the NULs sit where BOM-less UTF-16 puts them, else ``None``.

    Why: the detector misses BOM-less UTF-16 whose text is mostly CJK (each Han character has two
    non-NUL bytes), yet every subtitle file has ASCII digits, arrows and line ends in its timing
    lines, and in UTF-16 those are a NUL on one side of each byte pair and seldom on the other.
    Binary data has NULs on both sides."""
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    pairs = len(sample) // 2
    if pairs == 0:
        return None
    # a character such as U+4E00 一 puts a NUL on the other side too: tolerated one in ten
    if odd >= pairs // 5 and even <= odd // 10 + 1:
        codec = "utf-16-le"
    elif even >= pairs // 5 and odd <= even // 10 + 1:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = sample[: pairs * 2].decode(codec, errors="strict")
    except UnicodeDecodeError:
        text = sample[: pairs * 2 - 2].decode(codec, errors="ignore")  # a pair cut by the sample's end
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return codec if controls <= max(2, len(text) // 200) else None


#: Non-ASCII characters a line must decode to as UTF-8 to count as a UTF-8 line. A line of one or two
#: Chinese characters in GBK or Big5 is valid UTF-8 by chance (5 of 85 one-character and 1 of 89
#: two-character GBK phrases of the corpus and samples), no longer one was (0 of about 3,900).
_UTF8_EVIDENCE = 3


def _utf8_lines(data: bytes, encoding: str) -> list[ParseWarning]:
    """A warning where lines of a file read in a legacy encoding are UTF-8 themselves: lines
    pasted from files in several encodings, each read as ``encoding`` and so garbled ("GrĂĽĂź"
    for "Grüß"). Said, never silently translated as mojibake; not repaired, since which lines are
    which cannot be known for sure (``--strict`` refuses the file: the code is ``encoding``)."""
    if encoding.replace("_", "-").startswith("utf"):
        return []
    found = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if max(line, default=0) < 0x80:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if sum(ord(ch) >= 0x80 for ch in text) >= _UTF8_EVIDENCE:
            found.append(number)
    if not found:
        return []
    where = ", ".join(map(str, found[:5])) + (" ..." if len(found) > 5 else "")
    lines = f"line {where} is" if len(found) == 1 else f"{len(found)} lines ({where}) are"
    return [ParseWarning("encoding", f"{lines} UTF-8 in a file read as {encoding} (mixed encodings): "
                         f"read as {encoding}, the text may be garbled", None, found[0])]
