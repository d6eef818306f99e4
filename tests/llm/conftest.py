"""A real OpenAI-compatible server for the LLM engine's tests: llama.cpp's ``llama-server`` (built
once per machine by ``build_llama_server.sh``) serving a tiny random Llama built here offline.

Why llama.cpp's server: it installs from PyPI's llama-cpp-python sdist with cmake alone, runs on
two CPU cores, and constrains output to a JSON schema through OpenAI's ``response_format``, so
even a random model answers with valid JSON of the requested shape (the positive path); without
the schema the same model answers garbage (validation, re-asking, fallback). ``transformers serve``
ignores ``response_format`` and ``logprobs``; vLLM's CPU build needs its own environment.

``FaultProxy`` is a small real HTTP proxy in front of the server that can answer 429 with
``Retry-After``, delay answers past the client's timeout, or rewrite the request's schema (the
model then answers with missing ids, extra ids or text in the wrong language). It never makes up
an answer: every 200 comes from the model.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.integration.processes import _stop_process, _tail, free_port

HERE = Path(__file__).resolve().parent
BUILD_TIMEOUT_S = 3600


@pytest.fixture(scope="session")
def llama_cpp_dir() -> Path:
    """The cached build (``bin/llama-server``, ``convert/``); builds it on first use (~6 min on 2 cores)."""
    if shutil.which("cmake") is None or shutil.which("c++") is None:
        pytest.skip("cmake and a C++ compiler are needed to build llama-server (.ci/run installs them)")
    import sys

    done = subprocess.run([str(HERE / "build_llama_server.sh")], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable}, timeout=BUILD_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"building llama-server failed:\n{done.stderr[-4000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def tiny_gguf(llama_cpp_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from localise.devtools.tiny_llm import build_tiny_llama, convert_to_gguf

    out = tmp_path_factory.mktemp("tiny-llama")
    return convert_to_gguf(build_tiny_llama(out / "hf"), out / "tiny-llama.gguf", llama_cpp_dir / "convert")


@dataclass
class LlamaServer:
    """One running ``llama-server``; ``stop()``/``start()`` for fault tests (same port)."""

    binary: Path
    model: Path
    log: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        self.port = self.port or free_port()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), "-m", str(self.model), "--host", "127.0.0.1", "--port", str(self.port),
                 "--no-jinja", "-c", "16384", "-np", "2", "-t", "2", "--alias", "tiny-llama"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server exited ({self.proc.returncode}):\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"llama-server did not become healthy:\n{_tail(self.log)}")

    def stop(self) -> None:
        _stop_process(self.proc)
        self.proc = None


@pytest.fixture(scope="session")
def llama_server(llama_cpp_dir: Path, tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    server = LlamaServer(llama_cpp_dir / "bin" / "llama-server", tiny_gguf,
                         tmp_path_factory.mktemp("llama-server") / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_llama_server(llama_cpp_dir: Path, tiny_gguf: Path, tmp_path: Path) -> Iterator[LlamaServer]:
    """A server of the test's own (fault tests stop it)."""
    server = LlamaServer(llama_cpp_dir / "bin" / "llama-server", tiny_gguf, tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


@dataclass
class FaultProxy:
    """A real HTTP proxy on 127.0.0.1 in front of ``upstream``; see the module doc."""

    upstream: str  # http://127.0.0.1:PORT
    too_many: int = 0  # answer this many requests with 429 first
    retry_after: str = "1"
    delay_s: float = 0.0  # hold each answer this long
    rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)  # every chat request, as received
    statuses: list[int] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                proxy.seen.append(copy.deepcopy(body))  # as the engine sent it
                if proxy.too_many > 0:
                    proxy.too_many -= 1
                    self._send(429, b'{"error": {"message": "slow down", "type": "rate_limit"}}',
                               {"Retry-After": proxy.retry_after})
                    return
                if proxy.rewrite is not None:
                    body = proxy.rewrite(body)
                if proxy.delay_s:
                    time.sleep(proxy.delay_s)
                request = urllib.request.Request(proxy.upstream + self.path, data=json.dumps(body).encode(),
                                                 headers={"content-type": "application/json"}, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=600) as r:
                        self._send(r.status, r.read(), {})
                except urllib.error.HTTPError as exc:
                    self._send(exc.code, exc.read(), {})
                except OSError:
                    pass  # the client gave up (timeout): nothing to answer

            def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                proxy.statuses.append(status)
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def fault_proxy(llama_server: LlamaServer) -> Iterator[FaultProxy]:
    proxy = FaultProxy(f"http://127.0.0.1:{llama_server.port}")
    proxy.start()
    yield proxy
    proxy.stop()
