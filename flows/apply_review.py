"""`apply-review`: republish episodes with the lines reviewers approved or edited.

Thin over :func:`localise.review.sync.apply_review` (under the episode's lease, taken before the
published tracks are read, so a batch publishing the same episode waits or goes first; tracks
first, the manifest last and conditionally, a new manifest version; nothing new when nothing was
reviewed since). One task per episode, retried inside with backoff for transient storage errors
and for an episode another writer held too long (``PublishConflict``), never for a review that does
not match its track (``localise.retry``); a failed episode does not stop the others and is reported in
the summary."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE



#: Seconds before each further attempt of an episode's republish (a lease another writer holds,
#: a network error outside S3); S3 calls are retried inside by botocore (localise.retry).
REPUBLISH_DELAYS = (2.0, 10.0, 30.0)


@task(name="republish-reviewed-episode", cache_policy=NO_CACHE)
def republish_episode(review_db_url: str, storage_url: str, series: str, episode: str) -> dict[str, Any]:
    from localise.retry import call_with_retries
    from localise.review.store import ReviewStore
    from localise.review.sync import apply_review as republish
    from localise.storage import open_store

    def once() -> dict[str, Any]:
        return republish(ReviewStore(review_db_url), open_store(storage_url), series, episode).to_dict()

    return call_with_retries(once, what=f"{series}/{episode}: republishing", delays=REPUBLISH_DELAYS,
                             logger=get_run_logger())


@flow(name="apply-review", log_prints=True)
def apply_review(series: str, episodes: list[str], storage_url: str | None = None,
                 review_db_url: str | None = None, config: str | None = None) -> dict[str, Any]:
    """Republish ``episodes`` of ``series`` with their reviewed lines; returns a summary per episode.
    Storage and review database default to the settings (``storage_url``, ``review_db_url``)."""
    logger = get_run_logger()
    if storage_url is None or review_db_url is None:
        from localise.config import load_settings

        settings = load_settings(config)
        storage_url = storage_url or settings.storage_url
        review_db_url = review_db_url or settings.review_db_url
    futures = {ep: republish_episode.submit(review_db_url, storage_url, series, ep) for ep in episodes}
    summary: dict[str, Any] = {"series": series, "episodes": []}
    for episode, future in futures.items():
        future.wait()
        outcome = future.state.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):
            logger.error("%s/%s: %s", series, episode, outcome)
            summary["episodes"].append({"series": series, "episode": episode, "status": "failed", "error": str(outcome)})
        else:
            status = "unchanged" if outcome["unchanged"] else "published"
            logger.info("%s/%s: %s (manifest version %s)", series, episode, status, outcome["version"])
            summary["episodes"].append({**outcome, "status": status})
    return summary
