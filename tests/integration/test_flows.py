"""The Prefect flows against a real Prefect server and a real S3 server (SeaweedFS), with the
offline tiny model for every language pair.

Covers: batch publish to S3 and an identical rerun that uploads nothing; S3 stopped in the middle
of a batch (per-episode failure after botocore's retries, and no second retry layer, no manifest pointing at missing or wrong files, a rerun after the
restart that translates nothing again and leaves nothing outside a manifest); an unreadable file failing only its episode; the episode
flow from an s3:// source; a served deployment triggered through the REST API with parameters.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "tingyu-teahouse"
SERIES = "tingyu-teahouse"
EPISODES = ["ep01", "ep02", "ep03"]


@pytest.fixture
def env(prefect_server, s3_server, tiny_model, tmp_path, monkeypatch):
    """Flows in this process use the test servers, a private result store (so no other test's
    cached translations leak in) and a config that publishes everything (the tiny model's words
    are noise, every cue is flagged; the gate is tested in tests/test_storage.py), without a review queue
(tests/integration/test_flows_tasks.py and test_publish_consistency.py cover publishing into one)."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    # the environment outranks the config file: conftest's LOCALISE_REVIEW_DB_URL would turn the
    # queue on, and its ingest reads the manifest right after publishing (a race with S3 stopping)
    monkeypatch.setenv("LOCALISE_REVIEW_DB_URL", "")
    config = tmp_path / "localise.toml"
    config.write_text(f'targets = ["en", "es"]\nmodel = "{tiny_model}"\nreview_db_url = ""\n'
                      '[quality_gate]\nmax_flagged_share = 1.0\n')
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: str(tmp_path / "results")}):
        yield {"config": str(config), "bucket": s3_server.make_bucket("flows"), "model": str(tiny_model)}


@pytest.fixture
def engine_calls(monkeypatch):
    """Counts real model invocations (``HFEngine.translate``); the registry's in-process memo of
    recent hops is cleared first and by ``engine_calls.fresh()``, so a count of zero means the
    flows' own cache answered."""
    import localise.engines.registry as registry
    from localise.engines.hf import HFEngine

    calls: list[tuple[int, str, str]] = []
    hooks: list = []
    real = HFEngine.translate

    def counting(self, texts, src, tgt):
        calls.append((len(texts), src, tgt))
        for hook in hooks:
            hook(len(calls))
        return real(self, texts, src, tgt)

    monkeypatch.setattr(HFEngine, "translate", counting)
    registry.clear_cache()
    counting.hooks = hooks  # type: ignore[attr-defined]
    counting.calls = calls  # type: ignore[attr-defined]
    counting.fresh = registry.clear_cache  # type: ignore[attr-defined]
    return counting


def _objects(s3_server, bucket: str) -> dict[str, tuple[str, object]]:
    """key -> (ETag, LastModified) of every object in the bucket."""
    out = {}
    for page in s3_server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = (obj["ETag"], obj["LastModified"])
    return out


def _check_manifests(s3_server, bucket: str, prefix: str, *, complete: bool = True) -> dict[str, dict]:
    """Every manifest in the bucket, after checking that each file it lists exists with its checksum
    (and, when ``complete``, with ``localise.storage.verify_store``: nothing outside a manifest)."""
    import hashlib

    from localise.storage import open_store, verify_store

    problems = verify_store(open_store(f"s3://{bucket}/{prefix}"))
    assert [p for p in problems if complete or p.kind != "unlisted"] == [], problems
    client = s3_server.client()
    manifests = {}
    for key in _objects(s3_server, bucket):
        if key.endswith("/manifest.json") and "/." not in key:
            manifest = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
            base = key.rsplit("/", 1)[0]
            for name, digest in manifest["files"].items():
                body = client.get_object(Bucket=bucket, Key=f"{base}/{name}")["Body"].read()
                assert hashlib.sha256(body).hexdigest() == digest, f"{base}/{name} does not match its manifest"
            manifests[manifest["episode"]] = manifest
    return manifests


def _copy_samples(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for path in SAMPLES.iterdir():
        if path.suffix in (".srt", ".ass"):
            shutil.copy(path, dest / path.name)
    return dest


def _status(summary: dict) -> dict[str, str]:
    return {row["episode"]: row["status"] for row in summary["episodes"]}


def test_s3_stopped_mid_batch_then_rerun_translates_nothing_again(env, s3_server, prefect_server, engine_calls, tmp_path):
    from flows.localise_batch import localise_batch

    source = _copy_samples(tmp_path / SERIES)
    dest = f"s3://{env['bucket']}/out"
    # one episode per chunk, one chunk at a time: ep01 translates and publishes (while ep02 already
    # translates: publishing overlaps the next chunk), then S3 goes away while the engine works on
    # ep02 (en and es: two calls per episode)
    client = s3_server.client()

    def stop_s3_once_ep01_is_published(n: int) -> None:
        # After ep01's manifest only sweeping and giving the lease back talk to storage, and their
        # failures are logged, not raised (no review queue in this test: its ingest would read).
        if n != 3 or not s3_server.running:
            return
        deadline = time.monotonic() + 120
        key = f"out/{SERIES}/ep01/manifest.json"
        while not client.list_objects_v2(Bucket=env["bucket"], Prefix=key).get("KeyCount"):
            assert time.monotonic() < deadline, "ep01 was never published"
            time.sleep(0.2)
        s3_server.stop()

    engine_calls.hooks.append(stop_s3_once_ep01_is_published)
    state = localise_batch(str(source), destination=dest, config=env["config"], max_concurrency=1, chunk_cues=1,
                           return_state=True)
    first = state.result()
    assert _status(first) == {"ep01": "published", "ep02": "failed", "ep03": "failed"}
    # S3 errors are retried by botocore alone (localise.retry: one layer per kind), which gave up
    assert all("StorageUnavailable" in row["error"] and "retried by botocore" in row["error"]
               for row in first["episodes"] if row["status"] == "failed")
    assert len(engine_calls.calls) == 6  # every episode was translated once, in its own chunk
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    logs = httpx.post(f"{prefect_server.api_url}/logs/filter", json={
        "logs": {"flow_run_id": {"any_": [str(state.state_details.flow_run_id)]}}}).json()
    for episode in ("ep02", "ep03"):
        # no second layer: localise.retry does not retry what botocore gave up on, and says so
        assert not [log for log in logs if log["message"].startswith(f"{SERIES}/{episode}: publishing: attempt")]
        assert any(log["message"].startswith(f"{SERIES}/{episode}: publishing: gave up: botocore already retried it "
                                             "(retry layer: botocore)") for log in logs), logs
        assert any(log["level"] >= 40 and f"{episode}: publishing failed" in log["message"] for log in logs)
    task_runs = httpx.post(f"{prefect_server.api_url}/task_runs/filter", json={
        "flow_runs": {"id": {"any_": [str(state.state_details.flow_run_id)]}}}).json()
    names = sorted(run["name"].rsplit("-", 1)[0] for run in task_runs)
    assert names == ["publish-chunk"] * 3 + ["scan-sources"] + ["translate-chunk"] * 3  # tasks per chunk, not per episode

    engine_calls.hooks.clear()
    engine_calls.fresh()
    s3_server.start()
    manifests = _check_manifests(s3_server, env["bucket"], "out", complete=False)
    assert "ep01" in manifests  # and ep02/ep03, if any, point only at complete files (checked above)

    second = localise_batch(str(source), destination=dest, config=env["config"], max_concurrency=1, chunk_cues=1)
    assert _status(second) == {"ep01": "current", "ep02": "published", "ep03": "published"}
    assert len(engine_calls.calls) == 6, "finished translations were redone"
    manifests = _check_manifests(s3_server, env["bucket"], "out")
    assert sorted(manifests) == EPISODES
    assert not [key for key in _objects(s3_server, env["bucket"]) if "/.staging/" in key]  # swept
    # nothing left outside a manifest: what the failed run uploaded is named or swept (checked above)
    for manifest in manifests.values():
        assert set(manifest["languages"]) == {"en", "es"}
        assert manifest["source"]["sha256"] and manifest["signature"]["models"]["es"]

    before = _objects(s3_server, env["bucket"])
    engine_calls.fresh()
    third = localise_batch(str(source), destination=dest, config=env["config"])
    assert third["totals"]["uploaded"] == 0 and set(_status(third).values()) == {"current"}
    assert _objects(s3_server, env["bucket"]) == before  # nothing written, not even a manifest
    assert len(engine_calls.calls) == 6


def test_unreadable_file_fails_only_its_episode(env, s3_server, prefect_server, engine_calls):
    from prefect.logging.handlers import APILogWorker

    from flows.localise_batch import localise_batch

    client = s3_server.client()
    for path in sorted(SAMPLES.glob("ep0[12].srt")):
        client.put_object(Bucket=env["bucket"], Key=f"incoming/{path.name}", Body=path.read_bytes())
    client.put_object(Bucket=env["bucket"], Key="incoming/ep99.srt", Body=b"<html><body>404 Not Found</body></html>")
    state = localise_batch(f"s3://{env['bucket']}/incoming", series=SERIES, destination=f"s3://{env['bucket']}/out",
                           config=env["config"], return_state=True)
    summary = state.result()
    assert _status(summary) == {"ep01": "published", "ep02": "published", "ep99": "failed"}
    failed = next(row for row in summary["episodes"] if row["status"] == "failed")
    assert "ep99.srt" in failed["error"] and "HTML" in failed["error"]
    assert sorted(_check_manifests(s3_server, env["bucket"], "out")) == ["ep01", "ep02"]
    assert len(engine_calls.calls) == 2  # both good episodes in one chunk: one call per hop (zh->en, en->es)

    # the log line reaches the API through Prefect's background log worker: wait for it (bounded),
    # since a loaded machine can take longer than one drain
    logs: list = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        APILogWorker.drain_all(timeout=10)
        logs = httpx.post(f"{prefect_server.api_url}/logs/filter",
                          json={"logs": {"flow_run_id": {"any_": [str(state.state_details.flow_run_id)]}}}).json()
        if any("ep99.srt" in log["message"] and log["level"] >= 40 for log in logs):
            break
        time.sleep(1)
    assert any("ep99.srt" in log["message"] and log["level"] >= 40 for log in logs), [l["message"] for l in logs]


def test_episode_flow_reads_from_s3(env, s3_server):
    from flows.localise_episode import localise_episode

    client = s3_server.client()
    client.put_object(Bucket=env["bucket"], Key="incoming/ep03.ass", Body=(SAMPLES / "ep03.ass").read_bytes())
    outcome = localise_episode(f"s3://{env['bucket']}/incoming/ep03.ass", series=SERIES,
                               destination=f"s3://{env['bucket']}/out", config=env["config"])
    assert outcome["status"] == "published"
    manifest = _check_manifests(s3_server, env["bucket"], "out")["ep03"]
    assert manifest["source"]["format"] == "ass" and manifest["signature"]["glossary_version"]
    key = f"out/{SERIES}/ep03/{manifest['languages']['es']['track']}"  # <hash>/es.ass: the manifest is the pointer
    assert key.endswith("/es.ass")
    track = client.get_object(Bucket=env["bucket"], Key=key)["Body"].read().decode()
    assert "Style: Flashback" in track and track.count("Dialogue:") == 18


def _api(method: str, url: str, **kwargs) -> httpx.Response:
    """One REST call, retried (bounded) while a loaded SQLite-backed server answers 503."""
    for _ in range(20):
        reply = httpx.request(method, url, timeout=30, **kwargs)
        if reply.status_code != 503:
            return reply
        time.sleep(1)
    return reply


def test_served_deployment_runs_when_triggered_through_rest_api(env, s3_server, prefect_server, tmp_path):
    api = prefect_server.api_url
    child_env = {**os.environ, **prefect_server.env, **s3_server.env, "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "serve.log"
    destination = f"s3://{env['bucket']}/published"
    with open(log_path, "wb") as log:
        serve = subprocess.Popen(
            [sys.executable, "-m", "localise", "serve", "--storage", destination,
             "--config", env["config"], "--limit", "1"],
            cwd=REPO, env=child_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deployment = None
        deadline = time.monotonic() + 120
        while deployment is None:
            assert serve.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "deployment never registered:\n" + log_path.read_text()[-3000:]
            reply = _api("GET", f"{api}/deployments/name/localise-batch/nightly")
            # The session's server may still hold this deployment from another test's serve.
            ours = reply.status_code == 200 and reply.json()["parameters"].get("destination") == destination
            deployment = reply.json() if ours else time.sleep(1)

        run = _api("POST", f"{api}/deployments/{deployment['id']}/create_flow_run",
                   json={"parameters": {"source": str(SAMPLES), "series": SERIES}})
        assert run.status_code == 201, run.text
        run_id = run.json()["id"]
        state = None
        deadline = time.monotonic() + 180
        while state not in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            assert time.monotonic() < deadline, f"flow run still {state}:\n" + log_path.read_text()[-3000:]
            time.sleep(1)
            state = _api("GET", f"{api}/flow_runs/{run_id}").json()["state"]["type"]
        assert state == "COMPLETED", log_path.read_text()[-3000:]
        parameters = _api("GET", f"{api}/flow_runs/{run_id}").json()["parameters"]
        assert parameters["source"] == str(SAMPLES) and parameters["destination"].endswith("/published")
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGINT)
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait(timeout=10)
    manifests = _check_manifests(s3_server, env["bucket"], "published")
    assert sorted(manifests) == EPISODES
    keys = _objects(s3_server, env["bucket"])
    for episode in EPISODES:
        ext = "ass" if episode == "ep03" else "srt"
        tracks = {f"published/{SERIES}/{episode}/{manifests[episode]['languages'][lang]['track']}" for lang in ("en", "es")}
        assert tracks <= set(keys) and {t.rsplit("/", 1)[1] for t in tracks} == {f"en.{ext}", f"es.{ext}"}


def test_a_series_without_a_glossary_fails_before_any_work_unless_the_settings_allow_it(env, s3_server, tmp_path,
                                                                                       engine_calls):
    """Issue 11: no silent run without terms. The batch fails with a message naming the files looked
    for, and nothing is translated or published; with ``glossary_optional`` it runs."""
    from flows.localise_batch import localise_batch

    client = s3_server.client()
    client.put_object(Bucket=env["bucket"], Key="incoming/ep01.srt", Body=(SAMPLES / "ep01.srt").read_bytes())
    args = dict(series="no-glossary-series", destination=f"s3://{env['bucket']}/out")
    state = localise_batch(f"s3://{env['bucket']}/incoming", config=env["config"], return_state=True, **args)
    assert state.is_failed()
    message = str(state.message) + repr(state.result(raise_on_failure=False))
    assert "no-glossary-series" in message and "no-glossary-series.csv" in message and "glossary_optional" in message
    assert not engine_calls.calls
    assert "Contents" not in client.list_objects_v2(Bucket=env["bucket"], Prefix="out/")

    allowed = tmp_path / "optional.toml"
    allowed.write_text("glossary_optional = true\n" + Path(env["config"]).read_text())  # before its [tables]
    summary = localise_batch(f"s3://{env['bucket']}/incoming", config=str(allowed), **args)
    assert _status(summary) == {"ep01": "published"}
