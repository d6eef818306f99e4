"""The shortcuts of the check's speed work (issue 14) answer exactly what the slower forms did.

Each fast path here replaced a slower computation that stays the reference: a regex searched from
every position of a line (the cut-off tests), two passes over a track's words (spelling's names
and vocabulary). Property tests compare the two on arbitrary text, so a later edit of either
side that makes them disagree fails here, not as a silently changed flag.
"""

from __future__ import annotations

import gc

from hypothesis import given, settings
from hypothesis import strategies as st

from localise.formats.base import paused_gc
from localise.quality import meaning, surface
from localise.quality.lexicon import dangling_words

# letters (Latin, accented, CJK), digits, marks of both widths, spaces of several kinds, apostrophes
_ALPHABET = st.sampled_from(list("aAbBzZéÉ林晚 0123\t\n\u3000\u00a0.,!?…。！？'’-_\"»)(:;") + ["Mr.", "and", "for", "his"])
_TEXT = st.lists(_ALPHABET, max_size=12).map("".join)


def _mid_sentence_by_regex(source: str, target: str) -> str | None:
    source, target = source.rstrip(), target.rstrip()
    if not source or not target or source[-1] not in meaning._SOURCE_FINAL_MARKS or meaning._TARGET_END_OK.search(target):
        return None
    return " ".join(target.split()[-3:])


def _dangling_by_regex(target: str, lang: str) -> str | None:
    words = dangling_words(lang)
    m = meaning._LAST_WORD.search(target.rstrip())
    return m.group(1) if words and m and m.group(1).lower().replace("’", "'") in words else None


@settings(max_examples=400, deadline=None)
@given(source=_TEXT, target=_TEXT)
def test_stops_mid_sentence_reads_the_last_character_as_the_regex_did(source, target):
    assert meaning.stops_mid_sentence(source, target) == _mid_sentence_by_regex(source, target)


@settings(max_examples=400, deadline=None)
@given(target=_TEXT)
def test_stops_on_dangling_word_reads_the_last_word_as_the_regex_did(target):
    assert meaning.stops_on_dangling_word(target, "en") == _dangling_by_regex(target, "en")


def test_a_cut_line_is_still_seen():
    assert meaning.stops_mid_sentence("你为什么来山上？", "Why did you") == "Why did you"
    assert meaning.stops_mid_sentence("你为什么来山上？", "Why did you come?") is None
    assert meaning.stops_on_dangling_word("Sign it, and for", "en") == "for"
    assert meaning.stops_on_dangling_word("Sign it, and for.", "en") is None


_LINES = st.lists(st.sampled_from([
    "Wanqing, wait!", "I saw Wanqing at the door.", "Wanqing is here.", "wanqing", "The matcha is cold.",
    "Matcha again?", "We drink matcha.", "Mr. Lin came.", "J.T. Lin left.", "", "Teh end.", "teh cat",
    "McDonald's is closed.", "Señor García llegó.", "«Zhao» said so. Zhao left.", "Well-Known words",
]), max_size=20)


@settings(max_examples=200, deadline=None)
@given(texts=_LINES, repeats=st.integers(1, 3), cues=st.integers(1, 4))
def test_track_word_sets_is_names_and_vocabulary_together(texts, repeats, cues):
    expected = surface.track_names(texts, "en", min_repeats=repeats) | surface.track_vocabulary(texts, min_cues=cues)
    assert surface.track_word_sets(texts, "en", min_repeats=repeats, min_cues=cues) == expected


def test_paused_gc_moves_a_long_steps_survivors_out_of_the_young_generation():
    """What a long step keeps is not walked again by the next young collection (issue 14: 0.3 s
    after a 20,000-cue check); a short step leaves the collector's generations as they were."""
    was = gc.isenabled()
    gc.enable()
    try:
        with paused_gc():
            kept = [[i] for i in range(120_000)]
        assert gc.isenabled()
        assert gc.get_count()[0] < 1_000  # the survivors went to the oldest generation
        with paused_gc():
            few = [[i] for i in range(10)]
        assert gc.isenabled() and few and kept
    finally:
        if not was:
            gc.disable()


def test_paused_gc_never_thaws_what_a_caller_froze():
    """A server that froze its start-up objects (``gc.freeze`` before forking) keeps them frozen."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with paused_gc():
            kept = [[i] for i in range(120_000)]
        after = gc.get_freeze_count()
        # not thawed (that would make it 0), and the block's survivors not frozen on top; the
        # count may fall a little: a frozen object whose last reference goes is freed as usual
        assert kept and 0 < after <= frozen and after > frozen - 100_000
    finally:
        gc.unfreeze()


# --- round 21: whole-track shortcuts -------------------------------------------------------------

_MARKUP_TEXT = st.lists(st.sampled_from(list("ab 林\n<>{}\\&/i") + ["<i>", "</i>", "{\\an8}", "{\\i1}", "\\N", "&amp;"]),
                        max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_MARKUP_TEXT, max_size=6), dialect=st.sampled_from(["srt", "vtt", "ass", "ssa", None]))
def test_plain_texts_of_a_track_is_plain_text_of_each_cue(texts, dialect):
    from localise.formats.markup import plain_text, plain_texts

    assert plain_texts(texts, dialect) == [plain_text(t, dialect) for t in texts]


def _track_pair():
    from localise.model import Cue, Track

    source = Track(cues=[Cue(i * 3000, i * 3000 + 2000, text, str(i + 1)) for i, text in
                         enumerate(["林晚晴三天之后会回来。", "<i>你好。</i>", "对不起。", "我们走吧。"])], format="srt")
    target = source.with_texts(["Lin Wanqing will be back in three days.", "Hello.", "Sorry.", "Let's go."])
    return source, target


def _every_check_asked() -> dict:
    """The stock checks behind wrappers: ``_idle_checks`` does not know them, so every cue asks every check."""
    from localise.quality.checks import CHECKS

    return {code: (lambda ctx, f=check: f(ctx)) for code, check in CHECKS.items()}


def _flags(source, target, **kw):
    from localise.quality.checks import check_track

    return [[(f.code, f.severity, f.reason) for f in cue] for cue in
            check_track(source, target, src_lang="zh", tgt_lang="en", **kw)]


def test_checks_left_out_of_the_loop_are_those_that_cannot_fire():
    """Markup lost in one cue, one cue retimed worse than its source, one low confidence, a glossary
    term missing: each still flagged, exactly as with every check asked on every cue."""
    from localise.glossary import Glossary
    from localise.model import Cue

    source, target = _track_pair()
    cues = list(target.cues)
    cues[2] = Cue(cues[2].start_ms, cues[2].start_ms + 300, cues[2].text, cues[2].id)  # retimed: too short
    target = target.__class__(cues=cues, format="srt")
    glossary = Glossary.from_csv("zh,en\n林晚晴,Lin Wanqing\n对不起,Forgive me\n")
    kw = {"glossary": glossary, "confidences": [None, 0.01, None, None]}
    fast, slow = _flags(source, target, **kw), _flags(source, target, checks=_every_check_asked(), **kw)
    assert fast == slow
    codes = {code for cue in fast for code, _, _ in cue}
    assert {"markup", "timing", "low-confidence", "glossary"} <= codes


def test_a_plain_track_on_its_sources_timing_flags_the_same_without_the_idle_checks():
    from localise.quality import checks

    source, target = _track_pair()
    source = source.with_texts([c.text.replace("<i>", "").replace("</i>", "") for c in source.cues])
    target = source.with_texts([c.text for c in target.cues])
    idle = checks._idle_checks(source, target, checks._source_timings(source, len(target.cues)), None, None)
    assert idle == {checks.check_glossary, checks.check_low_confidence, checks.check_timing, checks.check_markup}
    assert _flags(source, target) == _flags(source, target, checks=_every_check_asked())
