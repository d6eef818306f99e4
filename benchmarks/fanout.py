"""Fan-out's orchestration overhead: what a chunk costs between the batch asking for it and its
engine starting, on a real Prefect server with a process work pool and real workers.

Why this and not a speed figure: two workers on a 2-core machine say nothing about throughput, but
the time from a child run's creation to its engine starting is paid once per chunk on any machine,
so it decides how small a chunk may be before orchestration, not translation, is the cost.

Per chunk, from the child flow run's state history and its task runs (the server's own clocks):

- ``pickup_s``: created -> Pending (a free worker took it from the pool's queue; with more chunks
  than worker slots this includes waiting for a slot, so it is no overhead figure);
- ``process_start_s``: Pending -> Running (the worker's new process: Python, Prefect, the flow code);
- ``to_engine_s``: Running -> the ``translate-chunk`` task starts (settings, episodes read);
- ``start_to_engine_s``: Pending -> engine start (the two above): the orchestration overhead a chunk
  pays once a worker has taken it;
- ``engine_s``: the ``translate-chunk`` task (torch and the model loaded in the new process, then
  the translation);
- ``after_engine_s``: engine end -> the child run ends (publishing, the result written).

    python -m benchmarks.fanout [--episodes 4 --workers 2 --model tiny]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import workloads
from tests.integration.processes import _stop_process, free_port  # the tests' bounded helpers, as benchmarks.llm

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 180
BATCH_TIMEOUT_S = 900


def _bin(name: str) -> str:
    """A console script of this interpreter's environment, else the one on PATH (an install with
    ``pip --target`` or ``--user`` puts scripts beside the packages, not beside the interpreter)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or str(beside))


def _ts(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def chunk_phases(api_url: str, parent_run_id: str) -> list[dict[str, Any]]:
    """The phases of every child run of ``parent_run_id`` (see the module docstring), in the order
    they were created; a phase the server has no timestamp for is ``None``."""
    import httpx

    children = httpx.post(f"{api_url}/flow_runs/filter", timeout=30, json={
        "flow_runs": {"parent_flow_run_id": {"any_": [parent_run_id]}}}).json()
    out = []
    for child in sorted(children, key=lambda c: c["created"]):
        states = httpx.get(f"{api_url}/flow_run_states/", params={"flow_run_id": child["id"]}, timeout=30).json()
        first: dict[str, float] = {}
        for st in sorted(states, key=lambda s: s["timestamp"]):
            first.setdefault(st["type"], _ts(st["timestamp"]))  # type: ignore[arg-type]
        tasks = httpx.post(f"{api_url}/task_runs/filter", timeout=30,
                           json={"flow_runs": {"id": {"any_": [child["id"]]}}}).json()
        engine = [t for t in tasks if t["name"].startswith("translate")]
        e_start = min((_ts(t["start_time"]) for t in engine if t["start_time"]), default=None)
        e_end = max((_ts(t["end_time"]) for t in engine if t["end_time"]), default=None)
        created, pending, running, end = _ts(child["created"]), first.get("PENDING"), first.get("RUNNING"), _ts(child["end_time"])

        def span(a: float | None, b: float | None) -> float | None:
            return round(b - a, 3) if a is not None and b is not None else None

        out.append({"flow_run": child["name"], "state": child["state_type"],
                    "pickup_s": span(created, pending), "process_start_s": span(pending, running),
                    "to_engine_s": span(running, e_start), "start_to_engine_s": span(pending, e_start),
                    "engine_s": span(e_start, e_end), "after_engine_s": span(e_end, end)})
    return out


def _summary(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("pickup_s", "process_start_s", "to_engine_s", "start_to_engine_s", "engine_s", "after_engine_s")
    med: dict[str, Any] = {}
    for k in keys:
        values = [c[k] for c in chunks if c[k] is not None]
        med[k] = {"median": round(statistics.median(values), 3), "max": round(max(values), 3)} if values else None
    return med


def measure(model_dir: Path, *, engine: str = "transformers", episodes: int = 4, cues: int = 40, workers: int = 2,
            work_dir: Path | None = None, log: Any = print) -> dict[str, Any]:
    """Start a Prefect server, a process pool with ``workers`` workers (one chunk at a time each) and
    the ``localise-chunk`` deployment; run a ``localise-batch`` of ``episodes`` one-episode chunks with
    ``fan_out=True``; return the per-chunk phases, their medians and the batch's wall time."""
    import httpx

    root = Path(tempfile.mkdtemp(prefix="bench-fanout-", dir=work_dir))
    home, port = root / "prefect-home", free_port()
    home.mkdir()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true", "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), "HF_HUB_OFFLINE": "1",
           "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1", "LOCALISE_REVIEW_DB_URL": ""}
    server_env = {**env, "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
                  "PREFECT_SERVER_UI_ENABLED": "false", "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}
    server_env.pop("PREFECT_API_URL", None)
    env["PREFECT_API_URL"] = api
    procs: list[subprocess.Popen[bytes]] = []

    def start(cmd: list[str], log_name: str, environment: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(root / log_name, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        procs.append(proc)
        return proc

    try:
        server = start([_bin("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui",
                        "--analytics-off"], "server.log", server_env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"prefect server exited: {(root / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server not ready after {START_TIMEOUT_S}s")
            time.sleep(0.5)
        pool = f"bench-{uuid.uuid4().hex[:8]}"
        run = dict(cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        for cmd in ([_bin("prefect"), "--no-prompt", "work-pool", "create", pool, "--type", "process"],
                    [_bin("prefect"), "--no-prompt", "deploy", "flows/localise_chunk.py:localise_chunk", "--name", pool,
                     "--pool", pool]):
            done = subprocess.run(cmd, **run)  # type: ignore[call-overload]
            if done.returncode:
                raise RuntimeError(f"{' '.join(cmd[1:4])} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        for n in range(workers):
            start([_bin("prefect"), "worker", "start", "--pool", pool, "--type", "process", "--name", f"worker-{n + 1}",
                   "--limit", "1"], f"worker-{n + 1}.log", env)
        in_dir = root / "in"
        workloads.write_series(in_dir, episodes, cues)
        glossary = root / "series-glossary.csv"
        glossary.write_text(workloads.glossary_csv(), encoding="utf-8")
        config = root / "localise.toml"
        config.write_text(f'targets = ["en"]\nengine = "{engine}"\nmodel = {json.dumps(str(model_dir))}\n'
                          f'glossary = {json.dumps(str(glossary))}\n'
                          'review_db_url = ""\n[quality_gate]\nmax_flagged_share = 1.0\n', encoding="utf-8")
        script = (
            "import json, sys\nfrom flows.localise_batch import localise_batch\n"
            f"state = localise_batch(source={str(in_dir)!r}, series='bench', destination={str(root / 'out')!r}, "
            f"config={str(config)!r}, chunk_cues={cues}, fan_out=True, chunk_deployment='localise-chunk/{pool}', "
            "return_state=True)\nsummary = state.result()\n"
            "print(json.dumps({'parent': str(state.state_details.flow_run_id), 'totals': summary['totals'], "
            "'chunks': len(summary['chunks'])}))\n")
        log(f"fan-out: {episodes} one-episode chunks over {workers} workers")
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=BATCH_TIMEOUT_S)
        batch_s = time.perf_counter() - t0
        if done.returncode:
            raise RuntimeError(f"batch failed: {done.stdout[-2000:]}{done.stderr[-3000:]}")
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
        chunks = chunk_phases(api, outcome["parent"])
        return {"episodes": episodes, "cues_per_episode": cues, "workers": workers, "engine": engine,
                "batch_s": round(batch_s, 3), "totals": outcome["totals"], "chunks": chunks, "per_chunk": _summary(chunks)}
    finally:
        for proc in reversed(procs):
            _stop_process(proc)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=4)
    p.add_argument("--cues", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--model", default=None, help="a local Marian folder (default: the tiny model, built offline)")
    a = p.parse_args(argv)
    if a.model:
        model = Path(a.model)
    else:
        from localise.devtools.tiny_model import build_tiny_marian

        model = build_tiny_marian(Path(tempfile.mkdtemp(prefix="bench-tiny-")))
    print(json.dumps(measure(model, episodes=a.episodes, cues=a.cues, workers=a.workers), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
