"""A worker killed in the middle of a chunk, on real servers: a Prefect server (with the automation
of infra/automations.yaml, or without it and the batch's own heartbeat check), a process work pool with two real `prefect worker start` processes
sending flow-run heartbeats, SeaweedFS as S3 for the source, the tracks and the shared cache
(`cache_url`), the offline tiny model.

The chunk's worker and its flow-run process (its own session: Prefect isolates it) are SIGKILLed
as a dying machine would be, once the chunk has finished some engine calls. Then: the run's
heartbeats stop, the automation (or the batch) marks it Crashed, the batch starts the chunk again, the other
worker takes it and sends the engine only the texts the killed run had not finished, the batch
completes, every manifest names only complete tracks, and an identical rerun does nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.processes import _stop_process, _tail

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
SERIES = "crash-series"
CUES = 2000  # one episode: enough engine calls (SLICE texts each) that a kill lands mid-chunk
SLICE = 50
WAIT_S = 600  # bound on every wait below (a stuck run fails the test, never hangs it)


def _srt(cues: int) -> str:
    def clock(ms: int) -> str:
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return "\n".join(f"{i + 1}\n{clock(i * 3000)} --> {clock(i * 3000 + 2000)}\n第{i}句，我们明天见面。\n"
                     for i in range(cues))


@pytest.fixture
def zombie_automation(prefect_server):
    """infra/automations.yaml created on the server (as an operator would), deleted afterwards."""
    env = {**os.environ, **prefect_server.env}
    done = subprocess.run([PREFECT, "--no-prompt", "automation", "create", "--from-file", "infra/automations.yaml"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    api = prefect_server.api_url
    made = [a for a in httpx.post(f"{api}/automations/filter", json={}).json()
            if a["name"] == "crash-zombie-flow-runs"]
    assert len(made) == 1 and made[0]["trigger"]["posture"] == "Proactive"
    yield made[0]
    for automation in made:
        httpx.delete(f"{api}/automations/{automation['id']}")


@pytest.fixture
def pool(prefect_server, s3_server, tiny_model, tmp_path):
    """A process work pool, the chunk deployment, two workers (one run at a time each) whose flow
    runs send heartbeats every 30 s (Prefect's minimum; infra/prefect.yaml sets the same)."""
    name = f"crash-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **prefect_server.env, **s3_server.env, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1",
           "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30", "LOCALISE_REVIEW_DB_URL": ""}
    run = dict(cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    done = subprocess.run([PREFECT, "--no-prompt", "work-pool", "create", name, "--type", "process"], **run)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([PREFECT, "--no-prompt", "deploy", "flows/localise_chunk.py:localise_chunk",
                           "--name", name, "--pool", name], **run)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    workers: dict[str, tuple[subprocess.Popen, Path]] = {}
    for worker in ("worker-a", "worker-b"):
        log_path = tmp_path / f"{worker}.log"
        with open(log_path, "wb") as log:
            workers[worker] = (subprocess.Popen([PREFECT, "worker", "start", "--pool", name, "--type", "process",
                                                 "--name", worker, "--limit", "1"], cwd=REPO, env=env, stdout=log,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True), log_path)
    try:
        yield {"deployment": f"localise-chunk/{name}", "workers": workers}
    finally:
        for proc, _ in workers.values():
            _stop_process(proc)


def _flow_run_processes(worker: subprocess.Popen) -> list[Any]:
    """The flow-run processes a worker started (``python -m prefect.engine``, in sessions of their own)."""
    import psutil

    try:
        children = psutil.Process(worker.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if "prefect.engine" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _kill_like_a_dead_machine(worker: subprocess.Popen, runs: list[Any]) -> None:
    """SIGKILL the worker's process group and each flow-run process's own group: nothing of that
    worker is left to report the run's end."""
    for pgid in {os.getpgid(worker.pid), *(os.getpgid(p.pid) for p in runs)}:
        os.killpg(pgid, signal.SIGKILL)
    worker.wait(timeout=30)
    for p in runs:
        p.wait(timeout=30)


def _cache_objects(client, bucket: str) -> dict[str, dict[str, Any]]:
    """Engine-call cache entries: key -> {"modified", "texts"}."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="cache/mt/"):
        for obj in page.get("Contents", []):
            entry = json.loads(client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            found[obj["Key"]] = {"modified": obj["LastModified"], "texts": [source for source, _ in entry["items"]]}
    return found


@pytest.mark.parametrize("detector", ["automation", "batch"])
def test_a_killed_worker_s_chunk_is_crashed_retried_on_the_other_worker_and_nothing_finished_is_redone(
        detector, pool, prefect_server, s3_server, tiny_model, tmp_path, monkeypatch, request):
    """``automation``: infra/automations.yaml marks the dead run Crashed (the batch's own check
    off); ``batch``: no automation on the server, the batch's fallback check does it."""
    from flows.localise_batch import localise_batch

    if detector == "automation":
        request.getfixturevalue("zombie_automation")
    from localise.storage import open_store, verify_store

    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.make_bucket("crash")
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="incoming/ep01.srt", Body=_srt(CUES).encode("utf-8"))
    config = tmp_path / "localise.toml"
    config.write_text(f'targets = ["en"]\nmodel = "{tiny_model}"\nreview_db_url = ""\nglossary_optional = true\n'
                      f'cache_url = "s3://{bucket}/cache"\ncache_slice_units = {SLICE}\n'
                      '[quality_gate]\nmax_flagged_share = 1.0\n')
    args = dict(series=SERIES, destination=f"s3://{bucket}/out", config=str(config), fan_out=True,
                chunk_deployment=pool["deployment"], chunk_retries=1,
                chunk_stale_after=0 if detector == "automation" else 45)

    seen: dict[str, Any] = {}

    def kill_mid_chunk() -> None:
        """Wait (bounded) until the chunk has finished some engine calls, then kill its worker."""
        try:
            deadline = time.monotonic() + WAIT_S
            while True:
                if time.monotonic() > deadline:
                    raise AssertionError("no engine call finished in time")
                busy = {name: _flow_run_processes(proc) for name, (proc, _) in pool["workers"].items()}
                busy = {name: runs for name, runs in busy.items() if runs}
                if busy and client.list_objects_v2(Bucket=bucket, Prefix="cache/mt/").get("KeyCount", 0) > 0:
                    break
                time.sleep(0.2)
            assert len(busy) == 1, busy  # one chunk, one worker running it
            (seen["killed"], runs), = busy.items()
            _kill_like_a_dead_machine(pool["workers"][seen["killed"]][0], runs)
            seen["before"] = _cache_objects(client, bucket)  # what the killed run finished; it writes no more
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            seen["error"] = exc

    killer = threading.Thread(target=kill_mid_chunk, daemon=True)
    killer.start()
    try:
        summary = localise_batch(f"s3://{bucket}/incoming", **args)  # waits for the retried chunk
    except BaseException:
        for _, log in pool["workers"].values():
            print(_tail(log, 6000))
        raise
    killer.join(60)
    assert "error" not in seen, seen.get("error")
    killed, before = seen["killed"], seen["before"]
    finished_before = {text for entry in before.values() for text in entry["texts"]}
    assert 0 < len(finished_before) < CUES, "the kill must land in the middle of the chunk"

    # the batch completed: the killed chunk was marked Crashed and done again on the other worker
    assert [row["status"] for row in summary["episodes"]] == ["published"], summary
    (chunk,) = summary["chunks"]
    survivor = ({"worker-a", "worker-b"} - {killed}).pop()
    assert chunk["state"] == "COMPLETED" and chunk["attempts"] == 2 and chunk["worker"] == survivor, chunk
    assert len(chunk["crashed"]) == 1 and "No heartbeat" in chunk["crashed"][0], chunk
    assert ("marked Crashed by the batch" in chunk["crashed"][0]) == (detector == "batch"), chunk
    assert chunk["crashed"][0].startswith(f"{SERIES}-chunk-1-try-1:") and chunk["flow_run"].endswith("-try-2")

    # the engine calls the killed run finished were not made again: their entries are untouched,
    # and no text is in two entries (every text went to the engine once, over both attempts)
    after = _cache_objects(client, bucket)
    assert {k: after[k]["modified"] for k in before} == {k: v["modified"] for k, v in before.items()}
    texts = [text for entry in after.values() for text in entry["texts"]]
    assert len(texts) == len(set(texts)) == CUES
    assert not finished_before & {t for k, e in after.items() if k not in before for t in e["texts"]}

    # every manifest names only complete tracks with their checksums; nothing left over
    assert verify_store(open_store(f"s3://{bucket}/out"), SERIES) == []

    # an identical rerun: the episode is current, no chunk run starts (no engine call), no upload
    objects = {o["Key"]: o["ETag"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    again = localise_batch(f"s3://{bucket}/incoming", **args)
    assert again["totals"]["uploaded"] == 0 and [r["status"] for r in again["episodes"]] == ["current"]
    assert again["chunks"] == []
    assert {o["Key"]: o["ETag"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]} == objects
