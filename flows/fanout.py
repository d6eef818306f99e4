"""A batch's chunks as child flow runs of the ``localise-chunk`` deployment, on a work pool.

Why child runs and not threads: threads keep a batch on one machine; a child run per chunk is
picked up by whichever worker of the pool is free, so a season spreads over every worker, and
concurrency is the pool's (``prefect worker start --limit``) and the deployment's
(``concurrency_limit``), not a thread count.

The parent creates every child at once (``run_deployment(timeout=0)``: the pool queues them),
then polls their states. A child whose worker died is marked Crashed by Prefect's zombie-run
automation (``infra/automations.yaml``, on flow-run heartbeats); as a fallback where that
automation is missing, the batch does it itself for a running child that sent heartbeats and then
stopped for ``stale_after`` seconds (a child without heartbeats is never judged). A Completed
child's return value (its summary rows) is read from the result storage (shared storage where
workers are on other machines: ``infra/README.md``). A
Crashed child (its process or worker died) is started again, up to ``retries`` times; what it had
published is kept (the chunk's episodes then come back ``unchanged``) and what it had translated
comes from the translation cache. A Failed or Cancelled child fails its episodes' rows; the others
go on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from flows.tasks import Episode, Outcome, failed

#: ``flow name/deployment name`` of the chunk deployment (``infra/prefect.yaml``, ``localise serve``).
CHUNK_DEPLOYMENT = "localise-chunk/default"
#: Seconds between polls of the children's states.
POLL_SECONDS = 2.0
#: Seconds after a running child's last heartbeat before the batch marks it Crashed: longer than
#: the automation's 90 s (infra/automations.yaml), which normally acts first.
STALE_AFTER_S = 150.0
#: Seconds between two looks at one child's heartbeats (one events query each).
HEARTBEAT_CHECK_SECONDS = 15.0


def fan_out_chosen(fan_out: bool | None, setting: bool | None, deployment: str, logger: Any) -> bool:
    """Whether the batch fans out: the parameter, else the setting, else on when this run was
    started from a work pool and the chunk deployment exists (a served or local run: threads)."""
    if fan_out is not None:
        return fan_out
    if setting is not None:
        return setting
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    run_id = flow_run.get_id()
    if run_id is None:
        return False
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        if not run.work_pool_name:
            return False
        try:
            client.read_deployment_by_name(deployment)
        except Exception:  # noqa: BLE001 - absent (ObjectNotFound) or unreadable: threads then
            logger.warning("run from work pool %s, but deployment %s is not there: chunks run in threads here",
                           run.work_pool_name, deployment)
            return False
    return True


def run_chunks(deployment: str, chunks: Sequence[Sequence[Episode]], parameters: dict[str, Any], *,
               retries: int = 1, logger: Any, poll_seconds: float = POLL_SECONDS,
               stale_after: float = STALE_AFTER_S) -> list[dict[str, Any]]:
    """Run each chunk as a child flow run of ``deployment``; returns per chunk ``{"chunk", "worker",
    "flow_run", "attempts", "state", "crashed": ["<run name>: <why>" per crashed attempt], "rows":
    [Outcome]}`` in chunk order (``worker`` and ``flow_run`` of the last attempt)."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.runtime import flow_run

    parent = flow_run.get_id() or "local"
    attempts = [0] * len(chunks)
    done: dict[int, dict[str, Any]] = {}
    running: dict[Any, int] = {}  # child flow run id -> chunk number
    crashed: list[list[str]] = [[] for _ in chunks]  # per chunk: the attempts that crashed, and why
    looked: dict[Any, float] = {}  # child flow run id -> when its heartbeats were last looked at

    def start(n: int) -> None:
        attempts[n] += 1
        keys = [episode_key(ep) for ep in chunks[n]]
        child = run_deployment(deployment, parameters={**parameters, "keys": keys}, timeout=0,
                               flow_run_name=f"{parameters['series']}-chunk-{n + 1}-try-{attempts[n]}",
                               idempotency_key=f"{parent}:chunk-{n}:try-{attempts[n]}")
        running[child.id] = n
        logger.info("chunk %d (%s) -> flow run %s", n + 1, ", ".join(ep.id for ep in chunks[n]), child.name)

    for n in range(len(chunks)):
        start(n)
    with get_client(sync_client=True) as client:
        while running:
            time.sleep(poll_seconds)
            for run_id, n in list(running.items()):
                run = client.read_flow_run(run_id)
                if run.state is None or not run.state.is_final():
                    if stale_after and run.state is not None and run.state.is_running() \
                            and time.monotonic() - looked.get(run_id, 0.0) >= HEARTBEAT_CHECK_SECONDS:
                        looked[run_id] = time.monotonic()
                        _crash_if_heartbeats_stopped(client, run, stale_after, logger)
                    continue
                del running[run_id]
                if run.state.is_completed():
                    result = run.state.result()
                    done[n] = _chunk(n, run, attempts[n], result.get("worker"),
                                     [Outcome(**row) for row in result["episodes"]], crashed[n])
                elif run.state.is_crashed() and attempts[n] <= retries:
                    crashed[n].append(f"{run.name}: {run.state.message}")
                    logger.warning("chunk %d: flow run %s crashed (%s); starting it again (attempt %d of %d)",
                                   n + 1, run.name, run.state.message, attempts[n] + 1, retries + 1)
                    start(n)
                else:
                    error = RuntimeError(f"chunk run {run.name} ended {run.state.type.value}: {run.state.message}")
                    logger.error("chunk %d: %s", n + 1, error)
                    done[n] = _chunk(n, run, attempts[n], None, [failed(ep, error) for ep in chunks[n]], crashed[n])
    return [done[n] for n in range(len(chunks))]


def _crash_if_heartbeats_stopped(client: Any, run: Any, stale_after: float, logger: Any) -> bool:
    """Mark ``run`` Crashed when it sent flow-run heartbeats and the last one is older than
    ``stale_after`` seconds (its worker or machine died); the next poll then sees it Crashed."""
    from datetime import datetime, timedelta, timezone

    from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter, EventResourceFilter
    from prefect.states import Crashed

    since = run.start_time or (datetime.now(timezone.utc) - timedelta(days=1))
    page = client.read_events(filter=EventFilter(
        occurred=EventOccurredFilter(since=since),
        event=EventNameFilter(name=["prefect.flow-run.heartbeat"]),
        resource=EventResourceFilter(id=[f"prefect.flow-run.{run.id}"])), limit=1)  # newest first
    if not page.events:
        return False  # no heartbeats (off, or not sent yet): nothing to judge by
    silent = (datetime.now(timezone.utc) - page.events[0].occurred).total_seconds()
    if silent <= stale_after:
        return False
    message = f"No heartbeat for {silent:.0f} s: its worker or machine died (marked Crashed by the batch)"
    logger.warning("flow run %s: %s", run.name, message)
    client.set_flow_run_state(run.id, Crashed(message=message), force=True)
    return True


def _chunk(n: int, run: Any, attempts: int, worker: str | None, rows: list[Outcome],
           crashed: list[str]) -> dict[str, Any]:
    return {"chunk": n + 1, "worker": worker, "flow_run": run.name, "attempts": attempts,
            "state": run.state.type.value, "episodes": [f"{r.series}/{r.episode}" for r in rows],
            "crashed": list(crashed), "rows": rows}


def episode_key(episode: Episode) -> str:
    """The source key of an episode under the batch's source (what the chunk flow reads again)."""
    if episode.key is None:
        raise ValueError(f"{episode.id}: no source key (not listed from the batch's source)")
    return episode.key
