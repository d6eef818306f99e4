"""The `localise` command line. Each command lives in ``localise/commands/<name>.py`` and
registers itself on the app; this file only puts them together, so commands stay small and
importing the CLI stays cheap (heavy libraries are imported inside the command bodies)."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperGroup

from localise.commands import check, inspect, models, review, serve, storage, translate

#: What ``--help`` shows for a value whose option names no metavar, instead of typer's ``<str>``.
_VALUE_NAMES = {"<str>": "TEXT", "<path>": "PATH", "<int>": "INTEGER", "<float>": "FLOAT",
                "<list[str]>": "TEXT", "<list[Path]>": "PATH", "<int range>": "INTEGER", "<float range>": "FLOAT"}


def _reflow(text: str | None) -> str | None:
    """A docstring as help: each paragraph one line (the terminal wraps it; typer's rich mode would
    keep the source's line breaks and wrap again, leaving ragged lines), and square brackets
    escaped, so ``[limits]`` is shown, not taken for rich markup and dropped; a docstring's
    double backticks shown as single ones. A paragraph that
    starts with ``\\b`` keeps its lines (click's convention)."""
    if not text:
        return text
    import inspect

    from rich.markup import escape

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else escape(" ".join(line.strip() for line in p.splitlines()))
                       .replace("``", "`") for p in paragraphs)


def _tidy_argument(param, ctx) -> None:  # type: ignore[no-untyped-def]
    """An argument named as users read it (``FILES PATH...``, not ``files <list[Path]>``)."""
    shown = param.display_type_rich(ctx) if hasattr(param, "display_type_rich") else None
    many = param.nargs != 1
    if param.metavar is None:
        param.metavar = param.name.upper()  # typer adds the "..." of a list in the usage line
    if shown in _VALUE_NAMES:
        value = _VALUE_NAMES[shown] + ("..." if many else "")
        param.display_type_rich = lambda ctx, value=value: value  # this instance only


def _tidy_help(command, ctx=None) -> None:  # type: ignore[no-untyped-def]
    """Help that names values the way users read them: no ``<bool>`` beside an on/off flag, and
    ``TEXT``/``PATH``/``INTEGER`` instead of ``<str>``/``<path>``/``<int>`` where an option has no
    metavar of its own (options that know better, like ``--to LANG[,LANG...]``, say so themselves);
    arguments in capitals with the same value names; help text reflowed (:func:`_reflow`)."""
    if getattr(command, "_localise_tidied", False):  # escaping twice would show the backslashes
        return
    command._localise_tidied = True
    ctx = command.context_class(command, parent=ctx)  # typer's own (vendored) click classes
    command.help = _reflow(command.help)
    for param in command.get_params(ctx):  # --help included
        if getattr(param, "help", None):
            param.help = _reflow(param.help)
        kind = getattr(param, "param_type_name", "")
        if kind == "argument":
            _tidy_argument(param, ctx)
            continue
        if kind != "option" or param.metavar is not None:
            continue
        if param.is_flag:
            param.metavar = ""
        else:
            shown = param.display_type_rich(ctx) if hasattr(param, "display_type_rich") else None
            if shown in _VALUE_NAMES:
                param.metavar = _VALUE_NAMES[shown]
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub, ctx)


class _TidyHelpGroup(TyperGroup):
    """The root command group; typer builds it with every subcommand already in place."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        _tidy_help(self)


app = typer.Typer(
    name="localise",
    cls=_TidyHelpGroup,
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
