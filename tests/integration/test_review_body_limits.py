"""Request bodies cost an unauthenticated caller nothing (issue 12, probe 3): `localise review serve`
runs as its own process on a loopback port; four parallel 200 MB posts without a token, three
rounds, declared (Content-Length) and streamed (chunked), are answered 401 from the headers alone,
and the server's resident memory stays flat. With a token, the same bodies are cut at the
configured limit (413). Bounded: 24 requests to 127.0.0.1 only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

TOKEN = "body-limit-token-0123456789"
BODY_BYTES = 200 * 1024 * 1024
CHUNK = b"[" + b"1," * (512 * 1024 - 1) + b"1"  # 1 MiB of JSON-looking bytes
MAX_GROWTH_BYTES = 48 * 1024 * 1024  # allocator noise and a few thread stacks; a buffered body is 200 MB+


def _post(port: int, path: str, *, chunked: bool, token: str | None = None) -> tuple[int, int]:
    """Send a 200 MB body the raw way (so the client holds 1 MiB, not 200 MB); returns
    (status, bytes of body the server let us send before it closed)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
        head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY_BYTES}")
        if token:
            head.append(f"Authorization: Bearer {token}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        response = b""
        sock.setblocking(False)
        try:
            while sent < BODY_BYTES and b"\r\n\r\n" not in response:
                try:
                    response += sock.recv(65536)
                    continue
                except BlockingIOError:
                    pass
                data = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n" if chunked else CHUNK
                try:
                    sent += sock.send(data)
                except BlockingIOError:
                    time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.setblocking(True)
        sock.settimeout(30)
        while b"\r\n\r\n" not in response:
            try:
                more = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not more:
                break
            response += more
        status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0
        return status, sent
    finally:
        sock.close()


def test_big_bodies_do_not_grow_the_server(tmp_path: Path) -> None:
    import psutil

    from tests.integration.processes import _stop_process, _tail, free_port

    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "LOCALISE_REVIEW_TOKENS": f"ops:{TOKEN}"}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localise", "review", "serve", "--port", str(port),
             "--db", f"sqlite:///{tmp_path / 'review.db'}"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, _tail(log_path)
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, _tail(log_path)
            time.sleep(0.3)
        server = psutil.Process(proc.pid)
        # warm up every path the test takes (imports, thread pool, database)
        assert _post(port, "/api/jobs", chunked=False)[0] == 401
        assert httpx.post(f"{base}/api/jobs", content=b"{}", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 422
        before = server.memory_info().rss

        with ThreadPoolExecutor(4) as pool:
            for chunked in (False, True):
                for _ in range(3):
                    for status, sent in pool.map(lambda _: _post(port, "/api/jobs", chunked=chunked), range(4)):
                        assert status == 401, (chunked, status, sent)
        unauthenticated = server.memory_info().rss

        declared = _post(port, "/api/ingest", chunked=False, token=TOKEN)
        streamed = _post(port, "/api/ingest", chunked=True, token=TOKEN)
        assert declared[0] == 413 and streamed[0] == 413, (declared, streamed)
        after = server.memory_info().rss
        print(f"server RSS: {before / 2**20:.1f} MiB before, {unauthenticated / 2**20:.1f} MiB after 24 x 200 MB "
              f"unauthenticated posts, {after / 2**20:.1f} MiB after 2 authenticated oversized posts "
              f"(declared one sent {declared[1] / 2**20:.1f} MiB, streamed one {streamed[1] / 2**20:.1f} MiB)")
        assert unauthenticated - before < MAX_GROWTH_BYTES
        assert after - before < MAX_GROWTH_BYTES
        # the server is still serving
        assert httpx.get(f"{base}/api/items", headers={"Authorization": f"Bearer {TOKEN}"}).json() == []
    finally:
        _stop_process(proc)
