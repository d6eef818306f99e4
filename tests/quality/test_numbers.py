"""Numbers as a viewer reads them (digits in any script, Chinese numerals, number words), and compared
as values: a different value is a major conflict, a number left out or added is minor."""

from __future__ import annotations

import subprocess
import sys

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.glossary import Glossary, TermEntry
from localise.model import Cue, Track
from localise.quality import check_track
from localise.quality.numbers import (
    compare, compare_numbers, compare_texts, default_non_quantities, extract_numbers, parse_non_quantities,
)


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


# --- values, not tokens (issue 14) ---------------------------------------------------------------



def findings(src: str, tgt: str, lang: str = "en", **kw) -> dict[str, list]:
    c = compare_texts(src, tgt, "zh", lang, **kw)
    return {k: v for k, v in (("conflicts", list(c.conflicts)), ("missing", list(c.missing)), ("extra", list(c.extra))) if v}


def number_flags(src: str, tgt: str, lang: str = "en", **kw):
    def cue_track(text):
        return Track([Cue(0, 3000, text, id="1")], "srt")
    flags = check_track(cue_track(src), cue_track(tgt), src_lang="zh", tgt_lang=lang, **kw)[0]
    return [f for f in flags if f.code == "number"]


@pytest.mark.parametrize("src, tgt", [
    ("二叔，你回来了！", "Uncle, you're back!"),
    ("三少爷来了。", "The Young Master is here."),
    ("老三，过来。", "Come here, Third."),
    ("老三，过来。", "Come here, Number Three."),  # the rank may be said: no "extra"
    ("我一百个不愿意！", "I'd never agree to it!"),
    ("你千万别走。", "Don't you dare leave."),
    ("万一他来了呢？", "What if he comes?"),
    ("她是我二姐。", "She's my sister."),
    ("二小姐，请。", "Please, Miss."),
    ("他一定会来的。", "He'll come for sure."),
    ("我们一起走吧。", "Let's go together."),
])
def test_numerals_that_are_no_quantities_give_no_finding(src, tgt):
    assert findings(src, tgt) == {}
    assert number_flags(src, tgt) == []


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2, max_value=19), st.sampled_from(["叔", "少爷", "小姐", "姨", "舅", "哥", "弟", "婶", "当家"]),
       st.sampled_from(["", "老"]))
def test_kinship_and_seniority_titles_are_no_counts(n, title, prefix):
    """Any small numeral before a title (or after 老) is a rank: never a quantity to report."""
    word = (prefix + cn2an.an2cn(n, "low")) if prefix else cn2an.an2cn(n, "low") + title
    assert strong(f"{word}，你来了。", "zh") == []


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2, max_value=999), st.sampled_from(["个人", "本书", "块钱", "只猫", "辆车", "岁", "次"]))
def test_a_numeral_before_a_measure_word_is_a_quantity(n, classifier):
    from hypothesis import assume

    numeral = cn2an.an2cn(n, "low")
    assume(numeral + classifier not in default_non_quantities())  # 八百次, 一百次: hyperbole, listed as such
    assert strong(f"他有{numeral}{classifier}。", "zh") == [{n}]


def test_a_collective_noun_counts_but_a_title_does_not():
    assert strong("三姐妹都来了", "zh") == [{3}]
    assert strong("三姐来了", "zh") == []


@pytest.mark.parametrize("src, tgt", [
    ("七天之内把钱还上。", "Pay it back within a week."),
    ("二十年前我就认识他。", "I knew him two decades ago."),
    ("十二点见。", "See you at noon."),
    ("十二点了。", "It's midnight."),
    ("他给了我二百万。", "He gave me 2M."),
    ("这是五亿的项目。", "It's a $500M project."),
    ("一亿七千万。", "$170M."),
    ("86年的时候我还小。", "In 1986 I was little."),
    ("86年的时候我还小。", "Back in '86 I was little."),
    ("全场打四折。", "Everything is 40% of the price."),
    ("全场打四折。", "Everything is 60% off."),
    ("打八折。", "20% off."),
    ("半个月后见。", "See you in two weeks."),
    ("三个小时了。", "It's been three hours."),
    ("一个月以后。", "A month later."),
    ("三十万块。", "300,000 yuan."),
    ("我等了他三年。", "I waited for him for three years."),
    ("一九八六年。", "Nineteen eighty-six."),
    ("八十年代的歌。", "A song from the 1980s."),
    ("三成的股份。", "30% of the shares."),
    ("一个半小时。", "An hour and a half."),
    ("这可是十个亿的项目。", "This is a billion-dollar project."),  # 十个亿: a classifier before 亿
    ("他欠了五十万。", "He owes half a million."),
    ("三千块。", "Three grand."),
    ("打五折。", "Half price."),
    ("我说了一百遍了！", "I've told you a hundred times!"),  # an idiom's numeral may be said
    ("他昏迷了整整半年。", "He was in a coma for six months."),
    ("明天早上八点。", "Tomorrow at 8 o'clock."),  # no 0 from "o'clock"
    ("周家肯出三千两银子的聘礼。", "The Zhous offer 3,000 taels as a bride price."),  # 两 the measure, not 3,200
    ("给我十两银子。", "Give me ten taels of silver."),
    ("七七四十九天。", "Forty-nine days."),  # seven sevens: the product is the number
    ("现在是两点四十五分。", "It's a quarter to three."),
    ("九点五十分见。", "See you at ten to ten."),
    ("两点半。", "Half past two."),
    ("他的年龄是她的两倍。", "He is twice as old as she is."),
    ("我每两天洗一次澡。", "I take a bath every other day."),
    ("他们两个人都会说法语。", "Both of them speak French."),
    ("这幅画估价数百万元。", "The painting was valued at several million."),
])
def test_the_same_value_said_another_way_matches(src, tgt):
    assert findings(src, tgt) == {}


@pytest.mark.parametrize("src, tgt, lang", [
    ("七天之内。", "En una semana.", "es"),
    ("七天之内。", "Dans une semaine.", "fr"),
    ("两个星期。", "Zwei Wochen.", "de"),
    ("半个小时。", "Meia hora.", "pt"),
    ("五千万。", "Cincuenta millones.", "es"),
    ("三百欧元。", "Dreihundert Euro.", "de"),
    ("二十一岁。", "Vingt-et-un ans.", "fr"),
])
def test_other_target_languages(src, tgt, lang):
    assert findings(src, tgt, lang) == {}


@pytest.mark.parametrize("src, tgt", [
    ("这房子值五千万。", "The house is worth five million."),
    ("我只要三十万。", "I only want 30K."),
    ("他有两个孩子。", "He has three kids."),
    ("七天之内。", "Within seven hours."),
    ("打四折。", "30% off."),
    ("我都八十了，你还让我操心！", "I'm 60 years old and you still worry me!"),  # a numeral before a final particle
])
def test_a_different_value_is_a_major_conflict(src, tgt):
    flags = number_flags(src, tgt)
    assert [f.severity for f in flags] == ["major"]
    assert "different value" in flags[0].reason


def test_a_conflict_names_every_figure():
    (flag,) = number_flags("这房子值五千万。", "The house is worth five million.")
    assert "五千万 (50,000,000)" in flag.reason and "five million (5,000,000)" in flag.reason
    (flag,) = number_flags("我只要三十万。", "I only want 30K.")
    assert "三十万 (300,000)" in flag.reason and "30K (30,000)" in flag.reason


def test_a_dropped_number_is_minor_and_named():
    (flag,) = number_flags("三天之后，林晚晴会回来。", "Lin Wanqing will be back.")
    assert flag.severity == "minor" and "三天 (3 days)" in flag.reason and "not in the translation" in flag.reason


def test_a_number_from_nowhere_is_minor():
    (flag,) = number_flags("他走了。", "He left at 5.")
    assert flag.severity == "minor" and "5" in flag.reason and "not in the source" in flag.reason


def test_conflict_missing_and_extra_in_one_sentence_are_separate_flags():
    # 五千万 said as five million: a conflict; 三天 (a span) and 40 % (a share) measure different
    # things, so they are one missing and one extra number, not a conflict
    flags = number_flags("五千万，三天。", "Five million, 40% now.")
    assert [f.severity for f in flags] == ["major", "minor", "minor"]
    assert "五千万 (50,000,000)" in flags[0].reason and "三天 (3 days)" in flags[1].reason and "40%" in flags[2].reason
    # left-over numbers that may measure the same thing pair up as conflicts
    flags = number_flags("五千万，三天。", "Five million, and 8 guards.")
    assert [f.severity for f in flags] == ["major"] and "三天 (3 days)" in flags[0].reason and "8" in flags[0].reason
    flags = number_flags("五千万。", "Fifty million, in three days.")
    assert [f.severity for f in flags] == ["minor"] and "three days" in flags[0].reason


def test_severities_are_data():
    flags = number_flags("这房子值五千万。", "The house is worth five million.",
                         thresholds={"severity": {"number.conflict": "critical"}})
    assert [f.severity for f in flags] == ["critical"]
    flags = number_flags("三天之后回来。", "I'll be back.", thresholds={"severity": {"number.missing": "major"}})
    assert [f.severity for f in flags] == ["major"]


def test_a_series_extends_the_non_quantities():
    src, tgt = "去三里屯等我。", "Wait for me in Sanlitun."
    assert findings(src, tgt)  # 三 stands alone before 里 (a unit): a quantity to the house rules
    assert findings(src, tgt, non_quantities=["三里屯"]) == {}
    assert number_flags(src, tgt, thresholds={"number_non_quantities": ["三里屯"]}) == []
    assert number_flags(src, tgt, thresholds={"number_non_quantities": "三里屯"}) == []  # one word, not a list
    # a pattern: {N} is any numeral, applied where the segmenter ends a word
    assert strong("八号技师来了", "zh") != []
    assert compare_texts("八号技师来了。", "The technician is here.", "zh", "en",
                         non_quantities=["{N}号技师"]) == compare((), ())


def test_glossary_terms_hold_no_quantities():
    glossary = Glossary([TermEntry("三里屯", {"en": "Sanlitun"}), TermEntry("七星帮", {"en": "Seven Stars Gang"})])
    assert findings("去三里屯等我。", "Wait for me in Sanlitun.", glossary=glossary) == {}
    # the term's rendering in the translation holds no number either
    assert findings("七星帮来了。", "The Seven Stars Gang is here.", glossary=glossary) == {}


def test_every_entry_of_the_data_file_is_no_quantity():
    entries = default_non_quantities()
    assert len(entries) > 100 and all("#" not in e for e in entries)
    for entry in entries:
        word = entry.replace("{N}", "三")
        assert strong(f"{word}。", "zh") == [], entry


def test_the_data_file_syntax():
    assert parse_non_quantities(["# a comment", "", "  一起  # inline comment", "{N}叔"]) == ("一起", "{N}叔")


@pytest.mark.parametrize("text, both", [("七八个人", {7, 8}), ("两三天", {2, 3}), ("三五天", {3, 5}), ("五六十岁", {50, 60}), ("三四百人", {300, 400})])
def test_two_numerals_in_a_row_are_an_estimate(text, both):
    assert strong(text, "zh") == [] and both in values(text, "zh")


def test_weekdays_ordinals_and_estimates_stay_weak():
    assert strong("第三次了", "zh") == [] and values("第三次了", "zh") == [{3}]
    assert strong("星期三见", "zh") == []
    assert strong("十几个人", "zh") == []
    assert strong("我们俩一起去", "zh") == []


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=10**12))
def test_chinese_numerals_with_magnitudes_match_digits_and_scales(n):
    """an2cn's reading of any integer matches the same integer in digits and, where exact, in K/M/B."""
    src = f"他有{cn2an.an2cn(n, 'low')}块钱。"
    assert findings(src, f"He has {n:,} yuan.") == {}
    for scale, mark in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n % scale == 0:
            assert findings(src, f"He has ${n // scale}{mark}.") == {}
            break
    assert list(findings(src, f"He has {n + 1:,} yuan.")) == ["conflicts"]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2, max_value=30), st.sampled_from([("天", 1, "days"), ("个星期", 7, "weeks"),
                                                               ("个月", 30, "months"), ("年", 365, "years")]))
def test_spans_match_across_units(n, unit):
    """n units in Chinese match the same length said in days (or weeks) in the translation."""
    cn_unit, days, en_unit = unit
    src = f"{cn2an.an2cn(n, 'low')}{cn_unit}之后。"
    assert findings(src, f"In {n} {en_unit}.") == {}
    assert findings(src, f"In {n * days} days.") == {}
    if days == 1 and n % 7 == 0:
        assert findings(src, f"In {n // 7} weeks.") == {}
    assert list(findings(src, f"In {n + 3} {en_unit}.")) == ["conflicts"]


def test_segmenter_loads_only_when_a_chinese_numeral_needs_it():
    code = ("import sys\nfrom localise.quality.numbers import extract_numbers\n"
            "extract_numbers('He paid fifty million dollars', 'en')\nextract_numbers('你好吗？', 'zh')\n"
            "assert 'rjieba' not in sys.modules\n"
            "extract_numbers('二叔来了', 'zh')\nassert 'rjieba' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("text", ["今天是美好的一天", "一周之后", "万人迷", "准备万端", "三岁小孩都知道", "我说了一百遍"])
def test_one_unit_a_bare_magnitude_and_idioms_are_weak(text):
    """一天 is "a day" as often as "one day"; 万 alone is no count; idioms hold no quantity."""
    assert strong(text, "zh") == []


def test_hyperbole_on_both_sides_is_never_major():
    assert [f.severity for f in number_flags("我说了一百遍了！", "I've told you a million times!")] == ["minor"]


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=9_999).map(lambda n: n * 10))  # round numerals, drawn not filtered
def test_a_trailing_liang_after_a_magnitude_is_the_measure_word(n):
    """三千两 is 3,000 taels: 两 after a round numeral is the unit (cn2an alone reads 3,200)."""
    assert strong(f"{cn2an.an2cn(n, 'low')}两银子", "zh") == [{n}]


def test_multiplication_rhymes_read_as_their_product():
    assert findings("七七四十九天。", "Forty-one days.") != {}  # a wrong product is still caught
    assert strong("不管三七二十一", "zh") == []  # the idiom "come what may"


@pytest.mark.parametrize("text, expected", [
    ("It's a quarter to three.", [{15, 45}, {2, 14, 3, 15}]),
    ("Half past two.", [{30}, {2, 14}]),
])
def test_clock_times_said_relative_to_the_hour(text, expected):
    assert values(text, "en") == expected


def test_ranges_are_not_clock_times():
    assert values("five to ten people", "en") == [{5}, {10}]


def test_a_bare_scale_word_is_vague_but_a_million_is_a_figure():
    assert strong("millions of fans", "en") == [] and strong("several million", "en") == []
    assert strong("a million dollars", "en") == [{1_000_000}]
    assert list(findings("他给了我一百万。", "He gave me a billion.")) == ["conflicts"]


def test_glossary_terms_do_not_recompile_the_word_list():
    """Each sentence finds its own terms; the house list's regex is built once per run's settings."""
    from localise.quality.numbers import _masks

    names = [f"林{cn2an.an2cn(i, 'low')}号" for i in range(2, 90)]
    glossary = Glossary([TermEntry(n, {"en": f"Lin {i}"}) for i, n in enumerate(names)])
    _masks.cache_clear()
    for name in names:
        compare_texts(f"{name}给了我三百块。", "He gave me 300.", "zh", "en", glossary=glossary)
    assert _masks.cache_info().currsize == 1


def test_a_numeral_before_a_final_particle_is_a_quantity_and_a_title_stays_a_rank():
    assert findings("我都八十了。", "I'm eighty.") == {}
    assert findings("三少爷来了。", "The Third Young Master is here.") == {}
    assert findings("借我十个胆我也不敢。", "I wouldn't dare.") == {}  # an idiom (non_quantities.txt)


@pytest.mark.parametrize("src, tgt", [
    ("他一米八二。", "He's 1.82 meters."),
    ("他一米八。", "He's 180 cm."),
    ("一米八二了！", "Nearly six feet!"),  # a height in feet
    ("白菜一块五一斤。", "Cabbage is 1.50 a jin."),  # the 一 before 斤 starts a quantity of its own
    ("三块八。", "3.80."),
    ("十三块五。", "13.50 yuan."),
    ("两毛五一个。", "0.25 each."),
])
def test_spoken_decimals_after_a_unit_are_one_value(src, tgt):
    """一米八二 is 1.82 m, 三块八 ¥3.80: the digits after the unit are its decimals, not a number of
    their own (before: 八二 read as 82, a major conflict with "1.82")."""
    comparison = compare_texts(src, tgt, "zh", "en")
    assert comparison.conflicts == () and comparison.missing == (), comparison


@pytest.mark.parametrize("src, tgt", [
    ("三块八。", "38 yuan."),
    ("他一米六。", "He's six foot."),
    ("一米七五", "1.57 meters"),
])
def test_a_different_decimal_after_a_unit_is_still_a_conflict(src, tgt):
    assert compare_texts(src, tgt, "zh", "en").conflicts


def test_new_years_eve_and_day_name_dates_not_counts():
    assert findings("大年三十的，哪儿都堵。", "It's New Year's Eve. Traffic's everywhere.") == {}
    assert findings("大年初一，给奶奶拜年。", "New Year's Day. We visit Grandma.") == {}


def test_literary_tens_and_units_and_proverbs():
    assert findings("她今年二十有八。", "She's 28.") == {}
    assert compare_texts("她今年二十有八。", "She's 18.", "zh", "en").conflicts
    assert findings("我没有八个。", "I don't have eight.") == {}  # 有 after no 十: nothing joined
    assert [f for f in number_flags("三个臭皮匠，顶个诸葛亮。", "Two heads are better than one.") if f.severity != "minor"] == []


@pytest.mark.parametrize("src, tgt", [
    ("号码是13905712846。", "The number is 139-0571-2846."),
    ("号码是139 0571 2846。", "The number is 13905712846."),
    ("卡号6222 0200 1234。", "Card number 622202001234."),
])
def test_a_digit_string_written_in_groups_is_one_number(src, tgt):
    assert findings(src, tgt) == {}


def test_digit_groups_that_spell_another_string_still_disagree():
    assert compare_texts("号码是13905712846。", "It's 139-0571-2847.", "zh", "en").conflicts


def test_a_split_said_as_tenths_is_no_quantity():
    assert [f for f in number_flags("五五分成。", "We split it fifty-fifty.") if f.severity != "minor"] == []
    assert [f for f in number_flags("咱们三七开。", "We split it 70-30.") if f.severity != "minor"] == []


def test_digits_after_a_chinese_comma_are_read():
    """The full-width comma becomes "," with the digits; after a word it is no thousands separator."""
    assert values("打过电话，13905712846。", "zh") == [{13905712846}]
    assert values("价格，300块。", "zh") == [{300}]
    assert values("1,500 people", "en") == [{1500, 1.5}]
    assert findings("刘振给一个号码打过电话，13905712846。", "Liu Zhen called a number, 139-0571-2846.") == {}


@pytest.mark.parametrize("src, tgt", [
    ("爸，今天卖了三万多块。", "Dad, we made over 300K today."),  # a rough count, a place too many
    ("初八上班。", "Work starts on the 80th."),  # a day of the month (a rank) said ten times over
    ("八十九平，两室一厅。", "890 square meters. Two bedrooms."),
    ("这份合同第七条写错了。", "Clause 70 of this contract is wrong."),
])
def test_a_value_off_by_a_power_of_ten_is_a_major_conflict(src, tgt):
    flags = number_flags(src, tgt)
    assert [f.severity for f in flags] == ["major"], flags
    assert "different value" in flags[0].reason


@pytest.mark.parametrize("src, tgt", [
    ("手表也在，少说值个十来万。", "Worth 100 grand at least."),  # 十来万 is one rough value, not 十 and 万
    ("他欠了十几万的赌债。", "He owes over 100K in gambling debts."),
    ("三十多万块。", "Over 300K."),
])
def test_a_rough_count_of_a_magnitude_is_one_value(src, tgt):
    assert findings(src, tgt) == {}


@pytest.mark.parametrize("src, tgt", [
    ("我一百个不愿意。", "Not in a thousand years."),  # hyperbole: an idiom's numeral states no value
    ("他有两个孩子。", "He has 20 cats."),  # not a slip: a strong count in conflict anyway (major, once)
    ("万岁！", "Long live the king, 10,000 years!"),  # a lone magnitude says no value of its own
    ("等一下。", "Wait 10 minutes."),  # 一 is too often "a" to be misread as ten
])
def test_a_power_of_ten_away_is_no_slip_where_the_source_states_no_value(src, tgt):
    severities = [f.severity for f in number_flags(src, tgt)]
    assert severities.count("major") == (1 if "孩子" in src else 0), severities


def test_a_span_said_as_another_span_is_a_conflict():
    flags = number_flags("爸走了还不到七天，", "Dad's been gone less than a month,")
    assert [f.severity for f in flags] == ["major"] and "七天 (7 days)" in flags[0].reason and "a month" in flags[0].reason
    assert findings("爸走了还不到七天，", "Dad's been gone less than a week,") == {}
    assert findings("七天之内。", "Within a week.") == {}


def test_one_oclock_after_a_part_of_the_day_is_a_clock_time():
    assert [(n.kind, n.weak) for n in extract_numbers("凌晨一点，七号码头。", "zh")][0] == ("clock", False)
    assert findings("凌晨一点，七号码头。", "1 a.m., Pier 7.") == {}
    assert [f.severity for f in number_flags("凌晨一点，七号码头。", "10 a.m., Pier 7.")] == ["major"]
    # 一点 stays "a little" where 都/也 follow, or no part of the day stands before it
    assert strong("晚上一点都不冷。", "zh") == [] and strong("我就吃一点。", "zh") == []
