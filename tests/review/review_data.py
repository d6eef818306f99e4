"""Report-shaped data shared by the review tests (issue 3 item 5 report layout)."""

from __future__ import annotations

from typing import Any


def make_report(lines: list[tuple[str, str, list[str]]], lang: str = "en") -> dict[str, Any]:
    """A report as the pipeline writes it (issue 3, item 5): one cue per (source, translation, flag codes)."""
    return {
        "source": "ep.srt",
        "target_language": lang,
        "cues": [
            {"index": n + 1, "start_ms": n * 2000, "end_ms": n * 2000 + 1500, "source": src, "translation": mt,
             "unit": n, "confidence": 0.5,
             "flags": [{"code": c, "severity": "major", "reason": f"reason for {c}"} for c in codes]}
            for n, (src, mt, codes) in enumerate(lines)
        ],
        "summary": {},
    }


EPISODE = [
    ("你好。", "Hello.", []),
    ("我是林总。", "I am Lin.", ["glossary"]),
    ("<i>再见</i>", "<i>Bye</i>", ["low-confidence"]),
    ("走吧！", "Let's go!", []),
    ("他来了", "He <script>alert(1)</script> came", ["reading-speed", "length"]),
]
