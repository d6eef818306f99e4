"""`localise review serve` as a user starts it: a real uvicorn process on 127.0.0.1, a bootstrap token
from the environment and a scoped token from the database (`localise review token add`), pages
behind a login (form token, Origin, CSRF) and the API behind a bearer token."""

from __future__ import annotations

import os
import re
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

    db = f"sqlite:///{tmp_path / 'review.db'}"
    added = subprocess.run([sys.executable, "-m", "localise", "review", "token", "add", "rita", "--role", "reviewer",
                            "--series", "dragon", "--db", db], capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    scoped = added.stdout.strip().splitlines()[-1]
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "LOCALISE_REVIEW_TOKENS": f"ann:{TOKEN}"}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localise", "review", "serve", "--port", str(port),
             "--db", db],
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
        assert httpx.get(f"{base}/api/items", headers={"Authorization": f"Bearer {scoped}"}).json() == []
        assert httpx.get(f"{base}/api/audit", headers={"Authorization": f"Bearer {scoped}"}).status_code == 403
        assert httpx.get(f"{base}/api/audit", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        with httpx.Client(base_url=base, headers={"Origin": base}) as client:
            assert client.post("/login", data={"token": TOKEN}).status_code == 403  # no form token
            form = client.get("/login").text
            login_token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)
            assert client.post("/login", data={"token": TOKEN, "login_token": login_token}).status_code == 303
            page = client.get("/queue")
            assert "Nothing in this queue" in page.text and page.headers["cache-control"] == "no-store"
    finally:
        _stop_process(proc)
