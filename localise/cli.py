"""The `localise` command line. Each command lives in ``localise/commands/<name>.py`` and
registers itself on the app; this file only puts them together, so commands stay small and
importing the CLI stays cheap (heavy libraries are imported inside the command bodies)."""

from __future__ import annotations

from typing import Annotated

import typer

from localise.commands import check, inspect, models, review, serve, storage, translate

app = typer.Typer(
    name="localise",
    help="Localise subtitle tracks: same cues, same timings, same styling — only the words change.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



def _version(value: bool) -> None:
    if value:
        from localise import __version__

        typer.echo(f"localise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Localise subtitle tracks: same cues, same timings, same styling — only the words change."""


for command_module in (inspect, translate, check, models, serve, review, storage):
    command_module.register(app)


def main() -> None:
    """Entry point of the `localise` script and of `python -m localise`.

    Commands report the errors they expect themselves; this is the last line of defence, so that
    bad input or an unusable file or database is one clear line and exit status 2, never a traceback."""
    import sys

    from localise.errors import LocaliseError
    from localise.extras import advice_for

    try:
        app()
    except (LocaliseError, OSError) as exc:
        print(f"localise: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except ImportError as exc:  # an optional package nobody guarded: name its extra
        advice = advice_for(exc)
        if advice is None:
            raise
        print(f"localise: error: {advice}", file=sys.stderr)
        sys.exit(2)
