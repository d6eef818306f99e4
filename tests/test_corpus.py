"""Walk the whole shared corpus: every subtitle file reads, renders and reads back to the same
cues (or is refused with the documented error naming it); rendering is idempotent."""

from __future__ import annotations

import csv
from pathlib import Path


from localise.errors import ParseError, UnknownFormatError
from localise.io import parse_text, read_track, render_track
from localise.model import Track

#: defects we keep as the source has them (so the written file still has them); all others are repaired
KEPT_AS_IN_SOURCE = {"overlap", "out-of-order", "end-before-start", "index-sequence", "unparsed-line", "late-block"}
NOT_SUBTITLES = {".json", ".tsv"}  # vtt.js expected parses, parallel text


def manifest(corpus: Path) -> dict[str, str]:
    with open(corpus / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        return {row["local_path"]: row["what_it_exercises"] for row in csv.DictReader(fh, delimiter="\t")}


def must_be_refused(path: Path, what: str) -> type[Exception] | None:
    """The error type the MANIFEST's description promises for this file, if it must be refused."""
    if path.suffix in (".sbv", ".ttml"):
        return UnknownFormatError  # formats we do not read
    if "must be rejected" in what or "zero-byte" in what:
        return ParseError
    return None


def cue_view(track: Track) -> list[tuple]:
    return [(c.id, c.start_ms, c.end_ms, c.text, c.extras) for c in track.cues]


def test_corpus_round_trip(corpus: Path) -> None:
    described = manifest(corpus)
    read = repaired = refused = 0
    failures: list[str] = []
    for rel, what in sorted(described.items()):
        path = corpus / rel
        if path.suffix in NOT_SUBTITLES or not path.exists():
            continue
        expected_error = must_be_refused(path, what)
        try:
            track = read_track(path)
        except ParseError as exc:
            refused += 1
            assert str(path) in str(exc), f"error does not name the file: {exc}"
            if expected_error and not isinstance(exc, expected_error):
                failures.append(f"{rel}: refused with {type(exc).__name__}, expected {expected_error.__name__}")
            continue
        if expected_error is not None:
            failures.append(f"{rel}: read ({len(track.cues)} cues) but the MANIFEST says it must be refused")
            continue
        read += 1
        repaired += bool(track.warnings)
        text = render_track(track)
        again = parse_text(text, format=track.format)
        if cue_view(again) != cue_view(track):
            failures.append(f"{rel}: cues differ after read -> write -> read")
        if {k: v for k, v in again.extras.items()} != track.extras:
            failures.append(f"{rel}: track extras (header, styles, blocks) differ after the round trip")
        if render_track(again) != text:
            failures.append(f"{rel}: writing twice gives different text")
        repairs = [w for w in again.warnings if w.code not in KEPT_AS_IN_SOURCE]
        if repairs:
            failures.append(f"{rel}: our own output needed repairs: {repairs[:3]}")
    print(f"\ncorpus: {read} read ({repaired} with repairs), {refused} refused")
    assert not failures, "\n".join(failures)
    assert read > 300 and refused > 10


def test_ass_styles_and_comments_survive(corpus: Path) -> None:
    path = corpus / "fpsluozi__FPSLuoziASSSubs" / "模板__FPSRussia双语字幕模板av1129222.ass"
    track = read_track(path)
    text = render_track(track)
    original = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    style_lines = [line for line in original.split("\n") if line.startswith("Style:")]
    assert style_lines and all(line in text.split("\n") for line in style_lines)
    assert {c.extras["style"] for c in track.cues} >= {"Default", "FPSRussia white"}
    assert "\\fn方正准圆简体" in "".join(c.text for c in track.cues) or any("\\fn" in c.text for c in track.cues)


def test_written_bytes_are_utf8_and_stable(corpus: Path, tmp_path: Path) -> None:
    from localise.io import write_track

    for rel in ("cdown__srt/srt_tools__tests__files__gb2312.srt", "byroot__pysrt/tests__static__bom-utf-16-le.srt"):
        track = read_track(corpus / rel)
        first = write_track(track, tmp_path / "a.srt").read_bytes()
        second = write_track(read_track(tmp_path / "a.srt"), tmp_path / "b.srt").read_bytes()
        assert first == second
        first.decode("utf-8")
        assert not first.startswith(b"\xef\xbb\xbf")
