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

from typing import Any

from localise.config import Settings

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

    prefect_serve(*build_deployments(settings, source=source, series=series, schedule=schedule, config=config),
                  limit=limit)
