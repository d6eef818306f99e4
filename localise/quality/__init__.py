"""Quality: per-cue flags with reasons, per-cue scores, track summaries and reports.

``checks`` holds one small function per flag code (named in ``checks.CHECKS``); ``numbers``
reads numbers (Chinese numerals included); ``calibrate`` derives the length-ratio bounds from
parallel text; ``reference`` scores against a reference with sacrebleu; ``report`` writes the
JSON and HTML reports. Thresholds and severities are data (``localise/data/thresholds.toml``).
"""

from localise.quality.checks import (
    CHECKS,
    FLAG_CODES,
    align_by_time,
    check_track,
    cue_score,
    passes,
    reaches,
    summarise,
)
from localise.quality.report import build_report, render_html, write_report_json
from localise.quality.thresholds import Thresholds, load_thresholds

__all__ = [
    "CHECKS", "FLAG_CODES", "Thresholds", "align_by_time", "build_report", "check_track", "cue_score",
    "load_thresholds", "passes", "reaches", "render_html", "summarise", "write_report_json",
]
