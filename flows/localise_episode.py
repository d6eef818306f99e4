"""``localise-episode``: one source track -> every target language -> checks -> publish."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from flows.tasks import (
    default_series,
    load_file_task,
    publish_task,
    run_signature,
    series_settings,
    split_source,
    translate_task_for,
)
from localise.config import load_settings


@flow(name="localise-episode", persist_result=True)
def localise_episode(
    source: str,
    series: str | None = None,
    targets: list[str] | None = None,
    destination: str | None = None,
    model: str | None = None,
    config: str | None = None,
    refine: str | None = None,
) -> dict[str, Any]:
    """Localise one subtitle file (path or ``s3://bucket/key``) and publish it under
    ``<destination>/<series>/<episode>/``. Settings come from ``config`` / ``LOCALISE_*``."""
    logger = get_run_logger()
    series = series or default_series(split_source(source)[0])
    settings = series_settings(load_settings(config, targets=targets, model=model, storage_url=destination, refine=refine), series)
    signature = run_signature(settings, settings.targets)
    episode = load_file_task(source, series, settings.limits.input_limits())
    results = translate_task_for(settings)(quote([episode]), settings.targets, settings, signature)[episode.id]
    outcome = publish_task(settings.storage_url, quote(episode), quote(results), signature, settings)
    logger.info("%s: %s (%d file(s) written) -> %s", episode.id, outcome.status, outcome.uploaded, outcome.manifest)
    return outcome.to_dict()
