"""The running summary across episodes (``llm_summary``, off by default) against the real
llama-server: the model writes it from an episode's translated lines (one bounded request per
episode, cached like any other), and the next episode's prompts carry it as read-only context.
A random model's summary is noise; what is checked is that it is bounded, clean and passed on."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest

from localise.engines.llm_prompt import Doc, DocUnit
from localise.engines.openai_engine import LLMConfig, OpenAIEngine

pytestmark = pytest.mark.integration

EPISODES = [["李伟，你回来了。", "我一直在等你。", "少爷，车已经准备好了。"],
            ["我们走吧。", "他不会原谅你的。", "明天见。"],
            ["你到底想怎么样？", "这件事和你没关系。"]]
STORY = "Story so far"


def _docs() -> list[Doc]:
    return [Doc(f"ep{e + 1}", tuple(DocUnit(str(n + 1), text, 24, 1.5) for n, text in enumerate(lines)))
            for e, lines in enumerate(EPISODES)]


def _config(base_url: str, cache: Path, **extra: Any) -> LLMConfig:
    return LLMConfig(base_url=base_url, model="tiny-llama", window=2, context=1, concurrency=2, timeout_s=60,
                     max_retries=0, reasks=0, cache_dir=str(cache), **extra)


def _user(body: dict[str, Any]) -> str:
    return body["messages"][1]["content"]


def _schema_name(body: dict[str, Any]) -> str:
    return body["response_format"]["json_schema"]["name"]


def test_each_later_episode_carries_a_bounded_clean_summary_of_the_earlier_ones(fault_proxy, tmp_path):
    config = _config(fault_proxy.base_url, tmp_path / "cache", summary=True, summary_chars=80)
    results = OpenAIEngine(config).translate_docs(_docs(), "zh", "en")
    summaries = [b for b in fault_proxy.seen if _schema_name(b) == "summary"]
    # one request per episode that has a next one, each bounded by the schema and max_tokens
    assert len(summaries) == 2
    for body in summaries:
        assert body["response_format"]["json_schema"]["schema"]["properties"]["summary"]["maxLength"] == 80
        assert body["max_tokens"] <= 80 + 16
    assert [r.usage.summaries for r in results] == [1, 1, 0]
    assert results[0].summary_in == ""
    for before, after in zip(results, results[1:]):
        assert after.summary_in == before.summary  # passed on, episode by episode
    for r in results[:2]:
        assert 0 < len(r.summary) <= 80
        assert not any(unicodedata.category(ch) == "Cc" or ch == "\ufffd" for ch in r.summary)
    # the second summary request starts from the first summary, with episode 2's translated lines
    assert f"Summary of the earlier episodes: {results[0].summary}" in _user(summaries[1])
    second = [t.text for t in results[1].translations if t is not None]
    assert second and all(text in _user(summaries[1]) for text in second)
    # each episode's translation requests carry exactly the summary it was given
    for body in fault_proxy.seen:
        if _schema_name(body) != "translations":
            continue
        # windows never cross an episode: a request's source lines are its episode's
        [episode] = {e for e, lines in enumerate(EPISODES) if any(line in _user(body) for line in lines)}
        if episode == 0:
            assert STORY not in _user(body)
        else:
            assert f"{STORY} (earlier episodes, for context only; do not translate): " \
                   f"{results[episode].summary_in}" in _user(body)

    # an identical rerun costs nothing: the summaries are cached by content like the translations
    asked = len(fault_proxy.seen)
    again = OpenAIEngine(config).translate_docs(_docs(), "zh", "en")
    assert len(fault_proxy.seen) == asked and sum(r.usage.requests for r in again) == 0
    assert [r.summary for r in again] == [r.summary for r in results]


def test_off_by_default_the_requests_are_what_they_were_without_the_feature(fault_proxy, tmp_path):
    assert LLMConfig().summary is False
    OpenAIEngine(_config(fault_proxy.base_url, tmp_path / "off")).translate_docs(_docs(), "zh", "en")
    off = list(fault_proxy.seen)
    fault_proxy.seen.clear()
    results = OpenAIEngine(_config(fault_proxy.base_url, tmp_path / "on", summary=True)).translate_docs(
        _docs(), "zh", "en")
    on = [b for b in fault_proxy.seen if _schema_name(b) == "translations"]
    assert all(_schema_name(b) == "translations" and STORY not in _user(b) for b in off)
    assert all(r.usage.summaries == 0 for r in OpenAIEngine(
        _config(fault_proxy.base_url, tmp_path / "off")).translate_docs(_docs(), "zh", "en"))

    def without_story(body: dict[str, Any]) -> str:
        return "\n".join(line for line in _user(body).splitlines() if not line.startswith(STORY))

    # the same translation requests, the summary line aside (requests run concurrently: compare as sets)
    assert sorted(map(without_story, on)) == sorted(map(without_story, off))
    assert any(STORY in _user(b) for b in on) == any(r.summary_in for r in results)


def test_through_the_pipeline_the_summary_request_is_counted_in_the_episodes_report(fault_proxy, tiny_model, tmp_path):
    from localise.pipeline import localise_tracks
    from tests.llm.test_openai_engine import SRT, _options, _track

    options = _options(fault_proxy.base_url, tmp_path / "cache", tiny_model, summary=True, summary_chars=120)
    first, second = localise_tracks([_track(), _track(SRT.replace("明天见", "后天见"))], ["en"], options=options)
    assert first.report["track"]["llm"]["summaries"] == 1 and second.report["track"]["llm"]["summaries"] == 0
    summaries = [b for b in fault_proxy.seen if _schema_name(b) == "summary"]
    assert len(summaries) == 1
    stories = {line for b in fault_proxy.seen if _schema_name(b) == "translations"
               for line in _user(b).splitlines() if line.startswith(STORY)}
    assert len(stories) <= 1  # one summary, carried by the second episode's windows only
    assert len(first.track.cues) == len(second.track.cues) == 6


def test_translate_llm_summary_flag_runs_the_episodes_in_the_order_given(llama_server, tiny_model, tmp_path,
                                                                         monkeypatch):
    import json

    import localise.pipeline

    # resumable runs go through in small groups of files; the summary must still run across them
    monkeypatch.setattr(localise.pipeline, "RESUME_GROUP_CUES", 4)

    from typer.testing import CliRunner

    from localise.cli import app
    from tests.llm.test_openai_engine import SRT

    first, second = tmp_path / "ep01.srt", tmp_path / "ep02.srt"
    first.write_text(SRT, encoding="utf-8")
    second.write_text(SRT.replace("明天见", "后天见"), encoding="utf-8")
    env = {"LOCALISE_LLM_BASE_URL": llama_server.base_url, "LOCALISE_LLM_MODEL": "tiny-llama",
           "LOCALISE_LLM_WINDOW": "3", "LOCALISE_LLM_REASKS": "0", "LOCALISE_LLM_CACHE_DIR": str(tmp_path / "llm")}
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["translate", str(first), str(second), "--to", "en", "--engine", "openai",
                                      "--model", str(tiny_model), "--llm-summary", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output

    def usage(name: str) -> dict[str, Any]:
        return json.loads((out / f"{name}.en.report.json").read_text(encoding="utf-8"))["track"]["llm"]

    assert usage("ep01")["summaries"] == 1 and usage("ep02")["summaries"] == 0
    # without the flag (the default) no summary is asked for
    plain = CliRunner().invoke(app, ["translate", str(first), str(second), "--to", "en", "--engine", "openai",
                                     "--model", str(tiny_model), "--out", str(tmp_path / "plain")], env=env)
    assert plain.exit_code == 0, plain.output
    for name in ("ep01", "ep02"):
        report = json.loads((tmp_path / "plain" / f"{name}.en.report.json").read_text(encoding="utf-8"))
        assert report["track"]["llm"]["summaries"] == 0
