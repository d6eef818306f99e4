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
        Optional[str], typer.Option("--engine", metavar="transformers|ctranslate2", help="Translation engine.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("."),
    fmt: Annotated[
        Optional[str], typer.Option("--format", metavar="srt|vtt|ass", help="Output format (default: the input's).")
    ] = None,
    config: Annotated[
        Optional[Path], typer.Option("--config", help="Settings file (TOML); also $LOCALISE_CONFIG.")
    ] = None,
) -> None:
    """Translate subtitle tracks into one or more languages: same cues, same timings, only the words change.

    Writes OUT/<stem>.<lang>.<ext> for each input and language, with OUT/<stem>.<lang>.report.json
    and .report.html beside it.
    """
    from rich.console import Console

    from localise.config import load_settings
    from localise.errors import LocaliseError

    err = Console(stderr=True)
    if engine is not None and engine not in ("transformers", "ctranslate2"):
        err.print(f"[red]error:[/red] unknown engine {engine!r}; choose transformers or ctranslate2")
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

        return localise_files(inputs, settings.targets, out, settings.options(), fmt=fmt, progress=progress)


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to the app."""
    app.command("translate")(translate)
