"""Translation units: sentence merging across cues, dialogue split, long-unit split, spreading back."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.layout import text_length
from localise.model import Cue, Track, Unit
from localise.units import build_units, ends_sentence, spread


def track(*cues: tuple[int, int, str], fmt: str = "srt") -> Track:
    return Track([Cue(s, e, t, id=str(i + 1)) for i, (s, e, t) in enumerate(cues)], fmt)


# --------------------------------------------------------------------------------------------
# Merging


@pytest.mark.parametrize("final", ["。", "！", "？", "…", "」", "』", ".", "!", "?", "...", "。”", '."', "！）"])
def test_sentence_final_punctuation_ends_a_unit(final: str) -> None:
    t = track((0, 1000, "我今天去了市场" + final), (1100, 2000, "然后回家了"))
    units = build_units(t)
    assert [u.cues for u in units] == [[0], [1]]


@pytest.mark.parametrize("open_end", ["", "，", ",", "、", "——", "：", "“他"])
def test_cue_without_final_punctuation_continues_into_the_next(open_end: str) -> None:
    t = track((0, 1000, "我今天去了" + open_end), (1100, 2000, "市场买菜。"))
    units = build_units(t)
    assert [u.cues for u in units] == [[0, 1]]
    assert units[0].source == "我今天去了" + open_end + "市场买菜。"


def test_sentence_runs_over_three_cues() -> None:
    t = track((0, 1000, "如果你"), (1000, 2000, "明天还不来"), (2500, 3500, "我就走了。"), (3600, 4000, "好"))
    assert [u.cues for u in build_units(t)] == [[0, 1, 2], [3]]


@pytest.mark.parametrize(("gap", "merged"), [(0, True), (1500, True), (1501, False), (4000, False), (-200, False)])
def test_gap_limit(gap: int, merged: bool) -> None:
    t = track((0, 1000, "我今天去了"), (1000 + gap, 3000 + gap, "市场买菜。"))
    assert (len(build_units(t)) == 1) is merged


def test_gap_limit_is_a_parameter() -> None:
    t = track((0, 1000, "我今天去了"), (3000, 4000, "市场买菜。"))
    assert len(build_units(t, max_gap_ms=2500)) == 1
    assert len(build_units(t)) == 2


def test_latin_lines_join_with_a_space_and_cjk_lines_without() -> None:
    t = track((0, 1000, "I went to\nthe market"), (1100, 2000, "to buy food."), (3000, 4000, "我去了\n市场。"))
    units = build_units(t)
    assert units[0].source == "I went to the market to buy food."
    assert units[1].source == "我去了市场。"


def test_markup_is_not_in_the_unit_source() -> None:
    t = track((0, 1000, "<i>我今天</i>去了"), (1100, 2000, "{\\an8}市场。"))
    assert build_units(t)[0].source == "我今天去了市场。"
    ass = track((0, 1000, "{\\i1}你好{\\i0}\\h世界。"), fmt="ass")
    assert build_units(ass)[0].source.replace(" ", "") == "你好世界。"


def test_empty_cues_get_no_unit_and_break_a_sentence() -> None:
    t = track((0, 1000, "我今天去了"), (1000, 1100, "<i></i>"), (1100, 2000, "市场买菜。"))
    units = build_units(t)
    assert [u.cues for u in units] == [[0], [2]]
    assert spread(t, units, ["I went", "to the market."], "en") == ["I went", "", "to the market."]


def test_ass_events_of_different_styles_are_not_merged() -> None:
    t = Track(
        [Cue(0, 1000, "我今天去了", extras={"style": "Default"}), Cue(1000, 2000, "SIGN", extras={"style": "Sign"})],
        "ass",
    )
    assert [u.cues for u in build_units(t)] == [[0], [1]]


# --------------------------------------------------------------------------------------------
# Dialogue


@pytest.mark.parametrize("dash", ["- ", "-", "– ", "–"])
def test_two_speaker_cue_is_one_unit_per_speaker(dash: str) -> None:
    t = track((0, 1000, "我今天去了"), (1000, 2000, f"{dash}你去哪？\n{dash}回家"), (2100, 3000, "然后呢"))
    units = build_units(t)
    dialogue = [u for u in units if u.cues == [1]]
    assert [(u.source, u.speaker, u.dash) for u in dialogue] == [("你去哪？", 0, dash), ("回家", 1, dash)]
    # a dialogue cue is never merged with its neighbours
    assert [u.cues for u in units] == [[0], [1], [1], [2]]
    out = spread(t, units, ["Today I went", "Where to?", "Home", "And then"], "en")
    assert out[1] == f"{dash}Where to?\n{dash}Home"
    assert out[0] == "Today I went" and out[2] == "And then"


def test_first_speaker_without_dash_and_wrapped_turns() -> None:
    t = track((0, 1000, "你去哪？\n- 回家，\n然后睡觉。"))
    units = build_units(t)
    assert [(u.source, u.dash) for u in units] == [("你去哪？", ""), ("回家，然后睡觉。", "- ")]
    assert spread(t, units, ["Where to?", "Home, then bed."], "en") == ["Where to?\n- Home, then bed."]


def test_negative_number_is_not_a_speaker_dash() -> None:
    t = track((0, 1000, "今天气温\n-5度。"))
    assert len(build_units(t)) == 1


# --------------------------------------------------------------------------------------------
# Long units


def test_long_unit_is_split_between_cues_after_punctuation() -> None:
    cues = [(i * 1000, i * 1000 + 900, "这是一个很长的句子" + ("，" if i % 2 else "")) for i in range(8)]
    cues.append((8000, 8900, "结束。"))
    t = track(*cues)
    units = build_units(t, max_chars=40)
    assert all(len(u.source) <= 40 for u in units)
    assert [c for u in units for c in u.cues] == list(range(9))
    # every cut except the last falls after a cue that ends with a comma
    for u in units[:-1]:
        assert u.source.endswith("，")


def test_long_single_cue_is_split_at_punctuation() -> None:
    text = "我知道你很累，" * 10 + "但是我们必须走。"
    t = track((0, 5000, text))
    units = build_units(t, max_chars=30)
    assert len(units) > 1
    assert all(len(u.source) <= 30 for u in units)
    assert all(u.cues == [0] for u in units)
    assert "".join(u.source for u in units) == text
    assert all(u.source.endswith(("，", "。")) for u in units)
    out = spread(t, units, [f"part {i}," for i in range(len(units))], "en")
    assert out == [" ".join(f"part {i}," for i in range(len(units)))]


def test_long_text_without_punctuation_is_split_at_spaces_then_hard() -> None:
    t = track((0, 5000, " ".join(["word"] * 50)))
    units = build_units(t, max_chars=42)
    assert all(len(u.source) <= 42 for u in units)
    assert " ".join(u.source for u in units).split() == ["word"] * 50
    t2 = track((0, 5000, "字" * 100))
    units2 = build_units(t2, max_chars=42)
    assert all(len(u.source) <= 42 for u in units2) and "".join(u.source for u in units2) == "字" * 100


def test_long_mixed_script_text_is_split_within_the_limit() -> None:
    """Found by hypothesis: a Latin word glued to Chinese must not make a piece over the limit."""
    t = track((0, 1000, "Li Wei\n我今天"))
    units = build_units(t, max_chars=5)
    assert [u.source for u in units] == ["Li", "Wei我今", "天"]
    th = track((0, 1000, "ผมชื่อสมชายและผมรักเมืองไทยมาก"))
    pieces = [u.source for u in build_units(th, max_chars=10)]
    assert "".join(pieces) == "ผมชื่อสมชายและผมรักเมืองไทยมาก"  # Thai cut between words, no space added
    assert all(text_length(p) <= 10 for p in pieces) and len(pieces) > 1


# --------------------------------------------------------------------------------------------
# Spreading


def test_spread_proportional_to_source_length() -> None:
    t = track((0, 1000, "我"), (1000, 2000, "今天去了市场买菜然后"), (2000, 3000, "回家了。"))
    units = build_units(t)
    assert len(units) == 1
    words = "today I went to the market to buy food and then I went back home".split()
    out = spread(t, units, [" ".join(words)], "en")
    assert len(out) == 3
    assert " ".join(out).split() == words
    assert len(out[0].split()) < len(out[1].split())


def test_spread_prefers_punctuation_for_the_cut() -> None:
    t = track((0, 1000, "我今天去了市场，"), (1000, 2000, "买了很多菜。"))
    out = spread(t, build_units(t), ["Today I went to the market, and I bought a lot of vegetables."], "en")
    assert out == ["Today I went to the market,", "and I bought a lot of vegetables."]


def test_spread_into_chinese_and_thai() -> None:
    t = track((0, 1000, "I went to"), (1000, 2000, "the market."))
    units = build_units(t)
    zh = spread(t, units, ["我去了市场。"], "zh")
    assert "".join(zh) == "我去了市场。" and all(zh)
    th = spread(t, units, ["ผมไปตลาดมาแล้วครับ"], "th")
    assert "".join(th) == "ผมไปตลาดมาแล้วครับ" and all(th)


def test_spread_with_too_few_words_keeps_them_in_order() -> None:
    t = track((0, 1000, "我今天"), (1000, 2000, "去了"), (2000, 3000, "市场。"))
    out = spread(t, build_units(t), ["Yes."], "en")
    assert len(out) == 3 and " ".join(out).split() == ["Yes."]


def test_spread_rejects_misaligned_translations() -> None:
    t = track((0, 1000, "你好。"))
    with pytest.raises(ValueError):
        spread(t, build_units(t), [], "en")


def test_units_on_the_corpus_chinese_dialogue(corpus: Path) -> None:
    from localise.io import read_track

    t = read_track(corpus / "Cerlancism__chatgpt-subtitle-translator/test__data__test_cn_multiline.srt")
    units = build_units(t)
    covered = sorted(c for u in units for c in u.cues)
    assert covered == list(range(len(t.cues)))  # every cue in exactly one unit (no dialogue here)
    # cue 3 is "是的，我很好\n今天天气很好。": its two lines join without a space
    assert any(u.source == "是的，我很好今天天气很好。" for u in units)
    out = spread(t, units, [f"unit {u.id} words here" for u in units], "en")
    assert len(out) == len(t.cues) and all(out)


# --------------------------------------------------------------------------------------------
# Properties

_FRAGMENTS = ["我今天", "去了市场", "买菜", "你好", "他说", "走吧", "真的吗", "Li Wei", "OK"]
_ENDS = ["", "", "，", "。", "！", "？", "…", "」", "."]


@st.composite
def tracks(draw: st.DrawFn) -> Track:
    n = draw(st.integers(min_value=1, max_value=12))
    cues = []
    t = 0
    for i in range(n):
        t += draw(st.sampled_from([0, 200, 1000, 1500, 1600, 3000]))
        kind = draw(st.sampled_from(["line", "line", "line", "two-lines", "dialogue", "empty"]))
        frag = lambda: draw(st.sampled_from(_FRAGMENTS)) + draw(st.sampled_from(_ENDS))  # noqa: E731
        if kind == "line":
            text = frag()
        elif kind == "two-lines":
            text = frag() + "\n" + frag()
        elif kind == "dialogue":
            dash = draw(st.sampled_from(["- ", "-", "– "]))
            text = f"{dash}{frag()}\n{dash}{frag()}"
        else:
            text = ""
        cues.append(Cue(t, t + 900, text, id=str(i + 1)))
        t += 900
    return Track(cues, "srt")


@settings(max_examples=200, deadline=None)
@given(tracks(), st.integers(min_value=5, max_value=60))
def test_units_cover_cues_in_order(t: Track, max_chars: int) -> None:
    units = build_units(t, max_chars=max_chars)
    assert [u.id for u in units] == list(range(len(units)))
    flat = [c for u in units for c in u.cues]
    assert flat == sorted(flat)  # order kept
    for u in units:
        assert u.cues == list(range(u.cues[0], u.cues[-1] + 1))  # consecutive cues
        assert len(u.source) <= max_chars
        assert u.source.strip()
        for a, b in zip(u.cues, u.cues[1:]):  # merged cues: no sentence end, short gap
            assert not ends_sentence(t.cues[a].text)
            assert 0 <= t.cues[b].start_ms - t.cues[a].end_ms <= 1500
    non_empty = {i for i, c in enumerate(t.cues) if c.text.strip()}
    assert set(flat) == non_empty
    # the units' sources hold every source character
    src = "".join(c.text for c in t.cues if not c.text.lstrip().startswith(("-", "–")))
    units_src = "".join(u.source for u in units if u.speaker is None)
    assert "".join(units_src.split()) == "".join(src.split())


@settings(max_examples=200, deadline=None)
@given(tracks(), st.integers(min_value=0, max_value=4), st.integers(min_value=5, max_value=60))
def test_spread_preserves_cues_and_words(t: Track, extra: int, max_chars: int) -> None:
    units = build_units(t, max_chars=max_chars)
    # enough words: at least one per cue of the unit
    translations = [" ".join(f"u{u.id}w{k}" for k in range(len(u.cues) + extra)) for u in units]
    out = spread(t, units, translations, "en")
    assert len(out) == len(t.cues)
    for i, cue in enumerate(t.cues):
        if cue.text.strip():
            assert out[i].strip(), f"cue {i} got no text"
        else:
            assert out[i] == ""
    dialogue_cues = {u.cues[0] for u in units if u.speaker is not None}
    # concatenation of the non-dialogue cues gives every translated word in order
    spread_words = " ".join(o for i, o in enumerate(out) if i not in dialogue_cues).split()
    unit_words = " ".join(tr for u, tr in zip(units, translations) if u.speaker is None).split()
    assert spread_words == unit_words
    for i in dialogue_cues:
        speakers = [u for u in units if u.cues == [i] and u.speaker is not None]
        assert len(out[i].split("\n")) == len({u.speaker for u in speakers})
        for line, u in zip(out[i].split("\n"), sorted(speakers, key=lambda u: u.speaker or 0)):
            assert line.startswith(u.dash)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=6), st.integers(min_value=0, max_value=40))
def test_spread_cjk_target_keeps_every_character(lengths: list[int], n_chars: int) -> None:
    t = track(*[(i * 1000, i * 1000 + 900, "x" * n) for i, n in enumerate(lengths)])
    t.cues[-1].text += "."
    units = [Unit(id=0, cues=list(range(len(lengths))), source=" ".join(c.text for c in t.cues))]
    text = "我们明天再去市场买菜吧好不好呢？" * 3
    text = text[: n_chars + len(lengths)]
    out = spread(t, units, [text], "zh")
    assert "".join(out) == text
    assert all(out)


def test_unpunctuated_run_of_close_cues_is_capped() -> None:
    # Chinese subtitles are often written without punctuation: close cues must not merge without end.
    cues = [(i * 1000, i * 1000 + 900, f"第{i}句话没有标点") for i in range(10)]
    units = build_units(track(*cues))
    assert [len(u.cues) for u in units] == [4, 4, 2]
    assert [c for u in units for c in u.cues] == list(range(10))
    assert [len(u.cues) for u in build_units(track(*cues), max_cues=10)] == [10]


def test_precomputed_plain_texts_give_the_same_units_and_spread() -> None:
    from localise.formats.markup import protect

    t = track((0, 1000, "<i>我今天</i>去了"), (1100, 2000, "{\\an8}市场。"), (2100, 3000, "-你好\n-<b>再见</b>"), (3100, 4000, "<i></i>"))
    plain = [protect(c.text, t.format).plain for c in t.cues]
    units = build_units(t)
    assert build_units(t, plain=plain) == units
    texts = ["I went to the market today.", "Hello", "Goodbye"]
    assert spread(t, units, texts, "en", plain=plain) == spread(t, units, texts, "en")
    with pytest.raises(ValueError, match="plain texts"):
        build_units(t, plain=plain[:2])
