"""`localise translate` — subtitle files in, one localised track and two reports per language out.

A thin shell over :func:`localise.pipeline.localise_files`: it reads settings, shows a progress
bar and turns typed errors into a message and a non-zero exit status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

EXIT_ERROR = 1
EXIT_USAGE = 2  # a folder the command cannot use, as cli.main says for unusable files
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


def translate(
    inputs: Annotated[list[Path], typer.Argument(metavar="INPUT", help="Subtitle files (SRT, WebVTT, ASS/SSA).")],
    to: Annotated[
        Optional[str],
        typer.Option("--to", metavar="LANG[,LANG...]", show_default="en",
                     help="Target languages (BCP 47), comma-separated, e.g. en,es,pt-BR."),
    ] = None,
    source_lang: Annotated[
        Optional[str], typer.Option("--from", metavar="LANG", show_default="zh", help="Source language.")
    ] = None,
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
    llm_summary: Annotated[
        bool,
        typer.Option("--llm-summary", help="openai engine: give each later episode a running summary of the earlier "
                     "ones (inputs in episode order; setting llm_summary)."),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse a file with any input that cannot be read as cues (e.g. a malformed timing line)."),
    ] = False,
    cache_dir: Annotated[
        Optional[Path],
        typer.Option("--cache-dir", help="Where finished files and engine calls are kept for resuming "
                     "(default OUT/.localise-cache)."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither reuse nor keep finished work: translate everything.")
    ] = False,
) -> None:
    """Translate subtitle tracks into one or more languages: same cues, same timings, only the words change.

    Writes OUT/<stem>.<lang>.<ext> for each input and language, with OUT/<stem>.<lang>.report.json
    and .report.html beside it. What reading an input repaired or could not read (a cue with a
    malformed timing line is left out) is printed with its line and listed in the reports;
    --strict refuses such a file instead.

    Finished work is kept in a cache folder (OUT/.localise-cache, or --cache-dir) as each file is
    done: after Ctrl-C or a crash the same command resumes, and an identical rerun reuses every
    finished file and engine call. --no-cache ignores the cache.
    """
    from rich.console import Console

    from localise.config import load_settings
    from localise.errors import LocaliseError
    from localise.extras import MissingExtraError

    err = Console(stderr=True)
    try:
        _check_folder(out, "output folder (--out)")
        if cache_dir is not None and not no_cache:
            _check_folder(cache_dir, "cache folder (--cache-dir)")
    except LocaliseError as exc:
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
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
            llm_summary=llm_summary or None,
            strict_input=strict or None,
        )
        _check_languages(settings)
        from localise.extras import require_engine

        require_engine(settings.engine)
        cache = None if no_cache else _open_cache(cache_dir, out)
        try:
            written = _run(inputs, settings, out, fmt, cache)
        except KeyboardInterrupt:
            _say_interrupted(err, cache)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        finally:
            if cache is not None:
                cache.close()
    except MissingExtraError:  # one wording and exit status for every command: cli.main says it
        raise
    except (LocaliseError, OSError) as exc:  # bad input, settings, model; an unwritable output folder
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
    typer.echo(summary_line(written, out))


def summary_line(written: list[Path], out: Path) -> str:
    """What the run did, in one line: ``6 tracks, 14 lines need review: out/ep02.en.report.html``
    (the report with the most such lines; each report lists its own), or ``6 tracks, no line needs
    review: reports in out``."""
    import json

    from localise.pipeline import llm_requests_failed

    need: dict[Path, int] = {}
    failed = 0
    for path in written:
        if path.name.endswith(".report.json"):
            report = json.loads(path.read_text(encoding="utf-8"))
            need[path] = sum(bool(cue.get("need_review")) for cue in report.get("cues", []))
            failed += llm_requests_failed(report)
    tracks = sum(not p.name.endswith((".report.json", ".report.html")) for p in written)
    total = sum(need.values())
    noun = "track" if tracks == 1 else "tracks"
    # the LLM server not answering is said in the last line, not only in a log line above it
    outage = (f" ({failed} LLM request{'s' if failed != 1 else ''} got no answer from the server: those lines"
              " were translated by the fallback engine and flagged engine-fallback; run again to ask again)"
              if failed else "")
    if total == 0:
        return f"{tracks} {noun}, no line needs review: reports in {out}{outage}"
    worst = max(need, key=lambda p: need[p])
    html = worst.with_name(worst.name.removesuffix(".report.json") + ".report.html")
    lines = "line needs" if total == 1 else "lines need"
    return f"{tracks} {noun}, {total} {lines} review: {html}{outage}"


def _check_languages(settings) -> None:  # type: ignore[no-untyped-def]
    """Refuse language codes that are not BCP 47 tags before anything is read or written: they
    become part of output file names (``--to 'x/../../y'`` must never name a path)."""
    from localise.langtags import check_language, check_languages

    check_language(settings.source_language, "source language")
    seen: dict[str, str] = {}
    for tag in check_languages(settings.targets):
        key = _tag_key(tag)
        if key in seen:
            from localise.errors import ConfigError

            same = "twice" if seen[key] == tag else f"twice ({seen[key]!r} and {tag!r} are the same language)"
            raise ConfigError(f"target language {tag!r} is given {same}: name each language once")
        seen[key] = tag


def _tag_key(tag: str) -> str:
    """A tag as compared for duplicates: case, ``_`` and deprecated codes do not make another
    language (``en``/``EN``, ``pt-BR``/``pt_br``, ``iw``/``he``)."""
    text = tag.replace("_", "-").lower()
    try:
        import langcodes

        return langcodes.standardize_tag(text).lower()
    except (ImportError, ValueError, LookupError):
        return text


def _check_folder(folder: Path, what: str) -> None:
    """Refuse a folder the run could not write, before anything is read or written
    (:func:`localise.outputs.check_writable_folder`)."""
    from localise.outputs import check_writable_folder

    check_writable_folder(folder, what)


def _open_cache(cache_dir: Path | None, out: Path):  # type: ignore[no-untyped-def]
    """The resume cache (:class:`localise.resume.RunCache`): ``--cache-dir`` or OUT/.localise-cache."""
    from localise.resume import RunCache, default_cache_dir

    return RunCache(cache_dir if cache_dir is not None else default_cache_dir(out))


def _say_interrupted(err, cache) -> None:  # type: ignore[no-untyped-def]
    """After Ctrl-C: nothing was written to OUT; say what was kept for the next run."""
    if cache is None:
        err.print("interrupted: nothing written (--no-cache: the next run starts again)")
        return
    from rich.markup import escape

    kept = cache.files.stored
    err.print(f"interrupted: nothing written; {kept} finished file(s) kept in {escape(str(cache.folder))} "
              "- run the same command again to resume", highlight=False, soft_wrap=True)


def _run(inputs: list[Path], settings, out: Path, fmt: str | None, cache=None) -> list[Path]:  # type: ignore[no-untyped-def]
    """Run the pipeline under a rich progress bar on a terminal, or with one plain line per step
    where stderr is a log or a pipe (a bar's redraws make noise there). Both on stderr, so stdout
    stays clean."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from localise.pipeline import localise_files

    err = Console(stderr=True)

    def resumed_on(console: Console):  # type: ignore[no-untyped-def]
        def resumed(done: int, total: int) -> None:
            if done and cache is not None:
                console.print(f"{done} of {total} files already done (from {cache.folder})",
                              highlight=False, soft_wrap=True, markup=False)
        return resumed

    if not err.is_terminal:
        def plain(done: int, total: int, message: str) -> None:
            err.print(f"[{done}/{total}] {message}", markup=False, highlight=False, soft_wrap=True)

        return localise_files(
            inputs, settings.targets, out, settings.options(), fmt=fmt, progress=plain,
            **_input_checks(settings, err), cache=cache, on_resume=resumed_on(err),
        )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task("reading inputs", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        return localise_files(
            inputs, settings.targets, out, settings.options(), fmt=fmt, progress=progress,
            **_input_checks(settings, bar.console), cache=cache, on_resume=resumed_on(bar.console),
        )


#: Warnings printed per file beyond those that lost input (all of which are printed).
SHOWN_REPAIRS = 10


def print_parse_warnings(console, path: Path, track) -> None:  # type: ignore[no-untyped-def]
    """What reading ``path`` repaired or could not read, on ``console`` (stderr), as
    ``warning: FILE:LINE: code (cue N): message``: every place that lost input, and the first
    :data:`SHOWN_REPAIRS` repairs (the reports list them all)."""
    from rich.markup import escape

    from localise.formats.base import LOST_INPUT_CODES

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


def _input_checks(settings, console) -> dict:  # type: ignore[no-untyped-def]
    """``localise_files``' reading arguments: the settings' size limits, ``--strict`` (the setting
    ``strict_input``), and parse warnings printed on ``console`` (stderr) as
    ``warning: FILE:LINE: code: message``."""

    def show(path: Path, track) -> None:  # type: ignore[no-untyped-def]
        print_parse_warnings(console, path, track)

    return {"limits": settings.limits.input_limits(), "strict": settings.strict_input, "on_warnings": show}


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to the app."""
    app.command("translate")(translate)
