"""Fixtures every test directory may use: the shared corpus and an offline tiny translation model."""

from __future__ import annotations

import os
import sys
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


#: Under CI a test that needs the corpus must not pass as a skip: the suite would shrink unseen.
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

#: Corpus files opened by this test session (an audit hook sees every ``open``, whoever calls it).
CORPUS_FILES_OPENED: set[str] = set()
_CORPUS_PREFIX = str(CORPUS) + os.sep


def _count_corpus_opens(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if event == "open" and isinstance(args[0], str) and args[0].startswith(_CORPUS_PREFIX):
        CORPUS_FILES_OPENED.add(args[0])


sys.addaudithook(_count_corpus_opens)


def corpus_or_skip() -> Path:
    """``../shared/corpus``, read in place. Where it is absent the test skips with a reason, or,
    under CI (``CI=true``), fails: there a missing corpus is a broken checkout, not a pass."""
    if not (CORPUS / "MANIFEST.tsv").exists():
        message = f"shared corpus not found at {CORPUS} (README: tests that need the shared corpus)"
        if IN_CI:
            pytest.fail(f"{message}; under CI=true a missing corpus is an error", pytrace=False)
        pytest.skip(message)
    return CORPUS


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus`` read in place; see :func:`corpus_or_skip`."""
    return corpus_or_skip()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[_CORPUS_TESTS] = sum("corpus" in getattr(item, "fixturenames", ()) for item in items)


_CORPUS_TESTS = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """Say how much of the shared corpus the run exercised, so a suite that lost it cannot pass as
    a smaller green run."""
    tests = config.stash.get(_CORPUS_TESTS, 0)
    if not tests:
        return
    where = CORPUS if (CORPUS / "MANIFEST.tsv").exists() else f"{CORPUS} (not found: those tests did not run)"
    terminalreporter.write_line(
        f"shared corpus: {len(CORPUS_FILES_OPENED)} files exercised by {tests} tests that need it, at {where}"
    )


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
