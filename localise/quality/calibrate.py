"""Length-ratio bounds for the ``omission`` and ``addition`` checks, calibrated on parallel text.

Why calibrate: how long a translation "should" be depends on the language pair and, for short
lines, strongly on the length of the line itself (a 4-character Chinese line becomes 5 to 24
English letters). Guessed bounds either flag every other short line or miss real omissions.

How (reproducible): ``python -m localise.quality.calibrate [TSV] [--out FILE]`` reads a
tab-separated file of ``target<TAB>source`` pairs — by default the zh–en Tatoeba sample of the
shared corpus (``DaoChaShao__py-st-dl-translater-2.0/data__cmn.txt.every8th.tsv``: 3,645 pairs,
English first) — measures each side in letters and digits (:func:`content_length`, so
punctuation and spacing habits do not count), buckets pairs by source length and stores, per
bucket, the 0.5 % and 99.5 % quantiles of target/source as the lower and upper bound
(``localise/data/length_ratios.toml``). Lines shorter than the smallest bucket are not checked.

Other pairs (documented fallback, *not* calibrated): bounds are the zh–en bounds moved by the
ratio of two per-language expansion factors (letters per English letter, in ``[fallback]`` of the
data file; ``zh`` comes from the calibration, the others are estimates) and widened by
``widen`` on both sides. The reverse direction en–zh is the zh–en table inverted.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from localise.quality.text import base_lang, content_length

DEFAULT_CORPUS_FILE = "DaoChaShao__py-st-dl-translater-2.0/data__cmn.txt.every8th.tsv"
DEFAULT_BUCKETS: tuple[tuple[int, int], ...] = ((4, 7), (8, 11), (12, 10_000))
QUANTILES = (0.005, 0.995)

#: Letters per English letter for the same content; estimates except where calibrated (zh).
FALLBACK_FACTORS: dict[str, float] = {
    "en": 1.0, "es": 1.2, "pt": 1.2, "fr": 1.2, "it": 1.15, "de": 1.25, "id": 1.2, "vi": 1.1,
    "ru": 1.05, "ar": 0.85, "he": 0.8, "th": 1.0, "hi": 1.0, "ja": 0.5, "ko": 0.45,
}
FALLBACK_WIDEN = 1.5


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default), on a sorted list."""
    if not sorted_values:
        raise ValueError("no values")
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def read_pairs(path: Path, source_column: int = 1, target_column: int = 0) -> list[tuple[str, str]]:
    """(source, target) pairs from a TSV file (Tatoeba/ManyThings layout: ``en<TAB>zh<TAB>attribution``)."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) > max(source_column, target_column):
            pairs.append((cols[source_column], cols[target_column]))
    return pairs


def calibrate(pairs: list[tuple[str, str]], buckets=DEFAULT_BUCKETS, quantiles=QUANTILES) -> dict:
    """Bounds of target/source content length per source-length bucket."""
    ratios: dict[tuple[int, int], list[float]] = {b: [] for b in buckets}
    everything: list[float] = []
    for source, target in pairs:
        s, t = content_length(source), content_length(target)
        if s == 0:
            continue
        for lo, hi in buckets:
            if lo <= s <= hi:
                ratios[(lo, hi)].append(t / s)
                everything.append(t / s)
    out = []
    for (lo, hi), values in ratios.items():
        if not values:
            continue  # no pair of this length: lines of this length stay unjudged
        values.sort()
        out.append({
            "min": lo, "max": hi, "n": len(values),
            "lower": round(quantile(values, quantiles[0]), 4),
            "median": round(quantile(values, 0.5), 4),
            "upper": round(quantile(values, quantiles[1]), 4),
        })
    everything.sort()
    return {"buckets": out, "median": round(quantile(everything, 0.5), 4), "n": len(everything)}


#: a source's bucket counts towards the combined bounds only with at least this many pairs
MIN_BUCKET_PAIRS = 20


def calibrate_sources(sources: dict[str, list[tuple[str, str]]], buckets=DEFAULT_BUCKETS,
                      quantiles=QUANTILES) -> dict:
    """Bounds that hold for every register given: per bucket, the lowest lower and the highest
    upper quantile over the sources (each calibrated alone; a source with fewer than
    :data:`MIN_BUCKET_PAIRS` pairs in a bucket does not set that bucket's bounds).

    Why not pool the pairs: 3,600 written Tatoeba sentences would drown a few hundred subtitle
    sentences, and subtitles condense ("当然不会" -> "No!") far beyond what written text does."""
    per_source = {name: calibrate(pairs, buckets, quantiles) for name, pairs in sources.items() if pairs}
    combined = []
    for lo, hi in buckets:
        entries = [(name, b) for name, r in per_source.items() for b in r["buckets"]
                   if (b["min"], b["max"]) == (lo, hi) and b["n"] >= MIN_BUCKET_PAIRS]
        if not entries:
            continue
        combined.append({
            "min": lo, "max": hi, "n": sum(b["n"] for _, b in entries),
            "lower": min(b["lower"] for _, b in entries),
            "median": round(sorted(b["median"] for _, b in entries)[len(entries) // 2], 4),
            "upper": max(b["upper"] for _, b in entries),
            "from": {name: {"n": b["n"], "lower": b["lower"], "upper": b["upper"]} for name, b in entries},
        })
    everything = [r["median"] for r in per_source.values()]
    return {"buckets": combined, "median": round(sorted(everything)[len(everything) // 2], 4) if everything else 1.0,
            "n": sum(r["n"] for r in per_source.values()), "sources": {k: r["n"] for k, r in per_source.items()}}


def to_toml(result: dict, *, pair: str, corpus_name: str, sha256: str, n_pairs: int,
            command: str | None = None) -> str:
    """The data file, written by hand (tomllib only reads)."""
    lines = [
        "# Length-ratio bounds for the omission/addition checks. GENERATED — do not edit by hand:",
        "#   " + (command or ".venv/bin/python -m localise.quality.calibrate ../shared/corpus/" + corpus_name),
        "# ratio = content letters+digits of the translation / of the source (localise.quality.text.content_length);",
        f"# per source-length bucket, lower/upper = the {QUANTILES[0]} and {QUANTILES[1]} quantiles (linear interpolation)",
        "# of the ratio over the calibration pairs. Sources shorter than the first bucket are not checked.",
        "# [fallback]: pairs with no calibration move the zh-en bounds by factor(target)/factor(source) and widen them",
        "# by `widen` on both sides; `factors` are letters per English letter (zh from this calibration, others estimates).",
        "",
        "[meta]",
        f'corpus = "{corpus_name}"',
        f'sha256 = "{sha256}"',
        f"pairs = {n_pairs}",
        f"quantiles = [{QUANTILES[0]}, {QUANTILES[1]}]",
        'measure = "letters and digits (Unicode categories L*, N*)"',
        "",
        f'[pairs."{pair}"]',
        f"median = {result['median']}",
        f"n = {result['n']}",
        "buckets = [",
    ]
    for b in result["buckets"]:
        lines.append(
            f"  {{ min = {b['min']}, max = {b['max']}, n = {b['n']}, lower = {b['lower']}, "
            f"median = {b['median']}, upper = {b['upper']} }},"
        )
    lines.append("]")
    for b in result["buckets"]:
        for name, fig in (b.get("from") or {}).items():
            lines.insert(lines.index("buckets = [") , f"# bucket {b['min']}-{b['max']} from {name}: n = {fig['n']}, "
                                                     f"lower = {fig['lower']}, upper = {fig['upper']}")
    factors = dict(FALLBACK_FACTORS)
    factors["zh"] = round(1 / result["median"], 4)
    lines += ["", "[fallback]", f"widen = {FALLBACK_WIDEN}", "factors = { " + ", ".join(
        f"{k} = {v}" for k, v in sorted(factors.items())) + " }", ""]
    return "\n".join(lines)


# --- reading the stored bounds -----------------------------------------------------------------

@dataclass(frozen=True)
class RatioBounds:
    """Acceptable target/source content-length ratio for one source length."""

    lower: float
    upper: float
    calibrated: bool
    basis: str  # what the figures come from, for the flag's reason


@lru_cache(maxsize=1)
def load_ratio_table() -> dict:
    data = resources.files("localise.data").joinpath("length_ratios.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


def _bucket(buckets: list[dict], n: int) -> dict | None:
    for b in buckets:
        if b["min"] <= n <= b["max"]:
            return b
    return None


def ratio_bounds(src_lang: str, tgt_lang: str, source_chars: int, table: dict | None = None) -> RatioBounds | None:
    """Bounds for a source line of ``source_chars`` letters; ``None`` where the line is too short to judge."""
    table = table or load_ratio_table()
    src, tgt = base_lang(src_lang), base_lang(tgt_lang)
    pairs = table.get("pairs", {})
    if f"{src}-{tgt}" in pairs:
        b = _bucket(pairs[f"{src}-{tgt}"]["buckets"], source_chars)
        return None if b is None else RatioBounds(b["lower"], b["upper"], True, f"calibrated {src}-{tgt}")
    if f"{tgt}-{src}" in pairs:  # reverse direction: a source of n letters ~ a forward target of n letters
        entry = pairs[f"{tgt}-{src}"]
        approx = source_chars / entry["median"]
        b = _bucket(entry["buckets"], round(approx))
        if b is None:
            return None
        return RatioBounds(1 / b["upper"], 1 / b["lower"], True, f"calibrated {tgt}-{src}, inverted")
    fallback = table.get("fallback", {})
    factors = fallback.get("factors", {})
    widen = float(fallback.get("widen", FALLBACK_WIDEN))
    ref_key = next(iter(pairs), None)
    if ref_key is None:
        return None
    ref_src, ref_tgt = ref_key.split("-")
    entry = pairs[ref_key]
    f_src, f_tgt = factors.get(src, 1.0), factors.get(tgt, 1.0)
    # the bucket is chosen by how long the line would be in the calibrated source language
    as_ref = source_chars * factors.get(ref_src, 1.0) / f_src
    b = _bucket(entry["buckets"], round(as_ref))
    if b is None:
        return None
    # move the reference bounds from ref_tgt/ref_src to tgt/src
    shift = (f_tgt / f_src) / (factors.get(ref_tgt, 1.0) / factors.get(ref_src, 1.0))
    return RatioBounds(b["lower"] * shift / widen, b["upper"] * shift * widen, False,
                       f"uncalibrated fallback from {ref_key}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / DEFAULT_CORPUS_FILE
    parser.add_argument("tsv", nargs="?", type=Path, default=default)
    parser.add_argument("--pair", default="zh-en")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "length_ratios.toml")
    args = parser.parse_args(argv)
    pairs = read_pairs(args.tsv)
    result = calibrate(pairs)
    sha = hashlib.sha256(args.tsv.read_bytes()).hexdigest()
    name = DEFAULT_CORPUS_FILE if str(args.tsv).endswith(DEFAULT_CORPUS_FILE) else args.tsv.name
    args.out.write_text(to_toml(result, pair=args.pair, corpus_name=name, sha256=sha, n_pairs=len(pairs)), encoding="utf-8")
    print(f"{args.out}: {result['n']} pairs in buckets; " + "; ".join(
        f"{b['min']}-{b['max']}: [{b['lower']}, {b['upper']}] (n={b['n']})" for b in result["buckets"]))


if __name__ == "__main__":
    main()
