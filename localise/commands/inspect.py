"""`localise inspect FILE...` — what a subtitle file holds: format, encoding, cues, duration,
warnings and reading speed (characters per second, markup and whitespace not counted)."""

from __future__ import annotations

from pathlib import Path
from statistics import median

import typer

from localise.errors import ParseError
from localise.model import Track


def reading_speeds(track: Track) -> list[tuple[int, float]]:
    """``(cue position, characters per second)`` for each cue with a positive duration."""
    from localise.formats.markup import strip_markup

    speeds = []
    for i, cue in enumerate(track.cues):
        if cue.duration_ms > 0:
            chars = sum(1 for ch in strip_markup(cue.text, track.format) if not ch.isspace())
            speeds.append((i, chars * 1000 / cue.duration_ms))
    return speeds


def describe(track: Track, worst: int = 3) -> list[str]:
    """The report lines for one track."""
    total = max((c.end_ms for c in track.cues), default=0) - min((c.start_ms for c in track.cues), default=0)
    lines = [
        f"format: {track.format}",
        f"encoding: {track.encoding}",
        f"cues: {len(track.cues)}",
        f"duration: {total / 1000:.3f} s",
    ]
    speeds = reading_speeds(track)
    if speeds:
        lines.append(f"cps median: {median(s for _, s in speeds):.1f}")
        for i, cps in sorted(speeds, key=lambda x: -x[1])[:worst]:
            lines.append(f"cps worst: cue {i + 1} {cps:.1f} {track.cues[i].text[:40]!r}")
    lines.append(f"warnings: {len(track.warnings)}")
    lines.extend(f"  {w}" for w in track.warnings)
    return lines


def _limits(config: Path | None):  # type: ignore[no-untyped-def]
    """The input size limits of the settings (file, ``LOCALISE_*``), or exit 1 naming the problem."""
    from localise.config import load_settings
    from localise.errors import ConfigError

    try:
        return load_settings(config).limits.input_limits()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    """Add ``inspect`` to the app."""

    @app.command("inspect")
    def inspect(
        files: list[Path] = typer.Argument(..., help="subtitle files (SRT, WebVTT, ASS/SSA)"),
        config: Path | None = typer.Option(None, "--config", help="Settings file (TOML) for the input size limits; also $LOCALISE_CONFIG."),
    ) -> None:
        """Print format, encoding, cue count, total duration, warnings and reading speed of each file.

        Files over the input size limits (settings ``[limits]``) are refused before they are read."""
        from localise.io import read_track

        limits = _limits(config)
        failed = False
        for path in files:
            try:
                track = read_track(path, limits=limits)
            except ParseError as exc:
                typer.echo(f"error: {exc}", err=True)
                failed = True
                continue
            typer.echo(str(path))
            for line in describe(track):
                typer.echo(f"  {line}")
        if failed:
            raise typer.Exit(1)
