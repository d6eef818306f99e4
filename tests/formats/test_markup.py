"""Markup protection: words only for the engine, markup back around the corresponding words."""

from __future__ import annotations

import pytest

from localise.formats.markup import convert_markup, protect, strip_markup


@pytest.mark.parametrize("text,dialect,plain,translated,restored", [
    ("我<i>真的</i>爱你", "srt", "我真的爱你", "I really love you", "I <i>really</i> love you"),
    ("<i>你好</i>", "srt", "你好", "Hello there", "<i>Hello there</i>"),
    ("{\\an8}你好", "ass", "你好", "Hello", "{\\an8}Hello"),
    ("{\\an8}<i>你好吗</i>", "srt", "你好吗", "How are you", "{\\an8}<i>How are you</i>"),
    ("<i>第一行</i>\n<i>第二行</i>", "srt", "第一行\n第二行", "Line one\nLine two", "<i>Line one</i>\n<i>Line two</i>"),
    ("<v 张三>你好 &amp; 再见", "vtt", "你好 & 再见", "Hi & bye <3", "<v 张三>Hi &amp; bye &lt;3"),
    ("{\\fad(200,200)}我{\\c&H00FF00&}真的{\\r}爱你", "ass", "我真的爱你", "I really love you",
     "{\\fad(200,200)}I {\\c&H00FF00&}really{\\r} love you"),
    ("Hello <b>big</b> world", "srt", "Hello big world", "你好大世界", "你好<b>大</b>世界"),
])
def test_protect_and_restore(text: str, dialect: str, plain: str, translated: str, restored: str) -> None:
    protected = protect(text, dialect)
    assert protected.plain == plain
    assert protected.restore(translated) == restored
    assert protected.restore(plain) == text
    assert strip_markup(text, dialect) == plain


def test_ass_drawing_and_soft_breaks_are_not_words() -> None:
    assert strip_markup("{\\p1}m 0 0 l 100 0 100 100{\\p0}字幕", "ass") == "字幕"
    protected = protect("胡\\h萝\\h卜", "ass")
    assert protected.plain == "胡 萝 卜"
    assert protected.restore("car rot s") == "car\\hrot\\hs"


def test_inner_span_never_ends_empty_and_keeps_order() -> None:
    protected = protect("a <i>b</i> c <b>d</b> e", "srt")
    out = protected.restore("x")
    assert out.index("<i>") < out.index("</i>") <= out.index("<b>") < out.index("</b>")


@pytest.mark.parametrize("text,source,target,expected", [
    ("{\\an8}{\\i1}hi{\\i0} there", "ass", "srt", "{\\an8}<i>hi</i> there"),
    ("<i>a & b</i> <font color=red>c</font>", "srt", "vtt", "<i>a &amp; b</i> c"),
    ("<i>a</i>", "srt", "ass", "{\\i1}a{\\i0}"),
    ("<v Bob><c.x>a &lt; b</c>", "vtt", "srt", "a < b"),
    ("same", "srt", "srt", "same"),
])
def test_convert_markup(text: str, source: str, target: str, expected: str) -> None:
    assert convert_markup(text, source, target) == expected
