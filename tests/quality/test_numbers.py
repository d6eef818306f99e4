"""Numbers as a viewer reads them: digits in any script, Chinese numerals, number words."""

from __future__ import annotations

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.quality.numbers import compare_numbers, extract_numbers


def values(text: str, lang: str) -> list[set[float]]:
    return [set(n.values) for n in extract_numbers(text, lang)]


def strong(text: str, lang: str) -> list[set[float]]:
    return [set(n.values) for n in extract_numbers(text, lang) if not n.weak]


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("他有五千万。", "zh", [{50_000_000}]),
        ("3.5亿", "zh", [{350_000_000}]),
        ("二〇二四年", "zh", [{2024}]),
        ("２０２４年", "zh", [{2024}]),
        ("三点五公斤", "zh", [{3.5}]),
        ("他有三个孩子", "zh", [{3}]),
        ("百分之五十", "zh", [{50}]),
        ("五千万円です", "ja", [{50_000_000}]),
        ("50,000,000 yuan", "en", [{50_000_000}]),
        ("50.000.000 euros", "es", [{50_000_000}]),
        ("50 000 000", "fr", [{50_000_000}]),
        ("fifty million", "en", [{50_000_000}]),
        ("50 million", "en", [{50_000_000}]),
        ("cincuenta millones", "es", [{50_000_000}]),
        ("twenty-five", "en", [{25}]),
        ("veintitrés años", "es", [{23}]),
        ("لدي ٥ كتب", "ar", [{5}]),
        ("لديه 50 مليون", "ar", [{50_000_000}]),
        ("3,5 kilos", "es", [{3.5}]),
    ],
)
def test_values(text, lang, expected):
    assert strong(text, lang) == expected


def test_clock_times_are_hours_am_or_pm():
    assert values("我们三点见", "zh") == [{3, 15}]
    assert values("三時に会おう", "ja") == [{3, 15}]
    assert values("See you at 15:00", "en") == [{15, 3}]
    assert values("十一点十五分", "zh") == [{11, 23}, {15}]
    assert values("At 11:15.", "en") == [{11, 23}, {15}]


def test_ambiguous_grouping_keeps_both_readings():
    assert values("1,500", "en") == [{1500, 1.5}]


@pytest.mark.parametrize("text", ["我们一起去吧", "千万别走", "十分好", "万一他来了", "一点点", "乱七八糟", "她是千金小姐",
                                  "我没零钱", "收拾房间", "他加入了陆军"])
def test_idioms_made_of_numerals_are_no_numbers(text):
    assert strong(text, "zh") == []


@pytest.mark.parametrize("text", ["星期三见", "三月来", "第一次", "一个人"])
def test_weekdays_months_and_one_are_weak(text):
    assert strong(text, "zh") == [] and values(text, "zh")


@pytest.mark.parametrize(
    "src, tgt, lang, ok",
    [
        ("五千万", "fifty million", "en", True),
        ("五千万", "50,000,000", "en", True),
        ("五千万", "fifty thousand", "en", False),
        ("三点见", "see you at three", "en", True),
        ("下午三点见", "see you at 3 p.m.", "en", True),
        ("下午三点见", "see you at 15:00", "en", True),
        ("三点见", "see you at five", "en", False),
        ("八点出发", "salimos a las ocho", "es", True),
        ("八点出发", "salimos a las nueve", "es", False),
        ("一个人", "alone", "en", True),  # 一 as an article is never "missing"
        ("两个人两个包", "two people, two bags", "en", True),
        ("三个人三个包", "three people and bags", "en", False),  # counts matter
        ("两兄弟都是音乐家", "Both brothers are musicians", "en", True),  # 两 is often "both"
        ("他有两个孩子", "He has three kids", "en", False),  # ...but never "three"
        ("八点半开始上课", "Class begins at eight-thirty", "en", True),
        ("23点我打电话给她", "I called her at 11 p.m.", "en", True),
        ("他过了六十岁生日", "He had his sixtieth birthday", "en", True),
        ("数十人仍然失踪", "Dozens are still missing", "en", True),
        ("我出生于1950年4月3日", "I was born on April 3, 1950", "en", True),
        ("他走了", "he left at 5", "en", False),  # a number from nowhere
    ],
)
def test_compare(src, tgt, lang, ok):
    missing, extra = compare_numbers(extract_numbers(src, "zh"), extract_numbers(tgt, lang))
    assert (not missing and not extra) is ok


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=10**12))
def test_chinese_numerals_read_back_as_written(n):
    text = cn2an.an2cn(n, "low")
    assert strong(f"有{text}个", "zh") == [{n}]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), st.sampled_from([",", ".", "\u00a0"]))
def test_grouped_digits_read_back(n, sep):
    text = f"{n:,}".replace(",", sep)
    assert any(n in v for v in values(f"total {text} left", "en"))
