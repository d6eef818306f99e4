"""The jobs API against a real Prefect server: `localise serve` serves the deployments in a child
process (tiny offline model, local folders), the API creates a flow run of localise-batch/nightly
for a series whose source is allow-listed in the app's settings (the request names only the
series and languages), follows its state to the end and reports the published tracks and their
quality summary; the published episode's flagged lines then go into the review queue through the
API. An operator token of the series does it; a request naming a source is refused (issue 12)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TOKEN = "jobs-token-0123456789abc"
SRT = """1
00:00:01,000 --> 00:00:03,000
林总来了。

2
00:00:04,000 --> 00:00:06,000
我们走吧！
"""


async def _deployment_ready(name: str, destination: str) -> bool:
    """The deployment is registered by *this* test's serve (the session's server may still hold
    the same deployment from another test, with another destination)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            deployment = await client.read_deployment_by_name(name)
        except ObjectNotFound:
            return False
    return (deployment.parameters or {}).get("destination") == destination


def test_jobs_api_runs_the_batch_deployment(tmp_path: Path, tiny_model: Path, prefect_server) -> None:
    from fastapi.testclient import TestClient

    from tests.integration.processes import _stop_process, _tail
    from localise.review import ReviewStore
    from localise.review.app import create_app
    from localise.review.app.settings import ReviewSettings

    source = tmp_path / "source" / "dragon"
    source.mkdir(parents=True)
    (source / "ep01.srt").write_text(SRT, encoding="utf-8")
    published = tmp_path / "published"
    log_path = tmp_path / "serve.log"
    env = {**os.environ, **prefect_server.env, "HF_HUB_OFFLINE": "1", "LOCALISE_THRESHOLDS": '{"low_confidence": 1.0}',
           "LOCALISE_GLOSSARY_OPTIONAL": "true"}  # the series "dragon" has no glossary
    with open(log_path, "ab") as log:
        served = subprocess.Popen(
            [sys.executable, "-m", "localise", "serve", "--to", "en", "--model", str(tiny_model),
             "--storage", str(published)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not asyncio.run(_deployment_ready("localise-batch/nightly", str(published))):
            assert served.poll() is None, _tail(log_path)
            assert time.monotonic() < deadline, f"deployment not registered:\n{_tail(log_path)}"
            time.sleep(1)

        review = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
        token, _ = review.accounts.add_token("platform", "operator", ["dragon"])
        settings = ReviewSettings(db_url=review.url, tokens={TOKEN: "boot"}, storage_url=str(published),
                                  series_sources={"dragon": str(source)})
        client = TestClient(create_app(settings, store=review))
        headers = {"Authorization": f"Bearer {token}"}
        assert client.post("/api/jobs", json={"series": "dragon", "targets": ["en"]}).status_code == 401
        elsewhere = tmp_path / "elsewhere"
        refused = client.post("/api/jobs", json={"source": str(elsewhere), "targets": ["en"], "series": "dragon"},
                              headers=headers)
        assert refused.status_code == 422 and "never taken from a request" in refused.text

        started = client.post("/api/jobs", json={"series": "dragon", "targets": ["en"]}, headers=headers)
        assert started.status_code == 201, started.text
        job = started.json()
        assert job["parameters"]["source"] == str(source) and job["parameters"]["targets"] == ["en"]
        assert job["parameters"]["destination"] == str(published)

        deadline = time.monotonic() + 420
        while True:
            status = client.get(f"/api/jobs/{job['id']}", headers=headers).json()
            if status["state"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
            assert time.monotonic() < deadline, f"job still {status['state']}:\n{_tail(log_path)}"
            time.sleep(2)
        assert status["state"] == "COMPLETED", f"{status}\n{_tail(log_path)}"
        assert status["published"], status.get("result")
        assert [(p["series"], p["episode"], p["language"]) for p in status["published"]] == [("dragon", "ep01", "en")]
        assert status["published"][0]["track"].endswith("en.srt")
        quality = status["quality"]["ep01/en"]
        assert quality["cues"] == 2 and quality["flagged"] == 2  # every line flagged (threshold 1.0)

        ingested = client.post("/api/ingest", json={"series": "dragon", "episode": "ep01"}, headers=headers).json()
        assert ingested["en"]["added"] == 2
        assert len(client.get("/api/items", params={"series": "dragon"}, headers=headers).json()) == 2
        assert client.get("/api/jobs/00000000-0000-0000-0000-000000000000", headers=headers).status_code == 404
    finally:
        _stop_process(served)
