"""zh–en parallel subtitles for calibrating the quality checks and for measuring them — two splits
that never share a line, with the source of every line stated.

Why a loader and not a folder of files: the material comes from two places. The original
micro-drama set of this repository (``tests/quality/data/subtitles``, see its README) is read from
the checkout; the permissively licensed corpus material is read in place from
``../shared/corpus`` and skipped, with a reason, where that folder is absent (it is never copied
into the repository). Each corpus source belongs wholly to one split (:data:`CORPUS_SOURCES` says
which and why). Calibration may never contain a line of the evaluation split: a corpus cue pair
whose normalised source or target text also occurs in the evaluation split is dropped from
calibration and counted in :attr:`EpisodePair.dropped` (the original calibration episodes are
written so that nothing needs dropping; a test holds them to that).

``load_pairs("calibration" | "evaluation") -> list[EpisodePair]``; ``unavailable(split)`` gives
the corpus sources that were skipped and why. Benchmark-only code: nothing in ``localise/``
imports it.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from localise.formats.markup import strip_markup
from localise.io import read_track
from localise.model import Cue, Track

REPO = Path(__file__).resolve().parent.parent
SUBTITLES = REPO / "tests" / "quality" / "data" / "subtitles"
CORPUS = REPO.parent / "shared" / "corpus"
SPLITS = ("calibration", "evaluation")

#: pair an ASS Chinese event with an English event whose start and end differ by at most this
ASS_PAIR_TOLERANCE_MS = 50
#: one synthetic cue per Tatoeba sentence: its length and the step between starts
SENTENCE_CUE_MS, SENTENCE_STEP_MS = 3000, 4000


@dataclass(frozen=True)
class EpisodePair:
    """One source track and its translation, cue for cue (same count, cue *i* translates cue *i*)."""

    name: str
    split: str
    source: Track  # zh
    target: Track  # en
    glossary: Path | None
    origin: str  # where the lines come from, who made them, the licence
    kind: str = "subtitles"  # "subtitles", or "sentences" (written text, synthetic timings)
    #: 0-based (first, last) cue ranges over which the target holds one line (same text)
    held_over: tuple[tuple[int, int], ...] = ()
    dropped: int = 0  # cue pairs left out because the other split has the same line

    @property
    def cues(self) -> int:
        return len(self.source.cues)


@dataclass(frozen=True)
class CorpusSource:
    """A corpus source, the split it belongs to and why."""

    name: str
    split: str
    files: tuple[str, ...]  # relative to the corpus root
    licence: str
    why: str
    kind: str = "subtitles"


CORPUS_SOURCES: tuple[CorpusSource, ...] = (
    CorpusSource(
        "tatoeba-cmn-every8th", "calibration",
        ("DaoChaShao__py-st-dl-translater-2.0/data__cmn.txt.every8th.tsv",),
        "CC-BY 2.0 FR (Tatoeba; attribution per line, kept in each cue's extras['attribution'])",
        "the current basis of localise/data/length_ratios.toml (localise.quality.calibrate); written "
        "sentences, not subtitles, so kept beside the subtitle-shaped material rather than judged by it",
        kind="sentences",
    ),
    CorpusSource(
        "fpsluozi-fansub-ass", "calibration",
        ("fpsluozi__FPSLuoziASSSubs/模板__FPSRussia双语字幕模板av1129222.ass",
         "fpsluozi__FPSLuoziASSSubs/模板__ZAK提督特效字幕av2092341.ass",
         "fpsluozi__FPSLuoziASSSubs/模板__暴力厨房特效字幕模板av1129222.ass"),
        "MIT (fpsluozi/FPSLuoziASSSubs)",
        "real human subtitles, spoken and condensed, but translated en->zh by a fansubber who adds "
        "jokes and commentary: right for learning how loose real subtitle pairs are, wrong for an "
        "evaluation where every flag on a clean line counts as false",
    ),
    CorpusSource(
        "cerlancism-test-cn-multiline", "evaluation",
        ("Cerlancism__chatgpt-subtitle-translator/test__data__test_cn_multiline.srt",
         "Cerlancism__chatgpt-subtitle-translator/test__data__test_cn_multiline.srt.out_English.srt"),
        "MIT (Cerlancism/chatgpt-subtitle-translator)",
        "a faithful, literal translation made by someone else (the project's machine translation of "
        "its test track): held out so the evaluation is not only this repository's own writing",
    ),
)


# --- normalised text: what "the same line" means ----------------------------------------------

def normalise(text: str, dialect: str = "srt") -> str:
    """Letters and digits only, NFKC, case-folded, markup removed: ``"No!"`` == ``"no"``."""
    plain = unicodedata.normalize("NFKC", strip_markup(text, dialect)).casefold()
    return "".join(ch for ch in plain if unicodedata.category(ch)[0] in "LN")


def line_keys(pair: EpisodePair) -> set[str]:
    """Every non-empty normalised source and target line of an episode."""
    keys = {normalise(c.text, pair.source.format) for c in pair.source.cues}
    keys |= {normalise(c.text, pair.target.format) for c in pair.target.cues}
    keys.discard("")
    return keys


def held_over_runs(track: Track) -> list[tuple[int, int]]:
    """0-based (first, last) ranges of consecutive cues with the same (non-empty) words."""
    runs, i, cues = [], 0, track.cues
    while i < len(cues):
        j = i
        key = normalise(cues[i].text, track.format)
        while key and j + 1 < len(cues) and normalise(cues[j + 1].text, track.format) == key:
            j += 1
        if j > i:
            runs.append((i, j))
        i = j + 1
    return runs


# --- the original set ---------------------------------------------------------------------------

def read_index(subtitles: Path = SUBTITLES) -> list[dict[str, str]]:
    """``episodes.tsv``: split, episode, story, genre, glossary, origin — one row per episode."""
    with open(subtitles / "episodes.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def read_held_over(subtitles: Path = SUBTITLES) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """``held_over.tsv`` as ``{(split, episode): [(first, last), ...]}``, 0-based."""
    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    with open(subtitles / "held_over.tsv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            out.setdefault((row["split"], row["episode"]), []).append(
                (int(row["first_cue"]) - 1, int(row["last_cue"]) - 1))
    return out


def original_pairs(split: str, subtitles: Path = SUBTITLES) -> list[EpisodePair]:
    """The episodes written for this repository, in ``episodes.tsv`` order."""
    held = read_held_over(subtitles)
    pairs = []
    for row in read_index(subtitles):
        if row["split"] != split:
            continue
        folder = subtitles / split
        name = row["episode"]
        glossary = folder / row["glossary"] if row["glossary"] else None
        pairs.append(EpisodePair(
            name=name, split=split,
            source=read_track(folder / f"{name}.zh.srt"), target=read_track(folder / f"{name}.en.srt"),
            glossary=glossary,
            origin=f"{row['origin']}; genre {row['genre']}",
            held_over=tuple(held.get((split, name), ())),
        ))
    return pairs


# --- corpus material ----------------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def line_language(line: str) -> str | None:
    """``"zh"`` for a line with a Han character, ``"en"`` for one with two or more Latin letters
    and no Han, ``None`` for anything else (kaomoji, a lone letter, numbers, nothing)."""
    if _HAN.search(line):
        return "zh"
    if len(_LATIN.findall(line)) >= 2:
        return "en"
    return None


def _sub_track(track: Track, cues: list[Cue]) -> Track:
    return replace(track, cues=cues, extras=dict(track.extras), warnings=[])


def pair_bilingual_ass(track: Track, tolerance_ms: int = ASS_PAIR_TOLERANCE_MS) -> tuple[Track, Track]:
    """Chinese and English cues of a bilingual ASS track, paired.

    An event holding both a Chinese and an English line (``zh\\Nen``) is a pair by itself (plain
    text, markup dropped). Otherwise Chinese-only and English-only events are paired when their
    start and end both lie within ``tolerance_ms`` (the closest first, one to one); credits,
    typesetting and signs that no event of the other language shares the time of stay unpaired.
    """
    zh_events: list[Cue] = []
    en_events: list[Cue] = []
    pairs: list[tuple[Cue, Cue]] = []
    for cue in track.cues:
        lines = [ln for ln in strip_markup(cue.text, track.format).split("\n") if ln.strip()]
        langs = [line_language(ln) for ln in lines]
        if "zh" in langs and "en" in langs:
            zh = "\n".join(ln.strip() for ln, lg in zip(lines, langs) if lg == "zh")
            en = "\n".join(ln.strip() for ln, lg in zip(lines, langs) if lg == "en")
            pairs.append((cue.with_text(zh), cue.with_text(en)))
        elif langs and all(lg in ("zh", None) for lg in langs) and "zh" in langs:
            zh_events.append(cue)
        elif langs and all(lg in ("en", None) for lg in langs) and "en" in langs:
            en_events.append(cue)
    used: set[int] = set()
    for zh in zh_events:
        best, best_cost = None, None
        for k, en in enumerate(en_events):
            if k in used:
                continue
            ds, de = abs(zh.start_ms - en.start_ms), abs(zh.end_ms - en.end_ms)
            if ds <= tolerance_ms and de <= tolerance_ms and (best_cost is None or ds + de < best_cost):
                best, best_cost = k, ds + de
        if best is not None:
            used.add(best)
            pairs.append((zh, en_events[best]))
    pairs.sort(key=lambda p: (p[0].start_ms, p[0].end_ms))
    source = [zh for zh, _ in pairs]
    # the English event keeps its own words and markup but takes the Chinese event's timing, so
    # the two tracks are cue for cue with identical times (the tolerance is a rounding allowance)
    target = [replace(en, start_ms=zh.start_ms, end_ms=zh.end_ms, extras=dict(en.extras)) for zh, en in pairs]
    return _sub_track(track, source), _sub_track(track, target)


def _fansub_pairs(source: CorpusSource, corpus: Path) -> list[EpisodePair]:
    out = []
    for rel in source.files:
        track = read_track(corpus / rel)
        zh, en = pair_bilingual_ass(track)
        if not zh.cues:
            continue  # e.g. a Chinese-only typesetting file: nothing to pair
        out.append(EpisodePair(
            name=f"{source.name}:{Path(rel).stem}", split=source.split, source=zh, target=en, glossary=None,
            origin=f"../shared/corpus/{rel}; Chinese fansub of an English video, zh and en events paired by "
                   f"time (within {ASS_PAIR_TOLERANCE_MS} ms); licence {source.licence}",
            held_over=tuple(held_over_runs(en)),
        ))
    return out


def _cerlancism_pairs(source: CorpusSource, corpus: Path) -> list[EpisodePair]:
    zh_path, en_path = (corpus / rel for rel in source.files)
    zh, en = read_track(zh_path), read_track(en_path)
    check_aligned(zh, en, f"{zh_path} / {en_path}")
    return [EpisodePair(
        name=f"{source.name}", split=source.split, source=zh, target=en, glossary=None,
        origin=f"../shared/corpus/{source.files[0]} and its English translation {Path(source.files[1]).name} "
               f"(made by the project's ChatGPT translator); licence {source.licence}",
        held_over=tuple(held_over_runs(en)),
    )]


def _tatoeba_pairs(source: CorpusSource, corpus: Path) -> list[EpisodePair]:
    path = corpus / source.files[0]
    zh_cues, en_cues = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
            continue
        start = (len(zh_cues)) * SENTENCE_STEP_MS
        extras = {"attribution": cols[2] if len(cols) > 2 else "", "line": n}
        zh_cues.append(Cue(start, start + SENTENCE_CUE_MS, cols[1].strip(), str(len(zh_cues) + 1), dict(extras)))
        en_cues.append(Cue(start, start + SENTENCE_CUE_MS, cols[0].strip(), str(len(en_cues) + 1), dict(extras)))
    return [EpisodePair(
        name=source.name, split=source.split,
        source=Track(zh_cues, "srt", source_name=str(path)), target=Track(en_cues, "srt", source_name=str(path)),
        glossary=None, kind=source.kind,
        origin=f"../shared/corpus/{source.files[0]} (every 8th pair of the manythings.org cmn-eng list); "
               f"written sentences, one cue each with synthetic timings; licence {source.licence}",
    )]


_CORPUS_LOADERS = {
    "tatoeba-cmn-every8th": _tatoeba_pairs,
    "fpsluozi-fansub-ass": _fansub_pairs,
    "cerlancism-test-cn-multiline": _cerlancism_pairs,
}


def check_aligned(source: Track, target: Track, what: str) -> None:
    """Raise ``ValueError`` naming ``what`` unless the tracks are cue for cue with equal timings."""
    if len(source.cues) != len(target.cues):
        raise ValueError(f"{what}: {len(source.cues)} source cues but {len(target.cues)} target cues")
    for i, (s, t) in enumerate(zip(source.cues, target.cues), 1):
        if (s.start_ms, s.end_ms) != (t.start_ms, t.end_ms):
            raise ValueError(f"{what}: cue {i} timed {s.start_ms}-{s.end_ms} ms in the source, "
                             f"{t.start_ms}-{t.end_ms} ms in the target")


def unavailable(split: str, corpus: Path | None = CORPUS) -> dict[str, str]:
    """Corpus sources of ``split`` that cannot be read here, and why."""
    out = {}
    for source in CORPUS_SOURCES:
        if source.split != split:
            continue
        if corpus is None:
            out[source.name] = "no corpus folder given"
            continue
        missing = [rel for rel in source.files if not (corpus / rel).is_file()]
        if missing:
            out[source.name] = f"not found under {corpus}: {', '.join(missing)}"
    return out


def corpus_pairs(split: str, corpus: Path | None = CORPUS) -> list[EpisodePair]:
    """The corpus material of ``split`` that is present (see :func:`unavailable` for the rest)."""
    skipped = unavailable(split, corpus)
    out: list[EpisodePair] = []
    for source in CORPUS_SOURCES:
        if source.split == split and source.name not in skipped:
            out.extend(_CORPUS_LOADERS[source.name](source, corpus))
    return out


# --- the splits ---------------------------------------------------------------------------------

def _without_lines(pair: EpisodePair, keys: set[str]) -> EpisodePair:
    """``pair`` less the cue pairs whose source or target text is in ``keys``."""
    keep = [i for i, (s, t) in enumerate(zip(pair.source.cues, pair.target.cues))
            if normalise(s.text, pair.source.format) not in keys
            and normalise(t.text, pair.target.format) not in keys]
    if len(keep) == len(pair.source.cues):
        return pair
    target = _sub_track(pair.target, [pair.target.cues[i] for i in keep])
    return replace(
        pair,
        source=_sub_track(pair.source, [pair.source.cues[i] for i in keep]),
        target=target,
        held_over=tuple(held_over_runs(target)),
        dropped=pair.dropped + len(pair.source.cues) - len(keep),
    )


def _keys(pairs: Iterable[EpisodePair]) -> set[str]:
    keys: set[str] = set()
    for pair in pairs:
        keys |= line_keys(pair)
    return keys


def load_pairs(split: str, *, corpus: Path | None = CORPUS, subtitles: Path = SUBTITLES) -> list[EpisodePair]:
    """Every episode pair of ``split``: the original set first, then the corpus material present.

    ``corpus=None`` leaves the corpus out. Calibration material never holds a line of the
    evaluation split (see the module doc); the evaluation split is returned as it is.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    pairs = original_pairs(split, subtitles) + corpus_pairs(split, corpus)
    if split == "evaluation":
        return pairs
    held_out = _keys(original_pairs("evaluation", subtitles) + corpus_pairs("evaluation", corpus))
    return [_without_lines(p, held_out) for p in pairs]


def summary(pairs: list[EpisodePair]) -> dict[str, object]:
    """Counts for a report: episodes, cue pairs, held-over runs, dropped pairs, by origin kind."""
    return {
        "episodes": len(pairs),
        "cues": sum(p.cues for p in pairs),
        "subtitle_cues": sum(p.cues for p in pairs if p.kind == "subtitles"),
        "sentence_pairs": sum(p.cues for p in pairs if p.kind == "sentences"),
        "held_over_runs": sum(len(p.held_over) for p in pairs),
        "dropped": sum(p.dropped for p in pairs),
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.quality_data``: what each split holds, and what was skipped."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = {}
    for split in SPLITS:
        pairs = load_pairs(split)
        report[split] = {
            **summary(pairs),
            "sources": [{"name": p.name, "cues": p.cues, "dropped": p.dropped, "origin": p.origin} for p in pairs],
            "skipped": unavailable(split),
        }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for split, info in report.items():
        print(f"{split}: {info['episodes']} episodes, {info['cues']} cue pairs "
              f"({info['subtitle_cues']} subtitles, {info['sentence_pairs']} sentences), "
              f"{info['held_over_runs']} held-over lines, {info['dropped']} pairs dropped as shared")
        for src in info["sources"]:
            print(f"  {src['name']}: {src['cues']} cues" + (f", {src['dropped']} dropped" if src["dropped"] else ""))
        for name, reason in info["skipped"].items():
            print(f"  skipped {name}: {reason}")


if __name__ == "__main__":
    main()
