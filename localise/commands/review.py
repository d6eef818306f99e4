"""`localise review` — the review web app, XLIFF and TMX round trips, and moving reviewed lines
between the review store and published storage.

    localise review serve [--host 127.0.0.1] [--port 8000]
    localise review export [--out FILE] [--xliff-version 2.0|1.2] [--track SERIES/EPISODE/LANG | --series --language --flag]
    localise review import FILE...
    localise review ingest REPORT... --series S --episode E      (a pipeline report, e.g. OUT/ep1.en.report.json)
    localise review ingest-published --storage URL --series S --episode E
    localise review apply --storage URL --series S --episode E    (republish with reviewed lines)
    localise review tm-export --series S --from zh [--to en] [--out FILE] / tm-import FILE [--series S]
    localise review token add NAME --role reviewer|operator|admin --series S [--series S2 | --all-series] [--expires 30d]
    localise review token list / revoke ID|KEY|NAME / rotate ID|KEY|NAME

The database is ``--db`` or ``$LOCALISE_REVIEW_DB_URL`` (a SQLite file by default, any SQLAlchemy URL).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

EXIT_ERROR = 1

review_app = typer.Typer(help="Review flagged lines: web queue, XLIFF, translation memory, republish.",
                         no_args_is_help=True)

DbOption = Annotated[Optional[str], typer.Option("--db", help="Review database URL (default $LOCALISE_REVIEW_DB_URL "
                                                 "or sqlite:///localise-review.db).")]


@review_app.callback()
def _needs_review_extra() -> None:
    """Every review command uses the review store (SQLAlchemy); say so before anything runs."""
    from localise.extras import require

    require("review", "the review store (every review command)")


def _fail(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"error: {message}", style="red", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_ERROR)


def _said(path: Path, exc: Exception) -> str:
    """An input file's problem as ``queue.xlf: no such file or directory``, not Python's
    ``[Errno 2] No such file or directory: 'queue.xlf'``; a :class:`LocaliseError` already names it."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{path}: {exc.strerror.lower()}"
    return str(exc)


def _store(db: str | None):
    from localise.review.app.settings import ReviewSettings
    from localise.review.store import ReviewStore

    return ReviewStore(db or ReviewSettings().db_url)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


@review_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (keep 127.0.0.1 unless behind a proxy).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    db: DbOption = None,
    glossaries: Annotated[Optional[Path], typer.Option(help="Folder of <series>.csv glossaries.")] = None,
    storage: Annotated[Optional[str], typer.Option(help="Published storage: folder or s3://bucket/prefix.")] = None,
) -> None:
    """Serve the review queue and the JSON API. Tokens are the review database's (`localise review
    token add`) and, as a bootstrap, $LOCALISE_REVIEW_TOKENS (name:token,..., admin on every series);
    without any, a one-off admin token is made and printed."""
    import secrets

    import uvicorn

    from localise.errors import LocaliseError
    from localise.review.app import create_app
    from localise.review.app.settings import ReviewSettings

    overrides = {k: v for k, v in {"db_url": db, "glossary_dir": glossaries, "storage_url": storage}.items() if v}
    try:
        settings = ReviewSettings(**overrides)
        store = _store(settings.db_url)
        if not settings.tokens and not store.accounts.has_active_tokens():
            token = secrets.token_urlsafe(24)
            settings.tokens = {token: "admin"}
            typer.echo("no access tokens (localise review token add) and no LOCALISE_REVIEW_TOKENS; "
                       f"log in with this one-off admin token: {token}", err=True)
        app = create_app(settings, store=store)
    except (LocaliseError, ValueError) as exc:
        _fail(str(exc))
    uvicorn.run(app, host=host, port=port, log_level="info")


@review_app.command("export")
def export(
    out: Annotated[Optional[Path], typer.Option("--out", help="Output file (default: standard output).")] = None,
    xliff_version: Annotated[str, typer.Option("--xliff-version", help="2.0 or 1.2.")] = "2.0",
    track: Annotated[Optional[str], typer.Option(help="Export every cue of SERIES/EPISODE/LANG.")] = None,
    series: Annotated[Optional[str], typer.Option(help="Queue filter: series.")] = None,
    language: Annotated[Optional[str], typer.Option(help="Queue filter: target language.")] = None,
    flag: Annotated[Optional[str], typer.Option(help="Queue filter: flag code.")] = None,
    state: Annotated[str, typer.Option(help="Queue filter: open, approved, edited, rejected or all.")] = "open",
    db: DbOption = None,
) -> None:
    """Export a track, or the (filtered) review queue, as XLIFF for a CAT tool."""
    from localise.errors import LocaliseError
    from localise.review.xliff import export_queue, export_track

    try:
        store = _store(db)
        if track:
            parts = track.split("/")
            if len(parts) != 3:
                _fail(f"--track wants SERIES/EPISODE/LANG, got {track!r}")
            text = export_track(store, *parts, version=xliff_version)
        else:
            text = export_queue(store, version=xliff_version, series=series, language=language, flag=flag,
                                state=None if state == "all" else state)
    except LocaliseError as exc:
        _fail(str(exc))
    _write(text, out)


@review_app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="XLIFF 2.0 or 1.2 files from a CAT tool.")],
    reviewer: Annotated[Optional[str], typer.Option(help="Name recorded as the reviewer.")] = None,
    db: DbOption = None,
) -> None:
    """Import translators' XLIFF files. Each file is checked whole first: unknown ids or changed
    source text refuse the file and change nothing."""
    from localise.errors import LocaliseError
    from localise.review.xliff import import_xliff

    store = _store(db)
    failed = False
    for path in files:
        try:
            result = import_xliff(store, path.read_bytes(), name=str(path), reviewer=reviewer)
        except (LocaliseError, OSError) as exc:
            typer.echo(f"error: {_said(path, exc)}", err=True)
            failed = True
            continue
        typer.echo(f"{path}: {result['edited']} edited, {result['approved']} approved")
    if failed:
        raise typer.Exit(EXIT_ERROR)


@review_app.command("ingest")
def ingest(
    reports: Annotated[list[Path], typer.Argument(metavar="REPORT", help="Pipeline reports (*.report.json).")],
    series: Annotated[str, typer.Option(help="Series the episode belongs to.")],
    episode: Annotated[Optional[str], typer.Option(help="Episode (default: the report's file stem).")] = None,
    source_lang: Annotated[str, typer.Option("--from", help="Source language.")] = "zh",
    db: DbOption = None,
) -> None:
    """Put the flagged lines of pipeline reports into the review queue."""
    from localise.errors import LocaliseError

    store = _store(db)
    for path in reports:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            ep = episode or path.name.split(".")[0]
            fmt = Path(str(report.get("source") or "")).suffix.lstrip(".") or None
            result = store.ingest_report(report, series=series, episode=ep, src_lang=source_lang, format=fmt)
        except OSError as exc:
            _fail(_said(path, exc))
        except (LocaliseError, ValueError) as exc:
            _fail(f"{path}: {exc}")
        typer.echo(f"{path}: {result.added} new, {result.updated} refreshed, {result.kept} reviewed lines kept")


@review_app.command("ingest-published")
def ingest_published_cmd(
    storage: Annotated[str, typer.Option(help="Published storage: folder or s3://bucket/prefix.")],
    series: Annotated[str, typer.Option(help="Series name, as published (e.g. tingyu-teahouse).")],
    episode: Annotated[str, typer.Option(help="Episode name, as published (e.g. ep01).")],
    db: DbOption = None,
) -> None:
    """Put the flagged lines of an episode's published (or held) tracks into the review queue."""
    from localise.errors import LocaliseError
    from localise.review.sync import ingest_published
    from localise.storage import open_store

    try:
        results = ingest_published(_store(db), open_store(storage), series, episode)
    except LocaliseError as exc:
        _fail(str(exc))
    for lang, r in results.items():
        typer.echo(f"{series}/{episode}/{lang}: {r.added} new, {r.updated} refreshed, {r.kept} reviewed lines kept")


@review_app.command("apply")
def apply(
    storage: Annotated[str, typer.Option(help="Published storage: folder or s3://bucket/prefix.")],
    series: Annotated[str, typer.Option(help="Series name, as published (e.g. tingyu-teahouse).")],
    episode: Annotated[str, typer.Option(help="Episode name, as published (e.g. ep01).")],
    db: DbOption = None,
) -> None:
    """Republish an episode with its reviewed lines (a new manifest version), without Prefect.
    The `apply-review` flow does the same under Prefect."""
    from localise.errors import LocaliseError
    from localise.review.sync import apply_review
    from localise.storage import open_store

    try:
        from localise.config import load_settings

        limits = load_settings(None).limits.input_limits()  # $LOCALISE_CONFIG / LOCALISE_LIMITS__*
        result = apply_review(_store(db), open_store(storage), series, episode, limits=limits)
    except LocaliseError as exc:
        _fail(str(exc))
    what = "unchanged" if result.unchanged else f"published manifest version {result.version}"
    typer.echo(f"{series}/{episode}: {what}")


@review_app.command("tm-export")
def tm_export(
    series: Annotated[Optional[str], typer.Option(help="Series (default: every series).")] = None,
    source_lang: Annotated[str, typer.Option("--from", help="Source language.")] = "zh",
    target_lang: Annotated[Optional[str], typer.Option("--to", help="Target language (default: all).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Output file (default: standard output).")] = None,
    db: DbOption = None,
) -> None:
    """Export the translation memory as TMX 1.4."""
    memory = _store(db).memory
    _write(memory.export_tmx(source_lang, target_lang, series=series, all_series=series is None), out)


@review_app.command("tm-import")
def tm_import(
    file: Annotated[Path, typer.Argument(help="TMX file.")],
    series: Annotated[Optional[str], typer.Option(help="Series for units without an x-series property.")] = None,
    db: DbOption = None,
) -> None:
    """Import a TMX file into the translation memory (DTD-declared entities are refused)."""
    from localise.errors import LocaliseError

    try:
        count = _store(db).memory.import_tmx(file.read_bytes(), series=series, name=str(file))
    except (LocaliseError, OSError) as exc:
        _fail(_said(file, exc))
    typer.echo(f"{file}: {count} entries")


token_app = typer.Typer(help="Access tokens: a role (reviewer, operator, admin) and the series it may touch.",
                        no_args_is_help=True)
review_app.add_typer(token_app, name="token")


def _audit_cli(store, command: str, **detail) -> None:
    """Token changes made on the command line go into the audit log too (actor ``cli:<user>``)."""
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    store.accounts.record(principal=None, actor=f"cli:{user}", method="CLI", path=f"review token {command}",
                          status=0, client=None, detail=detail)


def _expiry(text: str | None):
    """``30d``, ``12h``, ``90m`` or an ISO date/time (UTC when no zone is given) -> aware datetime."""
    import re
    from datetime import datetime, timedelta, timezone

    if not text:
        return None
    match = re.fullmatch(r"(\d{1,6})([dhm])", text.strip())
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
        return datetime.now(timezone.utc) + timedelta(**{unit: int(match.group(1))})
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--expires wants 30d, 12h, 90m or an ISO date, got {text!r}")
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@token_app.command("add")
def token_add(
    name: Annotated[str, typer.Argument(help="Who the token is for (recorded on every decision).")],
    role: Annotated[str, typer.Option(help="reviewer, operator or admin.")] = "reviewer",
    series: Annotated[Optional[list[str]], typer.Option("--series", help="A series the token may touch (repeat).")] = None,
    all_series: Annotated[bool, typer.Option("--all-series", help="Every series.")] = False,
    expires: Annotated[Optional[str], typer.Option(help="Expiry: 30d, 12h, 90m or an ISO date (default: none).")] = None,
    db: DbOption = None,
) -> None:
    """Create a token; its secret is printed once, on standard output, and never stored."""
    from localise.errors import LocaliseError

    if not series and not all_series:
        _fail("name the series the token may touch (--series S, repeatable) or give --all-series")
    store = _store(db)
    try:
        token, info = store.accounts.add_token(name, role, ["*"] if all_series else series or [],
                                               expires_at=_expiry(expires), created_by="cli")
    except LocaliseError as exc:
        _fail(str(exc))
    _audit_cli(store, "add", token=info.id, name=info.name, role=info.role, series=info.series)
    typer.echo(f"token {info.id} ({info.key_id}) for {info.name}: {info.role} on {', '.join(info.series)}"
               f"{'; expires ' + info.expires_at.isoformat() if info.expires_at else ''}. "
               "The secret below is shown once; keep it now.", err=True)
    typer.echo(token)


@token_app.command("list")
def token_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    db: DbOption = None,
) -> None:
    """Every token (never the secrets): id, key id, name, role, series, created, expires, status."""
    tokens = _store(db).accounts.tokens()
    if as_json:
        for info in tokens:
            typer.echo(json.dumps(info.to_dict()))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "key", "name", "role", "series", "created", "expires", "status")
    for column in table.columns:
        column.no_wrap = column.header in ("id", "key", "role", "status")
    for info in tokens:
        table.add_row(str(info.id), info.key_id, info.name, info.role, ",".join(info.series),
                      info.created_at.strftime("%Y-%m-%d %H:%M"),
                      info.expires_at.strftime("%Y-%m-%d %H:%M") if info.expires_at else "-", info.status)
    Console(markup=False, highlight=False).print(table)


@token_app.command("revoke")
def token_revoke(
    which: Annotated[str, typer.Argument(help="Token id, key id, or name (every active token of that name).")],
    db: DbOption = None,
) -> None:
    """Revoke tokens; their login sessions end at once."""
    from localise.errors import LocaliseError

    store = _store(db)
    try:
        revoked = store.accounts.revoke(which)
    except LocaliseError as exc:
        _fail(str(exc))
    _audit_cli(store, "revoke", tokens=[info.id for info in revoked])
    for info in revoked:
        typer.echo(f"revoked token {info.id} ({info.key_id}) of {info.name}")


@token_app.command("rotate")
def token_rotate(
    which: Annotated[str, typer.Argument(help="Token id, key id, or name (one active token).")],
    expires: Annotated[Optional[str], typer.Option(help="Expiry of the new token (default: the old one's).")] = None,
    db: DbOption = None,
) -> None:
    """Replace a token's secret (same name, role, series); the old token and its sessions end."""
    from localise.errors import LocaliseError

    store = _store(db)
    try:
        token, info = store.accounts.rotate(which, expires_at=_expiry(expires), created_by="cli")
    except LocaliseError as exc:
        _fail(str(exc))
    _audit_cli(store, "rotate", which=which, token=info.id)
    typer.echo(f"token {info.id} ({info.key_id}) for {info.name} replaces the old one. "
               "The secret below is shown once; keep it now.", err=True)
    typer.echo(token)


def register(app: typer.Typer) -> None:
    """Add `localise review ...` to the app."""
    app.add_typer(review_app, name="review")
