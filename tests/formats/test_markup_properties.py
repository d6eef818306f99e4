"""Markup restore, property-based: markup comes back whole and in order around any translation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from localise.formats.markup import protect, strip_markup, tokenize

WORDS = st.sampled_from(["我", "真的", "爱你", "hello", "world", "مرحبا", "สวัสดี", "😀", " ", "，", "a<b", "x > y", "3 & 4", "\n"])
TAGS = {
    "srt": st.sampled_from(["<i>", "</i>", "<b>", "</b>", '<font color="#ff0000">', "</font>", "{\\an8}"]),
    "vtt": st.sampled_from(["<i>", "</i>", "<c.yellow>", "</c>", "<v 张三>", "</v>", "<00:00:01.000>", "&amp;"]),
    "ass": st.sampled_from(["{\\i1}", "{\\i0}", "{\\an8}", "{\\fad(200,200)}", "{\\c&H00FF00&}", "{\\r}", "{\\k20}"]),
}
TRANSLATION = st.lists(st.sampled_from(["I", "really", "love", "you", "你好", "ok", " ", "\n", "😀", "สวัสดี"]), max_size=10).map("".join)


def markup_tokens(text: str, dialect: str) -> list[str]:
    return [t.raw for t in tokenize(text, dialect) if t.markup]


@st.composite
def marked_up(draw: st.DrawFn, dialect: str) -> str:
    parts = draw(st.lists(st.one_of(WORDS, TAGS[dialect]), min_size=1, max_size=10))
    text = "".join(parts)
    if dialect == "vtt":  # raw '<' and '&' are not allowed in WebVTT text: escape the words
        text = "".join(p if p in ("<i>", "</i>", "<c.yellow>", "</c>", "<v 张三>", "</v>", "<00:00:01.000>", "&amp;")
                       else p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for p in parts)
    return text


def _check(text: str, dialect: str, translation: str) -> None:
    protected = protect(text, dialect)
    assert protected.restore(protected.plain) == text
    restored = protected.restore(translation)
    tags = [t for t in markup_tokens(text, dialect)]
    assert markup_tokens(restored, dialect) == tags  # every span back, none invented, same order
    assert strip_markup(restored, dialect) == translation  # the words are exactly the translation


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["srt", "vtt", "ass"]).flatmap(lambda d: st.tuples(st.just(d), marked_up(d), TRANSLATION)))
def test_restore_keeps_every_span_in_order(case: tuple[str, str, str]) -> None:
    dialect, text, translation = case
    _check(text, dialect, translation)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["srt", "vtt", "ass"]), st.data())
def test_fast_paths_agree_with_the_tokeniser(dialect, data):
    """strip_markup/protect/convert_markup skip the tokeniser for text without markup characters:
    the result must be what the tokeniser gives."""
    text = data.draw(st.one_of(marked_up(dialect), st.lists(WORDS, max_size=8).map("".join)))
    tokens = tokenize(text, dialect)
    assert strip_markup(text, dialect) == "".join(t.plain for t in tokens)
    if not any(t.markup for t in tokens) and all(t.plain == t.raw for t in tokens):
        protected = protect(text, dialect)
        assert (protected.prefix, protected.suffix, protected.anchors) == ("", "", [])
        assert protected.lines == text.count("\n") + 1
