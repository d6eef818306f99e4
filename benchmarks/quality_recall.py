"""``python -m benchmarks.quality_recall``: how well the quality checks find hand-made defects.

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

``--json`` prints the same figures as JSON so they can be tracked over time.
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    fig = figures(evaluate(args.data))
    if TATOEBA.exists():
        fig["real_text"] = real_text_flags(TATOEBA)
    if args.json:
        print(json.dumps(fig, ensure_ascii=False, indent=2))
        return
    print(f"defect set {args.data} — languages: {', '.join(fig['languages'])}")
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
