"""Numbers in subtitle text, read as values, so a source and its translation can be compared.

Why values and not tokens: professional subtitles say the same quantity another way (五亿 ->
"$500M", 七天之内 -> "within a week", 86年 -> "1986", 四折 -> "40%"), and Chinese writes numerals
inside words that state no number at all (二叔 "Uncle", 千万别 "don't you dare"). A flag on
either is a false alarm; a translation that states a *different* value (五千万 -> "five million")
is the error worth a reviewer's time.

Reading a text gives :class:`Number` s, each with every value it may stand for:

* Digits in any script, thousands groups (``50,000,000``, ``50.000.000``), decimals; ``a,bcd`` is
  ambiguous between languages and keeps both readings. ``30K``, ``$2M``, ``1.5bn``, ``2 million``.
* Chinese and Japanese numerals through cn2an (``五千万``, ``一亿七千万``, ``3.5亿``, ``两百``,
  ``二〇二四``, ``十个亿``), 俩/仨 (two/three, with their classifier), 半 in spans (半个月, 一个半小时),
  estimates (``三五天``, ``五六十岁``: both values, weak), 两 as the measure word (``三千两`` is 3,000
  taels), multiplication rhymes (``七七四十九`` is 49).
  Clock times (``三点`` is 3 or 15; ``十二点`` is noon or midnight), years (``86年`` is also
  1986), discounts (``四折`` is 40 % of the price or 60 % off), 成 (``三成`` is 30 %), decades
  (``八十年代`` is the 1980s), and spans of time in days (``七天`` = "a week", ``二十年`` = "two
  decades", ``半个月`` = "two weeks"), which match across units within :data:`SPAN_TOLERANCE`.
* Number words of English, Spanish, Portuguese, French, German (and Dutch, Italian, Danish)
  through text2num; Arabic from a table. Ordinals, "noon"/"midnight", "a week", "half an hour",
  "nineteen eighty-six", "'86", "a quarter to three", "half a million", "three grand", "half
  price", "twice"/"both", currency marks and "percent" around them. A bare scale word ("millions
  of", "several million") is weak.

Which Chinese numerals are quantities (the numeral–classifier rule): a numeral followed by a
measure word or unit (三个, 五百块, 七天), or standing on its own (我数到三), is a quantity. One
inside a longer word that the segmenter (jieba) finds (老三, 二姐, 三角恋), or followed by a noun
without a classifier (三少爷, 二小姐: a rank, not a count) is *weak*. Words listed in
``localise/data/non_quantities.txt`` (idioms, hyperbole, titles; extendable per run) and glossary
terms are no numbers at all, or weak ones for the ``{N}`` patterns of that file.

A *weak* number (一 and "one" as articles, months, weekdays, ordinals, ranks) matches like any
other but is never reported missing or extra and never makes a conflict.

:func:`compare` pairs the two sides: equal values match; a source quantity and a target number
that are left over on both sides and may measure the same thing are a *conflict* (the
translation states a different value); what is left is *missing* (a condensed line) or *extra*.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from localise.quality import segment
from localise.quality.text import base_lang

#: Two spans of time match when their lengths in days differ by at most this share of the longer
#: ("half a month" is 15 days, "two weeks" 14; "a month" is 30 days, "four weeks" 28).
SPAN_TOLERANCE = 0.1

#: What a number measures. Two left-over numbers are a conflict only when their kinds may measure
#: the same thing: equal kinds, or one of them a plain count.
KINDS = ("count", "money", "percent", "clock", "year", "span", "ordinal", "rank", "word")


@dataclass(frozen=True)
class Number:
    """A number as written, with every value it may stand for.

    ``days``: for a span of time, its length in days (七天 and "a week" are both 7).
    """

    text: str
    values: frozenset[float]
    weak: bool = False
    kind: str = "count"
    days: float | None = None

    def matches(self, other: "Number") -> bool:
        if self.days is not None and other.days is not None:
            if self.days == other.days:
                return True
            if self._unit() == other._unit():  # 27 days are not 30 days; a month may be 4 weeks
                return False
            return abs(self.days - other.days) <= SPAN_TOLERANCE * max(self.days, other.days)
        return any(abs(a - b) <= 1e-9 + 1e-14 * abs(a) for a in self.values for b in other.values)

    def _unit(self) -> float | None:
        """Length in days of one unit of a span (7.0 for "three weeks")."""
        count = max(self.values) if self.values else 0
        return round(self.days / count, 9) if self.days is not None and count else None

    def may_measure_the_same(self, other: "Number") -> bool:
        """Could ``other`` be this number said wrongly (not a different quantity)?"""
        return self.kind == other.kind or "count" in (self.kind, other.kind)

    def describe(self) -> str:
        """``五千万 (50,000,000)``, ``a week (7 days)``, ``三点 (3 or 15)``: every value, for reasons."""
        if self.days is not None and self.kind == "span":
            return f"{self.text} ({_fmt_days(self.days)})"
        if self.kind == "year":
            shown = " or ".join(f"{v:g}" for v in sorted(self.values))
        elif self.kind == "percent":
            shown = " or ".join(f"{_fmt_value(v)} %" for v in sorted(self.values))
        else:
            shown = " or ".join(_fmt_value(v) for v in sorted(self.values))
        return self.text if shown == self.text else f"{self.text} ({shown})"

    def __str__(self) -> str:
        return self.text


def _fmt_value(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4g}"


def _fmt_days(days: float) -> str:
    if days >= 1:
        return f"{_fmt_value(round(days, 2))} day" + ("" if days == 1 else "s")
    hours = days * 24
    if hours >= 1:
        return f"{_fmt_value(round(hours, 2))} hour" + ("" if hours == 1 else "s")
    return f"{_fmt_value(round(hours * 60, 2))} minutes"


# --- digits ------------------------------------------------------------------------------------

class _DigitMap(dict):
    """``str.translate`` table for :func:`normalise_digits`, filled one character at a time."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        if ch.isdigit() and not ("0" <= ch <= "9"):
            d = unicodedata.decimal(ch, None)
            out = str(d) if d is not None else ch
        else:
            # Arabic decimal/thousands separators, full-width comma and full stop inside digit groups
            out = {"\u066b": ".", "\u066c": ",", "，": ",", "．": "."}.get(ch, ch)
        self[cp] = out
        return out


_DIGIT_MAP = _DigitMap()


def normalise_digits(text: str) -> str:
    """Every Unicode decimal digit becomes its ASCII digit (full-width, Arabic-Indic, Thai...).

    Arabic decimal/thousands separators become ``.``/``,``; the length of the text is unchanged.
    """
    if text.isascii():
        return text
    return text.translate(_DIGIT_MAP)


_TIME = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])")
# not inside a number: no digit before, nor a digit and a separator ("1,500" is one number); a comma
# after a word is no separator (the full-width comma of 电话，139… becomes "," in normalise_digits)
_GROUPED = re.compile(r"(?<![\d.])(?<!\d,)\d{1,3}(?:([,.\u00a0\u202f' ])\d{3})(?:\1\d{3})*(?:[.,]\d+)?(?![\d])")
_PLAIN = re.compile(r"(?<![\d.])(?<!\d,)\d+(?:[.,]\d+)?(?![\d])")


def _hour_values(h: int) -> frozenset[float]:
    if 1 <= h <= 12:
        return frozenset({float(h), float((h + 12) % 24)})
    if 13 <= h <= 23:
        return frozenset({float(h), float(h - 12)})
    return frozenset({float(h)})


def _grouped_values(s: str, sep: str) -> set[float]:
    """``1,500`` -> {1500, 1.5}; ``50.000.000`` -> {50000000}; ``1,234.5`` -> {1234.5}."""
    groups = s.count(sep)
    body = s
    decimal = ""
    tail = re.search(r"([.,])(\d+)$", s)
    if tail and tail.group(1) != sep:
        body, decimal = s[: tail.start()], tail.group(2)
    value = float(body.replace(sep, "") + ("." + decimal if decimal else ""))
    values = {value}
    if groups == 1 and sep in ",." and not decimal:
        values.add(float(s.replace(sep, ".")))
    return values


def _digit_numbers(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int, Number]]:
    found: list[tuple[int, int, Number]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in _TIME.finditer(text):
        h, mnt = int(m.group(1)), int(m.group(2))
        if h > 24 or mnt > 59:
            continue
        found.append((m.start(1), m.end(1), Number(m.group(1), _hour_values(h), kind="clock")))
        if mnt:
            found.append((m.start(2), m.end(2), Number(m.group(2), frozenset({float(mnt)}), kind="clock")))
        taken.append((m.start(), m.end()))
    for m in _GROUPED.finditer(text):
        if free(m.start(), m.end()):
            found.append((m.start(), m.end(), Number(m.group(), frozenset(_grouped_values(m.group(), m.group(1))))))
            taken.append((m.start(), m.end()))
    for m in _PLAIN.finditer(text):
        if free(m.start(), m.end()):
            s = m.group()
            values = {float(s.replace(",", "."))}
            after = text[m.end() : m.end() + 2]
            month = after[:1] == "月"  # 4月 becomes "April"
            if after[:1] in "点點時时" and after and not after[1:2].isdigit() and s.isdigit():
                values = set(_hour_values(int(s)))  # 23点 is 11 p.m.
                if after[1:2] == "半":
                    found.append((m.end() + 1, m.end() + 2, Number("半", frozenset({30.0, 0.5}), weak=True)))
                found.append((m.start(), m.end(), Number(s, frozenset(values), kind="clock")))
            else:
                found.append((m.start(), m.end(), Number(s, frozenset(values), weak=month)))
            taken.append((m.start(), m.end()))
    return found


# --- scales and currency around digits (target languages) ---------------------------------------

_SCALE_WORDS = {
    "k": 1e3, "thousand": 1e3, "thousands": 1e3, "grand": 1e3, "m": 1e6, "mn": 1e6, "mio": 1e6, "million": 1e6,
    "millions": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9, "mil": 1e3, "millón": 1e6,
    "millon": 1e6, "millones": 1e6, "milhão": 1e6, "milhões": 1e6, "bilhão": 1e9, "bilhões": 1e9,
    "mille": 1e3, "milliard": 1e9, "milliards": 1e9, "millionen": 1e6, "milliarde": 1e9, "milliarden": 1e9,
    "tausend": 1e3, "mrd": 1e9, "mille milliards": 1e12,
}
# ``2M``, ``30K``, ``1.5bn``, ``2 million``; a lower-case ``m`` alone is metres or minutes unless a
# currency mark stands before the digits. ``(?<!\d)``: a number starts where no digit stands before it
# (as with every reader above); without it a long digit run was retried from each of its digits.
_DIGIT_SCALE = re.compile(
    r"(?P<cur>[$¥€£₩]\s?)?(?<!\d)(?P<num>\d+(?:[.,]\d+)?)(?:\s?(?P<short>[KMB]|k|bn|mn)\b|\s(?P<word>[^\W\d_]+))",
)
_CURRENCY_BEFORE = re.compile(r"(?:[$¥€£₩]|US\$|HK\$|RMB|CNY|USD|EUR|GBP|JPY)\s?$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(
    r"^\s?(?:dollars?|bucks?|yuan|renminbi|RMB|euros?|pounds?|yen|pesos?|reais|real|dólares|dólar|"
    r"dollars?|Dollar|Euro|USD|CNY|EUR)\b", re.IGNORECASE)
_PERCENT_AFTER = re.compile(r"^\s?(?:%|％|per\s?cent|percent|por\s?ciento|por\s?cento|pour\s?cent|prozent)", re.IGNORECASE)


def _scaled_digits(text: str, digits: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    """Digits with a scale after them (``30K``, ``$2M``, ``2 million``) become one number."""
    by_start = {s: (e, n) for s, e, n in digits}
    out: list[tuple[int, int, Number]] = []
    used: set[int] = set()
    for m in _DIGIT_SCALE.finditer(text):
        start = m.start("num")
        if start not in by_start:
            continue
        end0, number = by_start[start]
        if end0 != m.end("num"):
            continue
        word = (m.group("short") or m.group("word") or "").lower()
        scale = _SCALE_WORDS.get(word)
        if scale is None or (word == "m" and m.group("short") == "m" and not m.group("cur")):
            continue
        values = frozenset(v * scale for v in number.values)
        out.append((m.start(), m.end(), Number(m.group().strip(), values, kind="money" if m.group("cur") else "count")))
        used.add(start)
    return out + [d for d in digits if d[0] not in used]


def _mark_kinds(text: str, spans: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    """Money and percent marks next to a number (for the kind; the value is the same)."""
    out = []
    for s, e, n in spans:
        if n.kind == "count":
            if _CURRENCY_BEFORE.search(text[max(0, s - 4) : s]) or _CURRENCY_AFTER.match(text[e : e + 12]):
                n = Number(n.text, n.values, n.weak, "money", n.days)
            elif m := _PERCENT_AFTER.match(text[e : e + 12]):
                n = Number(n.text + m.group(), n.values, n.weak, "percent", n.days)
        out.append((s, e, n))
    return out


# --- Chinese / Japanese numerals ---------------------------------------------------------------

# Financial numerals (壹贰叁…拾佰仟) are left out: in dialogue 拾 is "pick up" and 陆 is "land".
_CN_DIGITS = "零〇一二三四五六七八九两兩"
_CN_UNITS = "十百千万亿萬億"
_CN = _CN_DIGITS + _CN_UNITS
_CN_RUN = re.compile(rf"(?:\d+(?:\.\d+)?[{_CN_UNITS}][{_CN}\d]*|[{_CN}]+|[俩倆仨])")
_CN_CHARS = frozenset(_CN + "俩倆仨半")
_NUMERAL_PATTERN = f"[{_CN}]+"

_CLOCK = re.compile(rf"^[点點時时](?:([{_CN}\d]+)分|(半)|([一二三123])刻|([{_CN}\d]+))?")
_WEEKDAY = re.compile(r"(?:星期|礼拜|禮拜|周|週)$")
_MONTH_AFTER = re.compile(r"^月")
#: a part of the day before 一点/两点 makes it a clock time (凌晨一点: 1 a.m.), unless 都/也/儿 follow
#: (晚上一点都不冷: "not cold at all at night")
_DAY_PART_BEFORE = re.compile(r"(?:凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|半夜|深夜|午夜|今晚|明晚|昨晚|当晚|今早|明早|夜间)$")
_NOT_CLOCK_AFTER = re.compile(r"[都也儿兒]")
#: a rough count of a magnitude: 十来万 (about 100,000), 二十几亿, 三千多万
_ROUGH_MAGNITUDE = re.compile(r"^(?:几|多|来|余)([百千万亿萬億])")
_MAGNITUDES = {"百": 1e2, "千": 1e3, "万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8}
_ROUGHLY_BEFORE = re.compile(r"(?:数|几|好几|上)$")
_ROUGHLY_AFTER = re.compile(r"^(?:几|多|来|余)")
_ORDINAL_BEFORE = re.compile(r"(?:第|排名第|排行第)$")
#: 我们俩, 他们仨: "the two of us" — often just "we" in the translation.
_PRONOUN_BEFORE = re.compile(r"(?:我们|你们|他们|她们|咱们|咱|我|你|他|她|它们)$")

#: Spans of time: unit -> days. 月 counts only after 个 (三月 is March, 三个月 three months).
_SPAN_UNITS = {
    "秒钟": 1 / 86400, "秒": 1 / 86400, "分钟": 1 / 1440, "刻钟": 1 / 96, "小时": 1 / 24, "钟头": 1 / 24,
    "鐘頭": 1 / 24, "小時": 1 / 24, "天": 1.0, "日": 1.0, "晚": 1.0, "夜": 1.0, "周": 7.0, "週": 7.0,
    "星期": 7.0, "礼拜": 7.0, "禮拜": 7.0, "个月": 30.0, "個月": 30.0, "年": 365.0, "年头": 365.0,
    "世纪": 36500.0,
}
_SPAN = re.compile(r"^(个|個)?(半)?(" + "|".join(sorted(map(re.escape, _SPAN_UNITS), key=len, reverse=True))
                   + r")(半)?")
_HALF_SPAN = re.compile(r"(?<![" + _CN + r"\d个個])半(个|個)?(" + "|".join(
    sorted(map(re.escape, _SPAN_UNITS), key=len, reverse=True)) + ")")
#: Measure words and units: a numeral followed by one of these is a quantity. Collective nouns that
#: take a numeral directly (三人, 两兄弟, 三姐妹) count too.
_CLASSIFIERS = tuple(sorted({
    "个", "個", "位", "名", "只", "隻", "条", "條", "件", "张", "張", "本", "次", "回", "遍", "趟", "下", "顿", "場", "场",
    "天", "日", "晚", "夜", "年", "岁", "歲", "周", "週", "星期", "礼拜", "个月", "个星期", "小时", "钟头", "分钟", "秒",
    "秒钟", "号", "號", "块", "塊", "元", "圆", "角", "毛", "分", "钱", "錢", "美元", "美金", "欧元", "英镑", "日元",
    "港币", "港元", "人民币", "万", "亿", "斤", "公斤", "千克", "克", "吨", "两", "米", "公里", "里", "厘米", "毫米",
    "英里", "尺", "寸", "层", "楼", "套", "间", "間", "辆", "輛", "台", "部", "架", "艘", "杯", "瓶", "碗", "盘", "份",
    "双", "對", "对", "把", "支", "根", "枝", "颗", "顆", "粒", "片", "首", "句", "声", "步", "届", "期", "集", "页",
    "章", "节", "家", "所", "座", "栋", "棵", "朵", "匹", "头", "口", "群", "批", "项", "笔", "倍", "成", "折", "级",
    "等", "代", "辈", "轮", "局", "枪", "刀", "拳", "脚", "招", "度", "克拉", "平米", "平方米", "亩", "世纪", "年代",
    "人", "兄弟", "姐妹", "姊妹", "口人", "种", "種", "样", "樣", "封", "道", "门", "門", "幅", "包", "盒", "箱", "袋",
    "桌", "座", "班", "组", "队", "伙", "处", "分之", "比", "的", "多", "几", "来", "余", "左右", "点", "點", "号",
}, key=len, reverse=True))
_CLASSIFIER_AFTER = re.compile("^(?:" + "|".join(map(re.escape, _CLASSIFIERS)) + ")")
#: 两 before these is as often "both" as "two" (两兄弟, 两人): weak.
_COLLECTIVE_AFTER = re.compile(r"^(?:人|兄弟|姐妹|姊妹|口子|位|家)")
#: Inside a segmenter word, what may follow a numeral and keep it a quantity (一百个, 七天, 十几岁;
#: jieba glues some nouns on too: 五辆车, 二块钱 — what starts with a measure word counts).
_SUFFIX_OK = re.compile("^(?:多|几|来|余|半)?(?:个|個)?(?:" + "|".join(map(re.escape, _CLASSIFIERS)) + r"|$)")
#: ...and what may stand before it in the same word (第三次, 百分之三十, 前三名, 这一天).
_PREFIX_OK = re.compile(r"^(?:第|百分之|千分之|万分之|约|近|共|合|每|前|后|头|这|那|上|数|几|好几|整整|足足|大约)$")
_PRODUCT = re.compile(r"^([一二三四五六七八九])([一二三四五六七八九])([一二三四五六七八九十]+)$")
_ESTIMATE = re.compile(r"^([一二三四五六七八九两])([二三四五六七八九])([十百千万亿萬億]+)$")
_CN_HOLD = re.compile(r"[" + _CN + r"\d俩倆仨半]")


@lru_cache(maxsize=4096)
def _cn_value(run: str) -> float | None:
    """cn2an's reading of a numeral run (cached: dialogue repeats the same few numerals)."""
    if run in ("俩", "倆"):
        return 2.0
    if run == "仨":
        return 3.0
    import warnings

    import cn2an

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(cn2an.cn2an(run, "smart"))
        except Exception:
            pass
    # cn2an rejects some numerals people (and its own an2cn) write: 五亿一千 (500,001,000) without
    # the 零 its grammar wants. Read them one magnitude at a time.
    for mark, scale in (("亿", 1e8), ("億", 1e8), ("万", 1e4), ("萬", 1e4)):
        if mark in run:
            high, low = run.split(mark, 1)
            high_value = _cn_value(high) if high else 1.0
            low_value = _cn_value(low.lstrip("零〇")) if low.lstrip("零〇") else 0.0
            if high_value is None or low_value is None:
                return None
            return high_value * scale + low_value
    return None


# --- non-quantity words (localise/data/non_quantities.txt) ---------------------------------------

def parse_non_quantities(lines: Iterable[str]) -> tuple[str, ...]:
    """Entries of a non-quantities list (the data file's syntax): comments and blanks dropped."""
    out = []
    for line in lines:
        entry = line.split("#", 1)[0].strip()
        if entry:
            out.append(entry)
    return tuple(out)


@lru_cache(maxsize=1)
def default_non_quantities() -> tuple[str, ...]:
    """The house list, ``localise/data/non_quantities.txt``."""
    text = resources.files("localise.data").joinpath("non_quantities.txt").read_text(encoding="utf-8")
    return parse_non_quantities(text.splitlines())


@dataclass(frozen=True)
class _Masks:
    words: re.Pattern[str] | None  # literal words: no number at all
    patterns: tuple[tuple[str, str], ...] = ()  # (before, after) {N}: a weak number where a word ends
    by_after: dict[str, list[tuple[str, str]]] | None = None
    by_before: dict[str, list[tuple[str, str]]] | None = None


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation for many words, factored by their letters (一(?:起|样|直…)): the
    engine then tries one branch per letter instead of every word at every position. Longer words
    are tried first."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        if len(branches) == 1 and not ends:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if ends else "")

    return build(trie)


@lru_cache(maxsize=64)
def _masks(extra: tuple[str, ...]) -> _Masks:
    entries = default_non_quantities() + extra
    literals = {e for e in entries if "{N}" not in e}
    patterns = {tuple(e.split("{N}", 1)) for e in entries if "{N}" in e}
    words = None
    if literals:
        starts = "".join(sorted({w[0] for w in literals}))
        # not inside a longer numeral (二百五十 is 250), nor before 钟 (十分钟 is ten minutes)
        words = re.compile("(?=[" + re.escape(starts) + "])(?<![" + _CN + r"\d])" + _trie_pattern(literals)
                           + "(?![" + _CN + r"\d钟])")
    ordered = tuple(sorted(patterns, key=lambda p: len(p[0]) + len(p[1]), reverse=True))
    by_after: dict[str, list[tuple[str, str]]] = {}
    by_before: dict[str, list[tuple[str, str]]] = {}
    for before, after in ordered:  # looked up by the letter after (or before) a numeral run
        if after:
            by_after.setdefault(after[0], []).append((before, after))
        else:
            by_before.setdefault(before[-1], []).append((before, after))
    return _Masks(words, ordered, by_after, by_before)  # type: ignore[arg-type]


_NUMERAL_RUN = re.compile(_NUMERAL_PATTERN)


def _mask_patterns(masked: str, masks: _Masks, bounds: "_Bounds", found: list[tuple[int, int, Number]]) -> str:
    """{N} patterns (老{N}, {N}叔): the numeral run between their two sides becomes a weak number
    and is masked — where the segmenter ends a word with the pattern (so {N}姐 leaves 三姐妹)."""
    out = masked
    by_after, by_before = masks.by_after or {}, masks.by_before or {}
    for m in _NUMERAL_RUN.finditer(masked):
        start, end = m.span()
        candidates = by_after.get(masked[end : end + 1], []) + (by_before.get(masked[start - 1], []) if start else [])
        for before, after in candidates:
            if (masked.startswith(after, end) and masked[max(0, start - len(before)) : start] == before
                    and end + len(after) in bounds.get()):
                value = _cn_value(m.group())
                if value is not None:
                    found.append((start, end, Number(before + m.group() + after, frozenset({value}), weak=True, kind="rank")))
                    a, b = start - len(before), end + len(after)
                    out = out[:a] + "\u3000" * (b - a) + out[b:]
                break
    return out


# --- word boundaries (the shared segmenter) -------------------------------------------------------

word_bounds = segment.word_bounds  # where the segmenter's words start (the numbers' and the lexicon's agree)


def _word_around(bounds: tuple[int, ...], start: int, end: int) -> tuple[int, int]:
    """(start of the word holding ``start``, end of the word holding ``end - 1``)."""
    i = bisect.bisect_right(bounds, start) - 1
    j = bisect.bisect_left(bounds, end)
    return bounds[max(i, 0)], bounds[min(j, len(bounds) - 1)]


def _span_after(after: str) -> tuple[int, float, bool, bool] | None:
    """(length, days per unit, 半 before the unit, 半 after it) of a span unit at the start of ``after``."""
    m = _SPAN.match(after)
    if not m:
        return None
    unit = m.group(3)
    if unit == "年" and m.group(1):  # 三个年 is no Chinese
        return None
    return m.end(), _SPAN_UNITS[unit], bool(m.group(2)), bool(m.group(4))


def _han_numbers(text: str, taken: list[tuple[int, int]], masks: _Masks) -> list[tuple[int, int, Number]]:
    found: list[tuple[int, int, Number]] = []

    def idiom(m: re.Match[str]) -> str:
        if m.group()[-1] in "点點" and _DAY_PART_BEFORE.search(text, 0, m.start()) and not _NOT_CLOCK_AFTER.match(
                text, m.end()):
            return m.group()  # 凌晨一点 is 1 a.m., not "a little": read as a clock time below
        # the numerals of an idiom are kept as weak numbers: "a hundred times" for 一百遍 is no "extra"
        for run in _NUMERAL_RUN.finditer(m.group()):
            value = _cn_value(run.group())
            if value is not None:
                found.append((m.start(), m.end(), Number(m.group(), frozenset({value}), weak=True, kind="word")))
        return "\u3000" * len(m.group())

    masked = masks.words.sub(idiom, text) if masks.words else text
    if not _CN_HOLD.search(masked):
        return found
    bounds = _Bounds(text)
    if masks.patterns:
        masked = _mask_patterns(masked, masks, bounds, found)
    for m in _HALF_SPAN.finditer(masked):  # 半个月, 半年: half of one unit
        days = _SPAN_UNITS[m.group(2)]
        if m.group(2) == "年" and m.group(1):
            continue
        found.append((m.start(), m.end(), Number(m.group(), frozenset({0.5}), kind="span", days=days / 2)))
        taken.append((m.start(), m.end()))
    pos = 0
    while True:
        m = _CN_RUN.search(masked, pos)
        if not m:
            break
        start, end = m.span()
        run = m.group()
        pos = end
        if any(not (end <= x or start >= y) for x, y in taken) and not any(c in _CN for c in run):
            continue
        after = masked[end:]
        before = masked[:start]
        digit_only = all(c in _CN_DIGITS for c in run)
        tael = len(run) >= 2 and run[-1] in "两兩" and run[-2] in _CN  # 三千两(银子), 十两: taels, not 3,200 or 12
        if tael:
            end -= 1
            run = run[:-1]
            after = masked[end:]
            digit_only = all(c in _CN_DIGITS for c in run)
        rough = None if tael else _ROUGH_MAGNITUDE.match(after)
        if rough is not None and (base := _cn_value(run)) is not None:
            # 十来万, 十几万, 三十多万: "about 100,000", one rough quantity, not 十 and a lone 万
            length = rough.end()
            found.append((start, end + length, Number(run + after[:length],
                                                      frozenset({base * _MAGNITUDES[rough.group(1)]}), weak=True)))
            taken.append((start, end + length))
            pos = end + length
            continue
        decimal = None if tael else _unit_decimal(run, after) or _tens_and(run, after)
        if decimal is not None:  # 一米八二, 一块五, 两毛五: the digits after the unit are its decimals
            length, value = decimal
            found.append((start, end + length, value))
            taken.append((start, end + length))
            pos = end + length
            continue
        number = _read_run(run, before, after, digit_only)
        if number is None:
            continue
        n, extra = number
        if tael and extra == 0:  # the measure word 两 makes it a quantity (of silver, mostly)
            found.append((start, end + 1, Number(run + masked[end], n.values, n.weak, "money")))
            taken.append((start, end + 1))
            pos = end + 1
            continue
        found.append((start, end + extra, _classify(n, text, masked, bounds, start, end, extra)))
        if n.kind == "clock":  # 三点十五分, 三点半, 三点一刻: the minutes too
            minutes = _clock_minutes(after)
            if minutes is not None:
                found.append((start, end + minutes[0], minutes[1]))
                extra = minutes[0]
        taken.append((start, end + extra))
        pos = end + extra
    return found


#: Units after which spoken Chinese gives the next digits as decimals of the unit, the unit of the
#: digits left unsaid: 一米八二 is 1.82 m, 一块五 ¥1.50, 两毛五 ¥0.25 (2.5 mao), 一斤二 1.2 jin.
#: Per unit: the kind, and the factors the value may also be read in (metres as centimetres,
#: mao as yuan); a height in metres is also read in whole feet.
_DECIMAL_UNITS = {"米": ("count", (1, 100)), "块": ("money", (1,)), "塊": ("money", (1,)),
                  "毛": ("money", (1, 0.1)), "角": ("money", (1, 0.1)), "斤": ("count", (1,)),
                  "尺": ("count", (1,)), "公里": ("count", (1,))}
_DECIMAL_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
_DECIMAL_AFTER = re.compile("^(" + "|".join(sorted(map(re.escape, _DECIMAL_UNITS), key=len, reverse=True))
                            + ")([零〇一二三四五六七八九]{1,2})")


def _unit_decimal(run: str, after: str) -> tuple[int, Number] | None:
    """``run`` + unit + one or two bare digits (一米八二, 三块八): (characters of ``after`` it takes,
    the value). Digits followed by a measure word or unit start a quantity of their own (一块五一斤 is
    ¥1.50 a jin: the 一 before 斤 is not a decimal), as does anything followed by 十/百/千/万/亿."""
    m = _DECIMAL_AFTER.match(after)
    if m is None:
        return None
    whole = 2.0 if run in ("两", "兩") else _cn_value(run)
    if whole is None or whole != int(whole):
        return None
    unit = m.group(1)
    for k in range(len(m.group(2)), 0, -1):
        digits = m.group(2)[:k]
        rest = after[len(unit) + k:]
        if rest and (rest[0] in _CN_UNITS or rest[0] in "两兩半" or _CLASSIFIER_AFTER.match(rest)):
            continue  # 一块五一斤, 一米八十: the digits belong to what follows
        if k == 2 and rest and rest[0] in _DECIMAL_DIGITS:
            return None  # three digits or more: not the spoken decimal form
        fraction = int("".join(str(_DECIMAL_DIGITS[c]) for c in digits)) / 10 ** k
        kind, factors = _DECIMAL_UNITS[unit]
        value = whole + fraction
        values = {round(value * f, 6) for f in factors}
        if unit == "米" and value < 3:  # a height: English subtitles give it in feet ("nearly six feet")
            values.add(float(round(value / 0.3048)))
        return len(unit) + k, Number(run + unit + digits, frozenset(values), kind=kind)
    return None


_TENS_AND = re.compile(r"^有([一二三四五六七八九])(?![十百千万亿])")


def _tens_and(run: str, after: str) -> tuple[int, Number] | None:
    """The literary 二十有八 ("twenty and eight"): 28, an age or a count in period dialogue."""
    m = _TENS_AND.match(after) if run.endswith("十") else None
    whole = _cn_value(run) if m else None
    if whole is None:
        return None
    return 2, Number(run + m.group(), frozenset({whole + _DECIMAL_DIGITS[m.group(1)]}))


def _clock_minutes(after: str) -> tuple[int, Number] | None:
    """The minutes of a Chinese clock time (``after`` starts with 点/時): (characters read, number)."""
    clock = _CLOCK.match(after)
    if not clock:
        return None
    if clock.group(1):
        minutes = _cn_value(clock.group(1))
        if minutes:
            return clock.end(), Number(clock.group(1) + "分", frozenset({minutes}), kind="clock")
    elif clock.group(2):
        return clock.end(), Number("半", frozenset({30.0, 0.5}), weak=True, kind="clock")
    elif clock.group(3):  # 一刻 is a quarter of an hour
        quarters = _cn_value(clock.group(3)) or 1
        return clock.end(), Number(clock.group(3) + "刻", frozenset({15.0 * quarters, quarters / 4}), weak=True, kind="clock")
    return None


def _read_run(run: str, before: str, after: str, digit_only: bool) -> tuple[Number, int] | None:
    """The number a numeral run states, given its neighbours, and how many characters after the
    run belong to it (三点 takes 点, 三个半小时 takes 个半小时)."""
    # 七八个, 三四天, 三五天: "seven or eight", "three to five" — an estimate, both values, weak
    if digit_only and len(run) == 2 and not after.startswith(("折", "年")) and not set(run) & set("零〇"):
        a, b = _cn_value(run[0]), _cn_value(run[1])
        if a is not None and b is not None and a < b:
            return Number(run, frozenset({a, b}), weak=True), 0
    # 七七四十九 (seven sevens, forty-nine), 九九八十一: the product is the number
    product = _PRODUCT.match(run)
    if product:
        a, b, c = _cn_value(product.group(1)), _cn_value(product.group(2)), _cn_value(product.group(3))
        if a is not None and b is not None and c is not None and a * b == c:
            return Number(run, frozenset({c})), 0
    # 五六十岁, 三四百人: an estimate of tens, hundreds...
    est = _ESTIMATE.match(run)
    if est:
        a, b = _cn_value(est.group(1) + est.group(3)), _cn_value(est.group(2) + est.group(3))
        if a is not None and b is not None and a < b:
            return Number(run, frozenset({a, b}), weak=True), 0
    # counting digit by digit: 二〇二四 (a year) is 2024, 八五折 is 85 %, 九八年 is '98
    if digit_only and len(run) >= 2 and (len(run) >= 3 or after.startswith(("折", "年"))) and "十" not in run:
        value = _cn_value(run)
        if value is None:
            return None
        if after.startswith("折"):
            return _discount(run + "折", value / 10), 1
        if len(run) == 2 and after.startswith("年"):
            return _year(run + "年", value), 1
        return Number(run, frozenset({value}), kind="year" if after.startswith("年") else "count"), 0
    value = _cn_value(run)
    if value is None:
        return None
    if len(after) >= 2 and after[0] in "个個" and after[1] in "万亿萬億":  # 十个亿: a billion (said with a classifier)
        scale = 1e4 if after[1] in "万萬" else 1e8
        return Number(run + after[:2], frozenset({value * scale})), 2
    if _ORDINAL_BEFORE.search(before):  # 第二天 is "the next day", 第三 "third"
        return Number(run, frozenset({value}), weak=True, kind="ordinal"), 0
    # 三点 / 三時: o'clock; 三点五 is 3.5; 三点十五分 is 3:15; 三点半 is half past three
    clock = _CLOCK.match(after)
    if clock and not clock.group(4) and float(value).is_integer() and value <= 24:
        return Number(run + after[0], _hour_values(int(value)), kind="clock"), 1
    if clock and clock.group(4):  # decimal point
        decimal = _cn_value(run + "点" + clock.group(4))
        if decimal is not None:
            return Number(run + after[: clock.end()], frozenset({decimal})), clock.end()
    if after.startswith("折") and value < 10:  # 四折: pay 40 % (60 % off)
        return _discount(run + "折", value), 1
    if after.startswith("成") and value <= 10:  # 三成: 30 %
        return Number(run + "成", frozenset({value * 10}), kind="percent"), 1
    if after.startswith("年代") and value in (10, 20, 30, 40, 50, 60, 70, 80, 90):  # 八十年代: the 1980s
        return Number(run + "年代", frozenset({value, 1900 + value}), kind="year"), 2
    span = _span_after(after)
    if span is not None:
        length, days, half_before, half_after = span
        count = value + (0.5 if half_before or half_after else 0)
        # 一天, 一周: "a day", "one lap" — one unit is as often a manner of speaking as a count
        return Number(run + after[:length], frozenset({count}), weak=count == 1, kind="span", days=count * days), length
    weak = (
        value == 1
        or run in ("百", "千", "万", "亿", "萬", "億")  # 万人迷, 準備万端: a magnitude alone is no count
        or run in ("两", "兩") and (not _CLASSIFIER_AFTER.match(after) or bool(_COLLECTIVE_AFTER.match(after)))  # 两兄弟: "both brothers"
        or run in ("俩", "倆", "仨") and bool(_PRONOUN_BEFORE.search(before))  # 我们俩 is often "we"
        or bool(_WEEKDAY.search(before))
        or bool(_MONTH_AFTER.match(after))
        or bool(_ROUGHLY_BEFORE.search(before)) or bool(_ROUGHLY_AFTER.match(after))  # 数十人, 十几岁: "dozens", "teens"
    )
    return Number(run, frozenset({value}), weak=weak), 0


def _discount(text: str, tenths: float) -> Number:
    """四折: the price is 40 % — said as "40%" or as "60% off"."""
    return Number(text, frozenset({round(tenths * 10, 6), round(100 - tenths * 10, 6)}), kind="percent")


def _year(text: str, two_digits: float) -> Number:
    """86年: the year '86 (1986, or 2086), or 86 years."""
    return Number(text, frozenset({two_digits, 1900 + two_digits, 2000 + two_digits}), kind="year")


def _classify(n: Number, text: str, masked: str, bounds: "_Bounds", start: int, end: int, extra: int) -> Number:
    """The numeral–classifier rule: a numeral followed by a measure word, or a big one (百, 万…),
    is a quantity; one before a noun without a measure word (三少爷, 二小姐) is a rank, not a count
    (weak). A numeral standing alone (老三，过来 / 我数到三) is a quantity unless the segmenter puts
    it inside another word (老三, 林三): only then is jieba asked."""
    if n.weak or n.kind in ("clock", "span", "percent", "year"):
        return n
    if max(n.values) >= 100 or any(c in "百千万亿萬億" for c in n.text):
        return n
    after = masked[end + extra :]
    if _CLASSIFIER_AFTER.match(after):
        return n
    # a sentence-final particle ends the phrase (我都八十了, 你才三吗): the numeral stands alone there
    stands_alone = (not after or not after[0].isalnum() or after[0] == "\u3000" or after[0].isdigit()
                    or (after[0] in _FINAL_PARTICLES and (len(after) == 1 or not after[1].isalnum()
                                                          or after[1] in _FINAL_PARTICLES)))
    if not stands_alone:
        return Number(n.text, n.values, weak=True, kind="rank")  # 三少爷, 二小姐: a rank, not a count
    if start == 0 or not text[start - 1].isalpha():
        return n  # nothing before it that a word could hold
    w_start, w_end = _word_around(bounds.get(), start, end + extra)
    prefix, suffix = text[w_start:start], text[end + extra : w_end]
    if (prefix and not _PREFIX_OK.match(prefix)) or (suffix and not _SUFFIX_OK.match(suffix)):
        return Number(n.text, n.values, weak=True, kind="rank")  # 老三, 林三
    return n


#: Sentence-final particles: a numeral before one of them (and then the end of the clause) is no
#: rank or title (三少爷), it stands alone (我都八十了: 80).
_FINAL_PARTICLES = frozenset("了吗呢啊吧呀啦嘛")


class _Bounds:
    """jieba's word boundaries of one text, segmented only if a numeral needs them."""

    __slots__ = ("text", "value")

    def __init__(self, text: str) -> None:
        self.text = text
        self.value: tuple[int, ...] | None = None

    def get(self) -> tuple[int, ...]:
        if self.value is None:
            self.value = word_bounds(self.text)
        return self.value


_DIGIT_START = re.compile(r"^\d")


def _cn_digit_context(text: str, spans: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    """Arabic digits in Chinese text: 86年 (a year or 86 years), 3天 (a span), 7折, 3成."""
    out = []
    for s, e, n in spans:
        after = text[e:]
        if n.kind == "count" and not n.weak and len(n.values) == 1 and n.text.isdigit():
            value = next(iter(n.values))
            if after.startswith("年代") and value % 10 == 0 and value < 100:
                n = Number(n.text + "年代", frozenset({value, 1900 + value}), kind="year")
            elif after.startswith("年") and len(n.text) == 2:
                n = _year(n.text + "年", value)
                n = Number(n.text, n.values, kind="year", days=value * 365)
            elif after.startswith("年") and len(n.text) == 4:
                n = Number(n.text, n.values, kind="year")
            elif after.startswith("折") and value < 100:
                n = _discount(n.text + "折", value / 10 if value >= 10 else value)
            elif after.startswith("成") and value <= 10:
                n = Number(n.text + "成", frozenset({value * 10}), kind="percent")
            else:
                span = _span_after(after)
                if span is not None:
                    length, days, half_before, half_after = span
                    count = value + (0.5 if half_before or half_after else 0)
                    n = Number(n.text + after[:length], frozenset({count}), kind="span", days=count * days)
        out.append((s, e, n))
    return out


_CN_MONEY_AFTER = re.compile(r"^(?:块|塊|元|圆|美元|美金|欧元|英镑|日元|港币|港元|人民币|万块|万元|亿元)")


def _cn_money(text: str, spans: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    return [(s, e, Number(n.text, n.values, n.weak, "money", n.days)
             if n.kind == "count" and (_CN_MONEY_AFTER.match(text[e:]) or text[max(0, s - 3):s].endswith(("￥", "¥", "RMB")))
             else n) for s, e, n in spans]


# --- number words ------------------------------------------------------------------------------

_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "first": 1, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
    "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70, "eightieth": 80, "ninetieth": 90,
    "hundredth": 100, "dozen": 12,
}
#: Ordinal words: they match a number but are never reported extra ("at the eleventh hour").
_ORDINALS = {w for w in _EN_UNITS if w.endswith(("th", "st", "rd")) and w not in ("first",)} | {
    "primero", "primera", "tercero", "tercera", "cuarto", "quinto", "sexto", "séptimo", "octavo", "noveno", "décimo"}
_ES_UNITS = {
    "cero": 0, "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14,
    "quince": 15, "dieciséis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20,
    "veintiuno": 21, "veintidós": 22, "veintitrés": 23, "veinticuatro": 24, "veinticinco": 25,
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
    "noventa": 90, "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200, "trescientos": 300,
    "cuatrocientos": 400, "quinientos": 500, "seiscientos": 600, "setecientos": 700, "ochocientos": 800,
    "novecientos": 900, "primero": 1, "primera": 1, "tercero": 3, "tercera": 3, "cuarto": 4,
    "quinto": 5, "sexto": 6, "séptimo": 7, "octavo": 8, "noveno": 9, "décimo": 10,
}
_PT_UNITS = {
    "zero": 0, "um": 1, "uma": 1, "dois": 2, "duas": 2, "três": 3, "quatro": 4, "cinco": 5, "seis": 6,
    "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "treze": 13, "quatorze": 14,
    "catorze": 14, "quinze": 15, "dezesseis": 16, "dezessete": 17, "dezoito": 18, "dezenove": 19,
    "vinte": 20, "trinta": 30, "quarenta": 40, "cinquenta": 50, "sessenta": 60, "setenta": 70,
    "oitenta": 80, "noventa": 90, "cem": 100, "cento": 100, "duzentos": 200, "trezentos": 300,
    "quinhentos": 500,
}
_FR_UNITS = {
    "zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100,
}
_DE_UNITS = {
    "null": 0, "eins": 1, "ein": 1, "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6,
    "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12, "zwanzig": 20, "dreißig": 30,
    "vierzig": 40, "fünfzig": 50, "sechzig": 60, "siebzig": 70, "achtzig": 80, "neunzig": 90,
}
_AR_UNITS = {
    "صفر": 0, "واحد": 1, "واحدة": 1, "اثنان": 2, "اثنين": 2, "ثلاثة": 3, "ثلاث": 3, "أربعة": 4, "أربع": 4,
    "خمسة": 5, "خمس": 5, "ستة": 6, "ست": 6, "سبعة": 7, "سبع": 7, "ثمانية": 8, "ثماني": 8, "تسعة": 9, "تسع": 9,
    "عشرة": 10, "عشر": 10, "عشرون": 20, "عشرين": 20, "ثلاثون": 30, "ثلاثين": 30, "أربعون": 40, "أربعين": 40,
    "خمسون": 50, "خمسين": 50, "ستون": 60, "ستين": 60, "سبعون": 70, "سبعين": 70, "ثمانون": 80, "ثمانين": 80,
    "تسعون": 90, "تسعين": 90, "مئة": 100, "مائة": 100,
}
_SCALES = {
    "en": {"hundred": 100, "thousand": 1_000, "million": 10**6, "millions": 10**6, "billion": 10**9, "k": 1_000},
    "es": {"mil": 1_000, "millón": 10**6, "millones": 10**6, "billón": 10**12},
    "pt": {"mil": 1_000, "milhão": 10**6, "milhões": 10**6, "bilhão": 10**9, "bilhões": 10**9},
    "fr": {"mille": 1_000, "million": 10**6, "millions": 10**6, "milliard": 10**9, "milliards": 10**9},
    "de": {"hundert": 100, "tausend": 1_000, "million": 10**6, "millionen": 10**6, "milliarde": 10**9},
    "ar": {"ألف": 1_000, "آلاف": 1_000, "ألفاً": 1_000, "مليون": 10**6, "ملايين": 10**6, "مليار": 10**9},
}
_UNITS = {"en": _EN_UNITS, "es": _ES_UNITS, "pt": _PT_UNITS, "fr": _FR_UNITS, "de": _DE_UNITS, "ar": _AR_UNITS}
_JOINERS = {"en": {"and"}, "es": {"y"}, "pt": {"e"}, "fr": {"et"}, "de": {"und"}, "ar": {"و"}}
#: Words that may be an article or a pronoun as often as a number.
_WEAK_WORDS = {"one", "a", "an", "first", "un", "uno", "una", "primero", "primera", "um", "uma", "une", "ein",
               "eine", "eins", "dozen", "واحد", "واحدة"}
_A_BEFORE_SCALE = {"en": {"a", "an"}, "es": {"un"}, "pt": {"um"}, "fr": {"un"}, "de": {"eine"}}
_WORDISH = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


def _tens_and_unit(pieces: list[str], units: dict[str, int]) -> bool:
    """``twenty-five``: one number; ``eight-thirty`` is two."""
    return (len(pieces) == 2 and all(p in units for p in pieces)
            and units[pieces[0]] % 10 == 0 and 20 <= units[pieces[0]] <= 90 and 1 <= units[pieces[1]] <= 9)


def _word_numbers(text: str, lang: str, digit_spans: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    units, scales = _UNITS.get(lang), _SCALES.get(lang, {})
    if units is None:
        return []
    joiners = _JOINERS.get(lang, set())
    articles = _A_BEFORE_SCALE.get(lang, set())
    digit_at = {s: n for s, _e, n in digit_spans}
    words = [(m.start(), m.end(), m.group()) for m in _WORDISH.finditer(text)]
    found: list[tuple[int, int, Number]] = []
    i = 0
    while i < len(words):
        j, total, current, parts, used_digit = i, 0.0, 0.0, [], None
        while j < len(words):
            start, end, w = words[j]
            lw = w.lower()
            pieces = lw.split("-")
            if j == i and start in digit_at and j + 1 < len(words) and words[j + 1][2].lower() in scales:
                used_digit = digit_at[start]
                current = min(used_digit.values)
            elif len(pieces) > 1 and pieces[0] in units and not _tens_and_unit(pieces, units):
                # "eight-thirty" (8 and 30), "three-bedroom" (3): each number piece on its own
                if parts:
                    break
                for p in pieces:
                    if p in units:
                        found.append((start, end, Number(p, frozenset({float(units[p])}), weak=p in _WEAK_WORDS or p in _ORDINALS)))
                j += 1
                parts = []
                break
            elif all(p in units for p in pieces):
                current += sum(units[p] for p in pieces)
            elif lw in articles and j + 1 < len(words) and words[j + 1][2].lower() in scales and not parts:
                current = 1
            elif lw in scales and (parts or used_digit is not None):
                scale = scales[lw]
                if scale == 100:
                    current = (current or 1) * 100
                else:
                    total += (current or 1) * scale
                    current = 0
            elif lw in joiners and parts and j + 1 < len(words) and words[j + 1][2].lower().split("-")[0] in units:
                pass
            else:
                break
            parts.append(w)
            j += 1
        if not parts and j > i:  # hyphenated pieces already recorded
            i = j
        elif parts and (len(parts) > 1 or parts[0].lower() in units or parts[0].lower().split("-")[0] in units):
            value = total + current
            start, end = words[i][0], words[j - 1][1]
            weak = len(parts) == 1 and (parts[0].lower() in _WEAK_WORDS or parts[0].lower() in _ORDINALS)
            found.append((start, end, Number(text[start:end], frozenset({float(value)}), weak=weak)))
            i = j
        else:
            i += 1
    return found


# --- text2num: number words of European languages -------------------------------------------------

#: Languages text2num reads (``find_numbers``); Arabic keeps the table reader above.
_TEXT2NUM_LANGS = frozenset({"en", "es", "pt", "fr", "de", "it", "nl", "da"})
_TOKEN = re.compile(r"[^\W_]+|[^\w\s]|_|\s+")


class _Token:
    """A token as text2num's ``find_numbers`` wants it (``text()``; no pauses, no vetoes)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def text(self) -> str:
        return self.value

    def nt_separated(self, previous: "_Token") -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


def _text2num_numbers(text: str, lang: str) -> list[tuple[int, int, Number]]:
    from text_to_num import find_numbers

    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    found: list[tuple[int, int, Number]] = []
    for occ in find_numbers([_Token(t) for _s, _e, t in tokens], lang, 0.0):
        start, end = tokens[occ.start][0], tokens[occ.end - 1][1]
        phrase = text[start:end]
        if _DECIMAL.search(phrase) or len(phrase) == 1:  # digits are read by _digit_numbers; "o'clock" has no 0
            continue
        single = phrase.lower()
        weak = occ.is_ordinal or single in _WEAK_WORDS
        if single in _SCALE_WORDS and not _ARTICLE_BEFORE.search(text[max(0, start - 6) : start]):
            weak = True  # "several million", "millions of": no figure ("a million" is one)
        found.append((start, end, Number(phrase, frozenset({float(occ.value)}), weak=weak,
                                         kind="ordinal" if occ.is_ordinal else "count")))
    return _spoken_years(text, found)


def _spoken_years(text: str, found: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    """"nineteen eighty-six", "twenty twenty-four": one year, not 19 and 86."""
    out: list[tuple[int, int, Number]] = []
    for s, e, n in found:
        if out:
            ps, pe, pn = out[-1]
            (hi,), (lo,) = (tuple(pn.values) + (None,))[:1], (tuple(n.values) + (None,))[:1]
            if (len(pn.values) == 1 and len(n.values) == 1 and hi in (19.0, 20.0) and lo is not None
                    and 10 <= lo <= 99 and not text[pe:s].strip() and pn.kind == n.kind == "count"):
                out[-1] = (ps, e, Number(text[ps:e], frozenset({hi * 100 + lo}), kind="year"))
                continue
        out.append((s, e, n))
    return out


_ARTICLE_BEFORE = re.compile(r"\b(?:a|an|one|un|une|um|uma|ein|eine|einer|einen)\s+$", re.IGNORECASE)

# --- spans, clock words and years around target-language numbers ---------------------------------

_UNIT_DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, "w": 7.0, "2w": 14.0, "15d": 15.0,
              "mo": 30.0, "y": 365.0, "10y": 3650.0, "100y": 36500.0}
_TIME_UNITS = {
    "en": {"second": "s", "seconds": "s", "minute": "min", "minutes": "min", "hour": "h", "hours": "h", "day": "d",
           "days": "d", "night": "d", "nights": "d", "week": "w", "weeks": "w", "fortnight": "2w", "fortnights": "2w",
           "month": "mo", "months": "mo", "year": "y", "years": "y", "decade": "10y", "decades": "10y",
           "century": "100y", "centuries": "100y"},
    "es": {"segundo": "s", "segundos": "s", "minuto": "min", "minutos": "min", "hora": "h", "horas": "h", "día": "d",
           "días": "d", "dia": "d", "dias": "d", "noche": "d", "noches": "d", "semana": "w", "semanas": "w",
           "quincena": "15d", "mes": "mo", "meses": "mo", "año": "y", "años": "y", "década": "10y", "décadas": "10y",
           "siglo": "100y", "siglos": "100y"},
    "pt": {"segundo": "s", "segundos": "s", "minuto": "min", "minutos": "min", "hora": "h", "horas": "h", "dia": "d",
           "dias": "d", "noite": "d", "noites": "d", "semana": "w", "semanas": "w", "quinzena": "15d", "mês": "mo",
           "meses": "mo", "ano": "y", "anos": "y", "década": "10y", "décadas": "10y", "século": "100y",
           "séculos": "100y"},
    "fr": {"seconde": "s", "secondes": "s", "minute": "min", "minutes": "min", "heure": "h", "heures": "h",
           "jour": "d", "jours": "d", "journée": "d", "journées": "d", "nuit": "d", "nuits": "d", "semaine": "w",
           "semaines": "w", "quinzaine": "15d", "mois": "mo", "an": "y", "ans": "y", "année": "y", "années": "y",
           "décennie": "10y", "décennies": "10y", "siècle": "100y", "siècles": "100y"},
    "de": {"sekunde": "s", "sekunden": "s", "minute": "min", "minuten": "min", "stunde": "h", "stunden": "h",
           "tag": "d", "tage": "d", "tagen": "d", "nacht": "d", "nächte": "d", "woche": "w", "wochen": "w",
           "monat": "mo", "monate": "mo", "monaten": "mo", "jahr": "y", "jahre": "y", "jahren": "y",
           "jahrzehnt": "10y", "jahrzehnte": "10y", "jahrzehnten": "10y", "jahrhundert": "100y",
           "jahrhunderte": "100y"},
}
#: One unit said without a numeral: "a week", "half an hour", "media hora", "une demi-heure".
_ONE_UNIT = {
    "en": (r"\b(?:a|an|one)\s+(?:(?:whole|full|single|entire)\s+)?", r"\b(?:half\s+(?:a|an)|a\s+half)\s+"),
    "es": (r"\b(?:un|una)\s+", r"\b(?:medio|media)\s+"),
    "pt": (r"\b(?:um|uma)\s+", r"\b(?:meio|meia)\s+"),
    "fr": (r"\b(?:un|une)\s+", r"\b(?:un|une)\s+demi-"),
    "de": (r"\b(?:ein|eine|einen|einem|einer)\s+", r"\b(?:eine|einen|einer)\s+halbe[n]?\s+"),
}
#: Clock words: weak numbers (a viewer hears "noon" where the source said 十二点).
_CLOCK_WORDS = {
    "en": {"noon": (12.0,), "midday": (12.0,), "midnight": (0.0, 12.0, 24.0)},
    "es": {"mediodía": (12.0,), "medianoche": (0.0, 12.0, 24.0)},
    "pt": {"meio-dia": (12.0,), "meia-noite": (0.0, 12.0, 24.0)},
    "fr": {"midi": (12.0,), "minuit": (0.0, 12.0, 24.0)},
    "de": {"mittag": (12.0,), "mitternacht": (0.0, 12.0, 24.0)},
}
_AND_A_HALF = r"\s+(?:and\s+a\s+half|y\s+medi[oa]|e\s+mei[oa]|et\s+demie?|einhalb)"
_SAY_TWO = {
    "en": {"twice": 2.0, "double": 2.0, "both": 2.0, "every other": 2.0, "a couple": 2.0, "a pair": 2.0,
           "triple": 3.0, "thrice": 3.0, "quadruple": 4.0},
    "es": {"ambos": 2.0, "ambas": 2.0, "doble": 2.0, "un par": 2.0, "triple": 3.0},
    "pt": {"ambos": 2.0, "ambas": 2.0, "dobro": 2.0, "um par": 2.0, "triplo": 3.0},
    "fr": {"double": 2.0, "une paire": 2.0, "triple": 3.0},
    "de": {"beide": 2.0, "beiden": 2.0, "doppelt": 2.0, "dreifach": 3.0},
}
_RELATIVE_CLOCK = re.compile(
    r"\b(?P<min>(?:a\s+)?quarter|half|\w+(?:-\w+)?|\d{1,2})(?:\s+minutes?)?\s+(?P<dir>to|till|before|past|after)\s+"
    r"(?P<hour>\w+|\d{1,2})\b", re.IGNORECASE)


def _relative_clock(text: str, spans: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    """"a quarter to three" is 2:45, "half past two" 2:30, "ten to five" 4:50: the hour and minutes
    a Chinese clock time (两点四十五分) states."""
    for m in _RELATIVE_CLOCK.finditer(text):
        minute_word = m.group("min").lower()
        minutes = 15.0 if minute_word.endswith("quarter") else 30.0 if minute_word == "half" else None
        hour = None
        inside = [t for t in spans if m.start() <= t[0] < m.end()]
        for t in inside:
            if t[0] >= m.start("hour"):
                hour = min(t[2].values)
            elif minutes is None:
                minutes = min(t[2].values)
        said_minutes = minute_word.endswith(("quarter", "half")) or re.search(r"minutes?\s", m.group(), re.IGNORECASE)
        ends = re.match(r"^(?:\s*$|\s*[^\w\s]|\s+(?:o'clock|o’clock|[ap]\.?m\b|in the|at night|tonight|sharp))",
                        text[m.end() : m.end() + 12], re.IGNORECASE)
        if not said_minutes and not ends:  # "five to ten people" is a range, not 9:55
            continue
        if minutes is None or hour is None or not (1 <= hour <= 12) or not (0 < minutes < 60):
            continue
        minute_values, hour_values = {minutes}, set(_hour_values(int(hour)))
        if m.group("dir").lower() in ("to", "till", "before"):
            # 2:45; a range ("from five to ten") keeps the numbers as said
            minute_values.add(60 - minutes)
            hour_values |= _hour_values(int(hour - 1) or 12)
        spans = [t for t in spans if t not in inside]
        spans.append((m.start(), m.start("hour"), Number(m.group()[: m.start("hour") - m.start()].strip(),
                                                           frozenset(minute_values), kind="clock")))
        spans.append((m.start("hour"), m.end(), Number(m.group("hour"), frozenset(hour_values), kind="clock")))
    return spans


_GRAND = re.compile(r"^\s+grand\b", re.IGNORECASE)
_HALF_BEFORE = {lang: re.compile(p + r"$", re.IGNORECASE) for lang, p in {
    "en": r"\bhalf\s+(?:a\s+)?", "es": r"\bmedi[oa]\s+", "pt": r"\bmei[oa]\s+", "fr": r"\bdemi-", "de": r"\bhalbe[n]?\s+",
}.items()}
_HALF_PRICE = {lang: re.compile(p, re.IGNORECASE) for lang, p in {
    "en": r"\bhalf[- ](?:price|off)\b|\bfifty[- ]percent off\b", "es": r"\bmitad de precio\b|\bmedio precio\b",
    "pt": r"\bmetade do preço\b|\bmeio preço\b", "fr": r"\bmoitié prix\b|\bà moitié prix\b",
    "de": r"\bhalbe[nr]? preis\b|\bhalben preis\b",
}.items()}
_WORD_AFTER = re.compile(r"^\s+(?:(?:whole|full|long|more|entire|ganze[n]?|largos?|largas?|longues?)\s+)?([^\W\d_]+)")


@lru_cache(maxsize=16)
def _one_unit_pattern(lang: str) -> re.Pattern[str] | None:
    units = _TIME_UNITS.get(lang)
    if not units or lang not in _ONE_UNIT:
        return None
    one, half = _ONE_UNIT[lang]
    names = "|".join(sorted(map(re.escape, units), key=len, reverse=True))
    return re.compile(rf"(?:(?P<half>{half})|(?P<one>{one}))(?P<unit>{names})\b(?P<and_half>{_AND_A_HALF})?", re.IGNORECASE)


def _target_context(text: str, lang: str, spans: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    """Spans of time after a number ("two decades"), "a week", "noon", "'86"."""
    units = _TIME_UNITS.get(lang, {})
    out: list[tuple[int, int, Number]] = []
    for s, e, n in spans:
        if units and n.kind in ("count",) and len(n.values) <= 2:
            rest = text[e : e + 40]
            half = re.match(_AND_A_HALF, rest, re.IGNORECASE)  # "two and a half hours"
            m = _WORD_AFTER.match(rest[half.end() if half else 0 :])
            unit = units.get(m.group(1).lower()) if m else None
            if unit is not None:
                length = (half.end() if half else 0) + m.end()
                half = half or re.match(_AND_A_HALF, rest[length:], re.IGNORECASE)  # "two hours and a half"
                if half and not rest[:length].endswith(half.group()):
                    length += half.end()
                value = min(n.values) + (0.5 if half else 0)
                n = Number(n.text + text[e : e + length], frozenset({value}), n.weak, "span", value * _UNIT_DAYS[unit])
                e += length
        if n.kind == "count" and len(n.values) == 1 and not _DECIMAL.search(n.text):
            value = next(iter(n.values))
            grand = _GRAND.match(text[e : e + 12]) if lang == "en" else None
            half = _HALF_BEFORE.get(lang)
            half_match = half.search(text[max(0, s - 12) : s]) if half is not None and value in (100, 1e3, 1e6, 1e9) else None
            if grand:  # "three grand"
                n = Number(n.text + grand.group(), frozenset({value * 1000}), n.weak, "money")
                e += grand.end()
            elif half_match:  # "half a million", "medio millón"
                s -= len(half_match.group())
                n = Number(half_match.group() + n.text, frozenset({value / 2}), False, n.kind)
        if n.kind == "count" and len(n.text) == 2 and n.text.isdigit() and s > 0 and text[s - 1] in "'’":
            n = _year("'" + n.text, float(n.text))  # '86
        out.append((s, e, n))
    pattern = _one_unit_pattern(lang)
    if pattern is not None:
        for m in pattern.finditer(text):
            count = 0.5 if m.group("half") else 1.5 if m.group("and_half") else 1.0
            days = count * _UNIT_DAYS[units[m.group("unit").lower()]]
            # an article text2num read as 1 ("une", "one week") gives way to the whole phrase; a
            # number that already holds the unit ("two and a half hours") stays
            overlapping = [t for t in out if t[0] < m.end() and m.start() < t[1]]
            if any(not t[2].weak or t[2].kind == "span" and t[1] - t[0] > m.end() - m.start() for t in overlapping):
                continue
            out = [t for t in out if t not in overlapping]
            out.append((m.start(), m.end(), Number(m.group(), frozenset({count}), weak=True, kind="span", days=days)))
    if lang == "en":
        out = _relative_clock(text, out)
    for word, value in _SAY_TWO.get(lang, {}).items():  # "twice", "both", "every other": 两倍, 两个人都, 每两天
        for m in re.finditer(rf"\b{word}\b", text, re.IGNORECASE):
            if not any(t[0] < m.end() and m.start() < t[1] for t in out):
                out.append((m.start(), m.end(), Number(m.group(), frozenset({value}), weak=True)))
    discount = _HALF_PRICE.get(lang)
    if discount is not None:
        for m in discount.finditer(text):  # "half price": 五折
            out.append((m.start(), m.end(), Number(m.group(), frozenset({50.0}), weak=True, kind="percent")))
    for word, values in _CLOCK_WORDS.get(lang, {}).items():
        for m in re.finditer(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
            out.append((m.start(), m.end(), Number(m.group(), frozenset(values), weak=True, kind="clock")))
    return out


# --- public ------------------------------------------------------------------------------------

_LETTERS = re.compile(r"[^\W\d_]+")
_DECIMAL = re.compile(r"\d")  # \d is exactly str.isdecimal (category Nd) for str patterns
#: Per language, every word that can make (part of) a number, a span or a clock word: without one
#: of them in the text, the word readers find nothing.
_NUMBER_WORDS = {
    lang: frozenset(_UNITS.get(lang, {})) | frozenset(_SCALES.get(lang, {})) | frozenset(_TIME_UNITS.get(lang, {}))
    | frozenset(w for word in _CLOCK_WORDS.get(lang, {}) for w in _LETTERS.findall(word))
    | frozenset({"en": ("half",), "es": ("mitad", "medio"), "pt": ("metade", "meio"), "fr": ("moitié",)}.get(lang, ()))
    | frozenset(w for word in _SAY_TWO.get(lang, {}) for w in _LETTERS.findall(word))
    for lang in set(_UNITS) | _TEXT2NUM_LANGS
}
#: German (and Dutch, Danish) write numbers as compounds (zweihundertfünfzig): a search for their
#: pieces stands in for the word test.
_COMPOUND_NUMBERS = {
    "de": re.compile(r"eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|ßig|zig|hundert|tausend|"
                     r"million|milliard|null|ein|halb"),
    "nl": re.compile(r"een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|tig|honderd|duizend|miljoen|nul"),
    "da": re.compile(r"en|et|to|tre|fire|fem|seks|syv|otte|ni|ti|elleve|tolv|tyve|halv|hundred|tusind|million|nul"),
}


def _may_hold_numbers(text: str, lang: str) -> bool:
    """False only when :func:`extract_numbers` is sure to find nothing: no decimal digit (any
    script), no Chinese numeral for zh/ja/ko, no number word of ``lang``. Most subtitle lines have
    none of these, and reading numbers is the most expensive check."""
    if _DECIMAL.search(text):
        return True
    if lang in ("zh", "ja", "ko"):
        return not _CN_CHARS.isdisjoint(text)
    lowered = text.lower()
    compound = _COMPOUND_NUMBERS.get(lang)
    if compound is not None:
        return bool(compound.search(lowered))
    vocabulary = _NUMBER_WORDS.get(lang)
    return vocabulary is not None and not vocabulary.isdisjoint(_LETTERS.findall(lowered))


#: Numbers are read in windows of at most this many characters, cut after a clause mark (else a
#: space): the readers look before and after every number they find, so one hostile cue of 10,000
#: characters holding thousands of numbers ("1% 1% ...", 三天三天...) cost seconds, quadratically.
#: A real sentence is far shorter, so it is read whole, exactly as before.
WINDOW_CHARS = 500
_CLAUSE_ENDS = ("\n", "。", "！", "？", "；", "，", "!", "?", ";")


def reading_windows(text: str, size: int = WINDOW_CHARS) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters (joined, they are ``text``): after
    the last clause mark of each window, else after its last space, else hard."""
    if len(text) <= size:
        return [text]
    pieces: list[str] = []
    start = 0
    while len(text) - start > size:
        stop = start + size
        cut = max(text.rfind(mark, start, stop) for mark in _CLAUSE_ENDS)
        if cut < start:
            cut = max(text.rfind(" ", start, stop), text.rfind("\u3000", start, stop))
        cut = cut + 1 if cut >= start else stop
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def extract_numbers(text: str, lang: str, non_quantities: Sequence[str] = ()) -> list[Number]:
    """Every number a viewer would read in ``text`` (plain words of a cue or a sentence), in order.

    ``non_quantities``: more words (glossary terms, a series' list; the syntax of
    ``localise/data/non_quantities.txt``) whose numerals are no numbers. Results are cached per
    distinct text. A text longer than :data:`WINDOW_CHARS` is read window by window
    (:func:`reading_windows`), so the cost stays linear in its length.
    """
    lang, non_quantities = base_lang(lang), tuple(non_quantities)
    return [n for piece in reading_windows(text) for n in _extract(piece, lang, non_quantities)]


@lru_cache(maxsize=65536)
def _extract(text: str, lang: str, non_quantities: tuple[str, ...]) -> tuple[Number, ...]:
    if not _may_hold_numbers(text, lang):
        return ()
    text = normalise_digits(text)
    taken: list[tuple[int, int]] = []
    spans: list[tuple[int, int, Number]] = []
    has_digit = bool(_DECIMAL.search(text))
    if lang in ("zh", "ja", "ko"):
        spans += _cn_money(text, _han_numbers(text, taken, _masks(non_quantities)))
        digits = _digit_numbers(text, taken) if has_digit else []
        spans += _cn_money(text, _cn_digit_context(text, digits))
        spans += _word_numbers(text, lang, []) if lang in _UNITS else []
    else:
        digits = _digit_numbers(text, taken) if has_digit else []  # its patterns all need a digit
        if digits:
            digits = _scaled_digits(text, digits)
        if lang in _TEXT2NUM_LANGS:
            words = _text2num_numbers(text, lang)
            spans += digits + [w for w in words if all(w[1] <= s or w[0] >= e for s, e, _n in digits)]
            if lang in _UNITS:  # the house table fills text2num's gaps ("sixtieth", "quinto")
                spans += [w for w in _word_numbers(text, lang, digits)
                          if all(w[1] <= s or w[0] >= e for s, e, _n in spans)]
        else:
            words = _word_numbers(text, lang, digits)
            # a digit that became part of "50 million" is replaced by the whole phrase
            word_starts = {s for s, _e, _n in words}
            spans += [d for d in digits if d[0] not in word_starts] + words
        spans = _target_context(text, lang, _mark_kinds(text, spans))
    spans.sort(key=lambda t: t[0])
    return tuple(n for _s, _e, n in spans)


@dataclass(frozen=True)
class Comparison:
    """How the numbers of a source and its translation pair up.

    ``conflicts``: (source, target) pairs left over on both sides that may measure the same thing —
    the translation states a different value. ``missing``: source quantities the translation does
    not state (often a condensed line). ``extra``: target numbers with no value in the source.
    """

    matched: tuple[tuple[Number, Number], ...] = ()
    conflicts: tuple[tuple[Number, Number], ...] = ()
    missing: tuple[Number, ...] = ()
    extra: tuple[Number, ...] = ()


def _value_tolerance(a: float) -> float:
    return 1e-9 + 1e-14 * abs(a)  # Number.matches


class _Partners:
    """The numbers of one side, found by value (and span length) instead of scanned.

    ``first(q)`` is the position of the first number not yet taken that ``q.matches`` (what a scan
    in order finds), ``any(q)`` whether any does. Why: a scan per number made :func:`compare`
    quadratic, and one hostile sentence holds thousands of numbers on each side (10 s a cue)."""

    def __init__(self, numbers: Sequence[Number]) -> None:
        self.numbers = numbers
        self.taken = [False] * len(numbers)
        # value -> positions, for a query without days (every number) and with days (numbers without)
        self._by_value: tuple[dict[float, list[int]], dict[float, list[int]]] = ({}, {})
        self._by_days: dict[tuple[float, float | None], list[int]] = {}  # (days, unit) -> positions
        for i, n in enumerate(numbers):
            for v in n.values:
                self._by_value[0].setdefault(v, []).append(i)
                if n.days is None:
                    self._by_value[1].setdefault(v, []).append(i)
            if n.days is not None:
                self._by_days.setdefault((n.days, n._unit()), []).append(i)
        self._value_keys = (sorted(self._by_value[0]), sorted(self._by_value[1]))
        self._days_keys = sorted(self._by_days, key=lambda k: k[0])
        self._days_only = [k[0] for k in self._days_keys]
        self._heads: dict[int, int] = {}  # id of a position list -> its first position maybe not taken

    def _head(self, positions: list[int]) -> int | None:
        """The first position of ``positions`` not taken (lazily skipping taken ones)."""
        at = self._heads.get(id(positions), 0)
        while at < len(positions) and self.taken[positions[at]]:
            at += 1
        self._heads[id(positions)] = at
        return positions[at] if at < len(positions) else None

    def _candidates(self, q: Number, take_head: bool) -> Iterator[int]:
        """Positions whose numbers ``q`` matches: the first not taken of each group (or any)."""
        which = 0 if q.days is None else 1
        keys, by_value = self._value_keys[which], self._by_value[which]
        for a in q.values:
            tol = _value_tolerance(a)
            lo = bisect.bisect_left(keys, a - 2 * tol)
            hi = bisect.bisect_right(keys, a + 2 * tol)
            for b in keys[lo:hi]:
                if abs(a - b) <= tol:
                    hit = self._head(by_value[b]) if take_head else by_value[b][0]
                    if hit is not None:
                        yield hit
        if q.days is not None and self._days_keys:
            d = q.days
            ends = (d * (1 - SPAN_TOLERANCE), d / (1 - SPAN_TOLERANCE))
            slack = 1e-9 * max(1.0, abs(d))
            lo = bisect.bisect_left(self._days_only, min(ends) - slack)
            hi = bisect.bisect_right(self._days_only, max(ends) + slack)
            for key in self._days_keys[lo:hi]:
                positions = self._by_days[key]
                if q.matches(self.numbers[positions[0]]):  # the same days and unit: the same answer
                    hit = self._head(positions) if take_head else positions[0]
                    if hit is not None:
                        yield hit

    def first(self, q: Number) -> int | None:
        return min(self._candidates(q, True), default=None)

    def any(self, q: Number) -> bool:
        return next(self._candidates(q, False), None) is not None


def compare(source: Sequence[Number], target: Sequence[Number]) -> Comparison:
    """Pair the numbers of a source and its translation (see :class:`Comparison`).

    Each source number consumes one matching target number, strong ones first (counts matter:
    "2 and 2" is not "2"); a target number is extra only if no source number has its value. Weak
    numbers match but are never missing, extra or in a conflict.
    """
    partners = _Partners(target)
    matched: list[tuple[Number, Number]] = []
    left: list[Number] = []
    loose: list[Number] = []  # weak source numbers nothing matched: never missing, but see slip_of
    for number in sorted(source, key=lambda n: n.weak):
        hit = partners.first(number)
        if hit is not None:
            partners.taken[hit] = True
            matched.append((number, target[hit]))
        elif not number.weak:
            left.append(number)
        elif number.kind != "word":  # an idiom's or an adverb's numeral (一点, 一百个不愿意) says no value
            loose.append(number)
    sources = _Partners(source)
    unused = [t for t, taken in zip(target, partners.taken) if not taken and not sources.any(t)]
    spare = [t for t in unused if not t.weak]
    if left and spare and len(left) * len(spare) <= JOIN_DIGIT_GROUPS_PAIRS:
        _join_digit_groups(left, spare, matched)
    conflicts, missing, spare = _pair_conflicts(left, spare)
    _pair_slips(missing, loose, spare, conflicts)
    _pair_spans(missing, unused, conflicts)
    return Comparison(tuple(matched), tuple(conflicts), tuple(missing), tuple(spare))


def _pair_conflicts(left: list[Number], spare: list[Number]) -> tuple[list[tuple[Number, Number]], list[Number],
                                                                     list[Number]]:
    """(conflicts, missing, still spare): each number left over takes the first spare number that may
    measure the same (:meth:`Number.may_measure_the_same`: the same kind, or a plain count on either
    side), found by kind rather than by a scan of every spare number for each."""
    taken = [False] * len(spare)
    by_kind: dict[str, list[int]] = {}
    for i, t in enumerate(spare):
        by_kind.setdefault(t.kind, []).append(i)
    everything = list(range(len(spare)))
    heads: dict[int, int] = {}

    def head(positions: list[int]) -> int | None:
        at = heads.get(id(positions), 0)
        while at < len(positions) and taken[positions[at]]:
            at += 1
        heads[id(positions)] = at
        return positions[at] if at < len(positions) else None

    conflicts: list[tuple[Number, Number]] = []
    missing: list[Number] = []
    for number in left:
        groups = [everything] if number.kind == "count" else [by_kind.get(number.kind, []), by_kind.get("count", [])]
        partner = min((h for h in map(head, groups) if h is not None), default=None)
        if partner is None:
            missing.append(number)
        else:
            taken[partner] = True
            conflicts.append((number, spare[partner]))
    return conflicts, missing, [t for t, gone in zip(spare, taken) if not gone]


def _pair_slips(missing: list[Number], loose: list[Number], spare: list[Number],
                conflicts: list[tuple[Number, Number]]) -> None:
    """A value off by a power of ten (三万多 -> "300K", 初八 -> "the 80th"): the same quantity with a
    digit too many or too few, whatever the source number's strength (in place). Bounded like the
    digit-group join: a hostile line of thousands of numbers is not paired pair by pair."""
    candidates = missing + loose
    if not spare or not candidates or len(spare) * len(candidates) > JOIN_DIGIT_GROUPS_PAIRS:
        return
    for t in list(spare):
        number = next((n for n in candidates if slip_of(n, t)), None)
        if number is not None:
            candidates.remove(number)
            (missing if number in missing else loose).remove(number)
            spare.remove(t)
            conflicts.append((number, t))


def _pair_spans(missing: list[Number], unused: list[Number], conflicts: list[tuple[Number, Number]]) -> None:
    """A span said as another span (七天 -> "a month"), in place: "a month" is weak only in that it
    may be loose where the source has no span; beside an unmatched span of the source it states a length."""
    spans = [n for n in missing if n.kind == "span" and n.days is not None]
    if not spans:
        return
    said = [t for t in unused if t.weak and t.kind == "span" and t.days is not None]
    for number, partner in zip(spans, said):
        missing.remove(number)
        conflicts.append((number, partner))


#: how many places a value may be shifted and still be read as the source's value misstated
SLIP_POWERS = (10.0, 100.0, 1000.0)


def slip_of(source: Number, target: Number) -> bool:
    """Whether ``target`` states ``source``'s value shifted by one to three decimal places (a digit
    or a zero too many or too few: 30K for 三十万, 890 for 八十九). Only whole values of 2 or more on
    the source side: 一 is too often "a", and a fraction too often a rate."""
    if target.kind == "span" or source.kind == "span":
        return False  # lengths of time have their own comparison (days)
    if all(ch in _CN_UNITS for ch in source.text):
        return False  # a lone 万 or 百 (万岁, 百姓 left unmasked) says no value of its own
    for a in source.values:
        if a < 2 or a != int(a):
            continue
        for b in target.values:
            if b <= 0 or b != int(b):
                continue
            big, small = (a, b) if a > b else (b, a)
            if any(abs(big - small * p) < 1e-9 * big for p in SLIP_POWERS) and small >= 1:
                return True
    return False


#: a phone number, plate or account written in one piece on one side and in groups on the other
#: (13905712846 / 139-0571-2846): at least this many digits in all
DIGIT_STRING_MIN = 5
#: Digit groups are looked for only while (numbers left) x (spare numbers) stays under this: the search
#: tries every spare position for every number left, and a hostile sentence holds thousands of each.
#: Past it the groups stay unmatched, so they are reported (flagged), never passed over.
JOIN_DIGIT_GROUPS_PAIRS = 40_000


def _join_digit_groups(left: list[Number], spare: list[Number], matched: list[tuple[Number, Number]]) -> None:
    """Match a digit string with consecutive digit groups of the other side that spell it (in place).
    Leading zeros (0571) are kept, so the digits are compared as written, not as values."""
    def digits(n: Number) -> str | None:
        return n.text if n.text.isascii() and n.text.isdigit() else None

    for whole_side, part_side, whole_is_source in ((left, spare, True), (spare, left, False)):
        for whole in list(whole_side):
            text = digits(whole)
            if text is None or len(text) < DIGIT_STRING_MIN or whole not in whole_side:
                continue
            for i in range(len(part_side)):
                joined, j = "", i
                while j < len(part_side) and len(joined) < len(text) and digits(part_side[j]):
                    joined += digits(part_side[j])  # type: ignore[operator]
                    j += 1
                if j - i >= 2 and joined == text:
                    parts = part_side[i:j]
                    del part_side[i:j]
                    whole_side.remove(whole)
                    matched.append((whole, parts[0]) if whole_is_source else (parts[0], whole))
                    break


def compare_numbers(source: Sequence[Number], target: Sequence[Number]) -> tuple[list[Number], list[Number]]:
    """(source numbers missing from the target, target numbers found nowhere in the source) — the
    two sides of a conflict included; see :func:`compare` for the finer answer."""
    result = compare(source, target)
    return ([s for s, _t in result.conflicts] + list(result.missing),
            [t for _s, t in result.conflicts] + list(result.extra))


def glossary_terms(glossary: object, source: str, target_lang: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(source terms, their target renderings) of ``glossary`` found in ``source``: names and
    titles whose numerals are no quantities (林三, 三少爷 -> "Third Young Master")."""
    if glossary is None:
        return (), ()
    matches = glossary.find(source)  # type: ignore[attr-defined]
    if not matches:
        return (), ()
    targets = [glossary.target_for(m.targets, target_lang) for m in matches]  # type: ignore[attr-defined]
    return tuple(m.term for m in matches), tuple(t for t in targets if t)


@lru_cache(maxsize=65536)
def _target_may_hold_numbers(text: str, lang: str) -> bool:
    return _may_hold_numbers(normalise_digits(text), base_lang(lang))


def compare_texts(source: str, target: str, src_lang: str, tgt_lang: str, *, glossary: object = None,
                  non_quantities: Sequence[str] = ()) -> Comparison:
    """The numbers of a sentence and its translation, paired (:func:`compare`).

    Glossary terms found in the source, and their renderings in the target, hold no quantities;
    ``non_quantities`` adds words to the house list for the source side.
    """
    if isinstance(non_quantities, str):  # one word given where a list was meant
        non_quantities = (non_quantities,)
    non_quantities = tuple(str(word) for word in non_quantities or ())
    try:
        hash(glossary)
    except TypeError:  # an unhashable glossary-like object: no cache
        return _compare_texts.__wrapped__(source, target, src_lang, tgt_lang, glossary, non_quantities)
    return _compare_texts(source, target, src_lang, tgt_lang, glossary, non_quantities)


@lru_cache(maxsize=65536)
def _compare_texts(source: str, target: str, src_lang: str, tgt_lang: str, glossary: object,
                   non_quantities: tuple[str, ...]) -> Comparison:
    """:func:`compare_texts`, cached per sentence pair (a re-check of the same lines is free)."""
    src_numbers = extract_numbers(source, src_lang, non_quantities)
    if not src_numbers and not _target_may_hold_numbers(target, tgt_lang):
        return Comparison()  # most lines: nothing to compare, and no glossary look-up
    src_terms, tgt_terms = glossary_terms(glossary, source, tgt_lang)
    if src_terms:  # blanked out, not added to the word list: that list is compiled once per run
        for term in src_terms:
            source = source.replace(term, "\u3000" * len(term))
        src_numbers = extract_numbers(source, src_lang, non_quantities)
        for term in tgt_terms:
            target = target.replace(term, " " * len(term))
    return compare(src_numbers, extract_numbers(target, tgt_lang))
