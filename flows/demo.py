"""``make demo``: the main job on the sample series, on embedded defaults.

    python -m flows.demo [--model PATH] [--out demo-output]

Localises ``samples/tingyu-teahouse`` into English and Spanish with ``localise-batch`` on an
ephemeral local Prefect (state under ``<out>/.prefect``), publishes to a local folder
(``<out>/published``) and prints where every track, manifest and report is. The default model of
each pair is used unless ``--model`` names one model (Hub id or folder) for every pair. The models
are loaded before the flow starts, so a model that cannot be had (no network, empty cache) stops
the demo at once with a message naming it and the way out.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERIES = "tingyu-teahouse"
TARGETS = ["en", "es"]
EXIT_MODEL = 2
STATUS_WORDS = {
    "current": "already published from the same source and settings (nothing to redo)",
    "held": "held for review",
    "partly-held": "partly held for review",
}


def _embedded_prefect(out: Path) -> None:
    """Local, private, quiet Prefect: must run before ``prefect`` is imported."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(out / ".prefect"))
    os.environ.setdefault("LOCALISE_REVIEW_DB_URL", f"sqlite:///{out / 'review.db'}")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def check_models(model: str | None) -> str | None:
    """Load every model the demo needs; the first failure's message, or ``None`` when all load."""
    from localise.engines.registry import get_engine, routes
    from localise.errors import LocaliseError

    seen: set[tuple[str, str, str]] = set()
    for lang in TARGETS:
        for hop in routes("zh", lang, model=model):
            if (hop.src, hop.tgt, hop.model) in seen:
                continue
            seen.add((hop.src, hop.tgt, hop.model))
            print(f"loading {hop.model} ({hop.src} -> {hop.tgt}) ...", flush=True)
            try:
                why = _unreachable(hop.model)
                if why is None:
                    get_engine("transformers", hop.model, src=hop.src, tgt=hop.tgt)
            except LocaliseError as exc:
                why = str(exc)
            if why is not None:
                return (
                    f"The demo needs the model {hop.model!r} for {hop.src} -> {hop.tgt} and cannot load it:\n  {why}\n"
                    "Run it with a model folder you have, used for every pair:\n"
                    "  make demo MODEL=/path/to/model\n"
                    "or, fully offline, with a tiny random model (its words are noise, every line gets flagged):\n"
                    "  make tiny-model && make demo MODEL=demo-output/tiny-model"
                )
    return None


def _unreachable(model: str) -> str | None:
    """Why a Hub model cannot be had right now (not cached and the Hub does not answer), else None.

    Checked up front because the Hub client retries for about a minute before giving up."""
    if Path(model).expanduser().exists() or model.startswith((".", "/", "~")):
        return None
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model, "config.json"), str):
        return None
    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set and the model is not in the local Hugging Face cache"
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=5).close()
    except OSError as exc:
        return f"not in the local Hugging Face cache, and {host} cannot be reached ({exc})"
    return None


def print_summary(summary: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    root = out / "published" / SERIES
    table = Table(title=f"{SERIES}: zh -> {', '.join(TARGETS)}; paths under {_rel(str(root))}/")
    for column in ("episode", "lang", "status", "flagged", "track", "report"):
        table.add_column(column, overflow="fold")
    manifests = []
    for row in summary["episodes"]:
        if row.get("manifest"):
            manifests.append((row["episode"], row["manifest"]))
        if not row["languages"]:
            table.add_row(row["episode"], "", row["status"], "", row.get("error") or "", "")
        for lang, info in row["languages"].items():
            table.add_row(row["episode"], lang, info["status"], f"{info['flagged']}/{info['cues']}",
                          _rel(info["track"], root), _rel(info["report"], root))
    console = Console(width=max(Console().width, 110))
    console.print(table)
    for episode, manifest in manifests:
        console.print(f"manifest {episode}: {_rel(manifest)}")
    totals = {k: v for k, v in summary["totals"].items() if not k.startswith("llm_")}  # LLM tokens: not states
    episodes, uploaded = totals.pop("episodes", 0), totals.pop("uploaded", 0)
    states = ", ".join(f"{n} {STATUS_WORDS.get(status, status)}" for status, n in sorted(totals.items()))
    console.print(f"{episodes} episode(s): {states}; {uploaded} file(s) written this run")
    console.print("flagged lines wait in the review queue:")
    console.print(f"  localise review serve --db {os.environ['LOCALISE_REVIEW_DB_URL']}", soft_wrap=True)
    console.print("held tracks did not pass the quality gate (too many flagged lines); "
                  "they wait for review in <episode>/held/. HTML reports sit beside each JSON report.")


def _rel(path: str, root: Path | None = None) -> str:
    try:
        return str(Path(path).relative_to(root or Path.cwd()))
    except ValueError:
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="one model (Hub id or local folder) for every language pair")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder (default demo-output)")
    args = parser.parse_args(argv)

    out = args.out.resolve()
    model = str(Path(args.model).resolve()) if args.model and Path(args.model).exists() else args.model
    os.chdir(REPO)  # samples/ and glossaries/ are found relative to the checkout
    out.mkdir(parents=True, exist_ok=True)
    _embedded_prefect(out)

    problem = check_models(model)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_MODEL

    from flows.localise_batch import localise_batch

    summary = localise_batch(str(REPO / "samples" / SERIES), series=SERIES, targets=TARGETS,
                             destination=str(out / "published"), model=model)
    print_summary(summary, out)
    return 1 if summary["totals"].get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
