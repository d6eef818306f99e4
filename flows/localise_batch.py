"""``localise-batch``: every source track under a folder or ``s3://bucket/prefix`` that is not yet
published, or changed since (content hash), localised in chunks and published episode by episode.

Bounded concurrency: at most ``max_concurrency`` chunks translate at once, each one engine call
per language over all its episodes (the model loads once per worker process). An episode that
cannot be read or published fails alone; the others go on. The summary is returned, logged and
kept as a Prefect artifact (``localise-batch-summary``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows.tasks import (
    Episode,
    Outcome,
    chunk_by_cues,
    default_series,
    current_manifest_task,
    list_sources_task,
    outcome,
    load_source_task,
    publish_task,
    run_signature,
    series_settings,
    summary_markdown,
    totals,
    translate_task,
)
from localise.config import load_settings
from localise.storage import episode_name

def _failed(episode: Episode, exc: BaseException) -> Outcome:
    return Outcome(episode.series, episode.episode, episode.source, "failed", f"{type(exc).__name__}: {exc}")


@flow(name="localise-batch", task_runner=ThreadPoolTaskRunner(max_workers=8), persist_result=True)
def localise_batch(
    source: str,
    series: str | None = None,
    targets: list[str] | None = None,
    destination: str | None = None,
    model: str | None = None,
    config: str | None = None,
    max_concurrency: int = 2,
    chunk_cues: int = 2000,
) -> dict[str, Any]:
    """Localise and publish the pending episodes of ``source``; returns ``{"totals", "episodes"}``."""
    logger = get_run_logger()
    series = series or default_series(source)
    settings = series_settings(load_settings(config, targets=targets, model=model, storage_url=destination), series)
    signature = run_signature(settings, settings.targets)
    rows: list[Outcome] = []

    keys = list_sources_task(source)
    loads = {key: load_source_task.submit(source, key, series) for key in keys}
    episodes = []
    for key, future in loads.items():
        try:
            episodes.append(future.result())
        except Exception as exc:  # unreadable file: this episode fails, the batch goes on
            logger.error("%s: %s", key, exc)
            rows.append(Outcome(series, episode_name(key), key, "failed", f"{type(exc).__name__}: {exc}"))
    checks = [(e, current_manifest_task.submit(settings.storage_url, quote(e), signature, settings)) for e in episodes]
    pending = []
    for episode, check in checks:
        try:
            manifest = check.result()
        except Exception as exc:  # destination unreachable after retries
            logger.error("%s: cannot read its manifest: %s", episode.id, exc)
            rows.append(_failed(episode, exc))
            continue
        if manifest is not None:  # published from these very bytes with these settings
            rows.append(outcome(settings.storage_url, episode, manifest["languages"], "current"))
        else:
            pending.append(episode)

    # Tracks and translations travel as quote(...): Prefect would otherwise walk every cue of them
    # for each task run, looking for futures to resolve.
    # Chunks translate at most ``max_concurrency`` at a time; a chunk's episodes publish as soon as
    # it is translated, while the next chunks translate (the engine never waits on storage).
    in_flight: deque[tuple[list[Episode], Any]] = deque()
    publishing: list[tuple[Episode, Any]] = []

    def publish_chunk(chunk: list[Episode], future: Any) -> None:
        try:
            results = future.result()
        except Exception as exc:
            logger.error("translation failed for %s: %s", ", ".join(e.id for e in chunk), exc)
            rows.extend(_failed(e, exc) for e in chunk)
            return
        publishing.extend(
            (e, publish_task.submit(settings.storage_url, quote(e), quote(results[e.id]), signature, settings))
            for e in chunk)

    for chunk in chunk_by_cues(pending, chunk_cues):
        if len(in_flight) >= max(1, max_concurrency):
            publish_chunk(*in_flight.popleft())
        in_flight.append((chunk, translate_task.submit(quote(chunk), settings.targets, settings, signature)))
    while in_flight:
        publish_chunk(*in_flight.popleft())
    for episode, future in publishing:
        try:
            rows.append(future.result())
        except Exception as exc:
            logger.error("%s: publishing failed: %s", episode.id, exc)
            rows.append(_failed(episode, exc))

    rows.sort(key=lambda r: (r.series, r.episode))
    table = summary_markdown(rows)
    counts = totals(rows)
    logger.info("batch summary %s\n%s", counts, table)
    create_markdown_artifact(markdown=table, key="localise-batch-summary", description=str(counts))
    return {"totals": counts, "episodes": [r.to_dict() for r in rows]}
