"""``localise-chunk``: one chunk of a ``localise-batch`` run as its own flow run, so that a batch
fans out over the workers of a pool (``prefect.deployments.run_deployment`` from the batch; see
``flows/localise_batch.py``). Whichever worker is free picks the chunk up.

It does what the batch's thread mode does for one chunk: read the episodes, translate them
(one engine call per language; finished episodes come from the translation cache), publish each
under its lease (an episode published already from the same source and settings is kept,
``unchanged``: a retried chunk redoes nothing published), and return the summary rows. Bad input
fails its episode, never the run; the run itself ends Failed or Crashed only when its process or
the code breaks, and the batch decides what to do then.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from flows.tasks import (
    Episode,
    Outcome,
    failed,
    load_episode,
    publish_chunk_task,
    run_signature,
    series_settings,
    translate_task_for,
)
from localise.config import load_settings
from localise.retry import call_with_retries
from localise.storage import episode_name, safe_segment


def worker_name() -> str:
    """The Prefect worker that started this run (``PREFECT__WORKER_NAME``, set by workers), else
    the machine and process: for the batch summary's worker per chunk."""
    return os.environ.get("PREFECT__WORKER_NAME") or f"{socket.gethostname()}:{os.getpid()}"


@flow(name="localise-chunk", persist_result=True)
def localise_chunk(
    source: str,
    keys: list[str],
    series: str,
    targets: list[str] | None = None,
    destination: str | None = None,
    model: str | None = None,
    config: str | None = None,
    refine: str | None = None,
) -> dict[str, Any]:
    """Localise and publish the episodes ``keys`` (under ``source``) of ``series``; returns
    ``{"worker": name, "episodes": [summary rows]}``."""
    logger = get_run_logger()
    settings = series_settings(load_settings(config, targets=targets, model=model, storage_url=destination, refine=refine), series)
    signature = run_signature(settings, settings.targets)
    episodes: list[Episode] = []
    rows: list[Outcome] = []
    for key in keys:
        try:
            episodes.append(call_with_retries(lambda key=key: load_episode(source, key, series, settings.limits.input_limits()),
                                              what=key,
                                              logger=logger))
        except Exception as exc:  # unreadable file: this episode fails, the chunk goes on
            logger.error("%s: %s", key, exc)
            rows.append(Outcome(safe_segment(series), episode_name(key), key, "failed", f"{type(exc).__name__}: {exc}"))
    if episodes:
        try:
            results = translate_task_for(settings)(quote(episodes), settings.targets, settings, signature)
        except Exception as exc:  # a chunk that cannot be translated fails alone, as in thread mode
            logger.error("translation failed for %s: %s", ", ".join(e.id for e in episodes), exc)
            rows.extend(failed(e, exc) for e in episodes)
        else:
            rows.extend(publish_chunk_task(settings.storage_url, quote(episodes), quote(results), signature, settings))
    name = worker_name()
    logger.info("chunk of %d episode(s) done on worker %s", len(keys), name)
    return {"worker": name, "episodes": [row.to_dict() for row in rows]}
