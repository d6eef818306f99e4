"""`localise-batch` fan-out on a real Prefect server: a process work pool, two real
`prefect worker start` processes, the `localise-chunk` deployment registered with `prefect deploy`,
SeaweedFS as S3 for sources and tracks, the offline tiny model. Each chunk is a child flow run taken
by a free worker; the batch collects their rows and publishes nothing itself; an identical rerun
starts no chunk and uploads nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.processes import _stop_process, _tail

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "tingyu-teahouse"
SERIES = "tingyu-teahouse"
PREFECT = str(Path(sys.executable).parent / "prefect")


@pytest.fixture
def pool(prefect_server, s3_server, tiny_model, tmp_path):
    """A process work pool with two workers (one chunk at a time each) and the chunk deployment."""
    name = f"fanout-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **prefect_server.env, **s3_server.env, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1",
           "LOCALISE_REVIEW_DB_URL": ""}
    run = dict(cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    done = subprocess.run([PREFECT, "--no-prompt", "work-pool", "create", name, "--type", "process"], **run)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([PREFECT, "--no-prompt", "deploy", "flows/localise_chunk.py:localise_chunk",
                           "--name", name, "--pool", name], **run)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    workers = []
    for worker in ("worker-a", "worker-b"):
        log = open(tmp_path / f"{worker}.log", "wb")
        workers.append((subprocess.Popen([PREFECT, "worker", "start", "--pool", name, "--type", "process",
                                          "--name", worker, "--limit", "1"], cwd=REPO, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True),
                        tmp_path / f"{worker}.log"))
        log.close()
    try:
        yield {"deployment": f"localise-chunk/{name}", "workers": workers}
    finally:
        for proc, _ in workers:
            _stop_process(proc)


def _copy_episodes(dest: Path) -> Path:
    """Four episodes: the three samples and a copy of the first under another name."""
    dest.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".srt", ".ass"))[:3]
    for path in sources:
        shutil.copy(path, dest / path.name)
    shutil.copy(sources[0], dest / f"ep04{sources[0].suffix}")
    return dest


def test_batch_fans_out_over_two_workers_and_a_rerun_does_nothing(pool, prefect_server, s3_server, tiny_model,
                                                                   tmp_path, monkeypatch):
    from flows.localise_batch import localise_batch

    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.make_bucket("fanout")
    client = s3_server.client()
    for path in _copy_episodes(tmp_path / "in").iterdir():
        client.put_object(Bucket=bucket, Key=f"incoming/{path.name}", Body=path.read_bytes())
    config = tmp_path / "localise.toml"
    config.write_text(f'targets = ["en", "es"]\nmodel = "{tiny_model}"\nreview_db_url = ""\n'
                      '[quality_gate]\nmax_flagged_share = 1.0\n')
    args = dict(series=SERIES, destination=f"s3://{bucket}/out", config=str(config), chunk_cues=1, fan_out=True,
                chunk_deployment=pool["deployment"])

    try:
        state = localise_batch(f"s3://{bucket}/incoming", return_state=True, **args)
        summary = state.result()
    except BaseException:
        for _, log in pool["workers"]:
            print(_tail(log, 6000))
        raise
    episodes = {row["episode"]: row for row in summary["episodes"]}
    assert len(episodes) == 4 and {row["status"] for row in episodes.values()} == {"published"}, summary
    chunks = summary["chunks"]
    assert len(chunks) == 4 and all(c["state"] == "COMPLETED" and len(c["episodes"]) == 1 for c in chunks)
    assert {c["worker"] for c in chunks} == {"worker-a", "worker-b"}, chunks  # both workers took chunks

    # the children ran on the pool as subflows of the batch; the batch itself published nothing
    api = prefect_server.api_url
    parent = str(state.state_details.flow_run_id)
    children = httpx.post(f"{api}/flow_runs/filter", json={
        "flow_runs": {"parent_flow_run_id": {"any_": [parent]}}}).json()
    assert len(children) == 4 and {c["work_pool_name"] for c in children} == {pool["deployment"].split("/")[1]}
    tasks = httpx.post(f"{api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [parent]}}}).json()
    assert not [t for t in tasks if t["name"].startswith(("publish", "translate"))]
    manifests = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]
                 if o["Key"].endswith("/manifest.json")]
    assert len(manifests) == 4

    before = {o["Key"]: o["ETag"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    again = localise_batch(f"s3://{bucket}/incoming", **args)
    assert again["totals"]["uploaded"] == 0 and {r["status"] for r in again["episodes"]} == {"current"}
    assert again["chunks"] == []  # nothing pending: no child run started
    assert {o["Key"]: o["ETag"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]} == before
