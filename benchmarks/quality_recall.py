"""``python -m benchmarks.quality_recall``: how well the quality checks find defects, measured on
lines the rules were never tuned on.

The headline figures come from the **evaluation split** of ``tests/quality/data/subtitles``
(:mod:`benchmarks.quality_data`: original micro-drama episodes and a corpus test track, sharing no
line with the calibration split that set the length-ratio bounds): the need-review share (cues
with a flag at or above the routing severity, ``major``) on the clean professional translations,
then recall per planted defect kind (:mod:`benchmarks.defects`: each kind planted into copies of
every evaluation episode) and per-code precision over all planted copies.

The hand-made defect set below (``tests/quality/data``) was built alongside the rules: it is a
regression test of the mechanisms (every code fires on its defect), not a measurement.

The defect set lives in ``tests/quality/data``: one Chinese source track (``zh.source.srt``),
its translations into several languages (``zh.<lang>.srt``) in which some cues carry a defect
made by hand, ``expected.tsv`` (per language and cue: the flag codes that must be raised, ``-``
for a clean cue, and an engine confidence where one is simulated) and ``glossary.csv``.

Prints, per flag code, recall (defects of that code found with that code), and per language the
false flags on clean cues (any flag on a cue expected clean) and unexpected codes on defect cues.
Where the shared corpus is beside the checkout, also prints the flags raised on 3,645 real
zh-en sentence pairs (Tatoeba; every pair taken as a correct translation, one cue each, with
line-length and reading-speed limits lifted): an estimate of false flags on clean real text.
The length-ratio bounds were calibrated on the same pairs, so omission/addition there are
in-sample (about 1 % by construction, less with the short-line slack).

The clean figures also give the need-review share with the English cut again as an independent film
subtitler times it (``benchmarks/recut.py``: neighbouring lines merged, every time a few frames off),
checked by time as ``localise check`` does.

``--json`` prints the same figures as JSON so they can be tracked over time. ``--split calibration``
gives the planted-defect figures on the calibration split instead (for tuning thresholds; the headline
figures are the evaluation split's), ``--kinds dropped-half,swap`` only those kinds (each planted in the
same cues as in the full run).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "tests" / "quality" / "data"
TATOEBA = (Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
           / "DaoChaShao__py-st-dl-translater-2.0" / "data__cmn.txt.every8th.tsv")


@dataclass
class CueResult:
    lang: str
    index: int  # 1-based
    expected: set[str]
    found: set[str]
    reasons: list[str] = field(default_factory=list)


def read_expected(data: Path) -> dict[str, dict[int, tuple[set[str], float | None]]]:
    """``{lang: {index: (expected codes, confidence)}}`` from ``expected.tsv``."""
    out: dict[str, dict[int, tuple[set[str], float | None]]] = defaultdict(dict)
    lines = (data / "expected.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        if not line.strip():
            continue
        lang, index, codes, conf = line.split("\t")
        expected = set() if codes == "-" else set(codes.split(","))
        out[lang][int(index)] = (expected, None if conf == "-" else float(conf))
    return dict(out)


def evaluate(data: Path = DATA) -> list[CueResult]:
    """Run the checks the way ``localise check`` does (read, align by time, check) on every language."""
    from localise.glossary import Glossary
    from localise.io import read_track
    from localise.quality.checks import align_by_time, check_track

    source = read_track(data / "zh.source.srt")
    glossary = Glossary.load(data / "glossary.csv")
    results: list[CueResult] = []
    for lang, cues in sorted(read_expected(data).items()):
        target = read_track(data / f"zh.{lang}.srt")
        confidences = [cues.get(i + 1, (set(), None))[1] for i in range(len(target.cues))]
        flags = check_track(align_by_time(source, target), target, src_lang="zh", tgt_lang=lang,
                            glossary=glossary, confidences=confidences)
        for i, cue_flags in enumerate(flags, 1):
            expected = cues.get(i, (set(), None))[0]
            results.append(CueResult(lang, i, expected, {f.code for f in cue_flags},
                                     [f"{f.code}: {f.reason}" for f in cue_flags]))
    return results


def figures(results: list[CueResult]) -> dict[str, Any]:
    """Recall per code, false flags on clean cues, unexpected codes on defect cues."""
    per_code: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # found, total
    clean: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # flagged, total
    unexpected: list[dict[str, Any]] = []
    for r in results:
        for code in r.expected:
            per_code[code][1] += 1
            per_code[code][0] += code in r.found
        if not r.expected:
            clean[r.lang][1] += 1
            clean[r.lang][0] += bool(r.found)
        extra = r.found - r.expected
        if extra:
            unexpected.append({"lang": r.lang, "index": r.index, "codes": sorted(extra), "reasons": r.reasons})
    found = sum(v[0] for v in per_code.values())
    total = sum(v[1] for v in per_code.values())
    return {
        "recall": {code: {"found": f, "defects": n, "recall": round(f / n, 4)} for code, (f, n) in sorted(per_code.items())},
        "recall_overall": round(found / total, 4) if total else None,
        "clean_cues": {lang: {"flagged": f, "clean": n, "false_flag_rate": round(f / n, 4)} for lang, (f, n) in sorted(clean.items())},
        "unexpected": unexpected,
        "languages": sorted({r.lang for r in results}),
    }


def real_text_flags(tsv: Path = TATOEBA) -> dict[str, Any]:
    """Flags raised on real zh-en pairs taken as clean (see module doc): counts per code and examples."""
    from collections import Counter

    from localise.model import Cue, Track
    from localise.quality.calibrate import read_pairs
    from localise.quality.checks import check_track

    pairs = read_pairs(tsv)
    source = Track([Cue(i * 10_000, i * 10_000 + 5_000, zh) for i, (zh, _) in enumerate(pairs)], "srt")
    target = Track([Cue(i * 10_000, i * 10_000 + 5_000, en) for i, (_, en) in enumerate(pairs)], "srt")
    flags = check_track(source, target, src_lang="zh", tgt_lang="en",
                        style={"max_chars_per_line": 10_000, "max_cps": 10_000})
    flagged = [i for i, f in enumerate(flags) if f]
    return {
        "pairs": len(pairs),
        "flagged": len(flagged),
        "false_flag_rate": round(len(flagged) / len(pairs), 4) if pairs else 0.0,
        "by_code": dict(Counter(f.code for cue in flags for f in cue)),
        "examples": [{"zh": pairs[i][0], "en": pairs[i][1], "flags": [f.reason for f in flags[i]]} for i in flagged[:20]],
    }


def _checked(pair: Any, target: Any) -> tuple[list[list[Any]], list[list[int]]]:
    """Flags per cue the way ``localise check`` gives them, and each cue's sentence (cue positions)."""
    from localise.glossary import Glossary
    from localise.quality.checks import check_track, sentence_pairs

    glossary = Glossary.load(pair.glossary) if pair.glossary else None
    flags = check_track(pair.source, target, src_lang="zh", tgt_lang="en", glossary=glossary)
    sentence_of: list[list[int]] = [[i] for i in range(len(target.cues))]
    for cues, _, _ in sentence_pairs(pair.source, target, "zh", "en"):
        for c in cues:
            sentence_of[c] = list(cues)
    return flags, sentence_of


def evaluation_figures(*, seed: int = 13, count: int = 3, kinds: tuple[str, ...] | None = None,
                       split: str = "evaluation") -> dict[str, Any]:
    """Need-review share on the clean evaluation split, recall per planted kind, precision per code.
    ``split="calibration"`` gives the same figures on the split the rules are tuned on (for tuning;
    the headline figures are the evaluation split's)."""
    import random
    from collections import Counter

    from benchmarks.defects import KINDS, plant
    from benchmarks.quality_data import load_pairs, unavailable
    from localise.model import severity_rank
    from localise.quality.checks import review_severity_of

    routing = severity_rank(review_severity_of())
    pairs = load_pairs(split)
    clean_cues = need_review = flagged = 0
    clean_codes: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    for pair in pairs:
        flags, _ = _checked(pair, pair.target)
        for i, cue_flags in enumerate(flags):
            clean_cues += 1
            flagged += bool(cue_flags)
            routed = [f for f in cue_flags if severity_rank(f.severity) >= routing]
            need_review += bool(routed)
            for f in routed:
                clean_codes[f.code] += 1
                fp[f.code] += 1
            if routed and len(examples) < 25:
                examples.append({"episode": pair.name, "cue": i + 1, "source": pair.source.cues[i].text,
                                 "translation": pair.target.cues[i].text, "flags": [f.to_dict() for f in routed]})
    recut = _recut_figures(pairs, seed)
    recall: dict[str, dict[str, Any]] = {}
    for kind in kinds or KINDS:
        rng = random.Random(seed * 1000 + KINDS.index(kind))  # the same cues whichever kinds are asked for
        planted_n = found = routed_found = 0
        for pair in pairs:
            target, planted = plant(pair.source, pair.target, kind, rng, count=count, glossary=pair.glossary)
            if not planted:
                continue
            flags, sentence_of = _checked(pair, target)
            window_of: dict[int, set[str]] = {}
            for p in planted:
                cues = {c for cue in p.cues for c in sentence_of[cue]}
                if kind in ("swap", "shift-run"):
                    cues |= {c + d for c in cues for d in (-1, 1) if 0 <= c + d < len(flags)}
                for c in cues:
                    window_of.setdefault(c, set()).update(p.caught_by)
                hit = [f for c in cues for f in flags[c] if f.code in p.caught_by]
                planted_n += 1
                found += bool(hit)
                routed_found += any(severity_rank(f.severity) >= routing for f in hit)
            for c, cue_flags in enumerate(flags):
                for f in cue_flags:
                    if severity_rank(f.severity) < routing:
                        continue
                    if c in window_of:  # the line really is defective (whichever code says so)
                        tp[f.code] += 1
                    else:
                        fp[f.code] += 1
        recall[kind] = {"planted": planted_n, "found": found, "recall": round(found / planted_n, 4) if planted_n else None,
                        "routed": routed_found,
                        "routed_recall": round(routed_found / planted_n, 4) if planted_n else None}
    codes = sorted(set(tp) | set(fp))
    return {
        "split": split,
        "episodes": [p.name for p in pairs],
        "unavailable": unavailable(split),
        "clean": {"cues": clean_cues, "flagged": flagged, "need_review": need_review,
                  "need_review_share": round(need_review / clean_cues, 4) if clean_cues else None,
                  "flagged_share": round(flagged / clean_cues, 4) if clean_cues else None,
                  "need_review_by_code": dict(clean_codes), "examples": examples, "recut": recut},
        "recall": recall,
        "precision": {c: {"true": tp[c], "false": fp[c],  # true: on a line that carries a planted defect
                          "precision": round(tp[c] / (tp[c] + fp[c]), 4) if tp[c] + fp[c] else None} for c in codes},
        "routing_severity": review_severity_of(),
    }


def _recut_figures(pairs: list[Any], seed: int) -> dict[str, Any]:
    """Need-review share of the clean SRT episodes with their English cut again as an independent
    subtitler would (:func:`benchmarks.recut.recut`), checked as ``localise check`` does: by time."""
    import random
    from collections import Counter

    from benchmarks.recut import recut
    from localise.glossary import Glossary
    from localise.model import severity_rank
    from localise.quality.checks import check_track, review_severity_of

    routing = severity_rank(review_severity_of())
    rng = random.Random(seed)
    cues = need = 0
    codes: Counter[str] = Counter()
    for pair in pairs:
        if pair.kind != "subtitles" or pair.target.format != "srt":
            continue
        target = recut(pair.target, rng)
        glossary = Glossary.load(pair.glossary) if pair.glossary else None
        for cue_flags in check_track(pair.source, target, src_lang="zh", tgt_lang="en", glossary=glossary):
            routed = [f for f in cue_flags if severity_rank(f.severity) >= routing]
            cues += 1
            need += bool(routed)
            codes.update(f.code for f in routed)
    return {"cues": cues, "need_review": need, "need_review_share": round(need / cues, 4) if cues else None,
            "need_review_by_code": dict(codes)}


def print_evaluation(fig: dict[str, Any]) -> None:
    clean = fig["clean"]
    note = "never used to tune or calibrate" if fig["split"] == "evaluation" else "the rules were tuned here"
    print(f"{fig['split']} split ({len(fig['episodes'])} episodes, {clean['cues']} clean cues; {note})")
    print(f"  need review (≥ {fig['routing_severity']}): {clean['need_review']} of {clean['cues']} clean cues "
          f"({clean['need_review_share']:.1%}); any flag: {clean['flagged_share']:.1%}; by code: "
          + (", ".join(f"{k} {v}" for k, v in sorted(clean["need_review_by_code"].items())) or "none"))
    cut = clean["recut"]
    if cut["cues"]:
        print(f"  English cut again by time (merged neighbours, times ±3 frames): {cut['need_review']} of "
              f"{cut['cues']} cues need review ({cut['need_review_share']:.1%})"
              + (": " + ", ".join(f"{k} {v}" for k, v in sorted(cut["need_review_by_code"].items()))
                 if cut["need_review_by_code"] else ""))
    print(f"  {'planted kind':16} {'planted':>7} {'found':>6} {'recall':>7} {'routed':>7}")
    for kind, r in fig["recall"].items():
        if r["planted"]:
            print(f"  {kind:16} {r['planted']:7d} {r['found']:6d} {r['recall']:7.1%} {r['routed_recall']:7.1%}")
        else:
            print(f"  {kind:16} {0:7d}   (no cue to plant it in)")
    print(f"  {'code':16} {'true':>5} {'false':>6} {'precision':>9}   (flags ≥ {fig['routing_severity']}, planted copies and clean)")
    for code, p in fig["precision"].items():
        print(f"  {code:16} {p['true']:5d} {p['false']:6d} {p['precision']:9.1%}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--split", choices=["evaluation", "calibration"], default="evaluation",
                        help="planted-defect figures on this split (calibration: for tuning only)")
    parser.add_argument("--kinds", help="comma-separated planted kinds to measure (default: all)")
    args = parser.parse_args(argv)
    kinds = tuple(args.kinds.split(",")) if args.kinds else None
    evaluation = evaluation_figures(seed=args.seed, split=args.split, kinds=kinds)
    fig = figures(evaluate(args.data))
    fig["evaluation"] = evaluation
    if TATOEBA.exists():
        fig["real_text"] = real_text_flags(TATOEBA)
    if args.json:
        print(json.dumps(fig, ensure_ascii=False, indent=2))
        return
    print_evaluation(evaluation)
    print()
    print(f"hand-made defect set {args.data} (built with the rules: a mechanism check, not a measurement)"
          f" — languages: {', '.join(fig['languages'])}")
    print(f"{'code':16} {'found':>5} {'of':>4} {'recall':>7}")
    for code, r in fig["recall"].items():
        print(f"{code:16} {r['found']:5d} {r['defects']:4d} {r['recall']:7.2%}")
    print(f"{'all':16} {'':5} {'':4} {fig['recall_overall']:7.2%}")
    print("false flags on clean cues:")
    for lang, c in fig["clean_cues"].items():
        print(f"  {lang}: {c['flagged']} of {c['clean']} clean cues flagged ({c['false_flag_rate']:.2%})")
    if "real_text" in fig:
        real = fig["real_text"]
        codes = ", ".join(f"{k} {v}" for k, v in sorted(real["by_code"].items())) or "none"
        print(f"real zh-en pairs (Tatoeba, taken as clean): {real['flagged']} of {real['pairs']} flagged "
              f"({real['false_flag_rate']:.2%}); by code: {codes}")
    if fig["unexpected"]:
        print("unexpected codes:")
        for u in fig["unexpected"]:
            print(f"  {u['lang']} cue {u['index']}: {', '.join(u['codes'])} — " + " | ".join(u["reasons"]))


if __name__ == "__main__":
    main()
