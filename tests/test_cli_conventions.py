"""What a new user expects of the command line: `--version`, help that names real types and
defaults, plain progress lines where stderr is no terminal, a one-line summary at the end of
`translate`, a quick and helpful refusal of a Hub model id without a network, and a benchmark whose
flow pass runs the engine with the pipeline pass's settings."""

from __future__ import annotations

import json
import re
import socket
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

import localise
from localise.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "tingyu-teahouse" / "ep01.srt"
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    return runner.invoke(app, list(args), env=env)


def test_version_is_the_package_version() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in pyproject["project"]["dynamic"]  # one source: localise.__version__
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "localise.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", localise.__version__)
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == f"localise {localise.__version__}"


def _all_commands(group, path=()):  # type: ignore[no-untyped-def]
    yield path
    for name, sub in getattr(group, "commands", {}).items():
        yield from _all_commands(sub, (*path, name))


def test_help_names_types_and_defaults_not_placeholders() -> None:
    """Every command's options: no ``<bool>`` beside a flag, no ``<str>``/``<path>``/``<int>``
    (arguments: ``tests/test_cli_newuser.py``)."""
    paths = list(_all_commands(typer.main.get_command(app)))
    assert len(paths) > 20
    for path in paths:
        result = invoke(*path, "--help", env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        options = [line for line in result.output.splitlines() if re.search(r"│\s+(\*\s+)?--", line)]
        assert any("--help" in line for line in options), result.output
        for line in options:
            for placeholder in ("<bool>", "<str>", "<path>", "<int>", "<float>"):
                assert placeholder not in line, (path, line)


def test_translate_help_says_what_to_and_from_default_to() -> None:
    from localise.config import Settings

    result = invoke("translate", "--help", env={"COLUMNS": "200"})
    to_line = next(line for line in result.output.splitlines() if "--to" in line)
    assert "LANG[,LANG...]" in to_line
    defaults = re.findall(r"\[default: \(([^)]*)\)\]", result.output)
    fields = Settings.model_fields
    assert defaults[:2] == [",".join(fields["targets"].default_factory()), fields["source_language"].default]


def test_translate_ends_with_a_summary_and_logs_plain_progress(tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "out"
    result = invoke("translate", str(SAMPLE), "--to", "en,es", "--model", str(tiny_model), "--out", str(out))
    assert result.exit_code == 0, result.output
    # stderr is no terminal here: one plain line per step, no bar redraws or escape codes
    assert "[2/2] wrote ep01.es.srt" in result.output
    assert "━" not in result.output and "\x1b[" not in result.output
    need = {p: sum(c["need_review"] for c in json.loads(p.read_text(encoding="utf-8"))["cues"])
            for p in out.glob("*.report.json")}
    total = sum(need.values())
    last = result.output.strip().splitlines()[-1]
    if total:
        worst = max(need, key=lambda p: need[p])
        html = worst.with_name(worst.name.replace(".report.json", ".report.html"))
        assert last == f"2 tracks, {total} {'line needs' if total == 1 else 'lines need'} review: {html}"
        assert html.exists()
    else:
        assert last == f"2 tracks, no line needs review: reports in {out}"


def test_summary_line_counts_lines_that_need_review(tmp_path: Path) -> None:
    from localise.commands.translate import summary_line

    def report(name: str, flags: list[bool]) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"cues": [{"need_review": f} for f in flags]}), encoding="utf-8")
        return path

    written = [tmp_path / "a.en.srt", report("a.en.report.json", [True, False, True]), tmp_path / "a.en.report.html",
               tmp_path / "a.es.srt", report("a.es.report.json", [False, True, True, True]), tmp_path / "a.es.report.html"]
    assert summary_line(written, tmp_path) == f"2 tracks, 5 lines need review: {tmp_path / 'a.es.report.html'}"
    written = [tmp_path / "b.en.srt", report("b.en.report.json", [False]), tmp_path / "b.en.report.html"]
    assert summary_line(written, tmp_path) == f"1 track, no line needs review: reports in {tmp_path}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hub_probe_sees_a_listening_server_and_a_closed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from localise.engines import hf

    for name in ("https_proxy", "http_proxy", "all_proxy", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        monkeypatch.setattr(hf, "_HUB_REACHABLE", {})
        assert hf.hub_reachable() is True
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    assert hf.hub_reachable() is False
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")  # behind a proxy: the hub client decides
    assert hf.hub_reachable() is True


def test_hub_model_without_a_network_names_the_ways_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Not offline by setting (HF_HUB_OFFLINE unset), but the Hub cannot be reached: refused at
    once by the probe, not after the hub client's retries, and the message says what to do."""
    from localise.engines import hf

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for name in ("https_proxy", "http_proxy", "all_proxy", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setattr(hf, "_HUB_REACHABLE", {})
    result = invoke("translate", str(SAMPLE), "--to", "en", "--model", "localise-test/never-cached",
                    "--out", str(tmp_path / "out"))
    assert result.exit_code != 0
    assert "localise-test/never-cached" in result.output
    assert "cannot be reached" in result.output
    assert "local model folder" in result.output and "make tiny-model" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_benchmark_flow_pass_runs_the_pipeline_engine_settings(tmp_path: Path) -> None:
    """The flow pass's settings file carries every engine option of the pipeline pass (batch
    budget, threads, dtype, lengths), not just engine, model and device."""
    from benchmarks.run import flow_config
    from localise.config import load_settings
    from localise.pipeline import LocaliseOptions

    engine_options = {"device": "cpu", "compute_type": "int8", "threads": 3, "min_new_tokens": 9,
                      "max_new_tokens": 9, "max_tokens": 2048}
    options = LocaliseOptions(src="zh", engine="ctranslate2", model=str(tmp_path / "ct2"), engine_options=engine_options)
    path = flow_config(options, SimpleNamespace(glossary_path=None), tmp_path / "pass1")
    flow_options = load_settings(path).options()
    assert (flow_options.engine, flow_options.model) == ("ctranslate2", str(tmp_path / "ct2"))
    assert flow_options.engine_options == engine_options
