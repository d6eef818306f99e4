"""Prefect result storage on S3 (a prefect-aws ``S3Bucket`` block made by ``flows.result_storage``)
on a real Prefect server and SeaweedFS: a `localise-chunk` run in another process, with a local
storage folder of its own (another machine's disk), keeps its return value and its per-episode
cache on S3; this process (the batch, elsewhere) reads the return value as `flows.fanout` does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
pytest.importorskip("prefect_aws", reason="prefect-aws (the test extra) is not installed")

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "tingyu-teahouse"

CHILD = """
import sys
from flows.localise_chunk import localise_chunk
source, key, series, destination, config = sys.argv[1:]
state = localise_chunk(source, [key], series, destination=destination, config=config, return_state=True)
print("RUN", state.state_details.flow_run_id, state.type.value)
"""


def test_a_chunk_run_elsewhere_keeps_its_result_on_s3_and_the_batch_reads_it(
        prefect_server, s3_server, tiny_model, tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client

    from flows.result_storage import create_s3_result_block

    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.make_bucket("results")
    client = s3_server.client()
    episode = sorted(SAMPLE.glob("*.srt"))[0]
    client.put_object(Bucket=bucket, Key=f"incoming/{episode.name}", Body=episode.read_bytes())

    slug = create_s3_result_block(f"s3://{bucket}/prefect-results")
    assert slug == "s3-bucket/localise-results"

    config = tmp_path / "localise.toml"
    config.write_text(f'targets = ["en"]\nmodel = "{tiny_model}"\nreview_db_url = ""\nglossary_optional = true\n'
                      '[quality_gate]\nmax_flagged_share = 1.0\n')
    elsewhere = tmp_path / "other-machine-storage"
    env = {**os.environ, **prefect_server.env, **s3_server.env, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "PREFECT_DEFAULT_RESULT_STORAGE_BLOCK": slug, "PREFECT_LOCAL_STORAGE_PATH": str(elsewhere),
           "LOCALISE_REVIEW_DB_URL": ""}
    done = subprocess.run([sys.executable, "-c", CHILD, f"s3://{bucket}/incoming", episode.name,
                           "results-series", f"s3://{bucket}/out", str(config)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    (tmp_path / "child.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_id, state = next(line.split()[1:] for line in done.stdout.splitlines() if line.startswith("RUN "))
    assert state == "COMPLETED"

    # nothing of the run's results on the other machine's disk; all of it on S3
    assert not [p for p in elsewhere.rglob("*") if p.is_file()] if elsewhere.exists() else True
    stored = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="prefect-results/").get("Contents", [])]
    everything = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert len(stored) >= 2, (everything, done.stderr[-6000:])  # the run's return value and the episode's cache

    # the batch's side (flows.fanout.run_chunks): the child's return value, read from S3
    with get_client(sync_client=True) as api:
        run = api.read_flow_run(run_id)
        result = run.state.result()
    assert [row["status"] for row in result["episodes"]] == ["published"], result
    assert result["episodes"][0]["episode"] == episode.stem
