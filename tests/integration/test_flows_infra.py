"""infra/prefect.yaml registers the deployments `localise serve` serves, for a work pool, on a real Prefect server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]


def test_prefect_yaml_deploys_to_a_work_pool(prefect_server):
    env = {**os.environ, **prefect_server.env, "LOCALISE_CHECKOUT": str(REPO)}
    prefect = [str(Path(sys.executable).parent / "prefect"), "--no-prompt"]
    subprocess.run([*prefect, "work-pool", "create", "localise", "--type", "process"], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=120)
    done = subprocess.run([*prefect, "deploy", "--all", "--prefect-file", "infra/prefect.yaml"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    api = prefect_server.api_url
    batch = httpx.get(f"{api}/deployments/name/localise-batch/nightly").json()
    assert batch["work_pool_name"] == "localise"
    assert batch["parameters"]["targets"] == ["en", "es"] and batch["parameters"]["source"].startswith("s3://")
    assert [s["schedule"]["cron"] for s in batch["schedules"]] == ["0 2 * * *"]
    assert batch["global_concurrency_limit"]["limit"] == 1
    for name in ("localise-episode/on-demand", "apply-review/on-demand"):
        assert httpx.get(f"{api}/deployments/name/{name}").status_code == 200, name

    # `localise serve` on the same server takes these names over: Prefect's in-place update would
    # keep the pool deployment's code location, and the served runs would crash looking for it
    from flows.deployments import build_deployments, replace_pool_deployments
    from localise.config import Settings

    served = build_deployments(Settings(targets=["en"]))
    assert sorted(replace_pool_deployments(served)) == ["apply-review/on-demand", "localise-batch/nightly",
                                                       "localise-episode/on-demand"]
    assert httpx.get(f"{api}/deployments/name/localise-batch/nightly").status_code == 404
    assert replace_pool_deployments(served) == []  # nothing left to replace
