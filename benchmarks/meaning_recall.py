"""``python -m benchmarks.meaning_recall``: recall of the meaning checks on planted defects and
their false flags on clean lines, on the zh–en material of the shared corpus.

Material (read in place; skipped when ../shared/corpus is absent):

- ``tatoeba``: DaoChaShao__py-st-dl-translater-2.0/data__cmn.txt.every8th.tsv (3,645 Tatoeba pairs,
  CC-BY 2.0 FR), cut into pseudo-tracks of 40 consecutive pairs. **Calibration split: the
  even-numbered tracks** (the meaning thresholds were tuned there); evaluation: the odd ones.
- ``cerlancism``: Cerlancism__chatgpt-subtitle-translator test_cn_multiline.srt + .out_English.srt
  (23 cues, MIT) — evaluation only.
- ``fpsluozi``: the FPSLuozi bilingual ASS files (Chinese fansub lines paired with the English
  lines by time; a free, condensed subtitle translation) — evaluation only.

Planted per track (benchmarks/plant.py): dropped second half of a line, a swap ±N (N in 1..20),
a run of 10 cues shifted by one, an unrelated sentence appended (taken from another track).
Reports recall per kind (a defect counts as caught when a cue it touched gets a flag of the
fitting code at ``major``) and the share of clean cues with a major-or-worse flag (all codes) and
with a major meaning flag (omission/addition/misalignment).
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import plant

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
MEANING = {"omission", "addition", "misalignment"}
FITTING = {"dropped-half": {"omission"}, "swap": {"misalignment", "omission", "addition"},
           "shift-run": {"misalignment", "omission", "addition"}, "appended": {"addition"}}
TRACK = 40


def tatoeba_tracks(corpus: Path = CORPUS) -> list[list[tuple[str, str]]]:
    path = corpus / "DaoChaShao__py-st-dl-translater-2.0" / "data__cmn.txt.every8th.tsv"
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip() and parts[1].strip():
            pairs.append((parts[1].strip(), parts[0].strip()))
    return [pairs[k : k + TRACK] for k in range(0, len(pairs) - TRACK + 1, TRACK)]


def cerlancism_track(corpus: Path = CORPUS) -> list[tuple[str, str]]:
    from localise.io import read_track

    folder = corpus / "Cerlancism__chatgpt-subtitle-translator"
    zh = read_track(folder / "test__data__test_cn_multiline.srt")
    en = read_track(folder / "test__data__test_cn_multiline.srt.out_English.srt")
    return [(z.text.replace("\n", ""), e.text.replace("\n", " ")) for z, e in zip(zh.cues, en.cues)]


_ASS_TAGS = re.compile(r"\{[^}]*\}")


def fpsluozi_tracks(corpus: Path = CORPUS) -> list[list[tuple[str, str]]]:
    """Chinese and English lines of each bilingual ASS file, paired by the longest time overlap."""
    out = []
    for path in sorted((corpus / "fpsluozi__FPSLuoziASSSubs").glob("*.ass")):
        zh, en = [], []
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            if not line.startswith("Dialogue:"):
                continue
            f = line.split(",", 9)
            text = _ASS_TAGS.sub("", f[9]).replace("\\N", " ").strip()
            start, end = _ms(f[1]), _ms(f[2])
            if not text:
                continue
            if re.search(r"[\u4e00-\u9fff]", text):
                zh.append((start, end, text))
            elif re.search(r"[A-Za-z]{2}", text):
                en.append((start, end, text))
        pairs = []
        for s, e, t in en:
            best = max(zh, key=lambda z: min(e, z[1]) - max(s, z[0]), default=None)
            overlap = min(e, best[1]) - max(s, best[0]) if best else 0
            # the same stretch of speech: most of each line's time is shared (not a title shown throughout)
            if best and overlap > 0.5 * (e - s) and overlap > 0.5 * (best[1] - best[0]):
                pairs.append((best[2], t))
        if len(pairs) >= 20:
            out.append(pairs)
    return out


def _ms(stamp: str) -> int:
    h, m, s = stamp.split(":")
    return int((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)


def _track(texts: Sequence[str]) -> Any:
    from localise.model import Cue, Track

    return Track(cues=[Cue(start_ms=i * 3000, end_ms=i * 3000 + 2500, text=t) for i, t in enumerate(texts)],
                 format="srt")


def _check(zh: Sequence[str], en: Sequence[str]) -> list[list[Any]]:
    from localise.quality.checks import check_track

    return check_track(_track(zh), _track(en), src_lang="zh", tgt_lang="en")


def _major(flags: Sequence[Any], codes: set[str] | None = None) -> bool:
    return any(f.severity in ("major", "critical") and (codes is None or f.code in codes) for f in flags)


def evaluate(tracks: list[list[tuple[str, str]]], seed: int = 13, extra: list[str] | None = None) -> dict[str, Any]:
    """Recall per planted kind and false-flag shares on the clean tracks."""
    rng = random.Random(seed)
    caught: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    clean_cues = clean_major = clean_meaning = 0
    examples: dict[str, list[str]] = defaultdict(list)
    pool = extra or [en for t in tracks for _, en in t]
    for t in tracks:
        zh = [z for z, _ in t]
        en = [e for _, e in t]
        n = len(t)
        base = _check(zh, en)
        for i, flags in enumerate(base):
            clean_cues += 1
            clean_major += _major(flags)
            if _major(flags, MEANING):
                clean_meaning += 1
                if len(examples["clean"]) < 12:
                    examples["clean"].append(f"{zh[i]} | {en[i]} | " + "; ".join(f.reason for f in flags if f.code in MEANING))
        # dropped half: a few cues with at least 4 words
        for i in [k for k in plant.pick(n, 6, rng.randrange(10**6)) if len(en[k].split()) >= 4][:3]:
            _score("dropped-half", *plant.drop_second_half(en, i), zh, caught, planted, examples)
        # swap ±N
        for _ in range(2):
            d = rng.randint(1, min(20, n - 1))
            i = rng.randrange(0, n - d)
            _score("swap", *plant.swap(en, i, d), zh, caught, planted, examples)
        # a run of 10 shifted by one
        if n >= 12:
            start = rng.randrange(0, n - 11)
            _score("shift-run", *plant.shift_run(en, start, 10, 1), zh, caught, planted, examples)
        # appended unrelated sentence
        for i in plant.pick(n, 3, rng.randrange(10**6)):
            other = rng.choice(pool)
            while other == en[i]:
                other = rng.choice(pool)
            _score("appended", *plant.append_sentence(en, i, other), zh, caught, planted, examples)
    return {
        "recall": {k: round(caught[k] / planted[k], 3) for k in planted},
        "planted": dict(planted),
        "clean_cues": clean_cues,
        "clean_need_review_share": round(clean_major / clean_cues, 4) if clean_cues else 0.0,
        "clean_major_meaning_share": round(clean_meaning / clean_cues, 4) if clean_cues else 0.0,
        "examples": dict(examples),
    }


def _score(kind: str, texts: list[str], cues: list[int], zh: list[str], caught: Counter[str], planted: Counter[str],
           examples: dict[str, list[str]]) -> None:
    flags = _check(zh, texts)
    for i in cues:
        if texts[i] == "" or zh[i] == "":
            continue
        planted[kind] += 1
        if _major(flags[i], FITTING[kind]):
            caught[kind] += 1
        elif len(examples[kind]) < 6:
            examples[kind].append(f"{zh[i]} | {texts[i]} | " + "; ".join(f"{f.code}:{f.severity}" for f in flags[i]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.meaning_recall", description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["calibration", "evaluation", "all"], default="evaluation")
    parser.add_argument("--examples", action="store_true")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"no shared corpus at {CORPUS}: nothing to measure")
        return 0
    tat = tatoeba_tracks()
    sets: dict[str, list[list[tuple[str, str]]]] = {}
    if args.split in ("calibration", "all"):
        sets["tatoeba (calibration: even tracks)"] = tat[0::2]
    if args.split in ("evaluation", "all"):
        sets["tatoeba (evaluation: odd tracks)"] = tat[1::2]
        sets["cerlancism (evaluation)"] = [cerlancism_track()]
        sets["fpsluozi (evaluation)"] = fpsluozi_tracks()
    pool = [en for t in tat for _, en in t]
    for name, tracks in sets.items():
        r = evaluate(tracks, extra=pool)
        print(f"{name}: {sum(len(t) for t in tracks)} cues in {len(tracks)} tracks")
        for kind in FITTING:
            if kind in r["recall"]:
                print(f"  recall {kind:<13} {r['recall'][kind]:.3f}  ({r['planted'][kind]} planted cues)")
        print(f"  clean cues needing review (major+, any code): {r['clean_need_review_share']:.4f}")
        print(f"  clean cues with a major meaning flag:         {r['clean_major_meaning_share']:.4f}")
        if args.examples:
            for kind, lines in r["examples"].items():
                for line in lines:
                    print(f"    [{kind}] {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
