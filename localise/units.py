"""Translation units: which cues are translated together, and how a translation goes back over them.

Why: a Chinese sentence often runs over two or three cues; translated cue by cue it comes out as
fragments, and tools that merge the cues shift the timing. Here cues that form one sentence are
translated as one *unit* and the translation is spread back over the same cues, in proportion
to how much of the source each cue held, breaking at punctuation or word boundaries. The number
of cues, their order and their timings never change.

Rules (``build_units``):

* consecutive cues merge while the earlier one does not end a sentence (``。！？…」』`` and the
  ASCII ``. ! ?``; a closing quote after such a mark, as in ``走吧。”``, also ends one), the
  gap between them is ``0 <= gap <= max_gap_ms`` (overlapping cues are simultaneous, not
  continuous) and, where the format has them, style, speaker name and layer are the same;
* a cue whose lines start with ``-`` or ``–`` (see ``layout.split_dialogue``) gives one unit per
  speaker and is never merged; ``spread`` puts it back as ``"- a\\n- b"`` with the source's dashes;
* a unit longer than ``max_chars`` is cut: between cues, preferring a cue that ends in
  punctuation, and inside a cue that alone is too long, at punctuation (then spaces, then, for
  text with neither, at ``max_chars``);
* cues without words (empty, or markup only) get no unit and come back as ``""``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from localise.layout import (
    STRONG_PUNCT,
    WEAK_PUNCT,
    break_atoms,
    break_quality,
    is_no_space_lang,
    join_all,
    join_atoms,
    join_pieces,
    split_dialogue,
    text_length,
)
from localise.formats.markup import plain_text
from localise.model import Cue, Track, Unit

__all__ = ["build_units", "spread", "ends_sentence", "SENTENCE_FINAL"]

#: Marks that end a sentence when they end a cue.
SENTENCE_FINAL = frozenset("。！？…」』.!?‼⁇⁈⁉．｡"
                           "\u061f\u06d4\u0964\u0965\u1362\u0589\u055e")  # ؟ ۔ । ॥ ። ։ ՞
#: Closing quotes/brackets that end a sentence when a sentence-final mark stands before them.
_CLOSERS = "\"'”’»）)]】》〉"

def _plain_texts(track: Track, given: Sequence[str] | None) -> Sequence[str]:
    """Every cue's words: ``given`` (checked to fit the track) or read from the markup."""
    if given is None:
        return [plain_text(cue.text, track.format) for cue in track.cues]
    if len(given) != len(track.cues):
        raise ValueError(f"{len(given)} plain texts for {len(track.cues)} cues")
    return given


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends with sentence-final punctuation (looking through closing quotes)."""
    text = text.rstrip()
    if not text:
        return True
    if text[-1] in SENTENCE_FINAL:
        return True
    inner = text.rstrip(_CLOSERS)
    return inner != text and bool(inner) and inner[-1] in SENTENCE_FINAL


def _cue_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def _joined(lines: Sequence[str]) -> str:
    return join_all(lines)


def _same_context(a: Cue, b: Cue) -> bool:
    """Style, speaker name and layer agree (ASS keeps them in extras; other formats have none)."""
    return all(a.extras.get(key) == b.extras.get(key) for key in ("style", "name", "layer"))


def _ends_clause(text: str) -> bool:
    text = text.rstrip().rstrip(_CLOSERS)
    return bool(text) and (text[-1] in STRONG_PUNCT or text[-1] in WEAK_PUNCT or text[-1] in SENTENCE_FINAL)


def _split_long(text: str, max_chars: int) -> list[str]:
    """Cut one over-long text into pieces of at most ``max_chars``, each ending after punctuation
    where possible, else at a word boundary (space, CJK character, Thai word), else (a single
    word longer than ``max_chars``) inside the word. Separators at a cut are dropped; nothing
    else is lost or added."""
    if text_length(text) <= max_chars:
        return [text]
    raw_atoms, raw_seps = break_atoms(text)
    atoms: list[str] = []
    seps: list[str] = []  # seps[i] stands between atoms[i] and atoms[i + 1]
    for i, atom in enumerate(raw_atoms):
        slices = [atom[k : k + max_chars] for k in range(0, len(atom), max_chars)] or [atom]
        if atoms:
            seps.append(raw_seps[i - 1])
        atoms.append(slices[0])
        for piece in slices[1:]:
            seps.append("")
            atoms.append(piece)
    pieces: list[str] = []
    cur: list[int] = []  # atom indices of the piece being built
    cur_len = 0

    def text_of(idx: list[int]) -> str:
        return atoms[idx[0]] + "".join(seps[i - 1] + atoms[i] for i in idx[1:])

    for i, atom in enumerate(atoms):
        add = text_length(atom) + (len(seps[i - 1]) if cur else 0)
        if cur and cur_len + add > max_chars:
            cut = max((k for k, j in enumerate(cur) if _ends_clause(atoms[j])), default=len(cur) - 1)
            pieces.append(text_of(cur[: cut + 1]))
            cur = cur[cut + 1 :]
            cur_len = text_length(text_of(cur)) if cur else 0
            add = text_length(atom) + (len(seps[i - 1]) if cur else 0)
            if cur and cur_len + add > max_chars:
                pieces.append(text_of(cur))
                cur, cur_len = [], 0
                add = text_length(atom)
        cur.append(i)
        cur_len += add
    if cur:
        pieces.append(text_of(cur))
    return pieces


def build_units(
    track: Track,
    *,
    max_gap_ms: int = 1500,
    max_chars: int = 400,
    max_cues: int = 4,
    plain: Sequence[str] | None = None,
) -> list[Unit]:
    """Translation units of ``track`` in cue order (see the module doc for the rules).

    ``max_cues`` caps how many cues one sentence may run over: Chinese subtitles are often
    written without punctuation, and without a cap every run of close cues would become one
    long unit whose translation spreads back over many cues only roughly. ``plain`` are the
    cues' words when the caller has them already (``markup.protect(cue.text, fmt).plain`` per
    cue); without it they are read from the markup here."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    plain = _plain_texts(track, plain)
    units: list[Unit] = []
    # Pending sentence: (cue index, text) atoms, each at most max_chars long.
    chain: list[tuple[int, str]] = []

    def add(cues: list[int], source: str, speaker: int | None = None, dash: str = "") -> None:
        units.append(Unit(id=len(units), cues=cues, source=source, speaker=speaker, dash=dash))

    def flush() -> None:
        """Pack the pending atoms into units of at most max_chars, cutting after punctuation."""
        group: list[tuple[int, str]] = []

        def emit(items: list[tuple[int, str]]) -> None:
            cues: list[int] = []
            source = ""
            for idx, text in items:
                if idx not in cues:
                    cues.append(idx)
                source = join_pieces(source, text)
            add(cues, source)

        for item in chain:
            if group and text_length(_joined([t for _, t in group] + [item[1]])) > max_chars:
                cut = max((k for k, (_, t) in enumerate(group) if _ends_clause(t)), default=len(group) - 1)
                emit(group[: cut + 1])
                group = group[cut + 1 :]
                while group and text_length(_joined([t for _, t in group] + [item[1]])) > max_chars:
                    emit(group)
                    group = []
            group.append(item)
        if group:
            emit(group)
        chain.clear()

    prev: Cue | None = None
    for index, cue in enumerate(track.cues):
        lines = _cue_lines(plain[index])
        if not lines:
            flush()
            prev = None
            continue
        turns = split_dialogue(lines)
        if turns:
            flush()
            prev = None
            for speaker, (dash, body) in enumerate(turns):
                for piece in _split_long(body, max_chars):
                    add([index], piece, speaker=speaker, dash=dash)
            continue
        text = _joined(lines)
        if chain and prev is not None:
            gap = cue.start_ms - prev.end_ms
            if not (0 <= gap <= max_gap_ms and _same_context(prev, cue)):
                flush()
            elif len({i for i, _ in chain}) >= max_cues:
                flush()
        chain.extend((index, piece) for piece in _split_long(text, max_chars))
        prev = cue
        if ends_sentence(text):
            flush()
            prev = None
    flush()
    return units


# --------------------------------------------------------------------------------------------
# Spreading translations back over cues


def _nonspace(text: str) -> int:
    return len(text) - sum(map(str.isspace, text))


def _cue_weights(units: Sequence[Unit], cue_plain: Sequence[str]) -> dict[int, list[int]]:
    """For each non-dialogue unit, how many source characters it took from each of its cues.

    Units are built in cue order from the same plain text, so walking a cursor over each cue's
    characters (whitespace ignored: joining adds spaces) recovers the split without storing it.
    """
    remaining = [_nonspace(t) for t in cue_plain]
    weights: dict[int, list[int]] = {}
    for pos, unit in enumerate(units):
        if unit.speaker is not None:
            continue
        need = _nonspace(unit.source)
        taken: list[int] = []
        for k, c in enumerate(unit.cues):
            avail = remaining[c] if 0 <= c < len(remaining) else 0
            take = need if k == len(unit.cues) - 1 else min(need, avail)
            if 0 <= c < len(remaining):
                remaining[c] = max(0, avail - take)
            need -= take
            taken.append(take)
        if sum(taken) <= 0:
            taken = [1] * len(unit.cues)
        weights[pos] = taken
    return weights


def _distribute(text: str, weights: Sequence[int], lang: str) -> list[str]:
    """Cut ``text`` into ``len(weights)`` pieces, in proportion to ``weights``, at atom boundaries
    (words; characters for CJK; Thai words), preferring boundaries after punctuation.

    Every piece is non-empty when there are at least as many atoms as pieces; pieces joined in
    order (with the atom separators) give ``text`` back, whitespace collapsed.
    """
    k = len(weights)
    atoms, seps = break_atoms(text, lang)
    if k == 1:
        return [" ".join(text.split()) if not atoms else join_atoms(atoms, seps)]
    if not atoms:
        return [""] * k
    m = len(atoms)
    total_w = sum(weights) or k
    w = weights if sum(weights) else [1] * k
    # end[i]: characters from the start of the text to the end of atom i
    end: list[int] = []
    acc = 0
    for i, atom in enumerate(atoms):
        acc += text_length(atom) + (len(seps[i - 1]) if i else 0)
        end.append(acc)
    total = end[-1]
    cum = 0.0
    targets: list[float] = []
    for j in range(k - 1):
        cum += w[j]
        targets.append(cum / total_w * total)
    piece_avg = total / k

    scale = min(12.0, 0.35 * piece_avg)

    def bonus(i: int) -> float:
        """Characters of distance a break after atom ``i`` is worth (punctuation +, article -)."""
        return break_quality(atoms[i], lang) * scale

    if m < k:
        # Too few atoms to give every cue one: each atom goes to the cue its middle falls in.
        pieces: list[list[str]] = [[] for _ in range(k)]
        bounds = targets + [float("inf")]
        start = 0
        for i, atom in enumerate(atoms):
            mid = (start + end[i]) / 2
            j = next(j for j, b in enumerate(bounds) if mid <= b)
            pieces[j].append(atom)
            start = end[i]
        joiner = "" if is_no_space_lang(lang) else " "
        return [joiner.join(p) for p in pieces]

    # Choose cut points b_1 < ... < b_{k-1} (cut after atom b_j) minimising distance to targets.
    inf = float("inf")
    cost = [[inf] * m for _ in range(k - 1)]
    back = [[-1] * m for _ in range(k - 1)]
    for j in range(k - 1):
        lo, hi = j, m - (k - 1 - j) - 1  # leave at least one atom per remaining piece
        best_prev, best_arg = (0.0, -1) if j == 0 else (inf, -1)
        for i in range(lo, hi + 1):
            if j > 0 and i - 1 >= 0 and cost[j - 1][i - 1] < best_prev:
                best_prev, best_arg = cost[j - 1][i - 1], i - 1
            if best_prev == inf:
                continue
            cost[j][i] = best_prev + abs(end[i] - targets[j]) - bonus(i)
            back[j][i] = best_arg
    last = min(range(m), key=lambda i: cost[k - 2][i])
    cuts = [last]
    for j in range(k - 2, 0, -1):
        cuts.append(back[j][cuts[-1]])
    cuts.reverse()
    out: list[str] = []
    start = 0
    for stop in cuts + [m - 1]:
        out.append(atoms[start] + "".join(seps[i - 1] + atoms[i] for i in range(start + 1, stop + 1)))
        start = stop + 1
    return out


def spread(
    track: Track,
    units: list[Unit],
    translations: list[str],
    target_lang: str,
    *,
    plain: Sequence[str] | None = None,
) -> list[str]:
    """One plain text per cue of ``track``: each unit's translation spread over its cues.

    Dialogue cues come back as one line per speaker with the source's dash (``"- a\\n- b"``);
    other texts have no line breaks (wrapping is ``layout.wrap``'s job). Cues in no unit get ``""``.
    ``plain`` are the source cues' words when the caller has them (as for :func:`build_units`).
    """
    if len(translations) != len(units):
        raise ValueError(f"{len(translations)} translations for {len(units)} units")
    n = len(track.cues)
    cue_plain = [_joined(_cue_lines(text)) for text in _plain_texts(track, plain)]
    weights = _cue_weights(units, cue_plain)
    # parts[(cue, speaker)] = translated pieces in unit order
    parts: dict[tuple[int, int | None], list[str]] = defaultdict(list)
    dashes: dict[tuple[int, int], str] = {}
    for pos, (unit, translation) in enumerate(zip(units, translations)):
        text = " ".join((translation or "").split())
        if unit.speaker is not None:
            key = (unit.cues[0], unit.speaker)
            parts[key].append(text)
            dashes[key] = unit.dash
            continue
        pieces = _distribute(text, weights[pos], target_lang)
        for cue_index, piece in zip(unit.cues, pieces):
            parts[(cue_index, None)].append(piece)

    joiner = "" if is_no_space_lang(target_lang) else " "

    def join(items: list[str]) -> str:
        return joiner.join(p for p in items if p)

    speakers_of: dict[int, list[int]] = defaultdict(list)
    for c, s in parts:
        if s is not None:
            speakers_of[c].append(s)
    out: list[str] = []
    for i in range(n):
        speakers = sorted(speakers_of.get(i, ()))
        if speakers:
            out.append("\n".join(dashes[(i, s)] + join(parts[(i, s)]) for s in speakers))
        else:
            out.append(join(parts.get((i, None), [])))
    return out
