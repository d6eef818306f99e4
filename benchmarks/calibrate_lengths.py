"""``python -m benchmarks.calibrate_lengths``: the omission/addition length-ratio bounds
(``localise/data/length_ratios.toml``), calibrated on the calibration split only.

Two registers, each calibrated alone and combined so the bounds hold for both
(:func:`localise.quality.calibrate.calibrate_sources`): subtitle-shaped pairs — the original
calibration episodes of ``tests/quality/data/subtitles`` and the bilingual fansub ASS of the shared
corpus, measured per *sentence* exactly as the checks group them
(:func:`localise.quality.checks.sentence_pairs`: split sentences and held-over lines are one) —
and the written Tatoeba sentences. The evaluation split is never read here: its figures
(``python -m benchmarks.quality_recall``) stay out of sample.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from benchmarks.quality_data import load_pairs
from localise.quality.calibrate import calibrate_sources, to_toml
from localise.quality.checks import sentence_pairs

OUT = Path(__file__).resolve().parent.parent / "localise" / "data" / "length_ratios.toml"


def calibration_sources() -> tuple[dict[str, list[tuple[str, str]]], str]:
    """(register -> (source, target) sentence pairs, a digest of every line used)."""
    sources: dict[str, list[tuple[str, str]]] = {"subtitles": [], "written (Tatoeba)": []}
    digest = hashlib.sha256()
    for pair in load_pairs("calibration"):
        register = "written (Tatoeba)" if pair.kind == "sentences" else "subtitles"
        for _, src, tgt in sentence_pairs(pair.source, pair.target, "zh", "en"):
            if src.strip() and tgt.strip():
                sources[register].append((src, tgt))
                digest.update(f"{src}\t{tgt}\n".encode())
    return sources, digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    sources, sha = calibration_sources()
    result = calibrate_sources(sources)
    names = ", ".join(f"{k} ({len(v)} sentences)" for k, v in sources.items())
    args.out.write_text(to_toml(result, pair="zh-en", corpus_name="calibration split: " + names, sha256=sha,
                                n_pairs=sum(len(v) for v in sources.values()),
                                command=".venv/bin/python -m benchmarks.calibrate_lengths"), encoding="utf-8")
    print(f"{args.out}: " + "; ".join(f"{b['min']}-{b['max']}: [{b['lower']}, {b['upper']}] (n={b['n']})"
                                     for b in result["buckets"]))


if __name__ == "__main__":
    main()
