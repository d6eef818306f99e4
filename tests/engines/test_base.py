"""Batching, splitting and budget helpers shared by the engines (pure functions, property-tested)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from localise.engines.base import (
    Decoding,
    confidence_from_logprob,
    joiner_for,
    output_budget,
    split_to_fit,
    token_budget_batches,
)


@given(
    st.lists(st.integers(min_value=1, max_value=300), max_size=200),
    st.integers(min_value=1, max_value=2000),
    st.integers(min_value=1, max_value=64),
)
def test_token_budget_batches_cover_every_line_once_within_budget(lengths, max_tokens, max_batch):
    batches = token_budget_batches(lengths, max_tokens, max_batch)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= max_batch
        padded = len(batch) * max(lengths[i] for i in batch)
        assert padded <= max_tokens or len(batch) == 1


def test_token_budget_batches_are_length_sorted_longest_first():
    lengths = [3, 50, 7, 50, 1, 20]
    batches = token_budget_batches(lengths, max_tokens=100, max_batch_size=8)
    order = [i for b in batches for i in b]
    assert [lengths[i] for i in order] == sorted(lengths, reverse=True)
    assert batches[0] == [1, 3]  # two lines of 50 fill the budget of 100


_TEXT = st.text(alphabet=st.sampled_from(list("你好我是王总他去哪里了。，！？ abc,.")), max_size=120)


@given(_TEXT, st.integers(min_value=1, max_value=30))
def test_split_to_fit_loses_nothing_and_fits(text, width):
    pieces = split_to_fit(text, lambda s: len(s) <= width)
    assert "".join(pieces) == text
    assert all(len(p) <= width for p in pieces)


def test_split_to_fit_prefers_sentence_ends_then_clauses():
    text = "我是王总，你是谁？他去哪里了。"
    assert split_to_fit(text, lambda s: len(s) <= 9) == ["我是王总，你是谁？", "他去哪里了。"]
    assert split_to_fit("我是王总，你是谁", lambda s: len(s) <= 6) == ["我是王总，", "你是谁"]


def test_output_budget_defaults_caps_and_minimum():
    assert output_budget(10, Decoding(), limit=512) == 36
    assert output_budget(10, Decoding(), limit=512, model_cap=20) == 20
    assert output_budget(400, Decoding(), limit=512) == 511
    assert output_budget(10, Decoding(max_new_tokens=24, min_new_tokens=24), limit=512, model_cap=5) == 24


def test_confidence_is_a_probability():
    assert confidence_from_logprob(0.0) == 1.0
    assert confidence_from_logprob(1e-9) == 1.0
    assert 0.0 < confidence_from_logprob(-2.0) < 1.0
    assert confidence_from_logprob(float("-inf")) == 0.0
    assert confidence_from_logprob(float("nan")) == 0.0


def test_pieces_join_without_spaces_only_for_unspaced_scripts():
    assert joiner_for("en") == " " and joiner_for("pt-BR") == " "
    assert joiner_for("zh") == "" and joiner_for("ja") == "" and joiner_for("th") == ""
