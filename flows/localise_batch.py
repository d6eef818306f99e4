"""``localise-batch``: every source track under a folder or ``s3://bucket/prefix`` that is not yet
published, or changed since (content hash), localised in chunks and published episode by episode.

Tasks: one ``scan-sources``, then per chunk one ``translate-chunk`` and one ``publish-chunk``
(a task per episode would cost more orchestration than the work, see ``flows/tasks.py``).
Bounded concurrency: at most ``max_concurrency`` chunks translate at once, each one engine call
per language over all its episodes (the model loads once per worker process). An episode that
cannot be read or published fails alone, after its own retries; the others go on. The summary
is returned, logged and kept as a Prefect artifact (``localise-batch-summary``).

Fan-out mode (``fan_out``; on by default when the run comes from a work pool and the
``localise-chunk`` deployment exists): each chunk is a child run of that deployment, taken by
whichever worker of the pool is free (``flows/fanout.py``); concurrency is the pool's and the
deployment's. The batch publishes nothing itself then: it collects each child's rows, starts a
crashed chunk again (bounded), and writes the summary and artifact as in thread mode.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows.tasks import (
    Episode,
    Outcome,
    chunk_by_cues,
    default_series,
    failed,
    publish_chunk_task,
    run_signature,
    scan_task,
    series_settings,
    summary_markdown,
    totals,
    translate_task_for,
)
from flows.fanout import CHUNK_DEPLOYMENT, STALE_AFTER_S, fan_out_chosen, run_chunks
from localise.config import load_settings


@flow(name="localise-batch", task_runner=ThreadPoolTaskRunner(max_workers=8), persist_result=True)
def localise_batch(
    source: str,
    series: str | None = None,
    targets: list[str] | None = None,
    destination: str | None = None,
    model: str | None = None,
    config: str | None = None,
    refine: str | None = None,
    max_concurrency: int = 2,
    chunk_cues: int = 2000,
    fan_out: bool | None = None,
    chunk_deployment: str = CHUNK_DEPLOYMENT,
    chunk_retries: int = 1,
    chunk_stale_after: float | None = None,
) -> dict[str, Any]:
    """Localise and publish the pending episodes of ``source``; returns ``{"totals", "episodes"}``
    (and ``"chunks"``, with the worker of each, in fan-out mode).

    ``fan_out``: each chunk a child run of the ``chunk_deployment`` (``localise-chunk``) on the
    pool's workers, a crashed one started again up to ``chunk_retries`` times; ``None`` takes the
    setting ``fan_out``, else fans out when this run came from a work pool and that deployment
    exists. Otherwise chunks translate in threads here, ``max_concurrency`` at a time.
    ``chunk_stale_after``: seconds without a heartbeat after which the batch itself marks a running
    child Crashed (default :data:`flows.fanout.STALE_AFTER_S`; 0: never; see ``flows/fanout.py``).

    ``refine``: ``"flagged"`` sends the cues flagged major or worse after checking back to the LLM
    (the ``llm_*`` settings) and re-checks them; ``"off"`` does not; ``None`` takes the setting."""
    logger = get_run_logger()
    series = series or default_series(source)
    settings = series_settings(load_settings(config, targets=targets, model=model, storage_url=destination, refine=refine), series)
    signature = run_signature(settings, settings.targets)

    scan = scan_task(source, series, settings.storage_url, signature, settings)
    rows: list[Outcome] = list(scan.settled)
    chunks_done: list[dict[str, Any]] = []

    if fan_out_chosen(fan_out, settings.fan_out, chunk_deployment, logger):
        parameters = {"source": source, "series": series, "targets": list(settings.targets),
                      "destination": settings.storage_url, "model": model, "config": config,
                      "refine": refine}
        chunks_done = run_chunks(chunk_deployment, chunk_by_cues(scan.pending, chunk_cues), parameters,
                                 retries=chunk_retries, logger=logger,
                                 stale_after=STALE_AFTER_S if chunk_stale_after is None else chunk_stale_after)
        rows.extend(row for chunk in chunks_done for row in chunk.pop("rows"))
        return _summarise(rows, logger, chunks_done)

    # Tracks and translations travel as quote(...): Prefect would otherwise walk every cue of them
    # for each task run, looking for futures to resolve.
    # Chunks translate at most ``max_concurrency`` at a time; whichever chunk is translated first
    # publishes first, while the others translate (the engine never waits on storage).
    publishing: list[tuple[list[Episode], Any]] = []

    def publish(chunk: list[Episode], translation: Any) -> None:
        try:
            results = translation.result()
        except Exception as exc:
            logger.error("translation failed for %s: %s", ", ".join(e.id for e in chunk), exc)
            rows.extend(failed(e, exc) for e in chunk)
            return
        publishing.append((chunk, publish_chunk_task.submit(
            settings.storage_url, quote(chunk), quote(results), signature, settings)))

    translate = translate_task_for(settings)
    waiting = deque(chunk_by_cues(scan.pending, chunk_cues))
    in_flight: dict[Any, list[Episode]] = {}  # translate-chunk future -> its episodes
    while waiting or in_flight:
        while waiting and len(in_flight) < max(1, max_concurrency):
            chunk = waiting.popleft()
            in_flight[translate.submit(quote(chunk), settings.targets, settings, signature)] = chunk
        done = next(as_completed(list(in_flight)))
        publish(in_flight.pop(done), done)
    for chunk, future in publishing:
        try:
            rows.extend(future.result())
        except Exception as exc:  # each episode's own failures are rows already; this is the task itself
            logger.error("publishing failed for %s: %s", ", ".join(e.id for e in chunk), exc)
            rows.extend(failed(e, exc) for e in chunk)

    return _summarise(rows, logger)


def _summarise(rows: list[Outcome], logger: Any, chunks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The batch's return value, log lines and ``localise-batch-summary`` artifact."""
    rows.sort(key=lambda r: (r.series, r.episode))
    table = summary_markdown(rows)
    counts = totals(rows)
    logger.info("batch summary %s\n%s", counts, table)
    create_markdown_artifact(markdown=table, key="localise-batch-summary", description=str(counts))
    summary: dict[str, Any] = {"totals": counts, "episodes": [r.to_dict() for r in rows]}
    if chunks is not None:
        summary["chunks"] = chunks
    return summary
