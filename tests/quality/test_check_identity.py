"""``check_track`` flags exactly what it flagged before the speed work of issue 14.

The golden file holds every ``(cue, code, severity, reason)`` and track finding of the calibration
split's episodes (the repository's, not ../shared/corpus, so it holds wherever the tests run) and
of planted-defect copies of them (``benchmarks.defects``). A change that is meant to change what
is flagged regenerates it, and says so in its commit message:

    python -m benchmarks.check_identity --no-big --no-corpus --record tests/quality/data/check_flags.calibration.json
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.check_identity import calibration_cases, compare, flags_of, snapshot
from localise.quality import meaning

GOLDEN = Path(__file__).parent / "data" / "check_flags.calibration.json"


def test_check_track_flags_what_the_golden_file_holds():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = snapshot(big=False, corpus=False)
    assert set(now) == set(golden)
    assert compare(golden, now) == []


def test_a_rerun_with_the_memos_of_the_first_flags_the_same():
    """The per-text and per-word memos (meaning's caches) never change an answer: a cold pass and
    a warm one over the same episodes, and a pass after another episode filled them, agree."""
    cases = [c for c in calibration_cases(corpus=False) if "+" not in c[0] or c[0].endswith(("+swap", "+shift-run"))]
    assert cases
    meaning.clear_caches()
    cold = {name: flags_of(s, t, g) for name, s, t, g in cases}
    warm = {name: flags_of(s, t, g) for name, s, t, g in reversed(cases)}
    assert cold == warm
