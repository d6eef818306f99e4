"""`localise review serve` as a user starts it: a real uvicorn process on 127.0.0.1, tokens from the
environment, pages behind a login and the API behind a bearer token."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

TOKEN = "serve-token-0123456789abcd"


def test_review_serve_command(tmp_path: Path) -> None:
    from tests.integration.processes import _stop_process, _tail, free_port

    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "LOCALISE_REVIEW_TOKENS": f"ann:{TOKEN}"}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localise", "review", "serve", "--port", str(port),
             "--db", f"sqlite:///{tmp_path / 'review.db'}"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, _tail(log_path)
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, _tail(log_path)
            time.sleep(0.3)
        assert httpx.get(f"{base}/api/items").status_code == 401
        assert httpx.get(f"{base}/api/items", headers={"Authorization": f"Bearer {TOKEN}"}).json() == []
        assert httpx.get(f"{base}/queue").headers["location"] == "/login"
        with httpx.Client(base_url=base) as client:
            assert client.post("/login", data={"token": TOKEN}).status_code == 303
            assert "Nothing in this queue" in client.get("/queue").text
    finally:
        _stop_process(proc)
