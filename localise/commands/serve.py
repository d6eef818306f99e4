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

    Registers with the Prefect server that $PREFECT_API_URL names (e.g. `prefect server start`:
    http://127.0.0.1:4200/api); without it, Prefect starts a temporary server on a random port that
    lives only as long as this command and that other shells cannot reach.
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
    except Exception as exc:  # noqa: BLE001 - only a Prefect API that cannot be reached is said here
        message = prefect_unreachable(exc)
        if message is None:
            raise
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None


def prefect_unreachable(exc: BaseException) -> str | None:
    """One line for a Prefect API that cannot be reached, instead of a hundred lines of httpx
    traceback; ``None`` for any other error. Two cases: ``PREFECT_API_URL`` names a server that
    does not answer, or (no ``PREFECT_API_URL``) the temporary server Prefect starts did not come
    up in time, as on a busy machine."""
    import httpx

    if isinstance(exc, httpx.TransportError):
        url = os.environ.get("PREFECT_API_URL") or _configured_api_url() or "(PREFECT_API_URL)"
        return (f"cannot reach the Prefect API at {url}: {exc}. Start a server (`prefect server start`) and set "
                "PREFECT_API_URL to its /api address, or unset PREFECT_API_URL to run a temporary one here "
                "(see infra/README.md)")
    if isinstance(exc, RuntimeError) and "ephemeral Prefect API server" in str(exc):
        return ("the temporary Prefect server `localise serve` starts when PREFECT_API_URL is not set did not "
                "answer in time. Start one with `prefect server start` and set "
                "PREFECT_API_URL=http://127.0.0.1:4200/api, or give it longer with "
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (default 20)")
    return None


def _configured_api_url() -> str | None:
    """The API URL from Prefect's own settings (profile, ``.env``), where the environment names none."""
    try:
        from prefect.settings import PREFECT_API_URL

        return PREFECT_API_URL.value()
    except Exception:  # noqa: BLE001 - only used to word a message
        return None


def register(app: typer.Typer) -> None:
    """Add `localise serve` to the app."""
    app.command("serve")(serve)
