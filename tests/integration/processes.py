"""Process helpers for the integration tests: free loopback ports, bounded stops, log tails.

A module of its own (not conftest.py) so that test files can import it by a name no other
test directory uses; ``conftest`` is ambiguous when several test directories run together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

STOP_TIMEOUT_S = 20


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_process(proc: subprocess.Popen | None) -> None:
    """SIGTERM the process group, SIGKILL it when it does not stop in time."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=STOP_TIMEOUT_S)


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""
