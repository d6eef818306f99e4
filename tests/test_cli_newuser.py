"""Frictions met by a new user following the README (round 22), each pinned where behaviour
changed: help that shows what the docstring says (``[limits]`` was taken for rich markup and
dropped; paragraphs were broken at the source's line ends), arguments named like options
(``FILES PATH...``, not ``files <list[Path]>``); `check` refusing an unusable ``--report``/``--html``
before it runs and saying what reading its inputs repaired; `localise serve` saying in one line
that the Prefect API cannot be reached instead of a hundred-line traceback; a model folder of the
other engine's kind named as such."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from localise.cli import app

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

SOURCE = ("1\n00:00:01,000 --> 00:00:02,000\n你好。\n\n"
          "4\n00:00:03,000 --> 00:00:04,000\n我们走吧。\n")  # index 4 after 1: a repair, cue kept
TRANSLATION = ("1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n"
               "2\n00:00:03,000 --> 00:00:04,000\nLet's go.\n\n"
               "3\n00:00:05,0\n")  # cut short: a cue left out, reported as lost input


def invoke(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    return runner.invoke(app, [str(a) for a in args], env=env)


def _all_commands(group, path=()):  # type: ignore[no-untyped-def]
    yield path
    for name, sub in getattr(group, "commands", {}).items():
        yield from _all_commands(sub, (*path, name))


# ------------------------------------------------------------------ help


def test_help_keeps_square_brackets_and_joins_paragraph_lines() -> None:
    inspect_help = invoke("inspect", "--help", env={"COLUMNS": "250"}).output
    assert "[limits]" in inspect_help and "``" not in inspect_help
    translate_help = invoke("translate", "--help", env={"COLUMNS": "250"}).output
    # one paragraph of the docstring, written over three source lines, is one line on a wide terminal
    assert ("Writes OUT/<stem>.<lang>.<ext> for each input and language, with OUT/<stem>.<lang>.report.json "
            "and .report.html beside it.") in translate_help


def test_help_names_arguments_and_values_without_typer_placeholders() -> None:
    paths = list(_all_commands(typer.main.get_command(app)))
    for path in paths:
        result = invoke(*path, "--help", env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        for placeholder in ("<list[", "<str>", "<path>", "<int>", "<int range>", "<float>", "<bool>"):
            assert placeholder not in result.output, (path, placeholder, result.output)
        usage = next(line for line in result.output.splitlines() if "Usage:" in line)
        assert not re.search(r"\{[a-z_]+\}", usage), usage  # {files} -> {FILES}
    inspect_help = invoke("inspect", "--help", env={"COLUMNS": "200"}).output
    assert "{FILES}..." in inspect_help and re.search(r"FILES\s+PATH\.\.\.", inspect_help)
    serve_help = invoke("serve", "--help", env={"COLUMNS": "200"}).output
    assert re.search(r"--limit\s+INTEGER \[x>=1\]", serve_help)


def test_reflow_keeps_click_no_rewrap_paragraphs() -> None:
    from localise.cli import _reflow

    text = "First line\ngoes on.\n\n\bkept\nas is\n\nsee [limits] and ``x``"
    assert _reflow(text) == "First line goes on.\n\n\bkept\nas is\n\nsee \\[limits] and `x`"


# ------------------------------------------------------------------ check


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "ep01.srt"
    source.write_text(SOURCE, encoding="utf-8")
    translation = tmp_path / "ep01.en.srt"
    translation.write_text(TRANSLATION, encoding="utf-8")
    return source, translation


@pytest.mark.parametrize("option", ["--report", "--html"])
@pytest.mark.parametrize("where", ["folder", "under-file"])
def test_check_refuses_an_unusable_report_path_before_it_runs(
        pair: tuple[Path, Path], tmp_path: Path, option: str, where: str) -> None:
    source, translation = pair
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file\n", encoding="utf-8")
    target = {"folder": tmp_path, "under-file": blocker / "r.out"}[where]
    result = invoke("check", translation, "--source", source, option, target)
    assert result.exit_code == 2, result.output
    assert f"({option}) {target}" in result.output
    assert "cues need review" not in result.output  # refused before the check ran
    assert "Errno" not in result.output


def test_check_says_what_reading_its_files_repaired_and_lists_it_in_the_report(
        pair: tuple[Path, Path], tmp_path: Path) -> None:
    source, translation = pair
    report = tmp_path / "out" / "r.json"
    result = invoke("check", translation, "--source", source, "--report", report, "--reference", translation)
    assert result.exit_code in (0, 1), result.output
    assert re.search(rf"warning: {re.escape(str(translation))}:\d+: bad-timing", result.output)
    assert re.search(rf"warning: {re.escape(str(source))}:\d+: index-sequence \(cue 2\)", result.output)
    track = json.loads(report.read_text(encoding="utf-8"))["track"]
    assert [w["code"] for w in track["parse_warnings"]] == ["index-sequence"]  # the source's, as in translate
    assert track["parse_warnings"][0]["cue"] == 2 and track["parse_warnings"][0]["lost"] is False
    lost = track["translation_parse_warnings"]
    assert [w["code"] for w in lost] == ["bad-timing"] and lost[0]["lost"] is True and lost[0]["line"]
    assert track["reference_parse_warnings"] == lost


def test_check_html_report_shows_the_parse_warnings_escaped(pair: tuple[Path, Path], tmp_path: Path) -> None:
    source, translation = pair
    translation.write_text(TRANSLATION.replace("3\n00:00:05,0\n", "3\n00:00:05,0 <script>x</script>\n"), encoding="utf-8")
    html = tmp_path / "r.html"
    result = invoke("check", translation, "--source", source, "--html", html)
    assert result.exit_code in (0, 1), result.output
    page = html.read_text(encoding="utf-8")
    assert "Reading the source: what was repaired or could not be read (1)" in page
    assert "Reading the translation: what was repaired or could not be read (1)" in page
    assert re.search(r"line \d+, cue 2: index-sequence", page)
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_check_of_clean_files_lists_no_parse_warnings(tmp_path: Path) -> None:
    source = tmp_path / "ep01.srt"
    source.write_text(SOURCE.replace("\n4\n", "\n2\n"), encoding="utf-8")
    translation = tmp_path / "ep01.en.srt"
    translation.write_text(TRANSLATION.split("\n3\n")[0], encoding="utf-8")
    report = tmp_path / "r.json"
    result = invoke("check", translation, "--source", source, "--report", report)
    assert "warning:" not in result.output
    track = json.loads(report.read_text(encoding="utf-8"))["track"]
    assert track["parse_warnings"] == [] and track["translation_parse_warnings"] == []
    assert "reference_parse_warnings" not in track
    from localise.quality.report import render_html

    assert "Reading the" not in render_html(json.loads(report.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ serve


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_says_in_one_line_that_the_prefect_api_cannot_be_reached(tmp_path: Path) -> None:
    pytest.importorskip("prefect")
    url = f"http://127.0.0.1:{_closed_port()}/api"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_API_URL": url, "PREFECT_HOME": str(tmp_path / "prefect"),
           "DO_NOT_TRACK": "1"}
    done = subprocess.run([sys.executable, "-m", "localise", "serve", "--to", "en", "--storage", str(tmp_path / "pub")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"error: cannot reach the Prefect API at {url}" in " ".join(done.stderr.split())


def test_prefect_unreachable_words_only_connection_failures() -> None:
    httpx = pytest.importorskip("httpx")
    from localise.commands.serve import prefect_unreachable

    said = prefect_unreachable(RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server."))
    assert said is not None and "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in said
    assert "cannot reach the Prefect API" in (prefect_unreachable(httpx.ConnectError("refused")) or "")
    assert prefect_unreachable(RuntimeError("something else")) is None
    assert prefect_unreachable(ValueError("bad")) is None


# ------------------------------------------------------------------ model folders


def _ct2_like(folder: Path) -> Path:
    """The files `ctranslate2` writes: model.bin and a config.json without transformers' model_type."""
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\0" * 16)
    (folder / "config.json").write_text(json.dumps({"add_source_bos": False, "unk_token": "<unk>"}), encoding="utf-8")
    return folder


def test_a_folder_of_the_wrong_kind_is_named_before_transformers_reads_it(tmp_path: Path) -> None:
    from localise.engines.hf import not_a_transformers_folder

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no config.json" in not_a_transformers_folder(empty)[0]
    assert "--engine ctranslate2" in not_a_transformers_folder(_ct2_like(tmp_path / "ct2"))[1]
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text(json.dumps({"model_type": "marian"}), encoding="utf-8")
    assert not_a_transformers_folder(hf) is None
    (hf / "model.bin").write_bytes(b"")  # an old transformers folder may hold one too: model_type decides
    assert not_a_transformers_folder(hf) is None


def test_translate_with_a_ctranslate2_folder_and_the_default_engine_says_add_the_engine(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    source = tmp_path / "ep01.srt"
    source.write_text(SOURCE, encoding="utf-8")
    result = invoke("translate", source, "--to", "en", "--model", _ct2_like(tmp_path / "ct2"), "--out", tmp_path / "out",
                    "--no-cache")
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert "holds a CTranslate2 model (model.bin). Add --engine ctranslate2" in said
    assert "Download it while online" not in said and "model_type" not in said


def test_translate_with_a_transformers_folder_and_the_ctranslate2_engine_says_leave_it_out(
        tmp_path: Path, tiny_model: Path) -> None:
    pytest.importorskip("ctranslate2")
    source = tmp_path / "ep01.srt"
    source.write_text(SOURCE, encoding="utf-8")
    result = invoke("translate", source, "--to", "en", "--model", tiny_model, "--engine", "ctranslate2",
                    "--out", tmp_path / "out", "--no-cache")
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert "It holds a transformers model: leave out --engine ctranslate2" in said


def test_translate_progress_counts_one_track_in_the_singular(tmp_path: Path, tiny_model: Path) -> None:
    source = tmp_path / "ep01.srt"
    source.write_text(SOURCE, encoding="utf-8")
    result = invoke("translate", source, "--to", "en", "--model", tiny_model, "--out", tmp_path / "out", "--no-cache")
    assert result.exit_code == 0, result.output
    assert re.search(r"translating \d+ units? of 1 track into en", result.output), result.output


# ------------------------------------------------------------------ review inputs


@pytest.mark.parametrize("command", [("import",), ("tm-import",), ("ingest", "--series", "tingyu-teahouse")])
def test_review_input_that_is_missing_is_said_with_its_name_not_an_errno(tmp_path: Path, command: tuple) -> None:
    pytest.importorskip("sqlalchemy")
    missing = tmp_path / "queue.xlf"
    result = invoke("review", command[0], missing, *command[1:], "--db", f"sqlite:///{tmp_path / 'review.db'}")
    assert result.exit_code == 1, result.output
    assert f"error: {missing}: no such file or directory" in " ".join(result.output.split())
    assert "Errno" not in result.output


def test_review_commands_that_name_an_episode_say_what_the_options_mean() -> None:
    for command in ("apply", "ingest-published"):
        shown = " ".join(invoke("review", command, "--help", env={"COLUMNS": "200"}).output.split())
        assert "Series name, as published" in shown and "Episode name, as published" in shown


# ------------------------------------------------------------------ settings


def test_a_bad_setting_from_the_environment_names_the_variable_not_its_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from localise.config import load_settings
    from localise.errors import ConfigError

    monkeypatch.setenv("LOCALISE_LIMITS__MAX_CUES", "abc-secret")
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    monkeypatch.delenv("LOCALISE_LIMITS__MAX_CUES")
    assert "limits.max_cues" in str(info.value) and "(from $LOCALISE_LIMITS__MAX_CUES)" in str(info.value)
    assert "abc-secret" not in str(info.value)
    config = tmp_path / "bad.toml"
    config.write_text('[limits]\nmax_cues = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert str(info.value).startswith(f"{config}: invalid settings: limits.max_cues") and "(from $" not in str(info.value)
