"""The suite cannot shrink unseen: tests that need ``../shared/corpus`` skip without it on a developer's
machine but fail under ``CI=true``, and the terminal summary says how many corpus files were read.

Runs this repository's own ``tests/conftest.py`` in a throw-away checkout layout (``repo/tests`` beside
``shared/corpus``), with and without the corpus."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parent / "conftest.py"

NEEDS_CORPUS = '''
def test_reads_two_files(corpus):
    assert (corpus / "a" / "one.srt").read_text(encoding="utf-8")
    with open(corpus / "a" / "two.srt", "rb") as fh:
        assert fh.read()
    (corpus / "a" / "one.srt").read_text(encoding="utf-8")  # read twice, counted once


def test_without_the_corpus():
    pass
'''


def layout(root: Path, *, with_corpus: bool) -> Path:
    tests = root / "repo" / "tests"
    tests.mkdir(parents=True)
    shutil.copy(CONFTEST, tests / "conftest.py")
    (tests / "test_needs_corpus.py").write_text(NEEDS_CORPUS, encoding="utf-8")
    if with_corpus:
        files = root / "shared" / "corpus" / "a"
        files.mkdir(parents=True)
        (root / "shared" / "corpus" / "MANIFEST.tsv").write_text("path\tsource\n", encoding="utf-8")
        (files / "one.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nhi\n", encoding="utf-8")
        (files / "two.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nho\n", encoding="utf-8")
    return root / "repo"


def run_pytest(repo: Path, *, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "-p", "no:randomly", "tests",
         f"--basetemp={repo.parent / 'pt'}"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )


def test_missing_corpus_skips_on_a_developer_machine(tmp_path: Path) -> None:
    done = run_pytest(layout(tmp_path, with_corpus=False), ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout
    assert "shared corpus not found" in done.stdout
    assert "shared corpus: 0 files exercised by 1 tests that need it" in done.stdout


def test_missing_corpus_is_an_error_under_ci(tmp_path: Path) -> None:
    done = run_pytest(layout(tmp_path, with_corpus=False), ci=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout or "1 error" in done.stdout, done.stdout
    assert "under CI=true a missing corpus is an error" in done.stdout


@pytest.mark.parametrize("ci", [False, True])
def test_summary_counts_the_corpus_files_read(tmp_path: Path, ci: bool) -> None:
    done = run_pytest(layout(tmp_path, with_corpus=True), ci=ci)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "shared corpus: 2 files exercised by 1 tests that need it" in done.stdout
