"""The English of a clean episode cut again, as an independent film subtitler times it to the picture.

Why: the held-out acceptance material is professional English subtitles timed to the same picture as the
Chinese, not cue for cue with it — neighbouring lines merged into one cue, every in and out point a few
frames off. ``localise check`` aligns such a track by time (``checks.align_by_time``); a clean track cut this
way must still raise nothing a reviewer has to look at. :func:`recut` makes that track from a cue-for-cue
clean pair (same words, same order; only cue boundaries and times change), seeded.
"""

from __future__ import annotations

import random

from localise.model import Cue, Track

FRAME_MS = 1000 / 24


def _mergeable(a: Cue, b: Cue, max_line: int, max_gap_ms: int) -> bool:
    """Two one-line cues of different words, close in time and neither a two-speaker dash cue."""
    return ("\n" not in a.text and "\n" not in b.text and a.text != b.text
            and not a.text.startswith("-") and not b.text.startswith("-")
            and len(a.text) <= max_line and len(b.text) <= max_line and b.start_ms - a.end_ms < max_gap_ms)


def recut(track: Track, rng: random.Random, *, merge_share: float = 0.25, jitter_frames: int = 3,
          max_line: int = 42, max_gap_ms: int = 500, min_gap_frames: int = 2, min_ms: int = 700) -> Track:
    """``track`` with about ``merge_share`` of its neighbouring one-line cues merged into two-line cues
    (a held-over line is never split or merged) and every start and end moved by up to ``jitter_frames``
    frames, cues kept in order at least ``min_gap_frames`` apart and ``min_ms`` long."""
    cues = track.cues
    merged: list[tuple[int, int, str]] = []
    i = 0
    while i < len(cues):
        a = cues[i]
        held = (i and cues[i - 1].text == a.text) or (i + 2 < len(cues) and cues[i + 2].text == cues[i + 1].text)
        if (i + 1 < len(cues) and not held and _mergeable(a, cues[i + 1], max_line, max_gap_ms)
                and rng.random() < merge_share):
            b = cues[i + 1]
            merged.append((a.start_ms, b.end_ms, a.text + "\n" + b.text))
            i += 2
        else:
            merged.append((a.start_ms, a.end_ms, a.text))
            i += 1
    out: list[Cue] = []
    previous_end = None
    for n, (start, end, text) in enumerate(merged, 1):
        start += round(rng.randint(-jitter_frames, jitter_frames) * FRAME_MS)
        end += round(rng.randint(-jitter_frames, jitter_frames) * FRAME_MS)
        if previous_end is not None:
            start = max(start, previous_end + round(min_gap_frames * FRAME_MS))
        start = max(start, 0)
        end = max(end, start + min_ms)
        out.append(Cue(start, end, text, id=str(n)))
        previous_end = end
    return Track(out, track.format, source_name=track.source_name)
