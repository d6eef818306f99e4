"""`localise check` — run the quality checks on a translation made anywhere (another tool, a vendor).

A thin shell over :mod:`localise.quality`: read the tracks, align the source (and reference) to
the translation by time, check, print the flagged cues, write the same JSON report as
``localise translate``. Exit status: 0 clean enough, 1 a cue reached ``--fail-on``, 2 bad input.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

EXIT_GATE = 1
EXIT_BAD_INPUT = 2
_SEVERITIES = ("minor", "major", "critical")
_LANG_SUFFIX = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,4})?$")


def language_from_name(path: Path) -> str | None:
    """``ep01.es.srt`` -> ``es``; ``ep01.pt-BR.vtt`` -> ``pt-BR``; ``None`` when the name says nothing."""
    parts = path.name.split(".")
    if len(parts) >= 3 and _LANG_SUFFIX.match(parts[-2]):
        return parts[-2]
    return None


def check(
    translation: Annotated[Path, typer.Argument(metavar="TRANSLATION", help="The translated track to check.")],
    source: Annotated[Path, typer.Option("--source", help="The source track it was translated from.")],
    reference: Annotated[
        Optional[Path], typer.Option("--reference", help="A reference translation: adds BLEU, chrF, chrF++, TER.")
    ] = None,
    glossary: Annotated[Optional[Path], typer.Option("--glossary", help="Term glossary (CSV or TBX).")] = None,
    to: Annotated[
        Optional[str], typer.Option("--to", help="Target language (default: from the file name, e.g. ep01.es.srt).")
    ] = None,
    source_lang: Annotated[str, typer.Option("--from", help="Source language.")] = "zh",
    report: Annotated[Optional[Path], typer.Option("--report", help="Write the JSON report here.")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write the HTML report here.")] = None,
    fail_on: Annotated[
        str, typer.Option("--fail-on", metavar="minor|major|critical", help="Exit 1 when any cue has a flag this severe.")
    ] = "critical",
    config: Annotated[
        Optional[Path], typer.Option("--config", help="Settings file (TOML) for the input size limits; also $LOCALISE_CONFIG.")
    ] = None,
) -> None:
    """Check a translated subtitle track against its source: flags per cue with reasons, a score per cue and track.

    Cues are aligned by time, so the translation may be cut differently from the source.
    Exit status 1 when any cue carries a flag of --fail-on severity or worse, 0 otherwise, 2 on bad input.
    """
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True)

    def fail(message: str) -> None:
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT)

    if fail_on not in _SEVERITIES:
        fail(f"--fail-on {fail_on!r}: choose one of {', '.join(_SEVERITIES)}")
    tgt_lang = to or language_from_name(translation)
    if not tgt_lang:
        fail(f"{translation}: cannot tell the target language from the file name; pass --to LANG")
    assert tgt_lang is not None
    from localise.errors import ConfigError
    from localise.langtags import check_language

    try:  # a typo (klingon, x/../y) must not turn every check off and pass the gate
        tgt_lang = check_language(tgt_lang, "target language (--to)")
        source_lang = check_language(source_lang, "source language (--from)")
    except ConfigError as exc:
        fail(str(exc))
    if tgt_lang.split("-")[0].lower() == source_lang.split("-")[0].lower():
        fail(f"target language {tgt_lang!r} is the source language; pass --to (and --from)")

    from localise.config import load_settings
    from localise.errors import LocaliseError
    from localise.outputs import check_writable_file

    try:  # an unusable --report/--html is said before the check runs, naming the option
        if report is not None:
            check_writable_file(report, "JSON report (--report)")
        if html is not None:
            check_writable_file(html, "HTML report (--html)")
    except LocaliseError as exc:
        fail(str(exc))
    try:
        limits = load_settings(config).limits.input_limits()
        result = run_check(translation, source, reference=reference, glossary=glossary,
                           src_lang=source_lang, tgt_lang=tgt_lang, limits=limits,
                           on_warnings=lambda path, track: _print_warnings(err, path, track))
    except (LocaliseError, OSError) as exc:
        fail(str(exc) if isinstance(exc, LocaliseError) else f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        return
    report_dict, flags = result

    from localise.quality.checks import reaches
    from localise.quality.report import render_html, write_report_json

    print_report(report_dict, Console())
    if report is not None:
        write_report_json(report_dict, report)
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(report_dict), encoding="utf-8")
    if reaches(flags, fail_on):
        raise typer.Exit(EXIT_GATE)


def _print_warnings(console, path: Path, track) -> None:  # type: ignore[no-untyped-def]
    from localise.commands.translate import print_parse_warnings

    print_parse_warnings(console, path, track)


def run_check(translation: Path, source: Path, *, reference: Path | None, glossary: Path | None,
              src_lang: str, tgt_lang: str, limits=None, on_warnings=None):  # type: ignore[no-untyped-def]
    """Read (within ``limits``, the settings' input size limits), align, check and build the
    report; returns (report, flags per cue). ``on_warnings(path, track)`` is called for each file
    whose reading repaired or left out something; the report lists those of the source under
    ``track.parse_warnings`` (as ``translate``'s reports do), those of the translation under
    ``track.translation_parse_warnings`` and, with a reference, ``track.reference_parse_warnings``."""
    from localise.io import read_track
    from localise.pipeline import parse_warnings_field
    from localise.quality.checks import align_by_time, check_track
    from localise.quality.report import build_report

    def read(path: Path):  # type: ignore[no-untyped-def]
        track = read_track(path, limits=limits)
        if track.warnings and on_warnings is not None:
            on_warnings(path, track)
        return track

    target_track = read(translation)
    source_track = read(source)
    reference_track = read(reference) if reference is not None else None
    terms = None
    if glossary is not None:
        from localise.glossary import Glossary

        terms = Glossary.load(glossary)
    aligned = align_by_time(source_track, target_track)
    findings: list[dict] = []
    flags = check_track(aligned, target_track, src_lang=src_lang, tgt_lang=tgt_lang, glossary=terms, findings=findings)
    signature = {"checked": str(translation), "glossary": getattr(terms, "version", None) if terms else None}
    report = build_report(aligned, target_track, flags, target_language=tgt_lang, src_lang=src_lang,
                          reference=reference_track, signature=signature, track_findings=findings,
                          timing_source=source_track)
    section = report.setdefault("track", {})
    section["parse_warnings"] = parse_warnings_field(source_track)
    section["translation_parse_warnings"] = parse_warnings_field(target_track)
    if reference_track is not None:
        section["reference_parse_warnings"] = parse_warnings_field(reference_track)
    return report, flags


def print_report(report: dict, console) -> None:  # type: ignore[no-untyped-def]
    """A table of the flagged cues, then the track's figures."""
    from rich.markup import escape
    from rich.table import Table

    colour = {"minor": "yellow", "major": "dark_orange", "critical": "red"}
    summary = report["summary"]
    flagged = [c for c in report["cues"] if c["flags"]]
    if flagged:
        table = Table(title=f"{len(flagged)} flagged cues", show_lines=True)
        for name in ("#", "source", "translation", "flags", "score"):
            table.add_column(name, overflow="fold")
        for c in flagged:
            flags = "\n".join(f"[{colour[f['severity']]}]{f['code']}[/] {escape(f['reason'])}" for f in c["flags"])
            table.add_row(str(c["index"]), escape(c["source"]), escape(c["translation"]), flags, f"{c['score']:.2f}")
        console.print(table)
    track = report.get("track") or {}
    for finding in track.get("source_findings", []) + track.get("findings", []):
        console.print(f"[{colour[finding['severity']]}]{finding['code']}[/] {escape(finding['reason'])}", highlight=False)
    if track.get("checks_unavailable"):
        console.print("checks that could not run for this pair: " + ", ".join(track["checks_unavailable"]), highlight=False)
    by_code = ", ".join(f"{k} {v}" for k, v in summary["by_code"].items()) or "none"
    console.print(
        f"{summary['need_review_cues']} of {summary['cues']} cues need review ({100 * summary['need_review_share']:.1f} %, "
        f"{summary['review_severity']} or worse); {summary['flagged_cues']} flagged "
        f"({100 * summary['flagged_share']:.1f} %); mean score {summary['mean_score']:.3f}; flags by code: {by_code}",
        highlight=False)
    ref = summary.get("reference")
    if ref:
        for name in ("bleu", "chrf", "chrf++", "ter"):
            console.print(f"{name:6} {ref[name]['score']:7.2f}  {ref[name]['signature']}", highlight=False)
    if summary.get("unaligned_source_cues"):
        console.print(f"source cues overlapping no translated cue: {summary['unaligned_source_cues']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to the app."""
    app.command("check")(check)
