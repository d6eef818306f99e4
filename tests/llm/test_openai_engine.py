"""The ``openai`` engine against a real OpenAI-compatible server (llama.cpp's llama-server with a
tiny random Llama; see conftest.py). The model's words are noise: the tests check structure —
which answer lands on which cue, what is validated, re-asked, cached, retried and flagged."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from localise.context_translate import translate_in_context
from localise.formats.markup import strip_markup
from localise.io import parse_text
from localise.pipeline import LocaliseOptions, _prepare, localise_tracks

pytestmark = pytest.mark.integration

SRT = """1
00:00:01,000 --> 00:00:02,500
李伟，你回来了。

2
00:00:05,000 --> 00:00:06,500
<i>我一直在等你。</i>

3
00:00:09,000 --> 00:00:10,500
少爷，车已经准备好了。

4
00:00:13,000 --> 00:00:14,500
我们走吧。

5
00:00:17,000 --> 00:00:18,500
李伟不会原谅他。

6
00:00:21,000 --> 00:00:22,500
明天见。
"""


def _track(text: str = SRT) -> Any:
    return parse_text(text, format="srt")


def _options(base_url: str, cache: Path, tiny_model: Path, glossary: Any = None, **llm: Any) -> LocaliseOptions:
    settings = {"base_url": base_url, "model": "tiny-llama", "window": 2, "context": 2, "concurrency": 2,
                "timeout_s": 60, "max_retries": 0, "reasks": 1, "cache_dir": str(cache),
                "fallback_engine": "transformers", "fallback_model": str(tiny_model), **llm}
    return LocaliseOptions(src="zh", engine="openai", glossary=glossary, llm=settings)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)  # wrapping may break a line anywhere


def _codes(cue: dict[str, Any]) -> set[str]:
    return {f["code"] for f in cue["flags"]}


@pytest.fixture
def glossary(tmp_path: Path) -> Path:
    path = tmp_path / "glossary.csv"
    path.write_text("zh,en,type,gender\n李伟,Li Wei,character,male\n少爷,Young Master,title,male\n", encoding="utf-8")
    return path


def test_schema_constrained_answers_land_on_their_cues_with_markup_glossary_usage_and_cache(
        llama_server, tiny_model, glossary, tmp_path):
    options = _options(llama_server.base_url, tmp_path / "cache", tiny_model, glossary,
                       prices={"prompt": 1.0, "completion": 2.0})
    [result] = localise_tracks([_track()], ["en"], options=options)
    report = result.report
    usage = report["track"]["llm"]
    assert usage["windows"] == 3 and usage["requests"] >= 3 and usage["cached"] == 0
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0 and usage["cost"] > 0

    # The same request again is answered from the cache: the model's own answers, per unit id,
    # at no cost; each one must be the text of exactly its unit's cue.
    prep = _prepare(_track(), options)
    again = translate_in_context([prep], ["en"], options, options.resolved_glossary(), {})
    assert again.usage["en"][0].requests == 0 and again.usage["en"][0].cached == usage["requests"]
    answers = again.translations["en"][0]
    llm_cues = 0
    for n, cue in enumerate(report["cues"]):
        [unit] = prep.cue_units[n]
        if "engine-fallback" in _codes(cue):
            continue
        llm_cues += 1
        assert _flat(strip_markup(result.track.cues[n].text, "srt")) == _flat(answers[unit].text)
    assert llm_cues >= 1, "the schema-constrained server answered no line usably"
    # markup restored around the model's words; timings and ids are the source's
    assert result.track.cues[1].text.startswith("<i>") and result.track.cues[1].text.endswith("</i>")
    assert [(c.start_ms, c.end_ms) for c in result.track.cues] == [(c.start_ms, c.end_ms) for c in _track().cues]
    # a term the random model did not render is flagged, never silently lost
    for n in (0, 4):
        text = result.track.cues[n].text
        assert "Li Wei" in text or "glossary" in _codes(report["cues"][n])


def test_confidence_comes_from_token_logprobs_or_not_at_all(llama_server, tiny_model, tmp_path):
    [with_lp] = localise_tracks([_track()], ["en"], options=_options(llama_server.base_url, tmp_path / "a", tiny_model))
    [without] = localise_tracks([_track()], ["en"], options=_options(llama_server.base_url, tmp_path / "b", tiny_model,
                                                                    logprobs=False))
    for cue in without.report["cues"]:
        if "engine-fallback" not in _codes(cue):
            assert cue.get("confidence") is None and "low-confidence" not in _codes(cue)
    # Where the answer's token bytes add up to its text, each value gets exp(mean log-prob) of its
    # tokens. (The random model also writes bytes that are not UTF-8: the server replaces them with
    # U+FFFD, the tokens no longer line up and that answer gets no confidence rather than a wrong one.)
    import json
    import sqlite3

    from localise.engines.llm_prompt import parse_answer
    from localise.engines.openai_engine import _confidences

    rows = sqlite3.connect(tmp_path / "a" / "llm-requests.sqlite").execute("SELECT body FROM answers").fetchall()
    answers = [json.loads(body) for (body,) in rows]
    assert answers and all(a["logprobs"] for a in answers)  # the server returned token log-probs
    for answer in answers:
        lined_up = sum(n for n, _ in answer["logprobs"]) == len(answer["content"].encode("utf-8"))
        got = _confidences(answer, parse_answer(answer["content"]).spans)
        assert bool(got) == (lined_up and bool(parse_answer(answer["content"]).spans))
        assert all(0 <= c <= 1 for c in got.values())


def test_garbage_answers_are_refused_reasked_then_translated_by_the_fallback_engine(llama_server, tiny_model, tmp_path):
    """Without a schema the random model writes garbage: every id fails validation, is asked once
    more, then goes to the NMT engine and is flagged."""
    from localise.engines.registry import translate_texts

    options = _options(llama_server.base_url, tmp_path / "cache", tiny_model, structured="none")
    [result] = localise_tracks([_track()], ["en"], options=options)
    usage = result.report["track"]["llm"]
    assert usage["reasked"] == 6 and usage["fallback"] == 6 and usage["requests"] == 6  # 3 windows x (ask + re-ask)
    nmt = translate_texts([u.source for u in _prepare(_track(), options).units], "zh", "en", model=str(tiny_model))
    for n, cue in enumerate(result.report["cues"]):
        flags = {f["code"]: f for f in cue["flags"]}
        assert flags["engine-fallback"]["severity"] == "minor"
        assert _flat(strip_markup(result.track.cues[n].text, "srt")) == _flat(nmt[n].text)


def _rewrite_schema(change):
    def rewrite(body: dict[str, Any]) -> dict[str, Any]:
        schema = body.get("response_format", {}).get("json_schema", {}).get("schema")
        if schema:
            change(schema)
        return body
    return rewrite


def _drop_first(schema: dict[str, Any]) -> None:
    first = schema["required"][0]
    schema["required"] = schema["required"][1:]
    schema["properties"].pop(first)


def _add_extra(schema: dict[str, Any]) -> None:
    schema["properties"]["999"] = {"type": "string", "maxLength": 8}
    schema["required"] = ["999", *schema["required"]]


def _chinese_first(schema: dict[str, Any]) -> None:
    schema["properties"][schema["required"][0]] = {"type": "string", "enum": ["他明天会来"]}


@pytest.mark.parametrize(("change", "code"), [(_drop_first, "missing"), (_chinese_first, "Chinese characters left")])
def test_missing_ids_and_wrong_language_are_reasked_then_fall_back(fault_proxy, tiny_model, tmp_path, change, code):
    fault_proxy.rewrite = _rewrite_schema(change)
    options = _options(fault_proxy.base_url, tmp_path / "cache", tiny_model)
    [result] = localise_tracks([_track()], ["en"], options=options)
    usage = result.report["track"]["llm"]
    # the first id of each window (and of its re-ask) is one the model cannot answer usably
    assert usage["fallback"] >= 3 and usage["reasked"] >= 3
    def required(body):
        return body["response_format"]["json_schema"]["schema"]["required"]

    asks = [b for b in fault_proxy.seen if "answer them again" not in b["messages"][1]["content"]]
    reasks = [b for b in fault_proxy.seen if "answer them again" in b["messages"][1]["content"]]
    assert len(asks) == 3 and len(reasks) == usage["requests"] - 3
    for body in reasks:  # only the failing ids of a window are asked again, its first id among them
        assert any(set(required(body)) <= set(required(a)) and required(a)[0] in required(body) for a in asks)
    fallback = [c for c in result.report["cues"] if "engine-fallback" in _codes(c)]
    assert len(fallback) == usage["fallback"]
    for n in (0, 2, 4):  # each window's first line
        cue = result.report["cues"][n]
        assert code in next(f["reason"] for f in cue["flags"] if f["code"] == "engine-fallback")


def test_extra_ids_are_ignored_and_counted(fault_proxy, tiny_model, tmp_path):
    fault_proxy.rewrite = _rewrite_schema(_add_extra)
    [result] = localise_tracks([_track()], ["en"], options=_options(fault_proxy.base_url, tmp_path / "c", tiny_model))
    usage = result.report["track"]["llm"]
    assert usage["extra_ids"] >= 3
    assert len(result.track.cues) == 6  # cue structure never depends on the answer


def test_429_with_retry_after_is_retried_by_the_client(fault_proxy, tiny_model, tmp_path):
    fault_proxy.too_many, fault_proxy.retry_after = 2, "1"
    options = _options(fault_proxy.base_url, tmp_path / "cache", tiny_model, max_retries=3, concurrency=1)
    [result] = localise_tracks([_track()], ["en"], options=options)
    usage = result.report["track"]["llm"]
    assert fault_proxy.statuses[:2] == [429, 429] and 200 in fault_proxy.statuses
    assert usage["failed"] == 0 and usage["requests"] >= 3


def test_a_server_slower_than_the_timeout_falls_back_and_says_why(fault_proxy, tiny_model, tmp_path):
    fault_proxy.delay_s = 3
    options = _options(fault_proxy.base_url, tmp_path / "cache", tiny_model, timeout_s=0.5, max_retries=0)
    [result] = localise_tracks([_track()], ["en"], options=options)
    usage = result.report["track"]["llm"]
    assert usage["failed"] == 3 and usage["fallback"] == 6 and usage["completion_tokens"] == 0
    for cue in result.report["cues"]:
        [flag] = [f for f in cue["flags"] if f["code"] == "engine-fallback"]
        assert "no answer from the server" in flag["reason"]


def test_server_killed_mid_run_keeps_finished_windows_and_a_rerun_asks_only_the_rest(
        own_llama_server, tiny_model, tmp_path):
    from tests.llm.conftest import FaultProxy

    proxy = FaultProxy(f"http://127.0.0.1:{own_llama_server.port}")
    original = proxy.rewrite

    def kill_at_third(body: dict[str, Any]) -> dict[str, Any]:
        if len(proxy.seen) == 3:
            own_llama_server.stop()  # the third window's request finds the server gone
        return body if original is None else original(body)

    proxy.rewrite = kill_at_third
    proxy.start()
    try:
        options = _options(proxy.base_url, tmp_path / "cache", tiny_model, concurrency=1, reasks=0)
        [first] = localise_tracks([_track()], ["en"], options=options)
        u1 = first.report["track"]["llm"]
        assert u1["requests"] == 3 and u1["failed"] == 1 and u1["fallback"] >= 2
        own_llama_server.start()
        proxy.rewrite = None
        asked_before = len(proxy.seen)
        [second] = localise_tracks([_track()], ["en"], options=options)
        u2 = second.report["track"]["llm"]
        assert u2["cached"] == 2 and u2["requests"] == 1 and len(proxy.seen) - asked_before == 1
        # the finished windows' lines are the same words in both runs
        for n in range(4):
            assert first.track.cues[n].text == second.track.cues[n].text
    finally:
        proxy.stop()


def test_refine_flagged_sends_only_major_flagged_lines_with_reasons_and_rechecks(fault_proxy, tiny_model, glossary, tmp_path):
    """First pass with the NMT engine; --refine flagged asks the LLM only for the units under cues
    flagged major or worse, with their current text and flag reasons, then re-checks them."""
    llm = {"base_url": fault_proxy.base_url, "model": "tiny-llama", "window": 4, "context": 2, "max_retries": 0,
           "reasks": 0, "cache_dir": str(tmp_path / "cache")}
    first_only = LocaliseOptions(src="zh", engine="transformers", model=str(tiny_model), glossary=glossary)
    [plain] = localise_tracks([_track()], ["en"], options=first_only)
    options = LocaliseOptions(src="zh", engine="transformers", model=str(tiny_model), glossary=glossary, llm=llm,
                              refine="flagged")
    [result] = localise_tracks([_track()], ["en"], options=options)
    serious = [c["index"] for c in plain.report["cues"]
               if any(f["severity"] in ("major", "critical") for f in c["flags"])]
    assert serious, "the tiny NMT model's first pass should leave lines flagged major or worse"
    refine = result.report["refine"]
    assert [c["index"] for c in refine["cues"]] == serious
    assert refine["kept"] in ("refined", "first-pass") and refine["llm"]["requests"] >= 1
    for entry in refine["cues"]:
        assert entry["before"] == plain.report["cues"][entry["index"] - 1]["translation"]
        assert "flags_after" in entry and "after" in entry
    asked = {key for body in fault_proxy.seen for key in body["response_format"]["json_schema"]["schema"]["required"]}
    prep = _prepare(_track(), options)
    assert asked == {str(prep.units[u].id) for n in serious for u in prep.cue_units[n - 1]}
    assert all("current translation:" in body["messages"][1]["content"] and "flagged:" in body["messages"][1]["content"]
               for body in fault_proxy.seen)
    if refine["kept"] == "first-pass":
        assert [c.text for c in result.track.cues] == [c.text for c in plain.track.cues]
