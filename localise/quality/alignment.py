"""Cue-level alignment: translations that sit one or more cues away from their source.

Why a second pass beside :func:`localise.quality.meaning.analyse_track`: that analysis judges
whole sentences, and a sentence of a subtitle track often spans several cues. When a run of cues
slips by one position *inside* such sentences, or one cue of a long sentence trades places with a
cue twenty lines away, the sentence still holds mostly the same words and looks fine. Judged cue
by cue, each translation is accounted for better by a neighbouring cue's source than by its own.

The pass (cheap, and gated so a clean track costs little):

1. every cue's *own score*: the lexical match of its translation against its own source (a
   harmonic mean of the share of source content words whose gloss the translation holds and the
   share of translation content words some source word accounts for; both directions);
2. only cues whose own score is poor are looked at further (``alignment_poor``);
3. **runs**: for small offsets ``k`` (±1..±``alignment_run_offsets``) each poor cue gains
   ``score(i, i+k) - own(i) - alignment_bias``; a cue matching its own source well loses
   ``alignment_good_penalty``. The best-scoring stretches per offset (a maximum-sum segment scan:
   a change of offset costs the run its accumulated evidence) with enough total gain and enough
   cues are shifted runs — each cue gets ``misalignment`` naming the cue it belongs to;
4. **swaps**: two poor cues within ±``alignment_window`` whose translations each match the
   other's source best and clearly better than their own (mutual: a lone chance match is noise),
   or one whose translation matches a poor neighbour's source strongly (``alignment_one_sided``,
   two words shared at least: the other translation may be too free to match back); a
   translation held over two cues is never a swap candidate;
5. a run covering most of the track's informative cues is one track-level finding instead; a
   track matching its sources poorly throughout gets no per-cue search (chance matches).

Thresholds are data (``thresholds.toml``: ``alignment_*``); tuned on the calibration split only.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from localise.model import Flag
from localise.quality.lexicon import load_lexicon
from localise.quality.meaning import SourceInfo, TargetInfo, TrackFinding, adequacy, source_info, target_info
from localise.quality.numbers import compare, extract_numbers
from localise.quality.text import base_lang
from localise.quality.thresholds import over_defaults

#: Defaults of the ``alignment_*`` thresholds (thresholds.toml holds the same).
DEFAULTS: dict[str, Any] = {
    "alignment_window": 30,
    "alignment_poor": 0.6,
    "alignment_good_penalty": 1.0,
    "alignment_bias": 0.1,
    "alignment_run_offsets": 3,
    "alignment_run_gain": 1.5,
    "alignment_run_min_cues": 3,
    "alignment_there_min": 0.4,
    "alignment_swap_margin": 0.25,
    "alignment_swap_min": 0.25,
    "alignment_one_sided": 0.5,
    "alignment_swap_min_words": 2,
    "alignment_common_share": 0.1,
    "alignment_track_share": 0.6,
    "alignment_poor_track_share": 0.85,
}


@dataclass(frozen=True)
class CueMove:
    """Cue ``cue``'s translation renders the source of cue ``belongs`` (0-based cue positions)."""

    cue: int
    belongs: int
    own: float
    there: float
    run: tuple[int, int] | None = None  # first and last cue of the shifted run it is part of
    anchors: tuple[str, ...] = ()  # terms or values of the other cue's source this translation carries

    def reason(self, source_of: str) -> str:
        text = " ".join(source_of.split())
        text = text if len(text) <= 30 else text[:29] + "…"
        if self.anchors:
            return (f"this translation belongs to cue {self.belongs + 1} «{text}», not to its own source: it says "
                    f"{', '.join(self.anchors)}, which cue {self.belongs + 1}'s source has and its own translation "
                    f"lacks (cue-level lexical match {self.own:.2f} here)")
        out = (f"this translation belongs to cue {self.belongs + 1} «{text}», not to its own source "
               f"(cue-level lexical match {self.there:.2f} there, {self.own:.2f} here)")
        if self.run:
            d = self.belongs - self.cue
            out += f"; part of a run of cues {self.run[0] + 1}–{self.run[1] + 1} shifted by {d:+d}"
        else:
            out += f"; cue {self.belongs + 1}'s translation sits here and this one's there (swapped?)"
        return out


@dataclass
class CueAlignment:
    """The pass's result: misplaced cues and track-level findings (cue positions 0-based)."""

    moved: dict[int, CueMove] = field(default_factory=dict)
    findings: list[TrackFinding] = field(default_factory=list)
    shifted: frozenset[int] = frozenset()  # cues explained by a whole-track finding
    poor: dict[int, float] = field(default_factory=dict)  # cues searched cue by cue: their own score


class _Src:
    """A cue's source as the scores need it: its content words and every key they may be rendered by."""

    __slots__ = ("words", "keys", "number", "values")

    def __init__(self, s: SourceInfo, lang: str) -> None:
        self.words = s.words
        self.keys = s.keys
        self.number = s.has_number
        #: the numbers it states, by value (only where it holds a numeral at all)
        self.values = tuple(extract_numbers(s.text, lang)) if s.has_number else ()


class _Tgt:
    """A cue's translation: its content keys (capitalised words apart: maybe names), its numbers."""

    __slots__ = ("plain", "caps", "keys", "numbers", "number", "values")

    def __init__(self, t: TargetInfo, lang: str) -> None:
        words = t.words
        self.plain = [w.key for w in words if w.key and not w.capital]
        self.caps = [w.key for w in words if w.key and w.capital]
        self.numbers = sum(1 for w in words if w.number)
        self.number = t.has_number
        self.keys = t.keys
        self.values = tuple(extract_numbers(t.text, lang)) if t.has_number else ()


def _numbers_agree(tg: _Tgt, sr: _Src) -> bool:
    """Whether the translation's numbers may render the source's: a value in common, or no value
    read on one side (a number word the value reader leaves alone, "half the board"). "I'm 80
    years old" renders nothing of 我跟了老爷四十年 (it was credited as any number for any number)."""
    if not tg.values or not sr.values:
        return True
    if any(t.matches(v) for t in tg.values for v in sr.values):
        return True
    return bool(compare(sr.values, tg.values).matched)  # 13905712846 said as 139-0571-2846


class _Cue:
    """One cue: its source and its translation (shared between cues with the same texts)."""

    __slots__ = ("src", "tgt")

    def __init__(self, src: _Src, tgt: _Tgt) -> None:
        self.src, self.tgt = src, tgt

    def informative(self, min_words: int) -> bool:
        return bool(self.src.words) and len(self.tgt.plain) + self.tgt.numbers >= min_words


def score(t: _Cue, s: _Cue) -> float:
    """Lexical match of ``t``'s translation against ``s``'s source (0..1; both directions)."""
    tg, sr = t.tgt, s.src
    skeys = sr.keys
    if tg.keys.isdisjoint(skeys) and not (tg.numbers and sr.number):
        return 0.0  # nothing shared: most pairs, one set operation
    if not sr.words:
        return 0.0
    total = len(tg.plain) + tg.numbers
    ok = sum(1 for k in tg.plain if k in skeys)
    if tg.caps:  # a capitalised word not rendered from the source may be a name: neither way
        hit = sum(1 for k in tg.caps if k in skeys)
        ok += hit
        total += hit
    numbers_agree = bool(tg.numbers) and sr.number and _numbers_agree(tg, sr)
    if numbers_agree:
        ok += tg.numbers
    if not total or not ok:
        return 0.0
    tset, tnum = tg.keys, tg.number and (numbers_agree or not tg.numbers)
    covered = 0
    for w in sr.words:
        if w.number:
            covered += tnum
        elif not tset.isdisjoint(w.keys) or (w.char_keys and not tset.isdisjoint(w.char_keys)):
            covered += 1
    if not covered:
        return 0.0
    c, a = covered / len(sr.words), ok / total
    return 2 * c * a / (c + a)


def _shared(t: _Cue, s: _Cue, spread: Any = None, common: int = 0) -> int:
    """How many of ``t``'s translation words ``s``'s source accounts for (with ``spread``: only
    words no more than ``common`` of the track's sources may render)."""
    skeys = s.src.keys
    words = [k for k in (*t.tgt.plain, *t.tgt.caps) if k in skeys]
    if spread is not None:
        words = [k for k in words if spread.get(k, 0) <= common]
    return len(words)


def _th(thresholds: Mapping[str, Any] | None) -> dict[str, Any]:
    return over_defaults(DEFAULTS, thresholds)


def align_cues(source_plain: Sequence[str], target_plain: Sequence[str], src_lang: str, tgt_lang: str,
               thresholds: Mapping[str, Any] | None = None,
               own_scores: Sequence[float | None] | None = None) -> CueAlignment:
    """Misplaced cues of a track (see the module doc); empty where no lexicon exists for the pair.
    ``own_scores``: each cue's match with its own source where the caller knows it already (a
    one-cue sentence's adequacy score from ``meaning.analyse_track``; ``None`` where not): the
    pass then scores only neighbours."""
    lex = load_lexicon(src_lang, tgt_lang)
    if lex is None:
        return CueAlignment()
    th = _th(thresholds)
    s_sep = "" if base_lang(src_lang) in ("zh", "ja", "th", "lo", "km", "my") else " "
    t_sep = "" if base_lang(tgt_lang) in ("zh", "ja", "th", "lo", "km", "my") else " "
    n = min(len(source_plain), len(target_plain))
    srcs: dict[str, _Src] = {}
    tgts: dict[str, _Tgt] = {}
    cues: list[_Cue] = []
    for i in range(n):
        s_text, t_text = source_plain[i].replace("\n", s_sep), target_plain[i].replace("\n", t_sep)
        sr = srcs.get(s_text)
        if sr is None:
            sr = srcs[s_text] = _Src(source_info(s_text, lex), src_lang)
        tg = tgts.get(t_text)
        if tg is None:
            tg = tgts[t_text] = _Tgt(target_info(t_text, tgt_lang), tgt_lang)
        cues.append(_Cue(sr, tg))
    min_words = int(th["alignment_swap_min_words"])
    informative = [c.informative(1) for c in cues]
    hint = own_scores if own_scores is not None and len(own_scores) >= n else [None] * n
    own = [(score(c, c) if hint[i] is None else hint[i]) if informative[i] else 1.0  # type: ignore[misc]
           for i, c in enumerate(cues)]
    poor_at = float(th["alignment_poor"])
    poor = [informative[i] and own[i] < poor_at for i in range(n)]
    result = CueAlignment()
    if not any(poor):
        return result
    runs = _runs(cues, own, poor, informative, th)
    n_informative = sum(informative)
    # a whole track shifted: one finding, no flag per cue
    for d in {d for _, _, d, _ in runs}:
        covered = [(a, b) for a, b, dd, _ in runs if dd == d]
        span = sum(1 for a, b in covered for k in range(a, b + 1) if informative[k])
        if n_informative >= 10 and span >= th["alignment_track_share"] * n_informative:
            first, last = min(a for a, _ in covered), max(b for _, b in covered)
            word = f"line{'s' if abs(d) > 1 else ''}"
            result.findings.append(TrackFinding(
                "misalignment", "major",
                f"the translation is shifted against the source by {abs(d)} {word} from cue {first + 1} to cue "
                f"{last + 1}: each cue's translation belongs to the source {abs(d)} {word} "
                f"{'later' if d > 0 else 'earlier'} ({span} of {n_informative} cues agree)", first, last, d))
            result.shifted = frozenset(range(first, last + 1))
            return result
    if n_informative >= 50 and sum(poor) > th["alignment_poor_track_share"] * n_informative:
        return result  # nothing matches its own source: chance matches are noise (the sentence analysis says so)
    for a, b, d, _ in runs:
        for i in range(a, b + 1):
            if poor[i] and 0 <= i + d < n:
                there = score(cues[i], cues[i + d])
                if there > own[i]:
                    result.moved[i] = CueMove(i, i + d, own[i], there, (a, b))
    # a translation held over a second cue (shown while two source lines are spoken) is one cue's
    # words on two: not a candidate for a swap, its words belong half to the neighbour by design
    held = [0 < i and cues[i].tgt is cues[i - 1].tgt or i + 1 < n and cues[i].tgt is cues[i + 1].tgt for i in range(n)]
    result.poor = {i: own[i] for i in range(n) if poor[i] and not held[i]}
    _swaps(cues, own, poor, cues_ok=[poor[i] and not held[i] and cues[i].informative(min_words) for i in range(n)],
           th=th, out=result.moved)
    return result


def _runs(cues: list[_Cue], own: list[float], poor: list[bool], informative: list[bool],
          th: Mapping[str, Any]) -> list[tuple[int, int, int, float]]:
    """Shifted runs ``(first, last, offset, gain)``: per offset, the stretches where scoring each
    poor cue against the source ``offset`` cues away gains clearly over its own (maximum-sum
    segments: a cue that matches its own source well, or the other poorly, ends the run)."""
    n = len(cues)
    bias, penalty = float(th["alignment_bias"]), float(th["alignment_good_penalty"])
    need, min_cues = float(th["alignment_run_gain"]), int(th["alignment_run_min_cues"])
    there_min = float(th["alignment_there_min"])
    found: list[tuple[int, int, int, float]] = []
    k_max = int(th["alignment_run_offsets"])
    for d in [o for k in range(1, k_max + 1) for o in (-k, k)]:
        total = best = 0.0
        start = best_end = -1
        hits = best_hits = 0
        for i in range(n + 1):
            if i < n:
                j = i + d
                hit = 0
                if total <= 0 and (not poor[i] or not 0 <= j < n or cues[i].tgt.keys.isdisjoint(cues[j].src.keys)):
                    continue  # outside a run only a hit starts one, and a hit shares words (most cues: one set test)
                if not informative[i] or not (0 <= j < n):
                    g = 0.0
                elif not poor[i]:
                    # a cue matching its own source: the end of a run, unless (inside one) the
                    # source before matches it better still (an own match by chance: "let" for 放心)
                    g = -penalty if total <= 0 else min(0.0, score(cues[i], cues[j]) - own[i] - bias)
                else:
                    there = score(cues[i], cues[j])
                    g = there - own[i] - bias
                    if g > 0:
                        if there >= there_min:
                            hit = 1
                        else:
                            g = 0.0  # a small gain over a poor match is no evidence either way
                if total <= 0:
                    if g <= 0:
                        continue
                    total, start, best, best_end, hits, best_hits = 0.0, i, 0.0, -1, 0, 0
                total += g
                hits += hit
                if total > best:
                    best, best_end, best_hits = total, i, hits
            if i == n or total <= 0:
                if best >= need and best_hits >= min_cues:
                    found.append((start, best_end, d, best))
                total = best = 0.0
                hits = best_hits = 0
    # overlapping runs of different offsets: the stronger one stands
    found.sort(key=lambda r: -r[3])
    kept: list[tuple[int, int, int, float]] = []
    for r in found:
        if all(r[1] < k[0] or r[0] > k[1] for k in kept):
            kept.append(r)
    return sorted(kept)


def _swaps(cues: list[_Cue], own: list[float], poor: list[bool], cues_ok: list[bool], th: Mapping[str, Any],
           out: dict[int, CueMove]) -> None:
    """Pairs of poor cues within the window whose translations each match the other's source
    clearly better than their own, and better than any other source in the window (mutual best:
    a chance match of one translation to some neighbour is common, of both ways to each other not)."""
    window, margin = int(th["alignment_window"]), float(th["alignment_swap_margin"])
    there_min = float(th["alignment_swap_min"])
    n = len(cues)
    cand = [i for i in range(n) if poor[i] and cues_ok[i] and i not in out]
    # which poor cues' sources may render a key: the neighbours worth scoring, without a set
    # operation per neighbour (a track of 20,000 cues has a million neighbour pairs)
    asked = frozenset().union(*(cues[i].tgt.keys for i in cand)) if cand else frozenset()
    where: dict[str, list[int]] = {}
    asked_of: dict[int, frozenset[str]] = {}  # per distinct source: a track repeats its lines
    for j in range(n):
        if poor[j]:
            src = cues[j].src
            found_keys = asked_of.get(id(src))
            if found_keys is None:
                found_keys = asked_of[id(src)] = frozenset(src.keys & asked)  # only keys some candidate's translation holds
            for k in found_keys:
                where.setdefault(k, []).append(j)
    spread = _Spread(cues, asked)
    common = max(2, int(float(th["alignment_common_share"]) * n))
    best_of: dict[int, tuple[int, float]] = {}
    for i in cand:
        ci = cues[i]
        lo, hi = i - window, i + window
        shared: Counter[int] = Counter()
        for k in ci.tgt.keys:
            found = where.get(k)
            if found:
                shared.update(found[bisect_left(found, lo):bisect_right(found, hi)])
        shared.pop(i, None)
        top, top_j = 0.0, -1
        # the sources sharing most words are scored, not every neighbour; ties go to the nearest, then
        # the earlier (never to the order keys came out of a set: that changes with each process's
        # hash seed, and a rerun must flag what the first run flagged)
        for j in sorted(shared, key=lambda j: (-shared[j], abs(j - i), j))[:3]:
            a = score(ci, cues[j])
            if a > top or (a == top and j < top_j):
                top, top_j = a, j
        if top_j >= 0 and top >= there_min and top >= own[i] + margin:
            best_of[i] = (top_j, top)
    strong = float(th["alignment_one_sided"])
    for i, (j, a) in best_of.items():
        if best_of.get(j, (-1, 0.0))[0] == i:
            if j > i:
                b = best_of[j][1]
                out[i] = CueMove(i, j, own[i], a)
                out[j] = CueMove(j, i, own[j], b)
        elif a >= strong and i not in out and _shared(cues[i], cues[j], spread, common) >= 2:
            # one way only, but clearly: this translation renders cue j's source, and cue j's own
            # translation does not (a free rendering there gives the lexicon nothing to match back)
            out[i] = CueMove(i, j, own[i], a)


class _Spread:
    """How many cues' sources may render a key: a word most lines can render ("know", "I") is no
    evidence that a translation belongs to one particular other line. Counted per key on first
    ask (only one-sided matches ask, for a few keys), over the track's distinct sources."""

    def __init__(self, cues: list[_Cue], asked: frozenset[str]) -> None:
        self._cues, self._asked = cues, asked  # keys some candidate's translation holds: no other is counted
        self._sources: list[tuple[_Src, int]] | None = None
        self._counts: dict[str, int] = {}

    def get(self, key: str, default: int = 0) -> int:
        if key not in self._asked:
            return default
        found = self._counts.get(key)
        if found is None:
            if self._sources is None:
                times = Counter(id(c.src) for c in self._cues)
                one = {id(c.src): c.src for c in self._cues}
                self._sources = [(one[i], k) for i, k in times.items()]
            found = self._counts[key] = sum(k for src, k in self._sources if key in src.keys)
        return found or default


# --- hooks for the per-cue check and the report's track section -----------------------------------

def for_track(track: Any, thresholds: Mapping[str, Any] | None, glossary: Any = None) -> CueAlignment:
    """The pass for a ``meaning.TrackContext``, memoised in it (shared by every cue and the report),
    with the cues whose translation carries another cue's names or numbers (:func:`_add_anchored`)."""
    found = track.memo.get("cue_alignment")
    if found is None:
        found = align_cues(track.source_plain, track.target_plain, track.src_lang, track.tgt_lang, thresholds,
                           _own_scores(track))
        if found.poor:
            _add_anchored(found, track, glossary, int(_th(thresholds)["alignment_window"]))
        track.memo["cue_alignment"] = found
    return found


#: the cue that lost a name or number to another cue's translation matches its own source under
#: this (its translation came from elsewhere), not merely under ``alignment_poor`` (a line that
#: renders its source but drops the name is the glossary check's)
UNRELATED = 0.35


def _add_anchored(result: CueAlignment, track: Any, glossary: Any, window: int) -> None:
    """Poor cues whose translation says a name, term or number that a cue nearby lost (see
    :mod:`localise.quality.anchors`): a short line swapped with another shares too few dictionary
    words with either source for the lexical pass, but its names and numbers give it away. Judged
    against whole sentences, so a name moved inside its own sentence is no evidence."""
    from localise.quality import anchors

    _, src, tgt, position = track.sentences()

    def unrelated(j: int) -> bool:
        """Cue ``j``'s translation has next to nothing of its source. The pass's score credits any
        number of a translation where the source holds one; the adequacy (asked only here, for the
        few cues that lost an anchor) credits only numbers of the source's values."""
        own = result.poor.get(j)
        if own is None:
            return False
        if own < UNRELATED:
            return True
        a = adequacy(track.source_plain[j], track.target_plain[j], track.src_lang, track.tgt_lang, glossary)
        return a is not None and a.target_words > 0 and a.score < UNRELATED

    moved = anchors.moved_translations(track.source_plain, track.target_plain, track.src_lang, track.tgt_lang,
                                       glossary, result.poor.__contains__, window,
                                       lambda i: (src[position[i]], tgt[position[i]]), result.moved.__contains__,
                                       unrelated)
    for i, m in moved.items():
        result.moved[i] = CueMove(i, m.belongs, result.poor[i], 0.0, anchors=m.anchors)


def _own_scores(track: Any) -> list[float | None] | None:
    """A one-cue sentence's adequacy score from the sentence-level analysis already made (names and
    glossary terms counted), so the pass need not score the cue against its own source again."""
    analysis = track.memo.get("analysis")
    if analysis is None:
        return None
    order, _, _, position = track.sentences()
    out: list[float | None] = []
    for i in range(len(track.target_plain)):
        p = position[i]
        a = analysis.adequacy[p] if len(order[p]) == 1 and p < len(analysis.adequacy) else None
        out.append(a.score if a is not None and a.target_words else None)
    return out


def cue_flags(ctx: Any) -> list[Flag]:
    """``misalignment`` for the cue of ``ctx`` (a ``checks.CueContext`` with its track) where the
    cue-level pass places its translation elsewhere; asked by ``meaning.check_misalignment`` when the
    sentence-level analysis has nothing to say about the cue."""
    found = for_track(ctx.track, ctx.thresholds, ctx.glossary)
    move = found.moved.get(ctx.index)
    if move is None or ctx.index in found.shifted:
        return []
    return [ctx.flag("misalignment", move.reason(ctx.track.source_plain[move.belongs]))]


def track_findings(track: Any, glossary: Any, thresholds: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The track-level findings of both passes as report entries (``first_cue``/``last_cue``
    1-based): the sentence-level analysis's, else the cue-level pass's (a file shifted inside
    sentences that span several cues) — never both for one shift."""
    order = track.sentences()[0]
    out = []
    for f in track.analysis(glossary, thresholds).findings:
        d = f.as_dict()
        d["first_cue"], d["last_cue"] = order[f.first][0] + 1, order[f.last][-1] + 1
        out.append(d)
    if not out:
        for f in for_track(track, thresholds, glossary).findings:
            d = f.as_dict()
            d["first_cue"], d["last_cue"] = f.first + 1, f.last + 1
            out.append(d)
    return out


__all__ = ["CueAlignment", "CueMove", "DEFAULTS", "align_cues", "cue_flags", "for_track", "score",
           "track_findings"]
