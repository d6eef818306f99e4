"""Hostile cue text must not make the checks hang.

The probe (one cue of 8,000-10,000 characters, the default ``max_cue_chars`` is 10,000): ``"1% " * 3000``
took 10 s to check, ``"9" * 8000`` 4 s, ``"<a." * 2700`` 2.4 s, ``"{" * 8000`` 0.6 s, against 0.05 s for a
plain cue as long; a 64 MB file of such cues would have held a worker for hours. The causes were
patterns that retried a long run from each of its characters (the scale after digits, the doubled-space
context, VTT classes running over the next ``<``) and number readers and the number pairing that
looked at every other number for each one.

These tests give the repaired functions inputs 20x longer than a cue may be: the old code took many
minutes on each (quadratic), the new one well under a second. The ``timeout`` marks are hang guards
with a margin of two orders of magnitude, not timings. The property tests pin each replacement to the
code it replaced on ordinary inputs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.io import parse_text
from localise.quality import numbers
from localise.quality.checks import check_track
from localise.quality.numbers import Comparison, Number, compare, extract_numbers, reading_windows
from localise.quality.surface import doubled_spaces
from localise.quality.text import html_tags

LONG = 200_000


# --- the code the fixes replaced, kept as the reference for ordinary inputs -----------------------

def _compare_by_scanning(source, target) -> Comparison:
    """``numbers.compare`` as it was: a scan of the other side for each number."""
    unused = list(target)
    matched, left, loose = [], [], []
    for number in sorted(source, key=lambda n: n.weak):
        hit = next((t for t in unused if number.matches(t)), None)
        if hit is not None:
            unused.remove(hit)
            matched.append((number, hit))
        elif not number.weak:
            left.append(number)
        elif number.kind != "word":
            loose.append(number)
    unused = [t for t in unused if not any(t.matches(s) for s in source)]
    spare = [t for t in unused if not t.weak]
    if left and spare:
        numbers._join_digit_groups(left, spare, matched)
    conflicts, missing = [], []
    for number in left:
        partner = next((t for t in spare if number.may_measure_the_same(t)), None)
        if partner is None:
            missing.append(number)
        else:
            spare.remove(partner)
            conflicts.append((number, partner))
    candidates = missing + loose  # a value a power of ten off (numbers.slip_of)
    for t in list(spare):
        number = next((n for n in candidates if numbers.slip_of(n, t)), None)
        if number is not None:
            candidates.remove(number)
            (missing if number in missing else loose).remove(number)
            spare.remove(t)
            conflicts.append((number, t))
    said = [t for t in unused if t.weak and t.kind == "span" and t.days is not None]  # a span for a span
    for number, partner in zip([n for n in missing if n.kind == "span" and n.days is not None], said):
        missing.remove(number)
        conflicts.append((number, partner))
    return Comparison(tuple(matched), tuple(conflicts), tuple(missing), tuple(spare))


_OLD_DOUBLE_SPACE = re.compile(r"(\S*)( {2,})(?=(\S*))")


def _doubled_spaces_by_pattern(text: str) -> list[str]:
    return [m.group(1)[-12:] + m.group(2) + m.group(3)[:12]
            for line in text.split("\n") for m in _OLD_DOUBLE_SPACE.finditer(line.strip(" "))]


# --- equivalence on ordinary inputs ---------------------------------------------------------------

_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.3, 3 + 0.3, 7.0, 12.0, 15.0, 21.0, 30.0, 1500.0, 1e12, 1e12 + 1e-3, 1.0000000001]
_numbers = st.builds(
    Number,
    text=st.sampled_from(["7", "12345", "139", "0571", "2846", "13905712846", "三天", "a week", "1,500"]),
    values=st.frozensets(st.sampled_from(_VALUES), min_size=1, max_size=3),
    weak=st.booleans(),
    kind=st.sampled_from(["count", "money", "percent", "clock", "span"]),
    days=st.one_of(st.none(), st.sampled_from([0.5, 1.0, 3.0, 7.0, 14.0, 21.0, 28.0, 30.0, 31.0, 365.0])),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_numbers, max_size=12), st.lists(_numbers, max_size=12))
def test_number_pairing_is_the_scan_it_replaces(source: list[Number], target: list[Number]) -> None:
    assert compare(source, target) == _compare_by_scanning(source, target)


def test_number_pairing_of_real_sentences_is_unchanged() -> None:
    pairs = [("三天之后，他付了两百万。", "Three days later he paid 2 million."),
             ("七天之内还我一千五百块，电话13905712846。", "Pay back 1,500 within a week; call 139-0571-2846."),
             ("86年，他十二岁。", "In 1986 he was 12."), ("三点半见。", "See you at 3:30.")]
    for src, tgt in pairs:
        s, t = extract_numbers(src, "zh"), extract_numbers(tgt, "en")
        assert compare(s, t) == _compare_by_scanning(s, t)


@given(st.text(alphabet="ab1,. \t\n。，xyz", max_size=60), st.integers(1, 20))
def test_reading_windows_cut_the_text_without_losing_any(text: str, size: int) -> None:
    pieces = reading_windows(text, size)
    assert "".join(pieces) == text
    assert all(len(p) <= size for p in pieces)
    if len(text) <= size:
        assert pieces == [text]


def test_a_long_text_is_cut_after_clause_marks() -> None:
    text = "他付了一百块。" * 200
    pieces = reading_windows(text)
    assert all(p.endswith("。") for p in pieces)
    assert len(extract_numbers(text, "zh")) == 200


@given(st.text(alphabet="ab  \t\n.", max_size=80))
def test_doubled_spaces_are_the_pattern_they_replace(text: str) -> None:
    assert doubled_spaces(text) == _doubled_spaces_by_pattern(text)


def test_doubled_spaces_show_twelve_characters_of_context() -> None:
    assert doubled_spaces("Extraordinarily  unbelievable words") == ["raordinarily  unbelievable"]


def test_vtt_classes_hold_no_tag_start() -> None:
    assert html_tags("<c.yellow.bg_blue>hi</c>") == [("open", "c"), ("close", "c")]
    assert html_tags("<c.a<b>x</b>") == [("open", "b"), ("close", "b")]


# --- hang guards: inputs the old code took minutes on -----------------------------------------------

@pytest.mark.timeout(120)
@pytest.mark.parametrize("unit", ["1% ", "9", "1 one ", "三天", "1块", "10:30 ", "1/2 ", "第一", "twenty-one "])
def test_numbers_of_a_huge_text_are_read_in_linear_time(unit: str) -> None:
    text = unit * (LONG // len(unit))
    for lang in ("en", "zh"):
        found = extract_numbers(text, lang)
        compare(found, found)


@pytest.mark.timeout(120)
def test_pairing_thousands_of_numbers_is_not_quadratic() -> None:
    many = [Number(str(i % 977), frozenset({float(i % 977)})) for i in range(60_000)]
    spans = [Number(f"{i} days", frozenset({float(i % 500 + 1)}), kind="span", days=float(i % 500 + 1))
             for i in range(20_000)]
    result = compare(many + spans, list(reversed(many)) + spans)
    assert not result.missing and not result.extra and not result.conflicts


@pytest.mark.timeout(120)
def test_thousands_of_numbers_that_all_disagree_are_paired_in_linear_time() -> None:
    """Each number left over looks for a spare one of its kind; and digit strings next to thousands of
    digit groups are reported, not searched for every group (the search is bounded)."""
    money = [Number(f"{i}块", frozenset({float(i)}), kind="money") for i in range(1, 20_001)]
    percent = [Number(f"{i}%", frozenset({float(i) + 0.5}), kind="percent") for i in range(1, 20_001)]
    result = compare(money, percent)
    assert len(result.missing) == 20_000 and len(result.extra) == 20_000
    wholes = [Number("12345", frozenset({12345.0}))] * 5_000
    groups = [Number("1", frozenset({1.0}))] * 5_000
    result = compare(wholes, groups)
    assert len(result.conflicts) == 5_000


@pytest.mark.timeout(120)
@pytest.mark.parametrize("text", ["x" * LONG + "  y", "{" * LONG, "！" * LONG, "<a." * (LONG // 3), "a" + "  b" * 1000])
def test_surface_and_tag_readers_are_linear(text: str) -> None:
    doubled_spaces(text)
    html_tags(text)


@pytest.mark.timeout(300)
def test_a_track_of_hostile_cues_is_checked_in_bounded_time() -> None:
    """Every hostile shape at the largest cue the reader takes, through the whole check."""
    units = ["1% ", "9", "{\\", "<a.", "！", "1K ", "三天", "10:30 ", "1/2 ", "a  ", "<c.a"]
    size = 9_600
    blocks_src, blocks_tgt = [], []
    for i, unit in enumerate(units):
        timing = f"00:00:{i * 4 + 1:02d},000 --> 00:00:{i * 4 + 4:02d},000"
        blocks_src.append(f"{i + 1}\n{timing}\n{('一百块' * size)[:size]}\n")
        blocks_tgt.append(f"{i + 1}\n{timing}\n{(unit * size)[:size].strip()}\n")
    source = parse_text("\n".join(blocks_src), format="srt", name="src.srt")
    target = parse_text("\n".join(blocks_tgt), format="srt", name="tgt.en.srt")
    flags = check_track(source, target, src_lang="zh", tgt_lang="en")
    assert len(flags) == len(units)


@pytest.mark.timeout(60)
def test_the_last_word_of_a_hostile_token_is_read_in_linear_time() -> None:
    """A 200,000-letter token ending in a digit: the dangling-word reader searched it from every start."""
    from localise.quality.meaning import stops_on_dangling_word

    assert stops_on_dangling_word("abcdefghij" * (LONG // 10) + "1", "en") is None
    assert stops_on_dangling_word("Sign it, and for", "en") == "for"
    assert stops_on_dangling_word("x" * LONG + " and for", "en") == "for"
