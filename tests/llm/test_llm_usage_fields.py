"""Tokens and cost of the openai engine where the issue promises them: per episode and language in
the translate report and the manifest, and per run in the batch summary — through the real
Prefect batch flow, the real llama-server, and a folder destination."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import prefect_server  # noqa: F401 - the real Prefect API fixture
from tests.llm.test_openai_engine import SRT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SERIES = "usage-series"
PRICES = {"prompt": 1.5, "completion": 4.0}  # per million tokens


def _price(usage: dict) -> float:
    return round(usage["prompt_tokens"] * PRICES["prompt"] / 1e6 + usage["completion_tokens"] * PRICES["completion"] / 1e6,
                 6)


def test_tokens_and_cost_in_report_manifest_and_batch_summary(llama_server, tiny_model, prefect_server, tmp_path,  # noqa: F811
                                                              monkeypatch):
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    from flows.localise_batch import localise_batch
    from localise.storage import open_store, read_manifest

    monkeypatch.setenv("LOCALISE_REVIEW_DB_URL", "")
    source = tmp_path / SERIES
    source.mkdir()
    (source / "ep01.srt").write_text(SRT, encoding="utf-8")
    (source / "ep02.srt").write_text(SRT.replace("明天见", "后天见"), encoding="utf-8")
    config = tmp_path / "localise.toml"
    config.write_text(
        f'targets = ["en"]\nengine = "openai"\nmodel = "{tiny_model}"\nreview_db_url = ""\n'
        f'llm_base_url = "{llama_server.base_url}"\nllm_model = "tiny-llama"\nllm_window = 3\nllm_context = 1\n'
        f'llm_reasks = 0\nllm_max_retries = 0\nllm_cache_dir = "{tmp_path / "llm-cache"}"\nglossary_optional = true\n'
        f'llm_prices = {{ prompt = {PRICES["prompt"]}, completion = {PRICES["completion"]} }}\n'
        '[quality_gate]\nmax_flagged_share = 1.0\n', encoding="utf-8")
    dest = tmp_path / "out"
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: str(tmp_path / "results")}):
        summary = localise_batch(str(source), destination=str(dest), config=str(config), max_concurrency=1)

    store = open_store(dest)
    rows = {row["episode"]: row for row in summary["episodes"]}
    assert set(rows) == {"ep01", "ep02"} and {r["status"] for r in rows.values()} <= {"published", "held"}
    fields = ("requests", "cached", "prompt_tokens", "completion_tokens", "windows", "fallback", "cost")
    per_episode = []
    for episode, row in rows.items():
        manifest = read_manifest(store, SERIES, episode)
        assert manifest is not None
        usage = manifest["languages"]["en"]["llm"]
        # the report published beside the track says the same
        report = json.loads((dest / SERIES / episode / manifest["languages"]["en"]["report"]).read_text("utf-8"))
        assert report["track"]["llm"] == usage
        assert row["languages"]["en"]["llm"] == usage  # the summary's row of the episode
        assert all(name in usage for name in fields)
        assert usage["windows"] == 2 and usage["requests"] == 2 and usage["cached"] == 0
        assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
        assert usage["cost"] == _price(usage)  # only tokens sent in this run are priced
        per_episode.append(usage)
    totals = summary["totals"]
    for name in ("requests", "cached", "prompt_tokens", "completion_tokens"):
        assert totals[f"llm_{name}"] == sum(u[name] for u in per_episode), name
    assert totals["llm_cost"] == round(sum(u["cost"] for u in per_episode), 6)
