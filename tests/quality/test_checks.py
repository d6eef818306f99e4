"""Each check on its own, thresholds as data, alignment by time, scores and the track summary."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.errors import ConfigError
from localise.layout import style_for
from localise.model import Cue, Flag, Track, Unit
from localise.quality import (
    CHECKS, FLAG_CODES, align_by_time, check_track, cue_score, load_thresholds, passes, reaches, summarise,
)


def track(*cues: tuple[int, int, str], fmt: str = "srt") -> Track:
    return Track([Cue(a, b, t, id=str(i)) for i, (a, b, t) in enumerate(cues, 1)], fmt)


def codes(src: str, tgt: str, tgt_lang: str = "en", *, src_lang: str = "zh", dur: int = 3000, **kw) -> list[str]:
    flags = check_track(track((0, dur, src)), track((0, dur, tgt)), src_lang=src_lang, tgt_lang=tgt_lang, **kw)
    return [f.code for f in flags[0]]


def test_every_code_has_one_check_function():
    assert list(CHECKS) == list(FLAG_CODES)
    assert all(fn.__name__ == "check_" + code.replace("-", "_") for code, fn in CHECKS.items())


def test_clean_line_has_no_flags():
    assert codes("你为什么不告诉我？", "Why didn't you tell me?") == []


def test_empty_translation_is_critical_and_stops_text_checks():
    flags = check_track(track((0, 3000, "你好，李明。")), track((0, 3000, "")), src_lang="zh", tgt_lang="en")[0]
    assert [(f.code, f.severity) for f in flags] == [("empty", "critical")]
    assert "你好，李明" in flags[0].reason


def test_untranslated_cases():
    assert codes("我不相信你。", "我不相信你。") == ["untranslated"]
    assert codes("告诉王总我到了。", "Tell 王总 I'm here.") == ["untranslated"]
    assert codes("我不相信你说的话。", "我不相信你说的话。", "ja") == ["untranslated"]
    assert codes("我不相信你说的话。", "あなたの話は信じない。", "ja") == []
    # names, "OK" and short shared-script words may stay as they are
    assert codes("OK！", "OK!") == [] and codes("中国", "中国", "ja") == []
    assert codes("Tony，等等我！", "Tony, wait for me!") == []
    assert codes("To be continued...", "To be continued...", src_lang="ja") == []  # the source line was English
    assert codes("Muchas gracias a todos", "Muchas gracias a todos", "pt", src_lang="es") == ["untranslated"]
    # the same text into the same language is no defect of this kind
    assert codes("OK", "OK", "en", src_lang="en") == []


def test_glossary_uses_glossary_verify(tmp_path):
    from localise.glossary import Glossary

    path = tmp_path / "g.csv"
    path.write_text("zh,en\n李明,Li Ming\n", encoding="utf-8")
    g = Glossary.load(path)
    assert codes("李明在哪？", "Where is Li Ming?", glossary=g) == []
    flags = check_track(track((0, 3000, "李明在哪？")), track((0, 3000, "Where is Lee?")), src_lang="zh",
                        tgt_lang="en", glossary=g)[0]
    assert [f.code for f in flags] == ["glossary"] and "Li Ming" in flags[0].reason


def test_sentence_level_checks_see_the_whole_unit(tmp_path):
    """A term the pipeline spread into the next cue of the same sentence is not missing."""
    from localise.glossary import Glossary

    path = tmp_path / "g.csv"
    path.write_text("zh,en\n李明,Li Ming\n", encoding="utf-8")
    g = Glossary.load(path)
    src = track((0, 2000, "昨天和他的三个朋友"), (2100, 4000, "一起来的是李明"))
    tgt = track((0, 2000, "Li Ming came yesterday"), (2100, 4000, "with his three friends"))
    # no units given: sentences are built on both sides, as `localise check` does
    assert check_track(src, tgt, src_lang="zh", tgt_lang="en", glossary=g) == [[], []]
    units = [Unit(id=0, cues=[0, 1], source="昨天和他的三个朋友一起来的是李明")]
    assert check_track(src, tgt, src_lang="zh", tgt_lang="en", glossary=g, units=units) == [[], []]
    # each cue judged alone (one unit per cue): the split sentence gives glossary and number flags
    alone = [[0], [1]]
    src_done = track((0, 2000, "昨天和他的三个朋友。"), (2100, 4000, "一起来的是李明。"))
    tgt_done = track((0, 2000, "Li Ming came yesterday."), (2100, 4000, "With his three friends."))
    per_cue = check_track(src_done, tgt_done, src_lang="zh", tgt_lang="en", glossary=g, units=alone)
    assert {f.code for cue in per_cue for f in cue} >= {"glossary", "number"}


def test_a_sentence_split_differently_on_each_side_raises_nothing(tmp_path):
    """三天之后，｜林晚晴会回来。 / "Lin Wanqing will be back" ｜ "in three days." is one sentence."""
    from localise.glossary import Glossary

    path = tmp_path / "g.csv"
    path.write_text("zh,en\n林晚晴,Lin Wanqing\n", encoding="utf-8")
    g = Glossary.load(path)
    src = track((0, 1500, "三天之后，"), (1500, 3500, "林晚晴会回来。"))
    tgt = track((0, 1500, "Lin Wanqing will be back"), (1500, 3500, "in three days."))
    assert check_track(src, tgt, src_lang="zh", tgt_lang="en", glossary=g) == [[], []]


def test_a_line_held_over_two_source_cues_is_one_line():
    src = track((0, 1800, "你知道吗？"), (1800, 4000, "他明天就要走了。"))
    tgt = track((0, 1800, "Did you know he's leaving tomorrow?"), (1800, 4000, "Did you know he's leaving tomorrow?"))
    assert check_track(src, tgt, src_lang="zh", tgt_lang="en") == [[], []]


def test_a_sentence_level_flag_is_reported_once(tmp_path):
    from localise.glossary import Glossary

    path = tmp_path / "g.csv"
    path.write_text("zh,en\n李明,Li Ming\n", encoding="utf-8")
    g = Glossary.load(path)
    src = track((0, 2000, "昨天和他的朋友"), (2100, 4000, "一起来的是李明。"))
    tgt = track((0, 2000, "Lee came yesterday"), (2100, 4000, "with his friends."))
    flags = check_track(src, tgt, src_lang="zh", tgt_lang="en", glossary=g)
    # the glossary flag sits on the cue whose source holds the term, and only there
    assert [[f.code for f in cue] for cue in flags] == [[], ["glossary"]]
    assert "sentence over cues 1–2" in flags[1][0].reason


def test_number_reason_names_both_sides():
    flags = check_track(track((0, 3000, "这房子值五千万。")), track((0, 3000, "The house is worth fifty thousand.")),
                        src_lang="zh", tgt_lang="en")[0]
    assert [f.code for f in flags] == ["number"]
    assert "五千万 (50,000,000)" in flags[0].reason and "fifty thousand (50,000)" in flags[0].reason


def test_repetition_relative_to_source():
    assert codes("不要！", "No, no, no, no!") == ["repetition"]
    assert codes("不不不不！", "No, no, no, no!") == []
    assert codes("我爱你。", "I love you and I love\nyou and I love you too") == ["repetition"]


def test_omission_and_addition_use_calibrated_bounds():
    assert codes("你为什么不告诉我你明天要去上海出差？", "Why?") == ["omission"]
    assert "calibrated on zh–en subtitles and Tatoeba sentences" in check_track(
        track((0, 3000, "你为什么不告诉我你明天要去上海出差？")), track((0, 3000, "Why?")),
        src_lang="zh", tgt_lang="en")[0][0].reason
    long = "Thank you so much for helping me, for the\ndinner, the wine and all the lovely gifts."
    assert codes("谢谢帮忙。", long, dur=6000) == ["addition"]
    assert codes("我明白了。", "I see.") == []  # short lines: the slack keeps this clean
    assert codes("好。", "Okay, okay, sure, fine by me.") == []  # under 4 letters: not judged


def test_markup():
    assert codes("<i>他来了。</i>", "<i>He's here.</i>") == []
    assert codes("<i>他来了。</i>", "He's here.") == ["markup"]
    assert codes("他来了。", "<b>He's here.") == ["markup"]
    assert codes("{\\an8}他来了。", "He's here.") == ["markup"]
    ass = check_track(track((0, 3000, "{\\i1}他来了{\\i0}"), fmt="ass"), track((0, 3000, "He's here"), fmt="ass"),
                      src_lang="zh", tgt_lang="en")[0]
    assert [f.code for f in ass] == ["markup"] and "\\i" in ass[0].reason


def test_markup_style_a_subtitler_adds_is_minor_broken_or_lost_markup_major():
    """Film subtitlers italicise a voice off, a phone, a song or a sign where the Chinese has no tag:
    a balanced <i>…</i> the source lacks is visible (minor), not a defect to route for review."""
    def found(src: str, tgt: str) -> list[tuple[str, str]]:
        flags = check_track(track((0, 3000, src)), track((0, 3000, tgt)), src_lang="zh", tgt_lang="en")[0]
        return [(f.code, f.severity) for f in flags if f.code == "markup"]

    assert found("喂？是我。", "<i>Hello? It's me.</i>") == [("markup", "minor")]
    assert found("♪ 一年又一年 ♪", "<i>♪ Year after year ♪</i>") == [("markup", "minor")]
    assert found("喂？是我。", "<i>Hello?</i> It's <b>me</b>.") == [("markup", "minor")]
    assert found("喂？是我。", "<i>Hello? It's me.") == [("markup", "major")]  # never closed
    assert found("<i>喂？是我。</i>", "Hello? It's me.") == [("markup", "major")]  # lost
    assert found("喂？是我。", "{\\an8}Hello? It's me.") == [("markup", "major")]  # a position added
    assert found("喂？是我。", '<font color="red">Hello?</font>') == [("markup", "major")]
    ass = check_track(track((0, 3000, "喂？是我。"), fmt="ass"), track((0, 3000, "{\\i1}Hello? It's me."), fmt="ass"),
                      src_lang="zh", tgt_lang="en")[0]
    assert [(f.code, f.severity) for f in ass] == [("markup", "minor")]  # ASS styles end with the event
    ass = check_track(track((0, 3000, "喂？是我。"), fmt="ass"), track((0, 3000, "{\\an8}Hello? It's me."), fmt="ass"),
                      src_lang="zh", tgt_lang="en")[0]
    assert [(f.code, f.severity) for f in ass] == [("markup", "major")]


def test_an_html_tag_in_a_substation_alpha_line_is_shown_as_text():
    """ASS has no <i>: a renderer puts the three letters on screen."""
    def found(src: str, tgt: str) -> list:
        flags = check_track(track((0, 3000, src), fmt="ass"), track((0, 3000, tgt), fmt="ass"), src_lang="zh", tgt_lang="en")[0]
        return [f for f in flags if f.code == "markup"]

    (flag,) = found("瞧好", "<i>Check this out")
    assert flag.severity == "major" and "shown as text: <i>" in flag.reason
    assert [f.severity for f in found("瞧好", "<i>Check this out</i>")] == ["major"]
    assert [f.severity for f in found("瞧好", "{\\i1}Check this out")] == ["minor"]  # ASS's own italics: a style
    assert found("<i>瞧好", "<i>Check this out") == []  # the source shows the same letters


def test_reading_speed_of_a_held_over_line_counts_the_whole_time_it_is_shown():
    line = "The day before he died,\nhe wired 3.8 million abroad."
    src = track((0, 2600, "案发前一天，他往境外转了"), (2600, 4500, "三百八十万。"))
    held = check_track(src, track((0, 2600, line), (2600, 4500, line)), src_lang="zh", tgt_lang="en")
    assert [f for cue in held for f in cue if f.code == "reading-speed" and f.severity != "minor"] == []
    # the same words in the second cue alone are far too fast
    alone = check_track(track((0, 1900, "三百八十万。")), track((0, 1900, line)), src_lang="zh", tgt_lang="en")[0]
    assert [(f.code, f.severity) for f in alone if f.code == "reading-speed"] == [("reading-speed", "major")]
    # a flag over the whole run names it; a run broken by a long pause is two readings
    fast = check_track(track((0, 900, "快跑！"), (900, 1800, "他们来了！")),
                       track((0, 900, "Run! They're coming for us, all of them!"), (900, 1800, "Run! They're coming for us, all of them!")),
                       src_lang="zh", tgt_lang="en")
    assert "held over cues 1–2" in [f for f in fast[1] if f.code == "reading-speed"][0].reason
    apart = check_track(track((0, 1000, "快跑！"), (3000, 4000, "他们来了！")),
                        track((0, 1000, "Run! They're coming for us, all of them!"), (3000, 4000, "Run! They're coming for us, all of them!")),
                        src_lang="zh", tgt_lang="en")
    assert "held over" not in [f for f in apart[1] if f.code == "reading-speed"][0].reason


def test_length_reading_speed_timing_follow_the_style_table():
    assert codes("我们必须在警察到来之前离开这个城市。", "We have to get out of this city before the police arrive.",
                 dur=4000) == ["length"]
    assert codes("快跑！他们来了！", "Run! They're coming!", dur=900) == ["reading-speed"]
    # Japanese: 13 characters per line
    assert codes("我们走吧。", "さあ、みんなで一緒に行きましょうか", "ja") == ["length"]
    # a style passed as overrides
    assert codes("快跑！他们来了！", "Run! They're coming!", dur=900, style={"max_cps": 30}) == []
    # graded: minor over the limit, major over the hard ceiling (1.3 x) of the style table
    assert [f.severity for f in check_track(track((0, 900, "快跑！他们来了！")), track((0, 900, "Run! They're coming!")),
                                            src_lang="zh", tgt_lang="en")[0]] == ["minor"]
    fast = check_track(track((0, 600, "快跑！他们来了！")), track((0, 600, "Run! They're coming!")),
                       src_lang="zh", tgt_lang="en")[0]
    assert [(f.code, f.severity) for f in fast] == [("reading-speed", "major")] and "hard ceiling 26.0" in fast[0].reason
    # 43 characters on a line that re-wrapping would fit: minor; words that fit no two lines: major
    assert [f.severity for f in check_track(track((0, 4000, "我们必须在警察到来之前离开这个城市。")),
                                            track((0, 4000, "We must leave this city before police come.")),
                                            src_lang="zh", tgt_lang="en", style={"max_cps": 99})[0]] == ["minor"]
    crowded = "We have to get out of this city before the police arrive and take every one of us away tonight."
    flags = check_track(track((0, 9000, "我们必须在警察到来之前离开这个城市。")), track((0, 9000, "\n".join([crowded[:48], crowded[48:]]))),
                        src_lang="zh", tgt_lang="en", style={"max_cps": 99})[0]
    assert [(f.code, f.severity) for f in flags if f.code == "length"] == [("length", "major")]


def test_timing_shared_with_the_source_is_not_a_cue_flag():
    # translate keeps the source's timings: a short cue, a long one, a 40 ms gap are the source's
    assert codes("嗯。", "Yeah.", dur=500) == []
    assert codes("好吧。", "Fine.", dur=9000) == []
    same = check_track(track((0, 1000, "嗯。"), (1040, 2500, "等等！")), track((0, 1000, "Hm."), (1040, 2500, "Wait!")),
                       src_lang="zh", tgt_lang="en")
    assert same == [[], []]


def test_timing_a_vendor_made_worse_stays_a_cue_flag():
    src = track((0, 1000, "嗯。"), (1200, 2500, "等等！"), (3000, 6000, "好吧。"))
    tgt = track((0, 1000, "Hm."), (1040, 2500, "Wait!"), (2400, 2900, "Fine."))
    flags = check_track(src, tgt, src_lang="zh", tgt_lang="en")
    assert [f.code for f in flags[1]] == ["timing"] and "40 ms" in flags[1][0].reason
    assert "retimed worse than the source" in flags[1][0].reason
    codes_2 = [(f.code, f.severity) for f in flags[2]]
    assert ("timing", "major") in codes_2  # overlap the source did not have
    assert any("under the minimum" in f.reason for f in flags[2])


def test_source_timing_problems_are_one_finding_per_kind():
    from localise.quality.checks import source_findings

    src = track((0, 500, "嗯。"), (540, 2500, "等等！"), (2540, 2900, "好。"), (3000, 5000, "走吧。"))
    found = source_findings(src, lang="en")
    kinds = {f["kind"]: f["cues"] for f in found}
    assert kinds == {"short": [1, 3], "gap": [2, 3]}
    assert all(f["subject"] == "source" and f["severity"] == "minor" for f in found)


def test_low_confidence_and_threshold_override():
    assert codes("我明白了。", "I understand.", confidences=[0.3]) == ["low-confidence"]
    assert codes("我明白了。", "I understand.", confidences=[0.7]) == []
    assert codes("我明白了。", "I understand.", confidences=[0.7], thresholds={"low_confidence": 0.8}) == ["low-confidence"]
    per_lang = {"languages": {"en": {"low_confidence": 0.8}}}
    assert codes("我明白了。", "I understand.", confidences=[0.7], thresholds=per_lang) == ["low-confidence"]
    assert codes("我明白了。", "Entiendo.", "es", confidences=[0.7], thresholds=per_lang) == []


def test_thresholds_are_data_per_language():
    assert load_thresholds("ja")["repetition_max_ngram"] == 8
    assert load_thresholds("en")["repetition_max_ngram"] == 6
    assert load_thresholds("en", {"severity": {"timing": "major"}}).severity_of("timing") == "major"
    with pytest.raises(ConfigError, match="unknown quality threshold"):
        load_thresholds("en", {"low_confidance": 0.3})
    with pytest.raises(ConfigError, match="severity"):
        load_thresholds("en", {"severity": {"timing": "fatal"}})
    sig = load_thresholds("en").signature()
    assert sig["hash"] and sig["values"]["low_confidence"] == 0.5


def test_scores_and_summary_gate():
    minor, major, critical = (Flag("timing", "minor", "x"), Flag("number", "major", "y"), Flag("empty", "critical", "z"))
    assert cue_score([]) == 1.0
    assert cue_score([critical]) == 0.0
    assert 0.0 < cue_score([minor, major]) < cue_score([major]) < cue_score([minor]) < 1.0
    flags = [[], [minor], [major, minor], [], [critical]]
    s = summarise(flags)
    assert s["cues"] == 5 and s["flagged_cues"] == 3 and s["flagged_share"] == 0.6
    assert s["by_code"] == {"empty": 1, "number": 1, "timing": 2}
    assert s["by_severity"] == {"minor": 2, "major": 1, "critical": 1}
    assert s["cues_at_or_above"] == {"minor": 3, "major": 2, "critical": 1}
    assert s["worst_severity"] == "critical"
    assert 0 < s["mean_score"] < 1 and s["min_score"] == 0.0
    assert passes(s, "critical", 0.2) and not passes(s, "major", 0.2)
    assert reaches(flags, "critical") and not reaches([[minor]], "major")


def test_align_by_time_regroups_a_differently_cut_translation():
    src = track((0, 2000, "早上好。"), (2000, 4000, "你好吗？"), (4000, 6000, "我很好。"), (9000, 9500, "嗯"))
    tgt = track((0, 3900, "Good morning. How are you?"), (4100, 6000, "I'm fine."))
    aligned = align_by_time(src, tgt)
    assert [c.text for c in aligned.cues] == ["早上好。\n你好吗？", "我很好。"]
    assert [(c.start_ms, c.end_ms) for c in aligned.cues] == [(0, 3900), (4100, 6000)]
    assert [w.code for w in aligned.warnings] == ["unaligned-source-cue"] and aligned.warnings[0].cue == 3
    # check_track aligns by itself when the counts differ
    flags = check_track(src, tgt, src_lang="zh", tgt_lang="en")
    assert len(flags) == 2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=300, max_value=4000), min_size=1, max_size=12), st.data())
def test_align_by_time_keeps_every_source_cue_once(durations, data):
    """Cut the same time line into other cues: every source cue lands in exactly one target cue, in order."""
    starts, t = [], 0
    for d in durations:
        starts.append((t, t + d))
        t += d + 100
    src = Track([Cue(a, b, f"s{i}") for i, (a, b) in enumerate(starts)], "srt")
    cuts = sorted(set(data.draw(st.lists(st.integers(min_value=1, max_value=len(starts) - 1), max_size=5)))) if len(starts) > 1 else []
    bounds = [0, *cuts, len(starts)]
    tgt = Track([Cue(starts[a][0], starts[b - 1][1], "t") for a, b in zip(bounds, bounds[1:])], "srt")
    aligned = align_by_time(src, tgt)
    assert len(aligned.cues) == len(tgt.cues)
    assert [i for c in aligned.cues for i in c.extras["source_cues"]] == list(range(len(starts)))
    assert not aligned.warnings


def test_style_object_is_used_as_given():
    style = style_for("en")
    assert codes("快跑！他们来了！", "Run! They're coming!", dur=900, style=style) == ["reading-speed"]


_PIECES = st.sampled_from(["五千万", "三点", "一起", "二〇二四", "<i>", "</i>", "{\\an8}", "<b>", "李明", "fifty",
                           "million", "3,500", "١٢", "ありがとう", "ไม่", "مرحبا", "no no no", "\n", " ", "。", "-"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12), st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12),
       st.sampled_from(["en", "es", "ja", "ar", "th", "pt-BR"]), st.sampled_from(["srt", "vtt", "ass"]),
       st.integers(min_value=0, max_value=9000), st.one_of(st.none(), st.floats(min_value=0, max_value=1)))
def test_any_text_gives_well_formed_flags(src, tgt, lang, fmt, duration, confidence):
    """Whatever the text (markup fragments, numerals, scripts), every cue gets valid flags and a score."""
    source = track((0, duration, "".join(src)), fmt=fmt)
    target = track((0, duration, "".join(tgt)), fmt=fmt)
    flags = check_track(source, target, src_lang="zh", tgt_lang=lang, confidences=[confidence])
    assert len(flags) == 1
    for f in flags[0]:
        assert f.code in FLAG_CODES and f.severity in ("minor", "major", "critical") and f.reason
    assert 0.0 <= cue_score(flags[0]) <= 1.0


def test_precomputed_plain_texts_give_the_same_flags():
    from localise.formats.markup import strip_markup

    src = track((0, 900, "<i>他有三个孩子</i>"), (1000, 3000, "{\\an8}林总，你好"), (3000, 4000, "什么？"))
    tgt = track((0, 900, "<i>He has two kids</i>"), (1000, 3000, "Hello"), (3000, 4000, "What? What? What? What?"))
    kw = dict(src_lang="zh", tgt_lang="en", units=[[0, 1], [2]])
    expected = check_track(src, tgt, **kw)
    assert any(expected)
    given_plain = check_track(src, tgt, source_plain=[strip_markup(c.text, "srt") for c in src.cues],
                              target_plain=[strip_markup(c.text, "srt") for c in tgt.cues], **kw)
    assert given_plain == expected
    with pytest.raises(ValueError, match="source_plain"):
        check_track(src, tgt, source_plain=["x"], **kw)


def test_caseless_letters_never_normalise_to_ascii():
    """The shortcut in checks._same_letters relies on every character of _CASELESS_LETTER being
    alphanumeric and its own case fold."""
    from localise.quality.checks import _CASELESS_LETTER, _normalised, _same_letters

    chars = [chr(cp) for cp in range(0x3000, 0xD800) if _CASELESS_LETTER.match(chr(cp))]
    assert len(chars) > 30000
    assert all(ch.isalnum() and ch.casefold() == ch for ch in chars)
    for a, b in [("你好", "ni hao"), ("OK", "OK"), ("ＯＫ", "ok"), ("ok", "你好"), ("你好", "你好"), ("K", "k")]:
        assert _same_letters(a, b) == (_normalised(a) == _normalised(b))
