"""Settings of the openai engine: from the environment, the key never shown, the engine refusing
to start without an endpoint; the request cache keeps answers across instances (processes)."""

from __future__ import annotations

import pickle

import pytest

from localise.config import load_settings
from localise.context_translate import llm_config
from localise.engines.openai_engine import LLMConfig, OpenAIEngine, RequestCache
from localise.errors import ConfigError


def test_llm_settings_from_the_environment_and_the_key_never_shown(monkeypatch):
    monkeypatch.setenv("LOCALISE_ENGINE", "openai")
    monkeypatch.setenv("LOCALISE_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LOCALISE_LLM_MODEL", "some-model")
    monkeypatch.setenv("LOCALISE_LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("LOCALISE_LLM_PRICES", '{"prompt": 0.5, "completion": 1.5}')
    options = load_settings().options()
    assert options.engine == "openai"
    config = llm_config(options)
    assert (config.base_url, config.model, config.prices) == ("http://127.0.0.1:9/v1", "some-model",
                                                              {"prompt": 0.5, "completion": 1.5})
    for shown in (repr(options), repr(config), str(options.describe()), OpenAIEngine(config).signature()):
        assert "sk-very-secret" not in shown
    assert "sk-very-secret" not in str(pickle.loads(pickle.dumps(options)))
    from localise.engines.openai_engine import _api_key

    assert _api_key(config) == "sk-very-secret"


def test_engine_needs_an_endpoint_and_a_model():
    with pytest.raises(ConfigError, match="llm_base_url"):
        OpenAIEngine(LLMConfig(model="m"))
    with pytest.raises(ConfigError, match="llm_model"):
        OpenAIEngine(LLMConfig(base_url="http://127.0.0.1:9/v1"))


def test_request_cache_is_shared_by_instances_on_the_same_file(tmp_path):
    a = RequestCache(tmp_path / "c.sqlite")
    a.put("k", {"content": "{}", "usage": {"prompt_tokens": 3}})
    assert RequestCache(tmp_path / "c.sqlite").get("k") == {"content": "{}", "usage": {"prompt_tokens": 3}}
    assert a.get("other") is None


def test_cli_accepts_the_openai_engine_and_refuses_unknown_ones(tmp_path):
    from typer.testing import CliRunner

    from localise.cli import app

    result = CliRunner().invoke(app, ["translate", str(tmp_path / "x.srt"), "--to", "en", "--engine", "nope"])
    assert result.exit_code != 0 and "openai" in result.output


def test_registry_builds_the_openai_engine_by_name(tmp_path):
    from localise.engines.registry import clear_cache, get_engine

    engine = get_engine("openai", "served-model", src="zh", tgt="en", base_url="http://127.0.0.1:9/v1",
                        cache_dir=str(tmp_path))
    try:
        assert isinstance(engine, OpenAIEngine) and engine.model_id == "served-model"
        with pytest.raises(ConfigError, match="unknown openai engine option"):
            get_engine("openai", "m", src="zh", tgt="en", base_url="http://x/v1", num_beams=4)
    finally:
        clear_cache()


def test_flows_take_refine_as_a_parameter_that_overrides_the_setting(monkeypatch):
    """localise-batch, localise-episode and localise-chunk take ``refine`` (issue 15: a flow
    parameter beside the setting); the value reaches the run's settings and is validated there."""
    import inspect

    from flows.localise_batch import localise_batch
    from flows.localise_chunk import localise_chunk
    from flows.localise_episode import localise_episode
    from localise.config import load_settings
    from localise.errors import ConfigError

    for flow in (localise_batch, localise_episode, localise_chunk):
        assert inspect.signature(flow.fn).parameters["refine"].default is None
        assert "refine" in flow.parameters.properties
    monkeypatch.setenv("LOCALISE_REFINE", "flagged")
    assert load_settings(None, refine=None).refine == "flagged"  # unset parameter: the setting
    assert load_settings(None, refine="off").refine == "off"  # the parameter wins
    with pytest.raises(ConfigError):
        load_settings(None, refine="everything")


def test_an_unreachable_llm_server_is_said_in_the_last_line_and_the_rerun_asks_again(tiny_model, tmp_path, monkeypatch):
    """A server that does not answer (a closed port on 127.0.0.1): the lines fall back to NMT and
    are flagged, the run's last line says so, and the finished file is not kept as done, so the
    same command asks the server again instead of reusing the fallback."""
    import socket

    from typer.testing import CliRunner

    from localise.cli import app

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LOCALISE_LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("LOCALISE_LLM_MODEL", "tiny")
    monkeypatch.setenv("LOCALISE_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("LOCALISE_LLM_CACHE_DIR", str(tmp_path / "llm-cache"))
    source = tmp_path / "ep01.srt"
    source.write_text("1\n00:00:01,000 --> 00:00:02,000\n你好。\n\n2\n00:00:03,000 --> 00:00:04,000\n我们走吧。\n",
                      encoding="utf-8")
    args = ["translate", str(source), "--to", "en", "--engine", "openai", "--model", str(tiny_model),
            "--out", str(tmp_path / "out")]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "got no answer from the server" in first.output and "engine-fallback" in first.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "already done" not in again.output and "got no answer from the server" in again.output


def test_running_summary_is_off_by_default_and_turned_on_by_setting_or_flag(monkeypatch):
    base = {"engine": "openai", "llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m"}
    off = llm_config(load_settings(None, **base).options())
    assert off.summary is False and "summary" not in OpenAIEngine(off).signature()
    assert "summary_chars" not in off.describe()  # what signs finished work is unchanged while off
    monkeypatch.setenv("LOCALISE_LLM_SUMMARY", "true")
    monkeypatch.setenv("LOCALISE_LLM_SUMMARY_CHARS", "300")
    on = llm_config(load_settings(None, **base).options())
    assert (on.summary, on.summary_chars) == (True, 300)
    assert OpenAIEngine(on).signature() != OpenAIEngine(off).signature()
    monkeypatch.delenv("LOCALISE_LLM_SUMMARY")
    assert llm_config(load_settings(None, llm_summary=True, **base).options()).summary is True  # --llm-summary


def test_cli_has_the_llm_summary_flag():
    from typer.testing import CliRunner

    from localise.cli import app

    result = CliRunner().invoke(app, ["translate", "--help"], env={"COLUMNS": "200"})
    assert "--llm-summary" in result.output


def test_the_shared_cache_location_reaches_the_llm_request_cache(tmp_path):
    from localise.engines.openai_engine import SharedRequestCache

    base = {"engine": "openai", "llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m",
            "llm_cache_dir": str(tmp_path / "local")}
    assert llm_config(load_settings(None, **base).options()).cache_url is None
    config = llm_config(load_settings(None, cache_url=str(tmp_path / "shared"), **base).options())
    assert config.cache_url == str(tmp_path / "shared")
    engine = OpenAIEngine(config)
    assert isinstance(engine._cache, SharedRequestCache) and isinstance(engine._cache.local, RequestCache)
    assert "shared" not in OpenAIEngine(config).signature()  # where answers are kept never changes the words
