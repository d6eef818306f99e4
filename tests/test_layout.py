"""Style table and line wrapping: figures per language, balanced lines, CJK kinsoku, Thai words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.errors import ConfigError
from localise.layout import (
    NO_LINE_END,
    NO_LINE_START,
    Style,
    break_atoms,
    load_style_table,
    style_for,
    text_length,
    wrap,
)

# (language, chars per line, max CPS) as the issue gives them from the Netflix guides.
TABLE = [
    ("en", 42, 20),
    ("pt-BR", 42, 17),
    ("ar", 42, 17),
    ("th", 35, 17),
    ("ko", 16, 17),
    ("ja", 13, 17),
    ("zh", 16, 9),
]


@pytest.mark.parametrize(("lang", "chars", "cps"), TABLE)
def test_style_table_figures(lang: str, chars: int, cps: int) -> None:
    style = style_for(lang)
    assert style.max_chars_per_line == chars
    assert style.max_cps == cps
    assert style.max_lines == 2
    assert style.min_duration_ms == 833  # 5/6 s
    assert style.max_duration_ms == 7000
    assert style.min_gap_ms == 83  # 2 frames at 24 fps


def test_every_language_in_the_packaged_table_resolves() -> None:
    table = load_style_table()
    for lang in table["languages"]:
        assert style_for(lang).max_chars_per_line == table["languages"][lang].get("max_chars_per_line", 42)


def test_unknown_language_falls_back_to_default() -> None:
    assert style_for("xx") == Style(42, 2, 17, 833, 7000, 83)
    assert style_for("es").max_cps == 17


def test_regional_codes_and_aliases() -> None:
    assert style_for("en-US").max_cps == 20
    assert style_for("zh-Hans") == style_for("zh") == style_for("zh-TW") == style_for("zh_CN")
    assert style_for("PT-br").max_chars_per_line == 42


def test_children_audience() -> None:
    assert style_for("en", audience="children").max_cps == 17
    assert style_for("en").max_cps == 20
    assert style_for("de", audience="children").max_cps == 17  # no variant: the language's own


def test_overrides_flat_and_table_shaped() -> None:
    assert style_for("en", {"max_cps": 15}).max_cps == 15
    shaped = {"default": {"max_lines": 3}, "languages": {"en": {"max_chars_per_line": 37}}}
    en = style_for("en", shaped)
    assert (en.max_lines, en.max_chars_per_line, en.max_cps) == (3, 37, 20)
    assert style_for("fr", shaped).max_lines == 3


@pytest.mark.parametrize("bad", [{"max_cpz": 3}, {"max_lines": "two"}, {"max_lines": 0}, {"min_duration_ms": 9000}])
def test_bad_overrides_are_config_errors(bad: dict) -> None:
    with pytest.raises(ConfigError):
        style_for("en", bad)


def test_text_length_ignores_markup_breaks_and_combining_marks() -> None:
    assert text_length("<i>Hello</i>\nthere") == 10
    assert text_length("{\\an8}你好") == 2
    assert text_length("ที่") == 1  # base consonant + vowel sign + tone mark
    assert text_length("a b") == 3  # spaces count


def _lines(text: str) -> list[str]:
    return text.split("\n")


def test_short_text_stays_on_one_line() -> None:
    assert wrap("I know.", "en", style_for("en")) == "I know."
    assert wrap("Hello\nthere", "en", style_for("en")) == "Hello there"


def test_english_wraps_into_balanced_lines_at_spaces() -> None:
    text = "I told you not to go there without telling your mother first, didn't I?"
    out = wrap(text, "en", style_for("en"))
    lines = _lines(out)
    assert len(lines) == 2
    assert all(text_length(ln) <= 42 for ln in lines)
    assert " ".join(lines) == text
    assert abs(len(lines[0]) - len(lines[1])) <= 12


def test_english_prefers_break_after_punctuation_and_not_after_article() -> None:
    out = wrap("We have to leave right now, the police are coming for us", "en", style_for("en"))
    assert out.split("\n")[0].endswith(",")
    out = wrap("She finally told me the truth about the money and the house", "en", style_for("en"))
    assert not out.split("\n")[0].endswith((" the", " a"))


def test_chinese_wraps_between_characters_with_kinsoku() -> None:
    style = style_for("zh")
    text = "我早就告诉过你，不要在没有告诉你妈妈的情况下去那里，对吧？"
    out = wrap(text, "zh", style)
    lines = _lines(out)
    assert len(lines) == 2
    assert "".join(lines) == text  # nothing lost, nothing added
    assert all(text_length(ln) <= 16 for ln in lines)
    for ln in lines:
        assert ln[0] not in NO_LINE_START
        assert ln[-1] not in NO_LINE_END


def test_chinese_never_starts_a_line_with_closing_punctuation() -> None:
    # 15 characters then a comma: a naive cut at 16 would start line two with "，".
    style = Style(max_chars_per_line=16)
    text = "一二三四五六七八九十一二三四五六，七八九十一二三四五"
    out = wrap(text, "zh", style)
    assert all(ln[0] not in NO_LINE_START for ln in _lines(out))
    assert out.replace("\n", "") == text


def test_japanese_keeps_small_kana_and_brackets_attached() -> None:
    text = "「そんなこと、言わないでください」と彼女は言った。"
    out = wrap(text, "ja", style_for("ja"))
    lines = _lines(out)
    assert out.replace("\n", "") == text
    for ln in lines:
        assert ln[0] not in NO_LINE_START
        assert ln[-1] not in NO_LINE_END


def test_latin_word_inside_chinese_is_not_split() -> None:
    text = "他昨天在商场里买了一部新的iPhone给他的女朋友作为生日礼物"
    out = wrap(text, "zh", style_for("zh"))
    assert "iPhone" in out
    assert out.replace("\n", "") == text


def test_thai_breaks_only_between_words() -> None:
    from pythainlp.tokenize import word_tokenize

    text = "ผมชื่อสมชายและผมรักเมืองไทยมากที่สุดในโลกนี้ครับแล้วคุณล่ะ"
    words = word_tokenize(text, engine="newmm", keep_whitespace=False)
    boundaries = {sum(len(w) for w in words[:i]) for i in range(len(words) + 1)}
    out = wrap(text, "th", style_for("th"))
    lines = _lines(out)
    assert len(lines) == 2
    assert "".join(lines) == text
    assert len(lines[0]) in boundaries  # the cut falls on a word boundary
    assert all(text_length(ln) <= 35 for ln in lines)


def test_korean_breaks_at_spaces() -> None:
    text = "나는 어제 친구와 함께 영화를 보러 갔어요 정말 재미있었어요"
    out = wrap(text, "ko", style_for("ko"))
    assert " ".join(_lines(out)) == text
    assert all(text_length(ln) <= 16 for ln in _lines(out))


def test_dialogue_keeps_one_line_per_speaker() -> None:
    assert wrap("- Where are you going?\n- Home.", "en", style_for("en")) == "- Where are you going?\n- Home."
    assert wrap("-你去哪？\n-回家。", "zh", style_for("zh")) == "-你去哪？\n-回家。"


def test_too_long_text_is_never_truncated() -> None:
    text = " ".join(["wonderful"] * 20)
    out = wrap(text, "en", style_for("en"))
    assert len(_lines(out)) == 2
    assert " ".join(_lines(out)) == text
    cjk = "好" * 60
    out = wrap(cjk, "zh", style_for("zh"))
    assert out.replace("\n", "") == cjk and len(_lines(out)) == 2
    one_word = "Supercalifragilisticexpialidocious-and-then-some-more-words"
    assert wrap(one_word, "en", style_for("en")) == one_word


def test_break_atoms_round_trip() -> None:
    atoms, seps = break_atoms("他说：“走吧。” OK then", "zh")
    assert len(seps) == len(atoms) - 1
    assert atoms[0] + "".join(s + a for s, a in zip(seps, atoms[1:])) == "他说：“走吧。” OK then"
    assert "“走" in atoms  # opening quote glued to the next character


_WORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC,.!?'é", min_size=1, max_size=15), min_size=1, max_size=30
)


@settings(max_examples=150, deadline=None)
@given(_WORDS, st.integers(min_value=8, max_value=60), st.integers(min_value=1, max_value=3))
def test_wrap_keeps_every_word_in_order(words: list[str], limit: int, lines: int) -> None:
    text = " ".join(words)
    out = wrap(text, "en", Style(max_chars_per_line=limit, max_lines=lines))
    assert out.split() == text.split()
    assert len(out.split("\n")) <= lines
    # when every word fits in the limit and the whole fits, every line fits
    if text_length(text) <= limit:
        assert out == text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="我你他是的了不在有人这中大为上个国说们，。！？「」《》ABC12", min_size=1, max_size=80))
def test_wrap_cjk_loses_nothing_and_respects_kinsoku(text: str) -> None:
    out = wrap(text, "zh", style_for("zh"))
    assert out.replace("\n", "") == text
    assert len(out.split("\n")) <= 2
    for ln in out.split("\n")[1:]:
        assert ln[0] not in NO_LINE_START
