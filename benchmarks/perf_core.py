"""``python -m benchmarks.perf_core``: per-stage CPU cost of the pipeline's own work on a 20,000-cue track.

Why: the model should be the only thing that costs; this script times everything around it —
read, markup protection, units, glossary enforcement, spread, wrap + markup restore, checks,
report (JSON dict and HTML), render to SRT/WebVTT/ASS — on the deterministic synthetic track of
``benchmarks.workloads`` (Chinese source; a synthetic English "translation" per unit stands in
for the model). Each stage: best of ``--repeats`` wall times (``time.perf_counter``).

``--profile STAGE`` runs one stage under cProfile and prints its top functions instead.
No test asserts these times; they are for people and for ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from benchmarks import workloads

ASS_LAST_MS = 35_999_990  # 9:59:59.99, the last time SubStation Alpha can write


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def build_stages(cues: int) -> tuple[list[tuple[str, Callable[[], Any]]], dict[str, Any]]:
    """The stages as closures over shared, precomputed inputs (each stage's input is built once)."""
    from localise.formats.markup import protect
    from localise.glossary import Glossary
    from localise.io import parse_text, read_track, render_track
    from localise.layout import style_for, wrap
    from localise.quality.checks import check_track
    from localise.quality.report import build_report, render_html
    from localise.units import build_units, spread

    data = workloads.big_track_srt(cues).encode("utf-8")
    glossary = Glossary.from_csv(workloads.glossary_csv())
    source = read_track(data, name="big.zh.srt")
    vtt_text = render_track(source, "vtt")
    # SubStation times stop at 9:59:59.99; a 20,000-cue track runs past that, so the ASS stages
    # take the cues that end before it (about 8,600 of 20,000).
    ass_cues = sum(1 for c in source.cues if c.end_ms <= ASS_LAST_MS)
    ass_text = render_track(replace(source, cues=source.cues[:ass_cues]), "ass")
    parse_ass, render_ass = f"parse ass ({ass_cues} cues, text)", f"render ass ({ass_cues} cues)"
    protected = [protect(c.text, source.format) for c in source.cues]
    units = build_units(source)
    english = workloads.english_texts(len(units))
    style = style_for("en")
    plain = spread(source, units, english, "en")
    texts = [p.restore(wrap(t, "en", style)) for p, t in zip(protected, plain)]
    target = source.with_texts(texts)
    confidences = [0.5 + (i % 50) / 100 for i in range(len(source.cues))]
    cue_units: list[list[int]] = [[] for _ in source.cues]
    for pos, unit in enumerate(units):
        for c in unit.cues:
            cue_units[c].append(pos)
    unit_ids = [[units[u].id for u in covering] for covering in cue_units]
    same_cues = source.with_texts(workloads.english_texts(len(source.cues)))
    flags = check_track(source, target, src_lang="zh", tgt_lang="en", glossary=glossary, style=style,
                        confidences=confidences, units=units)
    report = build_report(source, target, flags, src_lang="zh", tgt_lang="en", units=unit_ids,
                          confidences=confidences, origins=["mt"] * len(source.cues))

    stages: list[tuple[str, Callable[[], Any]]] = [
        ("read srt (bytes)", lambda: read_track(data, name="big.zh.srt")),
        ("parse vtt (text)", lambda: parse_text(vtt_text, name="big.zh.vtt")),
        (parse_ass, lambda: parse_text(ass_text, name="big.zh.ass")),
        ("protect markup", lambda: [protect(c.text, source.format) for c in source.cues]),
        ("build_units", lambda: build_units(source)),
        ("glossary enforce", lambda: [glossary.enforce(u.source, "en") for u in units]),
        ("spread", lambda: spread(source, units, english, "en")),
        ("wrap + restore", lambda: [p.restore(wrap(t, "en", style)) for p, t in zip(protected, plain)]),
        ("check_track (bench: no units)", lambda: check_track(source, same_cues, src_lang="zh", tgt_lang="en",
                                                             glossary=glossary, style=style)),
        ("check_track (pipeline)", lambda: check_track(source, target, src_lang="zh", tgt_lang="en",
                                                      glossary=glossary, style=style, confidences=confidences,
                                                      units=units)),
        ("build_report", lambda: build_report(source, target, flags, src_lang="zh", tgt_lang="en", units=unit_ids,
                                              confidences=confidences, origins=["mt"] * len(source.cues))),
        ("render_html", lambda: render_html(report)),
        ("render srt", lambda: render_track(target)),
        ("render vtt", lambda: render_track(target, "vtt")),
        (render_ass, lambda: render_track(replace(target, cues=target.cues[:ass_cues]), "ass")),
    ]
    info = {"cues": len(source.cues), "units": len(units), "bytes": len(data), "data": data, "glossary": glossary,
            "style": style, "stage_cues": {parse_ass: ass_cues, render_ass: ass_cues}}
    return stages, info


def parse_check_render(info: dict[str, Any], repeats: int) -> float:
    """The issue's figure, measured as ``benchmarks/run.py`` does: bytes -> check -> SRT text."""
    from localise.io import read_track, render_track
    from localise.quality.checks import check_track

    english = workloads.english_texts(info["cues"])

    def once() -> None:
        source = read_track(info["data"], name="big.zh.srt")
        target = source.with_texts(english)
        check_track(source, target, src_lang="zh", tgt_lang="en", glossary=info["glossary"], style=info["style"])
        render_track(target)

    return _best(once, repeats)[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf_core", description=__doc__.split("\n")[0])
    parser.add_argument("--cues", type=int, default=workloads.BIG_TRACK_CUES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", metavar="STAGE", help="profile the stage whose name contains STAGE")
    parser.add_argument("--only", metavar="STAGE", help="time only stages whose name contains STAGE")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    stages, info = build_stages(args.cues)
    print(f"{info['cues']} cues, {info['units']} units, {info['bytes']:,} bytes of SRT "
          f"(inputs built in {time.perf_counter() - t0:.1f} s)")
    if args.profile:
        name, fn = next((n, f) for n, f in stages if args.profile in n)
        fn()  # warm caches and imports as a timed run would
        profile = cProfile.Profile()
        profile.runcall(fn)
        print(f"profile of {name}:")
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(20)
        return 0
    print(f"{'stage':<32}{'best s':>9}{'µs/cue':>9}")
    total = 0.0
    for name, fn in stages:
        if args.only and args.only not in name:
            continue
        seconds, _ = _best(fn, args.repeats)
        total += seconds
        cues = info["stage_cues"].get(name, info["cues"])
        print(f"{name:<32}{seconds:>9.3f}{seconds / cues * 1e6:>9.1f}")
    print(f"{'sum of stages':<32}{total:>9.3f}")
    if not args.only:
        pcr = parse_check_render(info, args.repeats)
        print(f"{'parse + check + render (run.py)':<32}{pcr:>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
