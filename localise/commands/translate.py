"""`localise translate` — subtitle files in, one localised track and two reports per language out.

A thin shell over :func:`localise.pipeline.localise_files`: it reads settings, shows a progress
bar and turns typed errors into a message and a non-zero exit status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

EXIT_ERROR = 1


def translate(
    inputs: Annotated[list[Path], typer.Argument(metavar="INPUT", help="Subtitle files (SRT, WebVTT, ASS/SSA).")],
    to: Annotated[
        Optional[str], typer.Option("--to", help="Target languages, comma-separated, e.g. en,es,pt.")
    ] = None,
    source_lang: Annotated[Optional[str], typer.Option("--from", help="Source language (default zh).")] = None,
    glossary: Annotated[
        Optional[Path], typer.Option("--glossary", help="Term glossary: multi-column CSV or TBX.")
    ] = None,
    model: Annotated[
        Optional[str], typer.Option("--model", metavar="ID|PATH", help="Model for every pair: Hub id or local folder.")
    ] = None,
    engine: Annotated[
        Optional[str], typer.Option("--engine", metavar="transformers|ctranslate2|openai",
                                      help="Translation engine (openai: any OpenAI-compatible LLM server; see llm_* settings).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("."),
    fmt: Annotated[
        Optional[str], typer.Option("--format", metavar="srt|vtt|ass", help="Output format (default: the input's).")
    ] = None,
    config: Annotated[
        Optional[Path], typer.Option("--config", help="Settings file (TOML); also $LOCALISE_CONFIG.")
    ] = None,
    refine: Annotated[
        Optional[str], typer.Option("--refine", metavar="flagged|off",
                                    help="Send lines flagged major or worse back to the LLM (llm_* settings) and re-check them.")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse a file with any input that cannot be read as cues (e.g. a malformed timing line)."),
    ] = False,
) -> None:
    """Translate subtitle tracks into one or more languages: same cues, same timings, only the words change.

    Writes OUT/<stem>.<lang>.<ext> for each input and language, with OUT/<stem>.<lang>.report.json
    and .report.html beside it. What reading an input repaired or could not read (a cue with a
    malformed timing line is left out) is printed with its line and listed in the reports;
    --strict refuses such a file instead.
    """
    from rich.console import Console

    from localise.config import load_settings
    from localise.errors import LocaliseError

    err = Console(stderr=True)
    if engine is not None and engine not in ("transformers", "ctranslate2", "openai"):
        err.print(f"[red]error:[/red] unknown engine {engine!r}; choose transformers, ctranslate2 or openai")
        raise typer.Exit(EXIT_ERROR)
    if refine is not None and refine not in ("flagged", "off"):
        err.print(f"[red]error:[/red] unknown --refine {refine!r}; choose flagged or off")
        raise typer.Exit(EXIT_ERROR)
    if fmt is not None and fmt not in ("srt", "vtt", "ass"):
        err.print(f"[red]error:[/red] unknown format {fmt!r}; choose srt, vtt or ass")
        raise typer.Exit(EXIT_ERROR)
    try:
        settings = load_settings(
            config,
            targets=to,
            source_language=source_lang,
            glossary=glossary,
            model=model,
            engine=engine,
            refine=refine,
            strict_input=strict or None,
        )
        _check_languages(settings)
        written = _run(inputs, settings, out, fmt)
    except (LocaliseError, OSError) as exc:  # bad input, settings, model; an unwritable output folder
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
    tracks = [p for p in written if not p.name.endswith((".report.json", ".report.html"))]
    Console().print(f"wrote {len(tracks)} tracks and {len(written) - len(tracks)} reports to {out}")


def _check_languages(settings) -> None:  # type: ignore[no-untyped-def]
    """Refuse language codes that are not BCP 47 tags before anything is read or written: they
    become part of output file names (``--to 'x/../../y'`` must never name a path)."""
    from localise.langtags import check_language, check_languages

    check_language(settings.source_language, "source language")
    check_languages(settings.targets)


def _run(inputs: list[Path], settings, out: Path, fmt: str | None) -> list[Path]:  # type: ignore[no-untyped-def]
    """Run the pipeline under a rich progress bar (on stderr, so stdout stays clean)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from localise.pipeline import localise_files

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task("reading inputs", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        return localise_files(
            inputs, settings.targets, out, settings.options(), fmt=fmt, progress=progress,
            **_input_checks(settings, bar.console),
        )


#: Warnings printed per file beyond those that lost input (all of which are printed).
SHOWN_REPAIRS = 10


def _input_checks(settings, console) -> dict:  # type: ignore[no-untyped-def]
    """``localise_files``' reading arguments: the settings' size limits, ``--strict`` (the setting
    ``strict_input``), and parse warnings printed on ``console`` (stderr) as
    ``warning: FILE:LINE: code: message``."""
    from rich.markup import escape

    from localise.formats.base import LOST_INPUT_CODES

    def show(path: Path, track) -> None:  # type: ignore[no-untyped-def]
        lost = [w for w in track.warnings if w.code in LOST_INPUT_CODES]
        repairs = [w for w in track.warnings if w.code not in LOST_INPUT_CODES]
        for w in sorted(lost + repairs[:SHOWN_REPAIRS], key=lambda w: w.line or 0):
            where = f"{path}:{w.line}" if w.line is not None else str(path)
            cue = f" (cue {w.cue + 1})" if w.cue is not None else ""
            kind = "[red]warning:[/red]" if w in lost else "[yellow]warning:[/yellow]"
            console.print(f"{kind} {escape(where)}: {w.code}{cue}: {escape(w.message)}", highlight=False, soft_wrap=True)
        if len(repairs) > SHOWN_REPAIRS:
            console.print(f"  ... and {len(repairs) - SHOWN_REPAIRS} more warnings for {escape(str(path))} (all in its reports)",
                          highlight=False, soft_wrap=True)

    return {"limits": settings.limits.input_limits(), "strict": settings.strict_input, "on_warnings": show}


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to the app."""
    app.command("translate")(translate)
