"""A batch's chunks as child flow runs of the ``localise-chunk`` deployment, on a work pool.

Why child runs and not threads: threads keep a batch on one machine; a child run per chunk is
picked up by whichever worker of the pool is free, so a season spreads over every worker, and
concurrency is the pool's (``prefect worker start --limit``) and the deployment's
(``concurrency_limit``), not a thread count.

The parent creates every child at once (``run_deployment(timeout=0)``: the pool queues them),
then polls their states. A Completed child's return value (its summary rows) is read from the
result storage (shared storage where workers are on other machines: ``infra/README.md``). A
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
               retries: int = 1, logger: Any, poll_seconds: float = POLL_SECONDS) -> list[dict[str, Any]]:
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
