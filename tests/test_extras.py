"""The core installs light: with every optional package hidden (what `pip install localise` without
extras gives), the core modules import, `inspect` and `check` work, and a command that needs an extra
fails at once with `install 'localise[...]'` advice, never an ImportError traceback."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from localise.extras import EXTRA_OF, MODULES, MissingExtraError, advice_for, available, require

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "tingyu-teahouse" / "ep01.srt"
CALIBRATION = ROOT / "tests" / "quality" / "data" / "subtitles" / "calibration"

#: Every package an extra brings (pyproject.toml), by top-level module name.
HIDDEN = sorted(set(EXTRA_OF) | {m for modules in MODULES.values() for m in modules})

BLOCKER = textwrap.dedent(
    """
    # Hides the optional packages, as an install without extras would lack them.
    import sys
    from importlib.abc import MetaPathFinder

    HIDDEN = frozenset({hidden!r})

    class HideOptional(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, HideOptional())
    """
)


@pytest.fixture(scope="module")
def core_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for a subprocess whose Python cannot import any optional package."""
    site = tmp_path_factory.mktemp("core-only")
    (site / "sitecustomize.py").write_text(BLOCKER.format(hidden=HIDDEN), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def run(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd or ROOT, capture_output=True, text=True, timeout=300)


def test_blocker_hides_the_optional_packages(core_env: dict[str, str]) -> None:
    for module in ("torch", "prefect", "sqlalchemy", "boto3", "fastapi", "ctranslate2", "transformers"):
        done = run(core_env, "-c", f"import {module}")
        assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr, module


def test_core_modules_import_without_optional_packages(core_env: dict[str, str]) -> None:
    """Every module outside the review package (the `review` extra) imports with the extras hidden,
    so no core module imports an optional package at import time."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import localise
        names = [m.name for m in pkgutil.walk_packages(localise.__path__, "localise.")
                 if not m.name.endswith("__main__") and not m.name.startswith("localise.review")]
        for name in names:
            importlib.import_module(name)
        print(len(names))
        """
    )
    done = run(core_env, "-c", script)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) > 30  # the walk really covered the package


def test_version_without_optional_packages(core_env: dict[str, str]) -> None:
    import localise

    done = run(core_env, "-m", "localise", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"localise {localise.__version__}"


def test_inspect_and_check_work_without_optional_packages(core_env: dict[str, str], tmp_path: Path) -> None:
    done = run(core_env, "-m", "localise", "inspect", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    assert "cues: 22" in done.stdout

    report, html = tmp_path / "r.json", tmp_path / "r.html"
    done = run(
        core_env, "-m", "localise", "check", str(CALIBRATION / "contract-bride-01.en.srt"),
        "--source", str(CALIBRATION / "contract-bride-01.zh.srt"),
        "--glossary", str(CALIBRATION / "contract-bride.glossary.csv"),
        "--report", str(report), "--html", str(html),
    )
    assert done.returncode in (0, 1), done.stderr  # 1: a flag at --fail-on; both mean the check ran
    assert "Traceback" not in done.stderr
    assert report.stat().st_size > 0 and "<html" in html.read_text(encoding="utf-8").lower()


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["translate", str(SAMPLE), "--to", "en"], "mt"),
        (["translate", str(SAMPLE), "--to", "en", "--engine", "ctranslate2"], "ct2"),
        (["models", "tiny", "never-written"], "mt"),
        (["review", "token", "list", "--db", "sqlite:///never-written.db"], "review"),
        (["serve"], "flows"),
        (["storage", "verify", "s3://bucket/prefix"], "s3"),
    ],
)
def test_a_command_without_its_extra_fails_at_once_with_advice(
    core_env: dict[str, str], tmp_path: Path, args: list[str], extra: str
) -> None:
    done = run(core_env, "-m", "localise", *args, cwd=tmp_path)
    assert done.returncode == 2  # one exit status and wording for every command (cli.main)
    assert f"localise[{extra}]" in done.stderr and "localise: error:" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing read or written before the refusal


def test_require_and_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert available("json") and not available("no_such_module_here")
    monkeypatch.setitem(MODULES, "mt", ("json",))
    require("mt")  # every module of the extra is there: no error
    monkeypatch.setitem(MODULES, "llm", ("no_such_module_here",))
    with pytest.raises(MissingExtraError, match=r"the llm engine needs the 'llm' extra; install 'localise\[llm\]'"):
        require("llm", "the llm engine")
    advice = advice_for(ModuleNotFoundError("No module named 'prefect'", name="prefect.client"))
    assert advice is not None and advice.extra == "flows"
    assert advice_for(ModuleNotFoundError("No module named 'nope'", name="nope")) is None
    again = pickle.loads(pickle.dumps(MissingExtraError("s3", "boto3", "an s3:// store")))
    assert str(again) == str(MissingExtraError("s3", "boto3", "an s3:// store"))
