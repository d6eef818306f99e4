"""A real player-side parser (Debian's ffmpeg) reads every rendered SRT/VTT/ASS and sees the same events."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from localise.errors import ParseError, RenderError
from localise.io import read_track, write_track
from localise.model import Track

FFPROBE = shutil.which("ffprobe")
pytestmark = pytest.mark.skipif(FFPROBE is None, reason="ffprobe (Debian package ffmpeg) is not installed")

#: Files written by real tools (Aegisub, fansub groups, ASR, editors) are checked in all three
#: formats; the many small parser-test literals in their own format only, to keep the run short.
CONVERT_ALL = ("fpsluozi", "Cerlancism", "jianchang512", "SubtitleEdit", "libass", "glut23", "asticode", "byroot")


def probe(path: Path) -> tuple[int | None, str]:
    """(events ffmpeg reads from the file's first subtitle stream, or None; ffprobe's errors)."""
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-count_packets", "-select_streams", "s:0", "-show_entries", "stream=nb_read_packets",
         "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    out = result.stdout.strip()
    return (int(out) if result.returncode == 0 and out.isdigit() else None), result.stderr.strip()


def expected_events(track: Track) -> int:
    """Events ffmpeg should see for ``track``. Its text-subtitle demuxers (subtitles.c) skip SRT
    cues with empty text and drop an event identical to the one before it in time order (same
    start, duration and text); the ASS demuxer keeps every Dialogue line."""
    if track.format in ("ass", "ssa"):
        return len(track.cues)
    cues = [c for c in track.cues if track.format != "srt" or c.text]
    ordered = sorted(enumerate(cues), key=lambda ic: (ic[1].start_ms, ic[0]))
    count, last = 0, None
    for _, cue in ordered:
        key = (cue.start_ms, cue.end_ms - cue.start_ms, cue.text)
        if key != last:
            count += 1
        last = key
    return count


def test_expected_events_model() -> None:
    from localise.io import parse_text

    srt = parse_text("1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:01,000 --> 00:00:02,000\nA\n\n3\n00:00:03,000 --> 00:00:04,000\n\n")
    assert expected_events(srt) == 1


def test_ffmpeg_reads_every_rendered_track(corpus: Path, tmp_path: Path) -> None:
    """Every corpus track outside the vtt.js conformance cases (settings/region edge cases,
    covered by the oracle test), written in its own format and, for real-world files, in the others."""
    checked = 0
    unreadable_sources = []
    refused: list[str] = []
    for source in sorted(corpus.glob("*/*")):
        if source.suffix not in (".srt", ".vtt", ".ass", ".ssa") or source.parent.name == "mozilla__vtt.js":
            continue
        try:
            track = read_track(source)
        except ParseError:
            continue
        formats = ["srt", "vtt", "ass"] if source.parent.name.startswith(CONVERT_ALL) else [track.format]
        for fmt in sorted(set(formats) | {track.format}):
            try:
                out = write_track(track, tmp_path / f"{checked}.{fmt}", fmt)
            except RenderError:
                assert fmt != track.format  # e.g. a time past 9:59:59.99 cannot be written as ASS
                refused.append(f"{source.name} as {fmt}")
                continue
            try:
                written = read_track(out)
            except ParseError:
                assert fmt != track.format
                continue  # an SRT whose cues all lost their text in the conversion (ASS drawings only)
            events, errors = probe(out)
            if events is None and fmt == track.format and probe(source)[0] is None:
                unreadable_sources.append(source.name)  # ffmpeg cannot read the source either
                continue
            assert not errors, f"ffprobe complained about {source.name} as {fmt}: {errors}"
            assert events == expected_events(written), f"{source.name} as {fmt}"
            checked += 1
    print(f"\nffprobe read {checked} rendered files; sources ffmpeg itself cannot read: {unreadable_sources}; "
          f"conversions the target format cannot hold: {refused}")
    assert checked > 150
    assert len(unreadable_sources) < 10
