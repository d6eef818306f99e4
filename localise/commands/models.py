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


@models_app.command("tiny")
def tiny(
    out: Annotated[Path, typer.Argument(help="folder to write the model into")],
    full_size: Annotated[bool, typer.Option("--full-size", help="opus-mt-zh-en architecture, random weights")] = False,
) -> None:
    """Build an offline random-weight MarianMT (noise words, real code paths) for demos and benchmarks."""
    from localise.devtools.tiny_model import build_random_marian, build_tiny_marian

    path = build_random_marian(out) if full_size else build_tiny_marian(out)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to the app."""
    app.add_typer(models_app, name="models")
