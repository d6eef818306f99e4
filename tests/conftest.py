"""Fixtures every test directory may use: the shared corpus and an offline tiny translation model."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Flows put flagged lines into the review store: keep the tests' queue out of the checkout.
os.environ.setdefault("LOCALISE_REVIEW_DB_URL", f"sqlite:///{tempfile.mkdtemp(prefix='localise-review-')}/review.db")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus`` read in place; tests skip with a reason where it is absent."""
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MarianMT with d_model 32 and one layer, tokenizers trained on lines written here, saved
    with ``save_pretrained`` so tests load it by path through the real ``from_pretrained`` code."""
    from localise.devtools.tiny_model import build_tiny_marian

    return build_tiny_marian(tmp_path_factory.mktemp("tiny-marian"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop Prefect's ephemeral API servers (tests that run flows without a server start one) while
    output streams are still open: their exit handler logs into streams pytest has closed."""
    import sys

    server_module = sys.modules.get("prefect.server.api.server")
    if server_module is None:
        return
    for server in list(server_module.SubprocessASGIServer._instances.values()):
        server.stop()
