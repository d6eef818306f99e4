"""`localise review ...` commands through typer's runner on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.review.review_data import EPISODE, make_report
from typer.testing import CliRunner

from localise.cli import app
from localise.review import ReviewStore

runner = CliRunner()


def test_ingest_export_import_and_tm(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    report = tmp_path / "ep01.en.report.json"
    report.write_text(json.dumps(make_report(EPISODE)), encoding="utf-8")
    result = runner.invoke(app, ["review", "ingest", str(report), "--series", "dragon", "--db", db])
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output

    xlf = tmp_path / "queue.xlf"
    result = runner.invoke(app, ["review", "export", "--out", str(xlf), "--xliff-version", "1.2", "--db", db])
    assert result.exit_code == 0, result.output
    xlf.write_text(xlf.read_text(encoding="utf-8").replace(">I am Lin.<", ">I am President Lin.<"), encoding="utf-8")
    result = runner.invoke(app, ["review", "import", str(xlf), "--reviewer", "ann", "--db", db])
    assert result.exit_code == 0 and "1 edited, 0 approved" in result.output
    assert ReviewStore(db).reviewed_lines("dragon", "ep01", "en") == {1: "I am President Lin."}

    track = runner.invoke(app, ["review", "export", "--track", "dragon/ep01/en", "--db", db])
    assert track.exit_code == 0 and track.output.count("<unit ") == len(EPISODE)

    tmx = tmp_path / "tm.tmx"
    assert runner.invoke(app, ["review", "tm-export", "--series", "dragon", "--out", str(tmx), "--db", db]).exit_code == 0
    other = f"sqlite:///{tmp_path / 'other.db'}"
    result = runner.invoke(app, ["review", "tm-import", str(tmx), "--db", other])
    assert result.exit_code == 0 and "1 entries" in result.output


def test_bad_files_fail_with_a_message(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    bad = tmp_path / "bad.xlf"
    bad.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', encoding="utf-8")
    result = runner.invoke(app, ["review", "import", str(bad), "--db", db])
    assert result.exit_code == 1 and "refused" in result.output
    result = runner.invoke(app, ["review", "export", "--track", "no/such", "--db", db])
    assert result.exit_code == 1 and "SERIES/EPISODE/LANG" in result.output
    result = runner.invoke(app, ["review", "apply", "--storage", str(tmp_path / "none"), "--series", "s",
                                 "--episode", "e", "--db", db])
    assert result.exit_code == 1 and "nothing published" in result.output


def test_token_add_list_rotate_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    added = runner.invoke(app, ["review", "token", "add", "rita", "--role", "reviewer", "--series", "dragon",
                                "--series", "tiger", "--expires", "30d", "--db", db])
    assert added.exit_code == 0, added.output
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("lrt_")
    store = ReviewStore(db)
    principal = store.accounts.verify(secret)
    assert (principal.name, principal.role, principal.series) == ("rita", "reviewer", frozenset({"dragon", "tiger"}))

    listed = runner.invoke(app, ["review", "token", "list", "--json", "--db", db])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["name"], r["role"], r["series"], r["status"]) for r in rows] == [
        ("rita", "reviewer", ["dragon", "tiger"], "active")]
    assert rows[0]["expires_at"] and secret.split("_", 2)[2] not in listed.stdout  # the secret may hold "_"

    rotated = runner.invoke(app, ["review", "token", "rotate", "rita", "--db", db])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip().splitlines()[-1]
    assert store.accounts.verify(secret) is None and store.accounts.verify(new).name == "rita"

    revoked = runner.invoke(app, ["review", "token", "revoke", "rita", "--db", db])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert store.accounts.verify(new) is None
    assert runner.invoke(app, ["review", "token", "revoke", "rita", "--db", db]).exit_code == 1

    admin = runner.invoke(app, ["review", "token", "add", "ada", "--role", "admin", "--all-series", "--db", db])
    assert admin.exit_code == 0 and store.accounts.verify(admin.stdout.strip().splitlines()[-1]).all_series
    assert [e["path"] for e in reversed(store.accounts.events())] == [
        "review token add", "review token rotate", "review token revoke", "review token add"]


def test_token_add_refuses_bad_input(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    for args, message in ((["x"], "--series"), (["x", "--role", "root", "--series", "s"], "unknown role"),
                          (["x", "--series", "../s"], "invalid series"),
                          (["x", "--series", "s", "--expires", "soon"], "--expires")):
        result = runner.invoke(app, ["review", "token", "add", *args, "--db", db])
        assert result.exit_code == 1 and message in result.output, result.output
