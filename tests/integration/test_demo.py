"""`make demo` (`python -m flows.demo`) as a new user runs it: the sample series through the real
batch flow on an embedded Prefect, published to a folder of one's choosing, with the tiny offline
model; and a model that cannot be had stops it at once with exit 2 and the way out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LOCALISE_"))}
    env.update({"HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "HOME": str(tmp_path / "home")})
    return env


def test_demo_publishes_the_sample_series(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    done = subprocess.run([sys.executable, "-m", "flows.demo", "--model", str(tiny_model), "--out", str(out)],
                          cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "3 episode(s)" in done.stdout
    manifests = sorted((out / "published" / "tingyu-teahouse").glob("*/manifest.json"))
    assert [m.parent.name for m in manifests] == ["ep01", "ep02", "ep03"]
    for m in manifests:
        manifest = json.loads(m.read_text(encoding="utf-8"))
        assert set(manifest["languages"]) == {"en", "es"}
        assert manifest["signature"]["glossary_version"]  # the series' glossary was found and used


def test_demo_with_a_model_that_cannot_be_had_stops_at_once(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "flows.demo", "--model", str(tmp_path / "no-such-model"),
                           "--out", str(tmp_path / "out")], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "no-such-model" in done.stderr and "make tiny-model" in done.stderr
    assert not (tmp_path / "out" / "published").exists()
