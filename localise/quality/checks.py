"""Reference-free checks per cue: each flag code is one small function, named in :data:`CHECKS`.

Why one function per code: a reviewer reads "why is this line flagged" as a code and a reason;
each rule is small enough to read, test and tune (thresholds are data: thresholds.toml).

A check gets a :class:`CueContext` (source and target cue, their plain words, languages, style,
thresholds, glossary, engine confidence, neighbouring cues) and returns the flags it raises.
Checks whose subject is a sentence rather than a line (glossary, number, omission, addition)
see the whole translation unit when the caller passes ``units`` — a term or number that the
pipeline spread into the neighbouring cue of the same sentence is not missing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from localise.formats.base import paused_gc
from localise.formats.markup import plain_texts
from localise.model import SEVERITIES, Cue, Flag, ParseWarning, Track, Unit, severity_rank
from localise.quality.calibrate import ratio_bounds
from localise.quality import meaning  # meaning checks (issue 13): lexicon-based omission/addition/misalignment
from localise.quality.numbers import Comparison as NumberComparison
from localise.quality.numbers import compare_texts
from localise.quality.surface import check_punctuation, check_spelling
from localise.quality.text import (
    UNSPACED, base_lang, content_length, display_length, html_tags, ass_tags, plain_text,
    script_counts, scripts_of, tokens, unbalanced,
)
from localise.quality.thresholds import Thresholds, load_thresholds

FLAG_CODES: tuple[str, ...] = (
    "empty", "untranslated", "glossary", "number", "repetition", "omission", "addition", "markup",
    "length", "reading-speed", "timing", "low-confidence", "punctuation", "spelling", "misalignment",
)

_SCRIPT_NAMES = {"han": "Chinese characters", "kana": "kana", "hangul": "Hangul", "thai": "Thai script",
                 "arabic": "Arabic script", "cyrillic": "Cyrillic", "latin": "Latin letters",
                 "hebrew": "Hebrew script", "devanagari": "Devanagari"}


@dataclass(slots=True)
class CueContext:
    """Everything one cue's checks may look at. ``*_plain`` are the words without markup."""

    index: int  # 0-based position of the cue in the target track
    source: Cue
    target: Cue
    source_plain: str
    target_plain: str
    src_lang: str
    tgt_lang: str
    source_format: str
    target_format: str
    style: Any  # localise.layout.Style
    thresholds: Thresholds
    glossary: Any = None
    confidence: float | None = None
    previous: Cue | None = None  # the target cue before this one (for gaps)
    # the sentence this cue belongs to (several cues when the caller passed units)
    unit_source: str = ""
    unit_target: str = ""
    unit_cues: tuple[int, ...] = ()
    unit_cue_sources: tuple[str, ...] = ()  # the source words of each cue of the sentence
    # where the source showed these words (its own timing: in ``check`` the vendor may retime)
    source_start_ms: int | None = None
    source_end_ms: int | None = None
    previous_source_end_ms: int | None = None
    memo: dict[str, Any] = field(default_factory=dict)  # results this cue's checks share
    track_memo: dict[str, Any] = field(default_factory=dict)  # shared by every cue of one check_track call
    unit_memo: dict[str, Any] = field(default_factory=dict)  # results of the whole sentence, shared by its cues
    track: Any = None  # meaning.TrackContext: every cue's words and sentence, for checks across cues

    def flag(self, code: str, reason: str, case: str | None = None, severity: str | None = None) -> Flag:
        return Flag(code, severity or self.thresholds.severity_of(code, case), reason)  # type: ignore[arg-type]

    @property
    def where(self) -> str:
        """" (sentence over cues 3–4)" when a unit-level finding spans several cues."""
        if len(self.unit_cues) > 1:
            return f" (sentence over cues {self.unit_cues[0] + 1}–{self.unit_cues[-1] + 1})"
        return ""


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return "«" + (text if len(text) <= limit else text[: limit - 1] + "…") + "»"


# --- the checks --------------------------------------------------------------------------------

def check_empty(ctx: CueContext) -> list[Flag]:
    if ctx.source_plain.strip() and not ctx.target_plain.strip():
        return [ctx.flag("empty", f"the translation is empty; the source says {_quote(ctx.source_plain)}")]
    return []


def _normalised(text: str) -> str:
    return "".join(filter(str.isalnum, text.casefold()))


#: Letters that are alphanumeric and their own case fold (CJK ideographs, kana, Hangul syllables;
#: tests/quality/test_checks.py checks every one): a text holding one never normalises to ASCII.
_CASELESS_LETTER = re.compile("[\u3041-\u3096\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]")


def _same_letters(a: str, b: str) -> bool:
    """``_normalised(a) == _normalised(b)``, answered at once for the usual Chinese line and its
    ASCII translation (one side ASCII, the other with a letter that stays non-ASCII)."""
    if (b.isascii() and _CASELESS_LETTER.search(a)) or (a.isascii() and _CASELESS_LETTER.search(b)):
        return False
    return _normalised(a) == _normalised(b)


def _same_words(ctx: CueContext) -> bool:
    """The cue's translation has the source's letters and digits (case, spaces, punctuation aside)."""
    if "same_words" not in ctx.memo:
        ctx.memo["same_words"] = _same_letters(ctx.source_plain, ctx.target_plain)
    return ctx.memo["same_words"]


def _letter_scripts(text: str) -> dict[str, int]:
    """:func:`script_counts` as a plain dict (read it with ``.get``)."""
    if text.isascii():
        letters = sum(map(str.isalpha, text))
        return {"latin": letters} if letters else {}
    return dict(script_counts(text))


def _target_scripts(ctx: CueContext) -> dict[str, int]:
    """Letters per script in the cue's translation (not to be changed by the caller)."""
    if "target_scripts" not in ctx.memo:
        ctx.memo["target_scripts"] = _letter_scripts(ctx.target_plain)
    return ctx.memo["target_scripts"]


@lru_cache(maxsize=1024)
def _foreign_scripts(src_lang: str, tgt_lang: str) -> frozenset[str]:
    """Scripts of the source language that the target language is not written in."""
    return scripts_of(src_lang) - scripts_of(tgt_lang)


def check_untranslated(ctx: CueContext) -> list[Flag]:
    src, tgt = base_lang(ctx.src_lang), base_lang(ctx.tgt_lang)
    if src == tgt:
        return []
    foreign_scripts = _foreign_scripts(src, tgt)
    if _same_words(ctx) and content_length(ctx.source_plain):
        # "OK" -> "OK", a name, or an English line inside a Japanese track copied into English is no
        # defect; a line in the source's own script is, and so is a long line into a language
        # sharing the script (zh -> ja, es -> pt)
        src_counts = script_counts(ctx.source_plain)
        own = sum(src_counts[s] for s in scripts_of(src))
        only_source = sum(src_counts[s] for s in foreign_scripts)
        if own and (only_source or content_length(ctx.source_plain) >= ctx.thresholds["untranslated_shared_script_min_letters"]):
            return [ctx.flag("untranslated", "the translation is the source text unchanged")]
    if tgt != "ja" and "latin" not in foreign_scripts and ctx.target_plain.isascii():
        return []  # the usual line: ASCII holds no letter of a foreign script (no count needed)
    counts = _target_scripts(ctx)
    total = sum(counts.values())
    if not total:
        return []
    foreign = sum(counts.get(s, 0) for s in foreign_scripts)
    if foreign:
        names = " and ".join(_SCRIPT_NAMES.get(s, s) for s in sorted(foreign_scripts) if counts.get(s, 0))
        share = foreign / total
        left = "".join(ch for ch in ctx.target_plain if not ch.isascii() and _in_scripts(ch, foreign_scripts))
        if share > ctx.thresholds["untranslated_script_share"]:
            return [ctx.flag("untranslated", f"{foreign} of {total} letters are still {names}: "
                                             f"the line was left untranslated {_quote(left)}")]
        return [ctx.flag("untranslated", f"{names} left in the translation: {_quote(left)}", case="partial")]
    # zh -> ja share Han: a Japanese line of many Han letters and no kana reads as Chinese left in
    if tgt == "ja" and "han" in scripts_of(src) and not counts.get("kana", 0):
        if counts.get("han", 0) >= ctx.thresholds["untranslated_han_no_kana"]:
            return [ctx.flag("untranslated", f"{counts.get('han', 0)} Chinese characters and no kana: "
                                             "looks like the Chinese line left in", case="partial")]
    return []


def _in_scripts(ch: str, scripts: frozenset[str]) -> bool:
    from localise.quality.text import char_script

    return char_script(ch) in scripts


def check_glossary(ctx: CueContext) -> list[Flag]:
    """Terms whose required rendering is missing from the sentence's translation, each reported
    once: on the cue whose source holds the term (the sentence's first cue if the term spans two)."""
    if ctx.glossary is None:
        return []
    if "glossary" not in ctx.unit_memo:  # verified once per sentence
        ctx.unit_memo["glossary"] = _glossary_findings(ctx)
    return [f for cue, f in ctx.unit_memo["glossary"] if cue == ctx.index]


def _glossary_findings(ctx: CueContext) -> list[tuple[int, Flag]]:
    matches = meaning.glossary_terms(ctx.glossary, ctx.unit_source)  # found once per text, shared with meaning
    if not matches:  # most sentences hold no term
        return []
    from localise.glossary import missing_term_flag

    out = []
    for match, target in ctx.glossary.missing(ctx.unit_source, ctx.unit_target, ctx.tgt_lang, matches):
        anchor = ctx.unit_cues[0] if ctx.unit_cues else ctx.index
        for cue, words in zip(ctx.unit_cues, ctx.unit_cue_sources):
            if match.term in words:
                anchor = cue
                break
        flag = missing_term_flag(match.term, target, ctx.tgt_lang)
        out.append((anchor, ctx.flag("glossary", flag.reason + ctx.where)))
    return out


def check_number(ctx: CueContext) -> list[Flag]:
    """Values, not tokens (localise.quality.numbers): a different value is a conflict (major); a
    quantity the translation leaves out (condensing) or one it adds is minor."""
    if "numbers" not in ctx.unit_memo:  # a comparison of the sentence: once for all its cues
        ctx.unit_memo["numbers"] = compare_texts(
            ctx.unit_source, ctx.unit_target, ctx.src_lang, ctx.tgt_lang, glossary=ctx.glossary,
            non_quantities=ctx.thresholds.values.get("number_non_quantities", ()))
    found: NumberComparison = ctx.unit_memo["numbers"]
    flags = []
    if found.conflicts:
        pairs = "; ".join(f"{s.describe()} in the source, {t.describe()} in the translation" for s, t in found.conflicts)
        flags.append(ctx.flag("number", "numbers disagree — the translation states a different value: " + pairs + ctx.where,
                              case="conflict"))
    if found.missing:
        flags.append(ctx.flag("number", "numbers disagree — in the source but not in the translation: "
                              + ", ".join(n.describe() for n in found.missing) + ctx.where, case="missing"))
    if found.extra:
        flags.append(ctx.flag("number", "numbers disagree — in the translation but not in the source: "
                              + ", ".join(n.describe() for n in found.extra) + ctx.where, case="extra"))
    return flags


def longest_run(seq: Sequence[str], max_n: int) -> tuple[int, tuple[str, ...]]:
    """The most times any n-gram (n <= max_n) is repeated back to back, and that n-gram (the
    shortest, then the first, of those repeated most).

    One pass per n: an n-gram starting at ``i`` is repeated ``k`` times back to back exactly when
    ``seq[j] == seq[j + n]`` for the ``(k - 1) * n`` positions from ``i`` on, so the length of each
    such run of matches gives the repeats of the n-gram at its start (later starts have fewer)."""
    best, best_gram = (1, tuple(seq[:1])) if seq else (0, ())
    m = len(seq)
    for n in range(1, max_n + 1):
        i = 0
        while i < m - n:
            if seq[i] != seq[i + n]:
                i += 1
                continue
            j = i + 1
            while j < m - n and seq[j] == seq[j + n]:
                j += 1
            k = 1 + (j - i) // n
            if k > best:
                best, best_gram = k, tuple(seq[i : i + n])
            i = j
    return best, best_gram


def _most_repeated(seq: Sequence[str]) -> int:
    """An upper bound of how often any one item occurs in ``seq`` (exact when it matters)."""
    duplicates = len(seq) - len(set(seq))
    if duplicates <= 1:
        return duplicates + 1 if seq else 0
    return max(Counter(seq).values())


def check_repetition(ctx: CueContext) -> list[Flag]:
    th = ctx.thresholds
    t_tokens = tokens(ctx.target_plain, ctx.tgt_lang)
    # An n-gram repeated k times (back to back or not) repeats its first token k times: a line
    # whose most frequent token occurs fewer times than both limits has nothing to find.
    most = _most_repeated(t_tokens)
    min_repeats, phrase_repeats = th["repetition_min_repeats"], th["repetition_phrase_repeats"]
    if most < min_repeats and most < phrase_repeats:
        return []
    src_runs_memo: list[int] = []

    def src_runs_() -> int:  # the source's own repeats, only when the target has some
        if not src_runs_memo:
            src_runs_memo.append(longest_run(tokens(ctx.source_plain, ctx.src_lang), th["repetition_max_ngram"])[0])
        return src_runs_memo[0]

    runs, gram = longest_run(t_tokens, th["repetition_max_ngram"]) if most >= min_repeats else (most, ())
    joiner = "" if base_lang(ctx.tgt_lang) in UNSPACED else " "
    if runs >= min_repeats and runs > src_runs_():
        return [ctx.flag("repetition", f"{_quote(joiner.join(gram))} repeated {runs} times in a row "
                                       f"(the source has no such repeat): a translation loop")]
    # a phrase of 3+ words said again and again, not back to back
    if most >= phrase_repeats and base_lang(ctx.tgt_lang) not in UNSPACED and src_runs_() < phrase_repeats:
        for n in range(th["repetition_max_ngram"], 2, -1):
            grams = Counter(tuple(t_tokens[i : i + n]) for i in range(len(t_tokens) - n + 1))
            if grams:
                phrase, count = grams.most_common(1)[0]
                if count >= th["repetition_phrase_repeats"]:
                    return [ctx.flag("repetition", f"{_quote(' '.join(phrase))} appears {count} times in one line")]
    return []


def _mostly_source_script(ctx: CueContext) -> bool:
    """A line still in the source language: its length says nothing about omissions."""
    single = len(ctx.unit_cues) <= 1  # the sentence is the cue: same letters, same scripts
    if _same_words(ctx) if single else _same_letters(ctx.unit_source, ctx.unit_target):
        return True
    foreign_scripts = _foreign_scripts(ctx.src_lang, ctx.tgt_lang)
    if "latin" not in foreign_scripts and (ctx.target_plain if single else ctx.unit_target).isascii():
        return False  # the usual line: no letter of a foreign script, no count needed
    counts = _target_scripts(ctx) if single else _letter_scripts(ctx.unit_target)
    foreign = sum(counts.get(s, 0) for s in foreign_scripts)
    return bool(counts) and foreign / sum(counts.values()) > ctx.thresholds["untranslated_script_share"]


@lru_cache(maxsize=4096)
def _bounds(src_lang: str, tgt_lang: str, source_chars: int) -> Any:
    """:func:`ratio_bounds` from the packaged table (a pure function of its arguments: cached)."""
    return ratio_bounds(src_lang, tgt_lang, source_chars)


def _ratio_check(ctx: CueContext) -> tuple[int, int, Any, float, float] | None:
    """(source letters, target letters, bounds, lowest and highest acceptable target letters)."""
    if "ratio" not in ctx.unit_memo:  # a figure of the sentence: the same for each of its cues
        ctx.unit_memo["ratio"] = _ratio_figures(ctx)
    return ctx.unit_memo["ratio"]


def _ratio_figures(ctx: CueContext) -> tuple[int, int, Any, float, float] | None:
    if _not_translated(ctx):
        return None  # empty / untranslated are their own flags
    s, t = content_length(ctx.unit_source), content_length(ctx.unit_target)
    bounds = _bounds(ctx.src_lang, ctx.tgt_lang, s)
    if not s or bounds is None:
        return None
    margin = float(ctx.thresholds["length_ratio_margin"])
    slack = float(ctx.thresholds["length_ratio_slack_chars"])
    return s, t, bounds, bounds.lower / margin * max(s - slack, 0), bounds.upper * margin * (s + slack)


def _ratio_reason(s: int, t: int, bounds: Any, low: float, high: float, ctx: CueContext) -> str:
    basis = "calibrated on zh–en subtitles and Tatoeba sentences" if bounds.calibrated else bounds.basis
    return (f"{t} letters for {s} in the source (ratio {t / s:.2f}; a line of this length usually gives "
            f"{low:.0f}–{high:.0f} letters, ratio {bounds.lower:.2f}–{bounds.upper:.2f}, {basis}){ctx.where}")


def _not_translated(ctx: CueContext) -> bool:
    if "not_translated" not in ctx.unit_memo:
        ctx.unit_memo["not_translated"] = not ctx.unit_target.strip() or _mostly_source_script(ctx)
    return ctx.unit_memo["not_translated"]


def check_omission(ctx: CueContext) -> list[Flag]:
    found = _ratio_check(ctx)
    reason = None
    if found and found[1] < found[3]:
        reason = "translation much shorter than the source, words may be missing: " + _ratio_reason(*found, ctx)
    if _not_translated(ctx):  # empty / untranslated: their own flags
        return []
    return meaning.omission_flags(ctx, reason)  # length and lexicon combined


def check_addition(ctx: CueContext) -> list[Flag]:
    found = _ratio_check(ctx)
    reason = None
    if found and found[1] > found[4]:
        reason = "translation much longer than the source, words may have been added: " + _ratio_reason(*found, ctx)
    if _not_translated(ctx):
        return []
    return meaning.addition_flags(ctx, reason)  # length and lexicon combined


_BASIC_STYLE = {"i", "b", "u", "s"}


def _inventory(text: str, fmt: str) -> Counter[str]:
    if fmt in ("ass", "ssa"):
        return Counter(ass_tags(text))
    inv = Counter(name for kind, name in html_tags(text) if kind != "close")
    inv.update("{\\" + name + "}" for name in ass_tags(text))  # {\an8} in SRT
    return inv


def check_markup(ctx: CueContext) -> list[Flag]:
    src_raw, tgt_raw = ctx.source.text, ctx.target.text
    if "<" not in src_raw and "{" not in src_raw and "<" not in tgt_raw and "{" not in tgt_raw:
        return []  # no tag in either text (every tag pattern starts with one of these)
    src_inv, tgt_inv = _inventory(src_raw, ctx.source_format), _inventory(tgt_raw, ctx.target_format)
    same_dialect = ctx.source_format == ctx.target_format or {ctx.source_format, ctx.target_format} <= {"ass", "ssa"}
    if not same_dialect:  # different markup languages: compare only italic/bold/underline/strike
        src_inv = Counter({k: 1 for k in src_inv if k in _BASIC_STYLE})
        tgt_inv = Counter({k: 1 for k in tgt_inv if k in _BASIC_STYLE})
    problems = []
    lost, added = src_inv - tgt_inv, tgt_inv - src_inv
    if lost:
        problems.append("lost " + ", ".join(_tag_label(k, ctx.source_format) + (f" ×{n}" if n > 1 else "")
                                            for k, n in sorted(lost.items())))
    if added:
        problems.append("added " + ", ".join(_tag_label(k, ctx.target_format) + (f" ×{n}" if n > 1 else "")
                                             for k, n in sorted(added.items())))
    broken = False
    if ctx.target_format not in ("ass", "ssa"):
        bad = unbalanced(html_tags(tgt_raw))
        if len(bad) > len(unbalanced(html_tags(src_raw))):
            problems.append("unbalanced: " + "; ".join(bad))
            broken = True
    elif "<" in tgt_raw:
        # SubStation Alpha has no HTML tags: a renderer shows "<i>" as three letters on screen
        shown = html_tags(tgt_raw)
        if len(shown) > len(html_tags(src_raw)):
            problems.append("an HTML tag in a SubStation Alpha line is shown as text: "
                            + ", ".join(f"<{'/' if kind == 'close' else ''}{name}>" for kind, name in shown))
            broken = True
    if not problems:
        return []
    reason = "markup differs from the source — " + "; ".join(problems)
    if not lost and not broken and all(k in _BASIC_STYLE for k in added):  # ASS: {\i1}, {\b1} (an event resets them)
        # italics (bold, underline) opened and closed where the source has none: subtitlers mark a voice
        # off, a phone, a song or a sign that way, and Chinese sources rarely carry the tags. A style
        # choice, visible but not routed for review; a lost, unbalanced or positioning tag stays a defect.
        return [ctx.flag("markup", reason + " (balanced style added: a voice off, song or sign?)", case="style_added")]
    return [ctx.flag("markup", reason)]


def _tag_label(name: str, fmt: str) -> str:
    if fmt in ("ass", "ssa"):
        return "\\" + name
    return name if name.startswith("{") else f"<{name}>"


def _ceiling(ctx: CueContext) -> float:
    """The style table's hard ceiling (a multiple of a limit): over it a layout flag is major."""
    return float(getattr(ctx.style, "ceiling", 1.3))


def check_length(ctx: CueContext) -> list[Flag]:
    """Lines over the style's length or count: minor (43–44 characters is everyday practice);
    major when a line is past the hard ceiling or the words cannot be laid out in the allowed lines."""
    style = ctx.style
    text = ctx.target_plain
    if len(text) <= style.max_chars_per_line and text.count("\n") < style.max_lines:
        return []  # most cues: no line can be over (display length never exceeds len()), nor too many
    lines = text.split("\n")
    problems = []
    if len(lines) > style.max_lines:
        problems.append(f"{len(lines)} lines (max {style.max_lines})")
    longest = 0
    for i, line in enumerate(lines, 1):
        if len(line) <= style.max_chars_per_line:  # display length never exceeds len()
            continue
        n = display_length(line)
        longest = max(longest, n)
        if n > style.max_chars_per_line:
            problems.append(f"line {i} has {n} characters (max {style.max_chars_per_line})")
    if not problems:
        return []
    hard = style.max_chars_per_line * _ceiling(ctx)
    major = longest > hard
    if major:
        problems.append(f"over the hard ceiling of {hard:.0f}")
    elif not _fits_when_wrapped(ctx):
        major = True
        problems.append(f"the words do not fit {style.max_lines} lines of {style.max_chars_per_line} however they are wrapped")
    else:
        problems.append("re-wrapping would fit")
    return [ctx.flag("length", "too long for the screen: " + "; ".join(problems), severity="major" if major else None)]


def _fits_when_wrapped(ctx: CueContext) -> bool:
    """Whether some layout puts the words in ``max_lines`` lines of ``max_chars_per_line``: filling
    lines greedily uses the fewest lines there are, so greedy failing means no layout fits."""
    style = ctx.style
    width, lines = style.max_chars_per_line, style.max_lines
    if display_length(ctx.target_plain) > lines * width:
        return False
    if base_lang(ctx.tgt_lang) in UNSPACED:
        return True  # breaks between any two characters
    used, line = 0, 1
    for word in ctx.target_plain.split():
        n = display_length(word)
        if n > width:
            return False
        if used and used + 1 + n > width:
            line, used = line + 1, n
            if line > lines:
                return False
        else:
            used = used + 1 + n if used else n
    return True


def check_reading_speed(ctx: CueContext) -> list[Flag]:
    """Characters per second over the style's limit: minor (20–25 cps is common practice);
    major only over the hard ceiling (the style table's ``ceiling`` times the limit)."""
    duration = ctx.target.duration_ms
    chars = display_length(ctx.target_plain)
    if duration <= 0 or not chars:
        return []
    cps = chars / (duration / 1000)
    limit = float(ctx.style.max_cps)
    if cps <= limit + 1e-9:
        return []
    held = _held_over_span(ctx)
    if held is not None:  # one line held over several cues is read for as long as it stays up
        first, last, duration = held
        cps = chars / (duration / 1000)
        if cps <= limit + 1e-9:
            return []
    hard = limit * _ceiling(ctx)
    major = cps > hard + 1e-9
    shown = f" (one line held over cues {held[0] + 1}–{held[1] + 1})" if held is not None else ""
    return [ctx.flag("reading-speed", f"{cps:.1f} characters per second (max {limit:g}, hard ceiling {hard:.1f}): "
                                      f"{chars} characters shown for {duration / 1000:.2f} s{shown}",
                     severity="major" if major else None)]


#: a held-over line may leave this much between its cues and still be one reading (a frame or two of
#: flicker where a vendor did not close the gap; the viewer has read the words already)
HELD_OVER_MAX_GAP_MS = 250


def _held_over_span(ctx: CueContext) -> tuple[int, int, int] | None:
    """(first, last, ms on screen) of the run of consecutive cues showing this cue's words, when it
    is more than this cue: a subtitler holding one English line over two Chinese cues shows it once."""
    cues, plain = ctx.track_memo.get("target_cues"), ctx.track_memo.get("target_plain")
    if cues is None or plain is None or len(cues) != len(plain):
        return None
    i = first = last = ctx.index

    def joined(a: int, b: int) -> bool:
        return _same_line(plain[a], plain[b]) and 0 <= cues[b].start_ms - cues[a].end_ms <= HELD_OVER_MAX_GAP_MS

    while first > 0 and joined(first - 1, first):
        first -= 1
    while last + 1 < len(cues) and joined(last, last + 1):
        last += 1
    if first == last == i:
        return None
    return first, last, max(cues[last].end_ms - cues[first].start_ms, 1)


def timing_problems(start_ms: int, end_ms: int, previous_end_ms: int | None, style: Any) -> dict[str, tuple[int, str]]:
    """Timing problems of one cue against the style table: kind -> (how bad, reason).

    Kinds: ``short``, ``long``, ``gap``, ``overlap``; "how bad" grows with the problem, so a
    translation's timing can be compared with its source's (see :func:`check_timing`)."""
    out: dict[str, tuple[int, str]] = {}
    d = end_ms - start_ms
    if d < style.min_duration_ms:
        out["short"] = (style.min_duration_ms - d, f"shown for {d / 1000:.2f} s, under the minimum "
                                                   f"{style.min_duration_ms / 1000:.2f} s")
    elif d > style.max_duration_ms:
        out["long"] = (d - style.max_duration_ms, f"shown for {d / 1000:.2f} s, over the maximum "
                                                  f"{style.max_duration_ms / 1000:.2f} s")
    if previous_end_ms is not None:
        gap = start_ms - previous_end_ms
        if gap < 0:
            out["overlap"] = (-gap, f"starts {-gap} ms before the previous cue ends (overlap)")
        elif 0 < gap < style.min_gap_ms:  # a zero gap is a chained cue, the common way to write close speech
            out["gap"] = (style.min_gap_ms - gap, f"{gap} ms after the previous cue, under the minimum gap of "
                                                  f"{style.min_gap_ms} ms")
    return out


def check_timing(ctx: CueContext) -> list[Flag]:
    """Timing problems the translation introduced. A problem its source shares (always the case in
    ``translate``, whose timings are the source's) is the source's: reported once per track by
    :func:`source_findings`, not on every cue of every language."""
    cue = ctx.target
    previous_end = ctx.previous.end_ms if ctx.previous is not None else None
    if (ctx.source_start_ms, ctx.source_end_ms, ctx.previous_source_end_ms) == (cue.start_ms, cue.end_ms, previous_end):
        return []  # the source's own timing
    found = timing_problems(cue.start_ms, cue.end_ms, previous_end, ctx.style)
    if not found:
        return []
    theirs: dict[str, tuple[int, str]] = {}
    if ctx.source_start_ms is not None and ctx.source_end_ms is not None:
        theirs = timing_problems(ctx.source_start_ms, ctx.source_end_ms, ctx.previous_source_end_ms, ctx.style)
    flags = []
    for kind, (badness, reason) in found.items():
        if kind in theirs and theirs[kind][0] >= badness:
            continue  # the source is as bad here: not the translator's doing
        note = f" (the source: {theirs[kind][1]})" if kind in theirs else ""
        major = kind == "long" and (cue.duration_ms > ctx.style.max_duration_ms * ctx.thresholds["timing_major_factor"])
        flags.append(ctx.flag("timing", f"{reason}{note}: retimed worse than the source",
                              case="overlap" if kind == "overlap" else None, severity="major" if major else None))
    return flags


def check_low_confidence(ctx: CueContext) -> list[Flag]:
    """The engine doubted its words: confidence under the pair's calibrated threshold (or the fixed
    default where the model has no calibration; the reason says which)."""
    limit = float(ctx.thresholds["low_confidence"])
    if ctx.confidence is not None and ctx.confidence < limit:
        basis = ctx.thresholds.values.get("low_confidence_basis")
        return [ctx.flag("low-confidence", f"engine confidence {ctx.confidence:.2f} is under {limit:.2f}"
                                           + (f" ({basis})" if basis else ""))]
    return []


#: Flag code -> check. Order is the order flags appear in a cue's list.
CHECKS: dict[str, Callable[[CueContext], list[Flag]]] = {
    "empty": check_empty,
    "untranslated": check_untranslated,
    "glossary": check_glossary,
    "number": check_number,
    "repetition": check_repetition,
    "omission": check_omission,
    "addition": check_addition,
    "markup": check_markup,
    "length": check_length,
    "reading-speed": check_reading_speed,
    "timing": check_timing,
    "low-confidence": check_low_confidence,
    "punctuation": check_punctuation,
    "spelling": check_spelling,
    "misalignment": meaning.check_misalignment,
}
#: Checks about the words; skipped on an empty translation (``empty`` says it all).
_TEXT_CHECKS = {"untranslated", "glossary", "number", "repetition", "omission", "addition", "length", "reading-speed",
                "punctuation", "spelling", "misalignment"}


# --- alignment ---------------------------------------------------------------------------------

def align_by_time(source: Track, target: Track) -> Track:
    """A source track cut like ``target``: cue *i* holds the source cues shown during target cue *i*.

    Each source cue goes to the target cue it overlaps most (ties: the earlier one); a target cue
    with no source cue gets empty source text; source cues overlapping no target cue are listed in
    the result's ``warnings`` as ``unaligned-source-cue`` (their words may be missing from the
    translation). Timings of the result are the target's, so timing checks read the target.
    """
    import bisect

    order = sorted(range(len(target.cues)), key=lambda i: (target.cues[i].start_ms, i))
    starts = [target.cues[i].start_ms for i in order]
    longest = max((c.duration_ms for c in target.cues), default=0)
    assigned: list[list[int]] = [[] for _ in target.cues]
    warnings: list[ParseWarning] = []
    for si, cue in enumerate(source.cues):
        best, best_overlap = None, 0
        hi = bisect.bisect_left(starts, cue.end_ms)
        lo = bisect.bisect_left(starts, cue.start_ms - longest)
        for k in range(lo, hi):
            t = target.cues[order[k]]
            overlap = min(cue.end_ms, t.end_ms) - max(cue.start_ms, t.start_ms)
            if overlap > best_overlap or (overlap == best_overlap and overlap > 0 and best is not None and order[k] < best):
                best, best_overlap = order[k], overlap
        if best is None:
            warnings.append(ParseWarning("unaligned-source-cue",
                                         f"source cue {_quote(cue.text)} overlaps no cue of the translation", cue=si))
        else:
            assigned[best].append(si)
    cues = []
    for ti, t in enumerate(target.cues):
        parts = [source.cues[i].text for i in assigned[ti]]
        extras: dict[str, Any] = {"source_cues": assigned[ti]}
        if assigned[ti]:  # when the source showed these words: its timing problems are not the target's
            extras["source_span"] = (min(source.cues[i].start_ms for i in assigned[ti]),
                                     max(source.cues[i].end_ms for i in assigned[ti]))
        cues.append(Cue(start_ms=t.start_ms, end_ms=t.end_ms, text="\n".join(parts),
                        id=",".join(source.cues[i].id for i in assigned[ti]), extras=extras))
    return Track(cues=cues, format=source.format, extras=dict(source.extras), encoding=source.encoding,
                 source_name=source.source_name, warnings=list(source.warnings) + warnings)


# --- per track ---------------------------------------------------------------------------------

def _resolve_style(tgt_lang: str, style: Any) -> Any:
    from localise.layout import style_for

    if style is None:
        return style_for(tgt_lang)
    if isinstance(style, Mapping):
        return style_for(tgt_lang, style)
    return style


def _groups(n: int, units: Sequence[Unit] | Sequence[Sequence[int]] | None) -> list[tuple[int, ...]]:
    """Cue groups that form one sentence: cues sharing a unit, transitively; one cue each without units."""
    if not units:
        return [(i,) for i in range(n)]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for unit in units or ():
        cues = list(unit.cues if isinstance(unit, Unit) else unit)
        cues = [c for c in cues if 0 <= c < n]
        for c in cues[1:]:
            parent[find(c)] = find(cues[0])
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    return [tuple(members[find(i)]) for i in range(n)]


def _join(texts: Sequence[str], lang: str) -> str:
    sep = "" if base_lang(lang) in UNSPACED else " "
    return sep.join(t.replace("\n", sep) for t in texts if t)


def _same_line(a: str, b: str) -> bool:
    return bool(a.strip()) and " ".join(a.split()) == " ".join(b.split())


def held_over(target_plain: Sequence[str], source_plain: Sequence[str]) -> list[bool]:
    """Per cue, whether it repeats the previous cue's translation over different source words: a
    subtitler holding one line over two source cues. The two are one line, not two mismatches."""
    out = [False] * len(target_plain)
    for i in range(1, len(target_plain)):
        if _same_line(target_plain[i], target_plain[i - 1]) and not _same_line(source_plain[i], source_plain[i - 1]):
            out[i] = True
    return out


def sentence_cues(
    source: Track,
    target: Track,
    source_plain: Sequence[str],
    target_plain: Sequence[str],
    held: Sequence[bool] | None = None,
) -> list[list[int]]:
    """Cue groups that form sentences, built on both sides by the rules ``translate`` merges cues
    by: a source sentence over several cues, a target sentence over several cues ("Lin Wanqing
    will be back" | "in three days."), and a held-over target line are each judged as one."""
    groups = sentence_runs(source, source_plain) + sentence_runs(target, target_plain, cased=True)
    held = held if held is not None else held_over(target_plain, source_plain)
    groups += [[i - 1, i] for i, h in enumerate(held) if h]
    return groups


def sentence_runs(track: Track, plain: Sequence[str], *, max_gap_ms: int = 1500, max_cues: int = 4,
                  cased: bool = False) -> list[list[int]]:
    """Runs of two or more cues that hold one sentence, by ``units.build_units``' merging rules (a
    cue without sentence-final punctuation runs on into the next cue that follows within
    ``max_gap_ms`` in the same style; a dialogue cue stands alone; at most ``max_cues``) — only the
    grouping the checks need, at a fraction of ``build_units``' cost on a 20,000-cue track.

    ``cased`` (a translation): in a script with capitals, a cue runs on only into a cue that starts
    in lower case ("Lin Wanqing will be back" | "in three days."); a cue cut off mid-sentence
    followed by a new sentence ("Why did you" | "Grandpa?") stays alone, so the cut is seen."""
    from localise.layout import split_dialogue
    from localise.units import _same_context, ends_sentence

    runs: list[list[int]] = []
    current: list[int] = []
    previous: Cue | None = None
    for i, cue in enumerate(track.cues):
        text = plain[i].strip()
        dialogue = bool(text) and (text[0] in "-‐‑–—" or "\n" in text) and split_dialogue(text.split("\n")) is not None
        if not text or dialogue:
            if len(current) > 1:
                runs.append(current)
            current, previous = [], None
            continue
        if current and previous is not None and (
                not 0 <= cue.start_ms - previous.end_ms <= max_gap_ms or not _same_context(previous, cue)
                or len(current) >= max_cues or (cased and _starts_new_sentence(text))):
            if len(current) > 1:
                runs.append(current)
            current = []
        current.append(i)
        previous = cue
        if ends_sentence(text):
            if len(current) > 1:
                runs.append(current)
            current, previous = [], None
    if len(current) > 1:
        runs.append(current)
    return runs


def _starts_new_sentence(text: str) -> bool:
    """A line that starts with a capital letter or a digit (in a script that has capitals)."""
    for ch in text:
        if ch.isalpha():
            return ch.isupper()
        if ch.isdigit():
            return True
    return False


def _source_timings(source: Track, n: int) -> list[tuple[int, int] | None]:
    """Per target cue, when the source showed its words: the source cue itself, or for a source
    cut like the target (:func:`align_by_time`) the span of the source cues aligned to it
    (``None`` where no source cue overlaps)."""
    out: list[tuple[int, int] | None] = []
    for cue in source.cues[:n]:
        if "source_cues" in cue.extras:
            span = cue.extras.get("source_span")
            out.append(tuple(span) if span else None)  # type: ignore[arg-type]
        else:
            out.append((cue.start_ms, cue.end_ms))
    return out


def sentence_pairs(source: Track, target: Track, src_lang: str, tgt_lang: str) -> list[tuple[tuple[int, ...], str, str]]:
    """(cue positions, source words, target words) per sentence, grouped exactly as
    :func:`check_track` groups them — what calibration and benchmarks measure sentence figures on."""
    if len(source.cues) != len(target.cues):
        source = align_by_time(source, target)
    src_plain = _plain_texts(source, None, "source_plain")
    tgt_plain = _plain_texts(target, None, "target_plain")
    held = held_over(tgt_plain, src_plain)
    groups = _groups(len(target.cues), sentence_cues(source, target, src_plain, tgt_plain, held))
    out = []
    for g in dict.fromkeys(groups):
        out.append((g, _join([src_plain[k] for k in g], src_lang),
                    _join([tgt_plain[k] for k in g if not held[k] or k == g[0]], tgt_lang)))
    return out


#: Sentence-level codes reported once per sentence (on its first cue), not on each of its cues.
ONCE_PER_SENTENCE = frozenset({"number", "omission", "addition"})


def check_track(
    source: Track,
    target: Track,
    *,
    src_lang: str,
    tgt_lang: str,
    glossary: Any = None,
    style: Any = None,
    confidences: Sequence[float | None] | None = None,
    thresholds: Mapping[str, Any] | Thresholds | None = None,
    units: Sequence[Unit] | Sequence[Sequence[int]] | None = None,
    checks: Mapping[str, Callable[[CueContext], list[Flag]]] | None = None,
    source_plain: Sequence[str] | None = None,
    target_plain: Sequence[str] | None = None,
    findings: list[dict[str, Any]] | None = None,
) -> list[list[Flag]]:
    """Flags for every target cue, one list per cue (empty when the cue is clean).

    ``findings``, when given, receives what is said once for the whole translation (a file shifted
    against its source: one misalignment finding, not a flag on every cue) for the report's
    ``track`` section.

    ``source`` and ``target`` are the same cues (``localise translate``); when their cue counts
    differ the source is first cut like the target with :func:`align_by_time`. ``style`` is a
    ``localise.layout.Style`` or overrides of the style table; ``thresholds`` overrides
    ``thresholds.toml``. Sentence-level checks (glossary, number, omission, addition) judge whole
    sentences: ``units`` (``Unit`` objects or lists of cue positions: the pipeline's) say which
    cues form one; without them they are built on both sides (:func:`sentence_cues`), as in
    ``localise check``. ``source_plain`` / ``target_plain`` are the cues' words when the caller
    has them already (the pipeline's ``markup.protect(...).plain``), one per cue.
    """
    with paused_gc():  # one context and a few lists per cue, no cycles: see paused_gc
        return _check_track(source, target, src_lang, tgt_lang, glossary, style, confidences, thresholds, units,
                            checks, source_plain, target_plain, findings)


def _check_track(
    source: Track,
    target: Track,
    src_lang: str,
    tgt_lang: str,
    glossary: Any,
    style: Any,
    confidences: Sequence[float | None] | None,
    thresholds: Mapping[str, Any] | Thresholds | None,
    units: Sequence[Unit] | Sequence[Sequence[int]] | None,
    checks: Mapping[str, Callable[[CueContext], list[Flag]]] | None,
    source_plain: Sequence[str] | None,
    target_plain: Sequence[str] | None,
    findings: list[dict[str, Any]] | None = None,
) -> list[list[Flag]]:
    if len(source.cues) != len(target.cues):
        source = align_by_time(source, target)
        units = None
        source_plain = None  # per cue of the original source, not of the aligned one
    th = load_thresholds(tgt_lang, thresholds)
    st = _resolve_style(tgt_lang, style)
    timings = _source_timings(source, len(target.cues))
    idle = _idle_checks(source, target, timings, glossary, confidences)
    table = [(code, check) for code, check in (checks or CHECKS).items() if check not in idle]
    text_free = [(code, check) for code, check in table if code not in _TEXT_CHECKS]
    src_plain = _plain_texts(source, source_plain, "source_plain")
    tgt_plain = _plain_texts(target, target_plain, "target_plain")
    held = held_over(tgt_plain, src_plain)
    if units is None:
        units = sentence_cues(source, target, src_plain, tgt_plain, held)
    else:
        units = [list(u.cues if isinstance(u, Unit) else u) for u in units] + [[i - 1, i] for i, h in enumerate(held) if h]
    groups = _groups(len(target.cues), units)
    src_sep = "" if base_lang(src_lang) in UNSPACED else " "
    tgt_sep = "" if base_lang(tgt_lang) in UNSPACED else " "
    group_text: dict[tuple[int, ...], tuple[str, str, dict[str, Any], tuple[str, ...]]] = {}
    n_conf = len(confidences) if confidences is not None else 0
    s_format, t_format = source.format, target.format
    out: list[list[Flag]] = []
    previous: Cue | None = None
    track_memo: dict[str, Any] = {"target_plain": tgt_plain, "target_cues": target.cues}
    track = meaning.TrackContext(src_plain, tgt_plain, groups, src_lang, tgt_lang)
    for i, (s_cue, t_cue) in enumerate(zip(source.cues, target.cues)):
        g = groups[i]
        s_plain, t_plain = src_plain[i], tgt_plain[i]
        if len(g) > 1:
            if g not in group_text:
                group_text[g] = (_join([src_plain[k] for k in g], src_lang),
                                 _join([tgt_plain[k] for k in g if not held[k] or k == g[0]], tgt_lang), {},
                                 tuple(src_plain[k].replace("\n", src_sep) for k in g))
            unit_source, unit_target, unit_memo, cue_sources = group_text[g]
        else:
            unit_source, unit_target, unit_memo = s_plain.replace("\n", src_sep), t_plain.replace("\n", tgt_sep), {}
            cue_sources = (unit_source,)
        timing = timings[i]
        before = timings[i - 1] if i and timings[i - 1] is not None else None
        ctx = CueContext(
            index=i, source=s_cue, target=t_cue, source_plain=s_plain, target_plain=t_plain,
            src_lang=src_lang, tgt_lang=tgt_lang, source_format=s_format, target_format=t_format,
            style=st, thresholds=th, glossary=glossary,
            confidence=confidences[i] if i < n_conf else None,  # type: ignore[index]
            previous=previous, unit_source=unit_source, unit_target=unit_target, unit_cues=g, unit_memo=unit_memo,
            unit_cue_sources=cue_sources,
            source_start_ms=timing[0] if timing else None, source_end_ms=timing[1] if timing else None,
            previous_source_end_ms=before[1] if before else None, track_memo=track_memo,
            track=track,
        )
        previous = t_cue
        empty_flags = check_empty(ctx)
        flags: list[Flag] = []
        for code, check in text_free if empty_flags and len(g) == 1 else table:
            found = empty_flags if check is check_empty else check(ctx)  # computed just above
            if found:
                flags.extend(found)
        if len(g) > 1 and flags:
            flags = _once_per_sentence(flags, unit_memo)
        out.append(flags)
    if findings is not None and meaning.available(src_lang, tgt_lang) and (checks is None or "misalignment" in checks):
        from localise.quality import alignment  # sentence-level findings, else the cue-level pass's

        findings.extend(entry | {"subject": "translation"} for entry in alignment.track_findings(track, glossary, th))
    return out


def _idle_checks(source: Track, target: Track, timings: Sequence[tuple[int, int] | None], glossary: Any,
                 confidences: Sequence[float | None] | None) -> set[Callable[[CueContext], list[Flag]]]:
    """Checks that cannot raise a flag anywhere on this track, found by one pass over it, so the
    per-cue loop does not ask them 20,000 times (the usual ``translate`` and ``check`` input: the
    source's own timings, no markup, no engine confidences)."""
    idle: set[Callable[[CueContext], list[Flag]]] = set()
    if glossary is None:
        idle.add(check_glossary)
    if not confidences or all(c is None for c in confidences):
        idle.add(check_low_confidence)
    if all(t == (c.start_ms, c.end_ms) for t, c in zip(timings, target.cues)):
        idle.add(check_timing)  # every cue keeps its source's timing (and so the gap before it)
    if not any("<" in c.text or "{" in c.text for track in (source, target) for c in track.cues):
        idle.add(check_markup)  # no tag in either track (every tag pattern starts with one of these)
    return idle


def _once_per_sentence(flags: list[Flag], unit_memo: dict[str, Any]) -> list[Flag]:
    """Drop a sentence-level finding an earlier cue of the same sentence already carries."""
    seen: set[tuple[str, str]] = unit_memo.setdefault("_reported", set())
    kept = []
    for f in flags:
        if f.code in ONCE_PER_SENTENCE:
            key = (f.code, f.reason)
            if key in seen:
                continue
            seen.add(key)
        kept.append(f)
    return kept


# --- findings about a whole track --------------------------------------------------------------

def source_findings(source: Track, style: Any = None, *, lang: str = "und") -> list[dict[str, Any]]:
    """Timing problems of the source track itself, one finding per kind with the cues it affects.

    A translation keeps its source's timings, so these are properties of the source: reported
    once per source track (``inspect``, the report's ``track`` section, the HTML summary), never
    as a flag on every cue of every language."""
    st = _resolve_style(lang, style)
    kinds: dict[str, list[int]] = {}
    worst_reason: dict[str, tuple[int, str]] = {}
    previous_end: int | None = None
    for i, cue in enumerate(source.cues):
        for kind, (badness, reason) in timing_problems(cue.start_ms, cue.end_ms, previous_end, st).items():
            kinds.setdefault(kind, []).append(i + 1)
            if kind not in worst_reason or badness > worst_reason[kind][0]:
                worst_reason[kind] = (badness, f"cue {i + 1}: {reason}")
        previous_end = cue.end_ms
    titles = {"short": "shown under the minimum duration", "long": "shown over the maximum duration",
              "gap": "closer than the minimum gap to the cue before", "overlap": "overlapping the cue before"}
    out = []
    for kind in ("overlap", "short", "long", "gap"):
        cues = kinds.get(kind)
        if not cues:
            continue
        shown = ", ".join(map(str, cues[:12])) + (f" and {len(cues) - 12} more" if len(cues) > 12 else "")
        out.append({"code": "timing", "severity": "minor", "subject": "source", "kind": kind, "cues": cues,
                    "reason": f"{len(cues)} source cue(s) {titles[kind]} (cues {shown}; worst: "
                              f"{worst_reason[kind][1]}); a translation keeps these timings"})
    return out


def _plain_texts(track: Track, given: Sequence[str] | None, what: str) -> list[str]:
    """The words of every cue: ``given`` when the caller has them, else read from the markup."""
    if given is None:
        return plain_texts([c.text for c in track.cues], track.format)
    if len(given) != len(track.cues):
        raise ValueError(f"{len(given)} {what} texts for {len(track.cues)} cues")
    return list(given)


# --- scores and summary ------------------------------------------------------------------------

def cue_score(flags: Sequence[Flag], thresholds: Thresholds | Mapping[str, Any] | None = None) -> float:
    """1.0 for a clean cue; each flag multiplies by (1 - penalty of its severity); a critical flag gives 0."""
    th = thresholds if isinstance(thresholds, Thresholds) else load_thresholds("und", thresholds)
    score = 1.0
    for f in flags:
        score *= 1.0 - float(th.score.get(f.severity, 1.0))
    return round(max(0.0, min(1.0, score)), 4)


def worst(flags: Sequence[Flag]) -> str | None:
    """The highest severity among ``flags`` (``None`` when there are none)."""
    return max((f.severity for f in flags), key=severity_rank, default=None)


def summarise(
    flags: Sequence[Sequence[Flag]],
    scores: Sequence[float] | None = None,
    *,
    reference: Mapping[str, Any] | None = None,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Per-track figures a flow can gate on (see :func:`passes`).

    ``cues_at_or_above[s]`` / ``share_at_or_above[s]`` count cues whose worst flag is at least
    severity ``s``; ``flagged_share`` is the share of cues with any flag.
    """
    th = thresholds if isinstance(thresholds, Thresholds) else load_thresholds("und", thresholds)
    if scores is None:
        scores = [cue_score(f, th) for f in flags]
    n = len(flags)
    by_code = Counter(f.code for cue in flags for f in cue)
    by_sev = Counter(f.severity for cue in flags for f in cue)
    worst_per_cue = [worst(cue) for cue in flags]
    at_or_above = {s: sum(1 for w in worst_per_cue if w is not None and severity_rank(w) >= severity_rank(s))
                   for s in SEVERITIES}
    flagged = sum(1 for cue in flags if cue)
    review_severity = review_severity_of(th)
    summary: dict[str, Any] = {
        "cues": n,
        "flagged_cues": flagged,
        "flagged_share": round(flagged / n, 4) if n else 0.0,
        "flags": sum(by_code.values()),
        "by_code": {code: by_code[code] for code in FLAG_CODES if by_code[code]}
        | {c: k for c, k in sorted(by_code.items()) if c not in FLAG_CODES},
        "by_severity": {s: by_sev[s] for s in SEVERITIES},
        "cues_at_or_above": at_or_above,
        "share_at_or_above": {s: round(k / n, 4) if n else 0.0 for s, k in at_or_above.items()},
        "review_severity": review_severity,
        "need_review_cues": at_or_above[review_severity],
        "need_review_share": round(at_or_above[review_severity] / n, 4) if n else 0.0,
        "worst_severity": worst([f for cue in flags for f in cue]),
        "mean_score": round(sum(scores) / n, 4) if n else 1.0,
        "min_score": round(min(scores), 4) if n else 1.0,
    }
    if reference:
        summary["reference"] = dict(reference)
    return summary


def unavailable_checks(src_lang: str, tgt_lang: str) -> list[str]:
    """Checks that cannot run for this language pair here (no dictionary installed, no lexicon):
    a report says so rather than letting silence read as a pass."""
    from localise.quality import surface

    return sorted(set(surface.unavailable_checks(tgt_lang)) | set(meaning.checks_unavailable(src_lang, tgt_lang)))


def review_severity_of(thresholds: Thresholds | Mapping[str, Any] | None = None) -> str:
    """The severity from which a cue is routed to a person (review queue, publishing gate's default):
    ``review_severity`` in thresholds.toml (``major``); flags below it stay visible in reports."""
    th = thresholds if isinstance(thresholds, Thresholds) else load_thresholds("und", thresholds)
    value = str(th.values.get("review_severity", "major"))
    if value not in SEVERITIES:
        raise ValueError(f"review_severity {value!r}: use one of {', '.join(SEVERITIES)}")
    return value


def needs_review(flags: Sequence[Flag], severity: str = "major") -> bool:
    """Whether a cue's flags reach the routing severity: a person should look at it."""
    rank = severity_rank(severity)
    return any(severity_rank(f.severity) >= rank for f in flags)


def passes(summary: Mapping[str, Any], severity: str = "major", max_share: float = 0.0) -> bool:
    """The gate: at most ``max_share`` of the cues carry a flag of ``severity`` or worse."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    return float(summary["share_at_or_above"][severity]) <= max_share + 1e-12


def reaches(flags: Sequence[Sequence[Flag]], severity: str) -> bool:
    """Whether any cue carries a flag of ``severity`` or worse (``localise check --fail-on``)."""
    rank = severity_rank(severity)
    return any(severity_rank(f.severity) >= rank for cue in flags for f in cue)


__all__ = [
    "CHECKS", "FLAG_CODES", "ONCE_PER_SENTENCE", "CueContext", "align_by_time", "check_track", "cue_score",
    "held_over", "needs_review", "passes", "sentence_pairs", "reaches", "review_severity_of", "sentence_cues", "source_findings",
    "summarise", "timing_problems", "unavailable_checks", "worst",
]
