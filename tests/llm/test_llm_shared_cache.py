"""The request cache shared across processes and machines (setting ``cache_url``): two engine
instances with different local cache folders and the same store (the real SeaweedFS S3 server of
the integration tests, or a folder) — the second sends the server nothing."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from localise.engines.llm_prompt import Doc, DocUnit
from localise.engines.openai_engine import LLMConfig, OpenAIEngine
from tests.integration.conftest import s3_server  # noqa: F401 - the real S3 server fixture

pytestmark = pytest.mark.integration

LINES = ["李伟，你回来了。", "我一直在等你。", "少爷，车已经准备好了。", "我们走吧。", "明天见。"]


def _docs() -> list[Doc]:
    return [Doc("ep1", tuple(DocUnit(str(n + 1), text, 24, 1.5) for n, text in enumerate(LINES)))]


def _config(base_url: str, local: Path, cache_url: str | None, **extra) -> LLMConfig:
    return LLMConfig(base_url=base_url, model="tiny-llama", window=2, context=1, concurrency=2, timeout_s=60,
                     max_retries=0, reasks=1, cache_dir=str(local), cache_url=cache_url, **extra)


def test_a_second_machine_with_its_own_local_cache_asks_the_server_nothing(fault_proxy, s3_server, tmp_path,  # noqa: F811
                                                                          monkeypatch):
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.make_bucket("llm-cache")
    url = f"s3://{bucket}/shared"
    first = OpenAIEngine(_config(fault_proxy.base_url, tmp_path / "machine-a", url))
    [a] = first.translate_docs(_docs(), "zh", "en")
    asked = len(fault_proxy.seen)
    assert a.usage.requests == asked >= 3 and a.usage.cached == 0
    stored = s3_server.client().list_objects_v2(Bucket=bucket, Prefix="shared/llm-requests/")["Contents"]
    assert len(stored) == asked  # one JSON object per answered request
    body = json.loads(s3_server.client().get_object(Bucket=bucket, Key=stored[0]["Key"])["Body"].read())
    assert isinstance(body["content"], str) and "usage" in body

    second = OpenAIEngine(_config(fault_proxy.base_url, tmp_path / "machine-b", url))
    [b] = second.translate_docs(_docs(), "zh", "en")
    assert len(fault_proxy.seen) == asked  # the server saw nothing more
    assert b.usage.requests == 0 and b.usage.cached == asked and second._cache.hits == asked
    assert b.usage.cached_completion_tokens == a.usage.completion_tokens
    assert [t.text if t else None for t in b.translations] == [t.text if t else None for t in a.translations]
    assert b.problems == a.problems
    # read once from the store, then from the machine's own file
    third = OpenAIEngine(_config(fault_proxy.base_url, tmp_path / "machine-b", url))
    third.translate_docs(_docs(), "zh", "en")
    assert third._cache.hits == 0 and len(fault_proxy.seen) == asked


def test_a_folder_store_is_shared_too_and_an_unreachable_store_is_only_a_miss(fault_proxy, tmp_path, caplog,
                                                                            monkeypatch):
    shared = tmp_path / "shared"
    [a] = OpenAIEngine(_config(fault_proxy.base_url, tmp_path / "a", str(shared))).translate_docs(_docs(), "zh", "en")
    asked = len(fault_proxy.seen)
    assert len(list((shared / "llm-requests").glob("*.json"))) == asked
    [b] = OpenAIEngine(_config(fault_proxy.base_url, tmp_path / "b", str(shared))).translate_docs(_docs(), "zh", "en")
    assert b.usage.requests == 0 and len(fault_proxy.seen) == asked

    # an S3 endpoint nobody listens on: every window is still asked and answered; the store's
    # failures are logged, never raised
    from localise.storage import S3Store
    from tests.integration.processes import free_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    caplog.set_level(logging.WARNING, logger="localise.engines.openai_engine")
    engine = OpenAIEngine(_config(fault_proxy.base_url, tmp_path / "c", "s3://nowhere/x"))
    engine._cache.store = S3Store("nowhere", "x", endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1)
    [c] = engine.translate_docs(_docs(), "zh", "en")
    assert c.usage.requests >= 3 and c.usage.failed == 0 and c.usage.cached == 0
    assert [t.text if t else None for t in c.translations] == [t.text if t else None for t in a.translations]
    messages = [r.getMessage() for r in caplog.records]
    assert any("LLM answer not read" in m for m in messages) and any("LLM answer not shared" in m for m in messages)
