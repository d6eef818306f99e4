"""The flows' per-episode cache in shared storage (setting ``cache_url``): on a real S3 server
(SeaweedFS), what one worker finished another reuses without an engine call; storage that does
not answer is a cache miss, never a failed episode."""

from __future__ import annotations

import logging

import pytest

from flows.tasks import Episode, run_signature, translate_episodes, work_cache
from localise.config import Settings
from localise.model import Cue, Track
from localise.resume import StoreWorkCache

pytestmark = pytest.mark.integration


def _episode(name: str, cues: int) -> Episode:
    track = Track([Cue(i * 2000, i * 2000 + 1500, f"{name}第{i}句。") for i in range(cues)], "srt")
    return Episode("s", name, f"{name}.srt", f"sha-{name}", track, f"{name}.srt")


@pytest.fixture
def engine_calls(monkeypatch):
    import localise.engines.registry as registry
    from localise.engines.hf import HFEngine

    calls: list[int] = []
    real = HFEngine.translate
    monkeypatch.setattr(HFEngine, "translate", lambda self, texts, *a: calls.append(len(texts)) or real(self, texts, *a))
    registry.clear_cache()
    yield calls
    registry.clear_cache()


def test_what_one_worker_finished_another_reuses(s3_server, tiny_model, engine_calls, monkeypatch):
    import localise.engines.registry as registry

    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.make_bucket("cache")
    settings = Settings(targets=["en"], model=str(tiny_model), cache_url=f"s3://{bucket}/cache")
    signature = run_signature(settings, ["en"])
    a, b = _episode("a", 3), _episode("b", 4)

    first = translate_episodes([a], ["en"], settings, signature, cache=work_cache(settings))  # worker 1
    assert len(engine_calls) == 1
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("cache/localise-") and keys[0].endswith(".pickle")

    registry.clear_cache()  # worker 2: its own engine and cache objects, the same bucket
    both = translate_episodes([a, b], ["en"], settings, signature, cache=work_cache(settings))
    assert len(engine_calls) == 2 and engine_calls[-1] <= len(b.track.cues)  # only b reached the engine
    assert both["s/a"][0].track.to_dict() == first["s/a"][0].track.to_dict()
    registry.clear_cache()
    translate_episodes([b, a], ["en"], settings, signature, cache=work_cache(settings))
    assert len(engine_calls) == 2


def test_storage_that_does_not_answer_is_a_miss(tiny_model, engine_calls, monkeypatch, caplog):
    import socket

    from localise.storage import S3Store

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = StoreWorkCache(S3Store("cache", endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1",
                                   max_attempts=1))
    settings = Settings(targets=["en"], model=str(tiny_model))
    episode = _episode("a", 2)
    with caplog.at_level(logging.WARNING, logger="localise.resume"):
        results = translate_episodes([episode], ["en"], settings, run_signature(settings, ["en"]), cache=cache)
    assert len(results["s/a"][0].track.cues) == 2 and len(engine_calls) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("cache not read" in m for m in messages) and any("cache not written" in m for m in messages)
