"""The deployments ``localise serve`` starts, built from settings (``infra/prefect.yaml`` describes
the same three for a work pool).

* ``localise-batch/nightly`` — the batch over ``source`` on the configured cron (``schedule``,
  nightly by default); without a source it is served unscheduled and needs ``source`` per run;
* ``localise-episode/on-demand`` — one track, triggered through the API or ``prefect deployment run``;
* ``apply-review/on-demand`` — reviewers' corrections, republished (when :mod:`flows.apply_review` exists).

Each deployment runs at most one flow run at a time (``concurrency_limit=1``): two batches over
the same episodes would race to publish the same manifests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from localise.config import Settings

log = logging.getLogger("localise.flows")

BATCH = "localise-batch/nightly"
EPISODE = "localise-episode/on-demand"
REVIEW = "apply-review/on-demand"


def _defaults(settings: Settings, **extra: Any) -> dict[str, Any]:
    params = {"targets": list(settings.targets), "destination": settings.storage_url}
    if settings.model:
        params["model"] = settings.model
    params.update({k: v for k, v in extra.items() if v is not None})
    return params


def build_deployments(
    settings: Settings,
    *,
    source: str | None = None,
    series: str | None = None,
    schedule: str | None = None,
    config: str | None = None,
) -> list[Any]:
    """``RunnerDeployment`` objects for :func:`prefect.serve` (nothing is registered yet)."""
    from flows.localise_batch import localise_batch
    from flows.localise_episode import localise_episode

    cron = schedule or settings.schedule
    batch_params = _defaults(settings, source=source, series=series, config=config)
    deployments = [
        localise_batch.to_deployment(
            name="nightly",
            cron=cron if source else None,
            parameters=batch_params,
            tags=["localise"],
            concurrency_limit=1,
            description=f"Localise new or changed episodes of {source or '<source per run>'} ({cron}).",
        ),
        localise_episode.to_deployment(
            name="on-demand", parameters=_defaults(settings, config=config), tags=["localise"], concurrency_limit=1,
            description="Localise and publish one source track.",
        ),
    ]
    try:
        from flows.apply_review import apply_review
    except ImportError:  # the review flow is optional for serving
        return deployments
    deployments.append(
        apply_review.to_deployment(name="on-demand", tags=["localise", "review"], concurrency_limit=1,
                                   description="Republish episodes with reviewers' approved corrections.")
    )
    return deployments


def serve(settings: Settings, *, source: str | None = None, series: str | None = None, schedule: str | None = None,
          config: str | None = None, limit: int | None = None) -> None:
    """Register the deployments with the Prefect API and run their flow runs here until stopped."""
    from prefect import serve as prefect_serve

    deployments = build_deployments(settings, source=source, series=series, schedule=schedule, config=config)
    replace_pool_deployments(deployments)
    prefect_serve(*deployments, limit=limit)


def replace_pool_deployments(deployments: Sequence[Any]) -> list[str]:
    """Delete same-named deployments that ``prefect deploy`` registered for a work pool
    (``infra/prefect.yaml``), so the served ones take their names; returns the names replaced.

    Why: serving updates an existing deployment in place, and Prefect's update keeps the old
    one's code location (``path``) and work pool: the served runs would then crash looking for the
    flow's code at the pool deployment's path. Serving here is the operator's choice, so the
    served definition wins, with a warning."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    replaced = []
    with get_client(sync_client=True) as client:
        for deployment in deployments:
            name = f"{deployment.flow_name}/{deployment.name}"
            try:
                existing = client.read_deployment_by_name(name)
            except ObjectNotFound:
                continue
            if existing.work_pool_name or existing.pull_steps:  # not one that `serve` registered
                log.warning("%s was registered for work pool %r; serving it here replaces that registration",
                            name, existing.work_pool_name)
                client.delete_deployment(existing.id)
                replaced.append(name)
    return replaced
