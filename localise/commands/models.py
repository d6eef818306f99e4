"""`localise models` — convert a transformers model for CTranslate2, show routes, build test models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

models_app = typer.Typer(help="Translation models: convert for CTranslate2, show the route for a language pair.", no_args_is_help=True)


@models_app.command("convert")
def convert(
    model: Annotated[str, typer.Argument(help="Hub id (from the local cache when offline) or model folder")],
    out: Annotated[Path, typer.Argument(help="folder to write the CTranslate2 model into")],
    quantization: Annotated[
        Optional[str], typer.Option("--quantization", help="int8 (CPU), float16 (GPU), int8_float16, float32")
    ] = "int8",
    force: Annotated[bool, typer.Option("--force", help="overwrite OUT if it exists")] = False,
) -> None:
    """Convert a transformers seq2seq model into a CTranslate2 folder (tokenizer saved beside it)."""
    from localise.extras import require

    require("ct2", "converting a model")
    require("mt", "converting a model")  # the converter loads the transformers model with torch
    from localise.engines.ct2 import convert_model
    from localise.errors import LocaliseError

    try:
        path = convert_model(model, out, quantization=quantization, force=force)
    except LocaliseError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"converted {model} -> {path} ({quantization or 'as saved'})")


@models_app.command("route")
def route(
    to: Annotated[str, typer.Option("--to", help="target language(s), comma-separated")],
    source: Annotated[str, typer.Option("--from", help="source language")] = "zh",
    model: Annotated[Optional[str], typer.Option("--model", help="one model for every hop")] = None,
) -> None:
    """Show which model(s) translate a pair, pivoting through English where the table says so."""
    from localise.engines.registry import routes
    from localise.errors import LocaliseError

    for tgt in [t.strip() for t in to.split(",") if t.strip()]:
        try:
            hops = routes(source, tgt, model=model)
        except LocaliseError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"{source} -> {tgt}: " + "  then  ".join(f"{h.src}->{h.tgt} {h.model}" for h in hops))


@models_app.command("calibrate")
def calibrate_confidence(
    model: Annotated[str, typer.Argument(help="Hub id (from the local cache when offline) or model folder")],
    sources: Annotated[list[Path], typer.Argument(help="source subtitle files of the calibration split")],
    to: Annotated[str, typer.Option("--to", help="target language(s), comma-separated")] = "en",
    source_lang: Annotated[str, typer.Option("--from", help="source language")] = "zh",
    engine: Annotated[str, typer.Option("--engine", help="transformers or ctranslate2")] = "transformers",
    quantile: Annotated[float, typer.Option("--quantile", help="share of ordinary lines to call low")] = 0.05,
    out: Annotated[Optional[Path], typer.Option("--out", help="calibration file (default: MODEL/localise_confidence.toml)")] = None,
) -> None:
    """Calibrate the low-confidence flag: translate the calibration lines along each pair's route
    and store the QUANTILE of the engine's confidence per pair (pivots included)."""
    import hashlib

    from localise.extras import require_engine

    require_engine(engine)
    from localise.engines.registry import routes, translate_many
    from localise.errors import LocaliseError
    from localise.io import read_track
    from localise.quality.confidence import CALIBRATION_FILE, ConfidenceCalibration, calibrate, to_toml
    from localise.units import build_units

    targets = [t.strip() for t in to.split(",") if t.strip()]
    if out is None:
        if not Path(model).is_dir():
            typer.echo("error: MODEL is not a folder: pass --out FILE for the calibration", err=True)
            raise typer.Exit(2)
        out = Path(model) / CALIBRATION_FILE
    try:
        texts: list[str] = []
        digest = hashlib.sha256()
        for path in sources:
            digest.update(path.read_bytes())
            texts += [u.source for u in build_units(read_track(path)) if u.source.strip()]
        texts = list(dict.fromkeys(texts))
        results = translate_many(texts, source_lang, targets, engine=engine, model=model)
        entries = []
        for tgt in targets:
            threshold, n = calibrate([t.confidence for t in results[tgt]], quantile)
            route = "  then  ".join(f"{h.src}->{h.tgt} {h.model}" for h in routes(source_lang, tgt, model=model))
            entries.append(ConfidenceCalibration(f"{source_lang}-{tgt}", threshold, quantile, n, route,
                                                 f"{len(sources)} file(s), sha256 {digest.hexdigest()[:16]}"))
    except (LocaliseError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    out.write_text(to_toml(entries), encoding="utf-8")
    for e in entries:
        typer.echo(f"{e.pair}: low confidence under {e.threshold} ({e.basis})")
    typer.echo(f"wrote {out}")


@models_app.command("tiny")
def tiny(
    out: Annotated[Path, typer.Argument(help="folder to write the model into")],
    full_size: Annotated[bool, typer.Option("--full-size", help="opus-mt-zh-en architecture, random weights")] = False,
) -> None:
    """Build an offline random-weight MarianMT (noise words, real code paths) for demos and benchmarks."""
    from localise.extras import require

    require("mt", "building a tiny model")
    from localise.devtools.tiny_model import build_random_marian, build_tiny_marian

    path = build_random_marian(out) if full_size else build_tiny_marian(out)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to the app."""
    app.add_typer(models_app, name="models")
