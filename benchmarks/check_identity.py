"""Same flags before and after a speed change: every ``(cue, code, severity, reason)`` that
``check_track`` gives on a fixed set of tracks, recorded to a JSON file and compared later.

Why: the check's speed work (issue 14) must not change what is flagged. The tracks: the
20,000-cue benchmark track (``make bench``'s), the calibration split's episode pairs, planted
defects (:mod:`benchmarks.defects` on each calibration episode, :mod:`benchmarks.plant` on the big
track: a swap, a shifted run, a whole-track shift, an appended sentence), and the calibration
episodes concatenated into one long track with real translations (the neighbour search at scale).

    python -m benchmarks.check_identity --record /tmp/before.json   # on the old code
    python -m benchmarks.check_identity --compare /tmp/before.json  # on the new code

The evaluation split is never read here (the calibration loader only drops lines it shares).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localise.model import Track


def _glossary(path: Path | None) -> Any:
    if path is None:
        return None
    from localise.glossary import Glossary

    return Glossary.load(path)


def calibration_cases(corpus: bool = True) -> Iterator[tuple[str, Track, Track, Any]]:
    """(name, source, target, glossary) of every calibration episode and its planted copies."""
    from benchmarks.defects import KINDS, plant
    from benchmarks.quality_data import CORPUS, load_pairs

    for pair in load_pairs("calibration", corpus=CORPUS if corpus else None):
        glossary = _glossary(pair.glossary)
        yield pair.name, pair.source, pair.target, glossary
        for k, kind in enumerate(KINDS):
            target, planted = plant(pair.source, pair.target, kind, random.Random(k), glossary=pair.glossary)
            if planted:
                yield f"{pair.name}+{kind}", pair.source, target, glossary


def big_cases() -> Iterator[tuple[str, Track, Track, Any]]:
    """The benchmark's 20,000-cue track, planted copies of it, and the calibration episodes joined."""
    from benchmarks import plant as edits
    from benchmarks import workloads
    from benchmarks.quality_data import load_pairs
    from localise.glossary import Glossary
    from localise.io import read_track

    glossary = Glossary.from_csv(workloads.glossary_csv())
    source = read_track(workloads.big_track_srt().encode("utf-8"), name="big.zh.srt")
    english = workloads.english_texts(len(source.cues))
    yield "big", source, source.with_texts(english), glossary
    # the same track with the English a subtitler might write: names, terms, numbers, long lines
    yield "big-translated", source, source.with_texts(workloads.big_track_translation(len(source.cues))), glossary
    yield "big+swap", source, source.with_texts(edits.swap(english, 500, 3)[0]), glossary
    yield "big+shift-run", source, source.with_texts(edits.shift_run(english, 900, 12)[0]), glossary
    yield "big+shift-all", source, source.with_texts(edits.shift_all(english)[0]), glossary
    yield "big+added", source, source.with_texts(
        edits.append_sentence(english, 1200, "The parking lot closes at nine on weekdays.")[0]), glossary
    # real translations at length: the calibration episodes one after another
    pairs = [p for p in load_pairs("calibration") if p.kind == "subtitles"]
    src_cues, tgt_cues, offset = [], [], 0
    for p in pairs:
        for s, t in zip(p.source.cues, p.target.cues):
            src_cues.append(s.__class__(s.start_ms + offset, s.end_ms + offset, s.text))
            tgt_cues.append(t.__class__(t.start_ms + offset, t.end_ms + offset, t.text))
        offset = (src_cues[-1].end_ms if src_cues else 0) + 10_000
    joined_s = Track(cues=src_cues, format="srt")
    joined_t = Track(cues=tgt_cues, format="srt")
    yield "joined", joined_s, joined_t, None
    texts = [c.text for c in tgt_cues]
    n = len(texts)
    yield "joined+swaps", joined_s, joined_t.with_texts(
        edits.swap(edits.swap(texts, n // 4, 2)[0], n // 2, 5)[0]), None
    yield "joined+shift-run", joined_s, joined_t.with_texts(edits.shift_run(texts, n // 3, 10)[0]), None


def flags_of(source: Track, target: Track, glossary: Any) -> dict[str, Any]:
    """What ``check_track`` says: per flag ``[cue, code, severity, reason]``, plus track findings."""
    from localise.quality.checks import check_track

    findings: list[dict[str, Any]] = []
    flags = check_track(source, target, src_lang="zh", tgt_lang="en", glossary=glossary, findings=findings)
    return {"flags": [[i, f.code, f.severity, f.reason] for i, fl in enumerate(flags) for f in fl],
            "findings": findings}


def snapshot(big: bool = True, corpus: bool = True) -> dict[str, Any]:
    from localise.quality import meaning

    out: dict[str, Any] = {}
    cases = list(calibration_cases(corpus)) + (list(big_cases()) if big else [])
    for name, source, target, glossary in cases:
        meaning.clear_caches()
        out[name] = flags_of(source, target, glossary)
    return out


def digest(result: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(result, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def compare(before: dict[str, Any], after: dict[str, Any], partial: bool = False) -> list[str]:
    """Differences, one line each (empty: identical). ``partial``: only the tracks ``after`` has."""
    problems = []
    for name in sorted(set(after) if partial else set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        if a is None or b is None:
            problems.append(f"{name}: only in {'after' if a is None else 'before'}")
            continue
        for part in ("flags", "findings"):
            old = {json.dumps(x, ensure_ascii=False, sort_keys=True) for x in a[part]}
            new = {json.dumps(x, ensure_ascii=False, sort_keys=True) for x in b[part]}
            for x in sorted(old - new)[:5]:
                problems.append(f"{name}: {part} lost {x}")
            for x in sorted(new - old)[:5]:
                problems.append(f"{name}: {part} gained {x}")
            if old == new and a[part] != b[part]:
                problems.append(f"{name}: {part} in another order")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.check_identity", description=__doc__.splitlines()[0])
    p.add_argument("--record", type=Path, help="write the flags to this JSON file")
    p.add_argument("--compare", type=Path, help="compare the flags with this JSON file")
    p.add_argument("--no-big", action="store_true", help="calibration tracks only (seconds, not a minute)")
    p.add_argument("--no-corpus", action="store_true", help="the repository's episodes only, not ../shared/corpus")
    a = p.parse_args(argv)
    result = snapshot(big=not a.no_big, corpus=not a.no_corpus)
    n_flags = sum(len(v["flags"]) for v in result.values())
    print(f"{len(result)} tracks, {n_flags} flags, sha256 {digest(result)}")
    if a.record:
        a.record.write_text(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if a.compare:
        problems = compare(json.loads(a.compare.read_text(encoding="utf-8")), result,
                           partial=a.no_big or a.no_corpus)
        for line in problems[:50]:
            print(line)
        print("identical" if not problems else f"{len(problems)} differences")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
