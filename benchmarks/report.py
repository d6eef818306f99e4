"""The short results table of ``benchmarks/README.md``, made from a results JSON.

``make bench`` rewrites the table between the ``<!-- results-table -->`` markers whenever it writes
``results/latest.json``, so the README always shows the figures of the file beside it and the
command that made them. ``python -m benchmarks.report [FILE]`` prints the table for any results file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- results-table -->", "<!-- /results-table -->"

TARGETS = {
    "pipeline_vs_raw": (">= 0.9", lambda v: v >= 0.9),
    "flow_vs_raw": (">= 0.8", lambda v: v >= 0.8),
    "ct2_int8_vs_hf_fp32": (">= 2.5", lambda v: v >= 2.5),
    "parse_check_render_20k_s": ("< 1 s", lambda v: v < 1.0),
    "llm_windows_vs_raw": (">= 0.9", lambda v: v >= 0.9),
    "llm_tokens_vs_raw": (">= 0.9", lambda v: v >= 0.9),
}


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def results_table(result: dict[str, Any]) -> str:
    """Markdown: machine and command, then one row per headline figure with its target."""
    m, c = result.get("machine", {}), result.get("config", {})
    series = c.get("series", {})
    batch = ", ".join(f"{k}={v}" for k, v in (c.get("batch") or {}).items()) or "?"
    lines = [
        (f"Run {c.get('date', '?')} on {m.get('cpu', '?')} ({m.get('usable_cpus', '?')} usable cores, "
        f"load average at start {', '.join(map(str, m.get('load_avg_at_start', [])))}); "
        f"{c.get('model', '?')}; {c.get('decoding', '')}; series of {series.get('episodes')} episodes, "
        f"{series.get('cues')} cues, {series.get('engine_lines')} engine lines; raw engine "
        f"{c.get('raw_engine')} at {batch}; {c.get('repeats')} interleaved passes (lines/s from the "
        "fastest, ratios the median of per-pass ratios); "
        f"whole run {c.get('total_wall_s')} s."),
        "",
        f"Command: `{c.get('command', 'python -m benchmarks.run').strip()}`",
        "",
        "| figure | value | target | met |",
        "|---|---|---|---|",
    ]
    rows = [
        ("raw_lines_per_s", "lines/s"),
        ("pipeline_lines_per_s", "lines/s"),
        ("flow_lines_per_s", "lines/s"),
        ("pipeline_vs_raw", ""),
        ("flow_vs_raw", ""),
        ("pipeline_vs_raw_cpu", "CPU seconds"),
        ("flow_vs_raw_cpu", "CPU seconds"),
        ("pipeline_vs_raw_scored", "baseline with per-line scores"),
        ("flow_vs_raw_scored", "baseline with per-line scores"),
        ("ct2_int8_vs_hf_fp32", "same batches"),
        ("parse_check_render_20k_s", "seconds"),
        ("llm_windows_vs_raw", "openai engine / its server, windows/s"),
        ("llm_tokens_vs_raw", "openai engine / its server, tokens/s"),
        ("peak_rss_mb", "MiB"),
    ]
    for key, note in rows:
        value = result.get(key)
        target, ok = TARGETS.get(key, ("", None))
        met = "" if ok is None or value is None else ("yes" if ok(value) else "**no**")
        label = f"`{key}`" + (f" ({note})" if note else "")
        lines.append(f"| {label} | {_fmt(value)} | {target} | {met} |")
    return "\n".join(lines)


def update_readme(result: dict[str, Any], readme: Path = README) -> bool:
    """Replace the table between the markers; False when the markers are missing."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{results_table(result)}\n{END}{tail}", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).resolve().parent / "results" / "latest.json"
    print(results_table(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
