"""The LLM engine's pure parts: windows, prompt, schema, lenient parsing, validation, confidences."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from localise.engines.llm_prompt import (
    Doc, DocUnit, Window, build_prompt, parse_answer, problem, register_rules, validate, windows,
)
from localise.engines.openai_engine import Usage, _confidences, cost
from localise.glossary import Glossary


def _doc(n: int, name: str = "ep1", skip: frozenset[int] = frozenset()) -> Doc:
    return Doc(name, tuple(DocUnit(str(i), f"第{i}句话", 42, 2.0, translate=i not in skip) for i in range(n)))


@given(st.lists(st.integers(0, 120), min_size=1, max_size=4), st.integers(1, 50), st.integers(0, 12))
def test_windows_cover_every_unit_once_and_never_cross_an_episode(sizes, size, context):
    docs = [_doc(n, f"ep{d}") for d, n in enumerate(sizes)]
    found = windows(docs, size, context)
    for d, n in enumerate(sizes):
        mine = [w for w in found if w.doc == d]
        assert sorted(p for w in mine for p in w.targets) == list(range(n))
        for w in mine:
            assert len(w.targets) <= size
            assert all(0 <= p < n for p in w.before + w.after)  # context from the same episode only
            assert len(w.before) == min(context, w.targets[0])
            assert len(w.after) == min(context, n - 1 - w.targets[-1])


def test_windows_skip_units_that_are_context_only():
    doc = _doc(5, skip=frozenset({1, 3}))
    [w] = windows([doc], 40, 10)
    assert w.targets == (0, 2, 4)


def test_prompt_carries_bible_register_budgets_and_context_and_a_bounded_schema():
    glossary = Glossary.from_csv("zh,en,type,gender,note\n李伟,Li Wei,character,male,the heir\n")
    doc = Doc("ep", tuple(DocUnit(str(i), text, 20, 1.5) for i, text in enumerate(["你好", "李伟来了", "走吧", "再见"])))
    window = Window(0, (1, 2), (0,), (3,))
    from localise.engines.llm_prompt import bible_for

    assert bible_for(glossary, [u.source for u in doc.units], "es") == []  # no Spanish rendering: no bible line
    bible = bible_for(glossary, [u.source for u in doc.units], "en")
    prompt = build_prompt(doc, window, "zh", "en", bible)
    user = prompt.messages[1]["content"]
    assert "李伟 -> Li Wei (character, male, the heir)" in user
    assert "[0] 你好" in user.split("Lines to translate")[0]  # context before
    assert "[3] 再见" in user.split("Lines to translate")[1]  # context after
    assert "at most 20 characters" in user and "1.5 s on screen" in user
    assert prompt.keys == ("1", "2")
    assert prompt.schema["required"] == ["1", "2"] and prompt.schema["additionalProperties"] is False
    assert all(p["maxLength"] <= 400 for p in prompt.schema["properties"].values())
    assert prompt.max_tokens < 1000
    assert "usted" in register_rules("es") and register_rules("xx") == ""
    es = build_prompt(doc, window, "zh", "es", [])
    assert "usted" in es.messages[1]["content"]


def test_reask_lists_only_failing_ids_with_their_problems_the_rest_as_context():
    doc = _doc(4)
    window = Window(0, (0, 1, 2, 3))
    prompt = build_prompt(doc, window, "zh", "en", [], only=[2], problems={"2": "empty"})
    assert prompt.keys == ("2",)
    user = prompt.messages[1]["content"]
    assert "- 2: empty" in user
    assert "[1] 第1句话" in user.split("Lines to translate")[0]
    assert "[3] 第3句话" in user.split("Lines to translate")[1]


def test_parse_strict_object_with_value_spans():
    content = '{"1": "Hello.", "2" : "Go \\"now\\""}'
    parsed = parse_answer(content)
    assert parsed.strict and parsed.values == {"1": "Hello.", "2": 'Go "now"'}
    for key, (a, b) in parsed.spans.items():
        assert json.loads(content[a:b]) == parsed.values[key]


def test_parse_leniently_from_prose_code_fences_and_cut_off_answers():
    assert parse_answer('Sure!\n```json\n{"1": "Hi", "2": "Bye"}\n```').values == {"1": "Hi", "2": "Bye"}
    cut = parse_answer('{"1": "Hi", "2": "Bye", "3": "Never fin')
    assert cut.values == {"1": "Hi", "2": "Bye"} and not cut.strict
    assert parse_answer("no json at all").values == {}
    assert parse_answer('{"1": 5, "2": "ok"}').values == {"2": "ok"}


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=30), max_size=6))
def test_parse_reads_back_any_json_object_of_strings(obj):
    content = json.dumps(obj, ensure_ascii=False)
    parsed = parse_answer(content)
    assert parsed.values == obj and parsed.strict
    for key, (a, b) in parsed.spans.items():
        assert json.loads(content[a:b]) == obj[key]


def test_validation_every_id_once_no_extras_no_empty_no_source_script_no_control_chars():
    parsed = parse_answer(json.dumps({"1": "Fine.", "2": " ", "3": "他来了", "4": "bad\x07bell", "5": "x\ufffd",
                                      "9": "extra"}))
    keys = ["1", "2", "3", "4", "5", "6"]
    good, bad, extra = validate(parsed, keys, {k: "源" for k in keys}, "zh", "en")
    assert good == {"1": "Fine."}
    assert bad["2"] == "empty" and bad["6"] == "missing"
    assert "Chinese characters left" in bad["3"]
    assert "control" in bad["4"] and "control" in bad["5"]
    assert extra == ["9"]
    assert problem("他来了", "他来了", "zh", "ja") is None  # Han characters are the target's own script
    assert problem("two\nlines", "x", "zh", "en") is None


def test_confidence_from_token_logprobs_covers_only_each_values_tokens():
    content = '{"1": "ab", "2": "cd"}'
    pieces = ['{"', '1', '":', ' "', 'ab', '",', ' "', '2', '":', ' "', 'cd', '"}']
    assert "".join(pieces) == content
    logprobs = [(len(p.encode()), -0.1 if p != "cd" else -3.0) for p in pieces]
    got = _confidences({"content": content, "logprobs": logprobs}, parse_answer(content).spans)
    assert got["1"] > 0.8 and got["2"] < got["1"]
    assert _confidences({"content": content, "logprobs": None}, parse_answer(content).spans) == {}
    # tokens that do not add up to the content: no confidence rather than a wrong one
    assert _confidences({"content": content, "logprobs": logprobs[:-1]}, parse_answer(content).spans) == {}


def test_cost_needs_a_price_table_and_counts_sent_tokens_only():
    usage = Usage(requests=2, cached=3, prompt_tokens=1_000_000, completion_tokens=500_000)
    assert cost(usage, None) is None
    assert cost(usage, {"prompt": 0.5, "completion": 2.0}) == 1.5
    total = Usage()
    total.add(usage)
    total.add(usage)
    assert total.to_dict({"prompt": 1})["cost"] == 2.0 and total.cached == 6


def test_glossary_bible_columns_are_optional_and_keep_old_versions():
    old = Glossary.from_csv("zh,en\n李伟,Li Wei\n")
    same = Glossary.from_csv("zh,en,type\n李伟,Li Wei,\n")
    rich = Glossary.from_csv("zh,en,type,gender,note\n李伟,Li Wei,character,male,heir\n")
    assert old.version == same.version != rich.version
    [entry] = list(rich)
    assert (entry.kind, entry.gender, entry.note, entry.targets) == ("character", "male", "heir", {"en": "Li Wei"})


def test_refine_notes_travel_with_their_line():
    doc = Doc("ep", (DocUnit("1", "你好"), DocUnit("2", "走吧", note="current translation: 'Go'; flagged: meaning: x")))
    prompt = build_prompt(doc, Window(0, (1,), (0,)), "zh", "en", [])
    lines = prompt.messages[1]["content"].splitlines()
    at = lines.index("[2] 走吧")
    assert "current translation: 'Go'" in lines[at + 1]


def test_unit_budgets_follow_the_style_table():
    from localise.context_translate import unit_budgets
    from localise.io import parse_text
    from localise.pipeline import LocaliseOptions, _prepare

    srt = "1\n00:00:01,000 --> 00:00:02,000\n你好。\n\n2\n00:00:05,000 --> 00:00:15,000\n我们明天一起去公司吧。\n"
    options = LocaliseOptions(styles={"en": {"max_cps": 10, "max_chars_per_line": 30}})
    prep = _prepare(parse_text(srt, format="srt"), options)
    assert unit_budgets(prep, "en", options) == [(10, 1.0), (60, 10.0)]  # reading speed, then two lines of 30


# ------------------------------------------------------------------------------- running summary


def test_an_empty_summary_leaves_the_prompt_exactly_as_it_was():
    doc = _doc(6)
    [w] = windows([doc], 40, 2)
    assert build_prompt(doc, w, "zh", "en", [], summary="") == build_prompt(doc, w, "zh", "en", [])
    told = build_prompt(doc, w, "zh", "en", [], summary="Li Wei is back.")
    assert "Story so far (earlier episodes, for context only; do not translate): Li Wei is back." in \
        told.messages[1]["content"]
    assert told.schema == build_prompt(doc, w, "zh", "en", []).schema  # context, never a line to answer


def test_summary_prompt_is_bounded_and_keeps_the_end_of_the_episode():
    from localise.engines.llm_prompt import SUMMARY_INPUT_CHARS, summary_prompt

    lines = [f"line {n:04d} " + "x" * 40 for n in range(1000)]
    prompt = summary_prompt("Earlier: they met.", lines, "es", 300)
    user = prompt.messages[1]["content"]
    assert len(user) <= SUMMARY_INPUT_CHARS + 200
    assert lines[-1] in user and lines[0] not in user  # the episode's end is what the next one picks up
    assert "Summary of the earlier episodes: Earlier: they met." in user
    assert "Spanish" in prompt.messages[0]["content"]
    assert prompt.schema["properties"]["summary"]["maxLength"] == 300 and prompt.max_tokens == 316
    assert prompt.name == "summary" and prompt.keys == ("summary",)
    assert "Summary of the earlier" not in summary_prompt("", lines[:3], "en", 300).messages[1]["content"]


@given(st.text(max_size=400), st.integers(1, 120))
def test_read_summary_is_bounded_and_clean_whatever_the_model_writes(content, limit):
    import unicodedata

    from localise.engines.llm_prompt import read_summary

    for answer in (content, json.dumps({"summary": content}), json.dumps({"summary": content}, ensure_ascii=False)):
        got = read_summary(answer, limit)
        assert len(got) <= limit and got == got.strip()
        assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") or ch == "\ufffd" for ch in got)
        assert "  " not in got


def test_read_summary_takes_the_json_value_and_cuts_at_a_word():
    from localise.engines.llm_prompt import read_summary

    assert read_summary('{"summary": "Li Wei\\u0007 returns\\n\\ufffdhome."}', 100) == "Li Wei returns home."
    assert read_summary('{"summary": "one two three four five"}', 12) == "one two"
    assert read_summary('{"other": "x"}', 50) == ""  # JSON without a summary: none
    assert read_summary("plain words", 50) == "plain words"  # a server without JSON mode


@given(st.dictionaries(st.text("abc", min_size=1, max_size=3), st.text(max_size=12), min_size=1, max_size=6),
       st.lists(st.integers(1, 5), min_size=1, max_size=200), st.lists(st.floats(-9, 0), min_size=1, max_size=200))
def test_confidences_pick_exactly_the_tokens_that_overlap_each_value(values, cuts, logps):
    """The bisected token range equals a plain scan of every token (any tokenisation, any script)."""
    import math

    from localise.engines.base import confidence_from_logprob

    content = json.dumps(values, ensure_ascii=False)
    data = content.encode("utf-8")
    tokens, pos, i = [], 0, 0
    while pos < len(data):
        n = min(cuts[i % len(cuts)], len(data) - pos)
        tokens.append((n, logps[i % len(logps)]))
        pos, i = pos + n, i + 1
    spans = parse_answer(content).spans
    got = _confidences({"content": content, "logprobs": tokens}, spans)
    starts = [sum(n for n, _ in tokens[:k]) for k in range(len(tokens))]
    for key, (a, b) in spans.items():
        lo, hi = len(content[:a].encode()), len(content[:b].encode())
        picked = [lp for (n, lp), s in zip(tokens, starts) if s < hi and s + n > lo and math.isfinite(lp)]
        assert math.isclose(got[key], confidence_from_logprob(sum(picked) / len(picked)))
