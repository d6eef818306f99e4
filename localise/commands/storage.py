"""`localise storage` — check a published store: every manifest names objects that exist with its
checksums, nothing under an episode is outside its manifest; sweep what interrupted runs left."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

storage_app = typer.Typer(help="Published storage: verify manifests against objects, sweep leftovers.",
                          no_args_is_help=True)


@storage_app.command("verify")
def verify(
    url: Annotated[str, typer.Argument(metavar="STORE", help="Folder or s3://bucket/prefix the flows publish to.")],
    series: Annotated[Optional[str], typer.Option("--series", help="Only this series.")] = None,
    checksums: Annotated[
        bool, typer.Option("--checksums/--no-checksums", help="Download objects to compare checksums.")
    ] = True,
    tidy: Annotated[
        bool, typer.Option("--tidy", help="Sweep objects publishing made that no manifest names (under each "
                                          "episode's lease), then verify again.")
    ] = False,
) -> None:
    """One line per problem; exit 0 when the store is consistent, 1 when not, 2 on bad input."""
    from localise.errors import LocaliseError
    from localise.storage import open_store, tidy_episode, verify_store

    if url.startswith("s3://"):  # said before anything is listed, as every command says a missing extra
        from localise.extras import require

        require("s3", "an s3:// store")
    try:
        if "://" not in url and not Path(url).is_dir():  # a typo must not read as a healthy, empty store
            raise LocaliseError(f"{url}: no such folder")
        store = open_store(url)
        problems = verify_store(store, series, checksums=checksums)
        if tidy and problems:
            episodes = {tuple(p.key.split("/")[:2]) for p in problems if p.kind == "unlisted"
                        and p.key.count("/") >= 2}
            swept = sum(len(tidy_episode(store, s, e, wait=30)) for s, e in sorted(episodes))
            typer.echo(f"swept {swept} object(s)")
            problems = verify_store(store, series, checksums=checksums)
    except (LocaliseError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for problem in problems:
        typer.echo(str(problem))
    typer.echo(f"{len(problems)} problem(s) in {store.url}" if problems else f"{store.url}: consistent")
    raise typer.Exit(1 if problems else 0)


def register(app: typer.Typer) -> None:
    """Add this module's command group to the app."""
    app.add_typer(storage_app, name="storage")
