"""Frictions a new user met in `localise translate`, each said in one clear sentence before any
work: an output or cache folder that cannot be written (a file, under a file, a file system that
refuses), a target language given twice; and a resumed run with nothing left to do loads no model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localise.cli import app

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

SRT = "1\n00:00:01,000 --> 00:00:02,000\n你好。\n\n2\n00:00:03,000 --> 00:00:04,000\n我们走吧。\n"


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = tmp_path / "ep01.srt"
    path.write_text(SRT, encoding="utf-8")
    return path


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("where", ["file", "under-file", "dangling-link"])
@pytest.mark.parametrize("option", ["--out", "--cache-dir"])
def test_a_folder_option_naming_a_file_is_refused_by_name_with_exit_2(
        source: Path, tmp_path: Path, where: str, option: str) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder\n")
    folder = {"file": blocker, "under-file": blocker / "out", "dangling-link": tmp_path / "gone" / "sub"}[where]
    if where == "dangling-link":
        (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    before = _tree(tmp_path)
    args = ["translate", str(source), "--to", "en", "--model", "no-such-model"]
    args += [option, str(folder)] if option == "--out" else ["--out", str(tmp_path / "out"), option, str(folder)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Errno" not in result.output and str(folder) in result.output.replace("\n", "")
    what = "output folder (--out)" if option == "--out" else "cache folder (--cache-dir)"
    assert what in result.output
    assert _tree(tmp_path) == before  # nothing written: no output folder, no cache, no probe left


def test_a_folder_the_file_system_refuses_is_refused_with_its_reason(source: Path, tmp_path: Path) -> None:
    """sysfs refuses new folders even to root (a chmod'ed folder would not stop root): the real
    EPERM, said as a sentence naming the path."""
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs sysfs (Linux)")
    refused = Path("/sys") / f"localise-test-{os.getpid()}"
    for args in (["--out", str(refused)], ["--out", str(tmp_path / "out"), "--cache-dir", str(refused)]):
        result = runner.invoke(app, ["translate", str(source), "--to", "en", *args])
        assert result.exit_code == 2, result.output
        assert str(refused) in result.output and "cannot be written" in result.output
        assert "Errno" not in result.output
    assert not refused.exists() and not (tmp_path / "out").exists()


def test_no_cache_does_not_check_the_cache_folder(source: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    result = runner.invoke(app, ["translate", str(source), "--to", "xx-not-a-tag", "--no-cache",
                                 "--out", str(tmp_path / "out"), "--cache-dir", str(blocker)])
    assert result.exit_code == 1 and "cache folder" not in result.output  # the next error is the tag's


@pytest.mark.parametrize("targets, said", [
    ("en,en", "'en' is given twice"),
    ("en,es,EN", "'en' and 'EN' are the same language"),
    ("he,iw", "'he' and 'iw' are the same language"),
])
def test_a_target_language_given_twice_is_refused(source: Path, tmp_path: Path, targets: str, said: str) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(source), "--to", targets, "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert said in result.output and "name each language once" in result.output
    assert not out.exists()


def test_a_target_language_given_twice_in_a_settings_file_is_refused(source: Path, tmp_path: Path) -> None:
    config = tmp_path / "localise.toml"
    config.write_text('targets = ["es", "pt-BR", "pt-br"]\n')
    result = runner.invoke(app, ["translate", str(source), "--config", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "are the same language" in result.output, result.output


def test_a_resumed_run_with_every_file_done_loads_no_model(source: Path, tmp_path: Path, tiny_model: Path) -> None:
    """A fresh process (as a user runs it): nothing imports torch or transformers, nothing is
    loaded, and the outputs are written again from the cache."""
    out = tmp_path / "out"
    args = ["translate", str(source), "--to", "en,es", "--model", str(tiny_model), "--out", str(out)]
    probe = ("import runpy, sys\n"
             "sys.argv = ['localise', *sys.argv[1:]]\n"
             "try:\n"
             "    runpy.run_module('localise', run_name='__main__')\n"
             "finally:\n"
             "    import localise.engines.registry as r\n"
             "    print('PROBE', 'torch' in sys.modules, 'transformers' in sys.modules, len(r.LOADS), file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", probe, *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)

    first = run()
    assert first.returncode == 0, first.stderr
    assert "PROBE True True 1" in first.stderr  # the first run did load it: the probe sees loads
    written = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for path in out.iterdir():
        if path.is_file():
            path.unlink()
    again = run()
    assert again.returncode == 0, again.stderr
    assert "1 of 1 files already done" in again.stderr
    assert "PROBE False False 0" in again.stderr, again.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == written
