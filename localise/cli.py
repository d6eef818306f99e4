"""The `localise` command line. Each command lives in ``localise/commands/<name>.py`` and
registers itself on the app; this file only puts them together, so commands stay small and
importing the CLI stays cheap (heavy libraries are imported inside the command bodies)."""

from __future__ import annotations

import typer

from localise.commands import check, inspect, models, review, serve, storage, translate

app = typer.Typer(
    name="localise",
    help="Localise subtitle tracks: same cues, same timings, same styling — only the words change.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for command_module in (inspect, translate, check, models, serve, review, storage):
    command_module.register(app)


def main() -> None:
    """Entry point of the `localise` script and of `python -m localise`.

    Commands report the errors they expect themselves; this is the last line of defence, so that
    bad input or an unusable file or database is one clear line and exit status 2, never a traceback."""
    import sys

    from localise.errors import LocaliseError

    try:
        app()
    except (LocaliseError, OSError) as exc:
        print(f"localise: error: {exc}", file=sys.stderr)
        sys.exit(2)
