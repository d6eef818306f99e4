"""Numbers in subtitle text, read the way a viewer would, so source and translation can be compared.

* Digits in any script (ASCII, full-width, Arabic-Indic, Thai...), with thousands groups
  (``50,000,000``, ``50.000.000``, ``50 000 000``) and decimals; ``a,bcd`` is ambiguous
  between languages and keeps both readings.
* Chinese and Japanese numerals through cn2an (``五千万`` = 50,000,000, ``3.5亿``, ``二〇二四``);
  ``三点``/``三時`` is three o'clock (also 15:00), ``三点五`` is 3.5, ``三点十五分`` is 3:15.
  Idioms built from numerals (一起, 十分, 千万别…, 乱七八糟, 千金…) are not numbers.
* Number words for English, Spanish, Portuguese, French, German, Arabic (``five``, ``cinco``,
  ``fifty million``, ``cincuenta millones``, ``50 million``); ordinals up to twentieth.
* A number may be *weak*: one that is often no number at all in the other language (一 and
  "one" work as articles, months and weekdays become names). A weak number matches like any
  other but is never reported missing or extra.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from localise.quality.text import base_lang


@dataclass(frozen=True)
class Number:
    """A number as written, with every value it may stand for."""

    text: str
    values: frozenset[float]
    weak: bool = False

    def matches(self, other: "Number") -> bool:
        return any(abs(a - b) < 1e-9 for a in self.values for b in other.values)

    def __str__(self) -> str:
        return self.text


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
_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:([,.\u00a0\u202f' ])\d{3})(?:\1\d{3})*(?:[.,]\d+)?(?![\d])")
_PLAIN = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)?(?![\d])")


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
        found.append((m.start(1), m.end(1), Number(m.group(1), _hour_values(h))))
        if mnt:
            found.append((m.start(2), m.end(2), Number(m.group(2), frozenset({float(mnt)}))))
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
            found.append((m.start(), m.end(), Number(s, frozenset(values), weak=month)))
            taken.append((m.start(), m.end()))
    return found


# --- Chinese / Japanese numerals ---------------------------------------------------------------

# Financial numerals (壹贰叁…拾佰仟) are left out: in dialogue 拾 is "pick up" and 陆 is "land".
_CN_DIGITS = "零〇一二三四五六七八九两兩"
_CN_UNITS = "十百千万亿萬億"
_CN = _CN_DIGITS + _CN_UNITS
_CN_RUN = re.compile(rf"(?:\d+(?:\.\d+)?[{_CN_UNITS}][{_CN}]*|[{_CN}]+)")

#: Words made of numerals that are not numbers (Chinese, and Japanese where they differ).
HAN_IDIOMS = tuple(sorted({
    "一起", "一样", "一直", "一定", "一切", "一些", "一下", "一点", "一会", "一般", "一边", "一旦", "一向",
    "一味", "一致", "一律", "一再", "一口气", "一面", "一时", "一阵", "一番", "一同", "一道", "一路", "一心",
    "一生", "一辈子", "一模一样", "万一", "千万", "万万", "唯一", "统一", "十分", "万分", "十足", "十全十美",
    "三心二意", "乱七八糟", "七上八下", "七嘴八舌", "五颜六色", "一五一十", "不三不四", "三番五次", "千辛万苦",
    "九死一生", "四处", "四周", "四面八方", "千千万万", "万岁", "万事", "万物", "百姓", "百货", "百般", "千金",
    "八成", "八卦", "二百五", "二话不说", "三思", "十字", "亿万", "千里", "三三两两", "一流", "一见钟情",
    "一言为定", "一方面", "一旁", "一角", "一齐", "一并", "一手", "一身", "两下", "两口子",
    "百分之", "零钱", "零食", "零件", "零花钱", "零用钱", "零星", "零散", "一緒", "一番", "一応", "一体", "一杯", "万が一", "一人前", "一気", "一瞬", "一生懸命", "十二分",
}, key=len, reverse=True))
# not inside a longer numeral (二百五十 is 250, 五千万 is 50,000,000), nor before 钟 (十分钟 is ten minutes)
# (the leading lookahead only skips positions where no idiom can start: 5x faster, same matches)
_IDIOM_STARTS = "".join(sorted({idiom[0] for idiom in HAN_IDIOMS}))
_IDIOM = re.compile("(?=[" + re.escape(_IDIOM_STARTS) + "])(?<![" + _CN + r"\d])(?:" + "|".join(map(re.escape, HAN_IDIOMS))
                    + ")(?![" + _CN + r"\d钟])")
_CLOCK = re.compile(rf"^[点點時时](?:([{_CN}\d]+)分|(半)|([一二三123])刻|([{_CN}\d]+))?")
_WEEKDAY = re.compile(r"(?:星期|礼拜|禮拜|周|週)$")
_MONTH_AFTER = re.compile(r"^月")
_ROUGHLY_BEFORE = re.compile(r"(?:数|几|好几|上)$")
_ROUGHLY_AFTER = re.compile(r"^(?:几|多|来|余)")


@lru_cache(maxsize=4096)
def _cn_value(run: str) -> float | None:
    """cn2an's reading of a numeral run (cached: dialogue repeats the same few numerals)."""
    import warnings

    import cn2an

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(cn2an.cn2an(run, "smart"))
        except Exception:
            return None


def _han_numbers(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int, Number]]:
    masked = _IDIOM.sub(lambda m: "\u3000" * len(m.group()), text)
    found: list[tuple[int, int, Number]] = []
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
        # 七八个, 三四天: "seven or eight" — an estimate, both values, weak
        if digit_only and len(run) == 2:
            a, b = _cn_value(run[0]), _cn_value(run[1])
            if a is not None and b is not None and b == a + 1:
                found.append((start, end, Number(run, frozenset({a, b}), weak=True)))
                taken.append((start, end))
                continue
        # counting digit by digit: 二〇二四 (a year) is 2024
        if digit_only and len(run) >= 3:
            value = _cn_value(run)
            if value is not None:
                found.append((start, end, Number(run, frozenset({value}))))
                taken.append((start, end))
            continue
        value = _cn_value(run)
        if value is None:
            continue
        # 三点 / 三時: o'clock; 三点五 is 3.5; 三点十五分 is 3:15; 三点半 is half past three
        clock = _CLOCK.match(after)
        if clock and not clock.group(4):
            found.append((start, end, Number(run + after[0], _hour_values(int(value)))))
            if clock.group(1):
                minutes = _cn_value(clock.group(1))
                if minutes:
                    found.append((start, end + clock.end(), Number(clock.group(1) + "分", frozenset({minutes}))))
            elif clock.group(2):
                found.append((start, end + clock.end(), Number("半", frozenset({30.0, 0.5}), weak=True)))
            elif clock.group(3):  # 一刻 is a quarter of an hour
                quarters = _cn_value(clock.group(3)) or 1
                found.append((start, end + clock.end(), Number(clock.group(3) + "刻", frozenset({15.0 * quarters, quarters / 4}), weak=True)))
            taken.append((start, end + clock.end()))
            pos = end + clock.end()
            continue
        if clock and clock.group(4):  # decimal point
            decimal = _cn_value(run + "点" + clock.group(4))
            if decimal is not None:
                found.append((start, end + clock.end(), Number(run + after[: clock.end()], frozenset({decimal}))))
                taken.append((start, end + clock.end()))
                pos = end + clock.end()
                continue
        weak = (
            value == 1
            or run in ("两", "兩")  # 两兄弟 is "both brothers", 两倍 "twice"
            or bool(_WEEKDAY.search(before))
            or bool(_MONTH_AFTER.match(after))
            or before.endswith("第")  # 第二天 is "the next day"
            or bool(_ROUGHLY_BEFORE.search(before)) or bool(_ROUGHLY_AFTER.match(after))  # 数十人, 十几岁: "dozens", "teens"
        )
        found.append((start, end, Number(run, frozenset({value}), weak=weak)))
        taken.append((start, end))
    return found


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


# --- public ------------------------------------------------------------------------------------

#: Per language, every word that can make (part of) a number word phrase: without one of them in
#: the text, ``_word_numbers`` finds nothing.
_NUMBER_WORDS = {lang: frozenset(units) | frozenset(_SCALES.get(lang, {})) for lang, units in _UNITS.items()}
_LETTERS = re.compile(r"[^\W\d_]+")
_DECIMAL = re.compile(r"\d")  # \d is exactly str.isdecimal (category Nd) for str patterns
_CN_CHARS = frozenset(_CN)


def _may_hold_numbers(text: str, lang: str) -> bool:
    """False only when :func:`extract_numbers` is sure to find nothing: no decimal digit (any
    script), no Chinese numeral for zh/ja/ko, no number word of ``lang``. Most subtitle lines have
    none of these, and reading numbers is the most expensive check."""
    if _DECIMAL.search(text):
        return True
    if lang in ("zh", "ja", "ko") and not _CN_CHARS.isdisjoint(text):
        return True
    vocabulary = _NUMBER_WORDS.get(lang)
    return vocabulary is not None and not vocabulary.isdisjoint(_LETTERS.findall(text.lower()))


def extract_numbers(text: str, lang: str) -> list[Number]:
    """Every number a viewer would read in ``text`` (plain words of one cue), in order."""
    lang = base_lang(lang)
    if not _may_hold_numbers(text, lang):
        return []
    text = normalise_digits(text)
    taken: list[tuple[int, int]] = []
    spans: list[tuple[int, int, Number]] = []
    if lang in ("zh", "ja", "ko"):
        spans += _han_numbers(text, taken)
    digits = _digit_numbers(text, taken) if _DECIMAL.search(text) else []  # its patterns all need a digit
    words = _word_numbers(text, lang, digits)
    # a digit that became part of "50 million" is replaced by the whole phrase
    word_starts = {s for s, _e, _n in words}
    spans += [d for d in digits if d[0] not in word_starts] + words
    spans.sort(key=lambda t: t[0])
    return [n for _s, _e, n in spans]


def compare_numbers(source: list[Number], target: list[Number]) -> tuple[list[Number], list[Number]]:
    """(source numbers missing from the target, target numbers found nowhere in the source).

    Each source number consumes one matching target number (counts matter: "2 and 2" is not
    "2"); a target number is extra only if no source number has its value. Weak numbers match but
    are never reported.
    """
    unused = list(target)
    missing: list[Number] = []
    for number in sorted(source, key=lambda n: n.weak):
        hit = next((t for t in unused if number.matches(t)), None)
        if hit is not None:
            unused.remove(hit)
        elif not number.weak:
            missing.append(number)
    extra = [t for t in unused if not t.weak and not any(t.matches(s) for s in source)]
    return missing, extra
