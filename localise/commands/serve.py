"""`localise serve` — register the localise deployments with Prefect and run them here.

A thin shell over :mod:`flows.deployments`: settings say the targets, the destination
(``storage_url``) and the cron schedule (``schedule``, nightly by default); flags override them.
"""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

EXIT_ERROR = 1


def serve(
    source: Annotated[
        Optional[str], typer.Option("--source", help="Folder or s3://bucket/prefix the nightly batch reads.")
    ] = None,
    series: Annotated[Optional[str], typer.Option("--series", help="Series name (default: the source's last segment).")] = None,
    schedule: Annotated[Optional[str], typer.Option("--schedule", help="Cron for the batch (default: settings, nightly).")] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Target languages, comma-separated.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", metavar="ID|PATH", help="Model for every pair.")] = None,
    storage: Annotated[
        Optional[str], typer.Option("--storage", help="Where tracks are published: folder or s3://bucket/prefix.")
    ] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Most flow runs at once in this process.")] = None,
    config: Annotated[Optional[str], typer.Option("--config", help="Settings file (TOML); also $LOCALISE_CONFIG.")] = None,
) -> None:
    """Serve the deployments localise-batch/nightly, localise-episode/on-demand and apply-review/on-demand.

    Runs until stopped (Ctrl+C). Trigger runs with `prefect deployment run localise-batch/nightly`
    or POST /api/deployments/{id}/create_flow_run (see infra/README.md).
    """
    from rich.console import Console

    from localise.config import load_settings
    from localise.errors import LocaliseError
    from localise.extras import MissingExtraError

    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    err = Console(stderr=True)
    try:
        from localise.extras import require

        require("flows", "serving the deployments")
        settings = load_settings(config, targets=to, model=model, storage_url=storage, schedule=schedule)
        from flows.deployments import serve as serve_deployments

        if source is None:
            err.print("no --source: localise-batch/nightly is served unscheduled (give `source` per run)")
        serve_deployments(settings, source=source, series=series, config=config, limit=limit)
    except MissingExtraError:  # one wording and exit status for every command: cli.main says it
        raise
    except LocaliseError as exc:
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None


def register(app: typer.Typer) -> None:
    """Add `localise serve` to the app."""
    app.command("serve")(serve)
