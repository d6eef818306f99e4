"""Publishing on a local folder under concurrency and crashes: threads and processes publishing
the same episodes at once, a publisher killed with SIGKILL at random moments, a full disk.
After each, :func:`localise.storage.verify_store` must find every manifest naming exactly objects
that exist with its checksums (and, once a run finished, nothing outside a manifest)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from localise.errors import PublishConflict
from localise.lease import acquire_lease
from localise.storage import LocalStore, read_manifest, verify_store
from tests.publish_worker import publish_variant

REPO = Path(__file__).resolve().parents[1]
EPISODES = ["ep01", "ep02", "ep03"]


def _no_lost_updates(versions: list[tuple[str, int]], store: LocalStore) -> None:
    """Each publish that wrote got its own manifest version, and the last one is in place."""
    counts = Counter(versions)
    assert all(n == 1 for n in counts.values()), [k for k, n in counts.items() if n > 1]
    for episode in EPISODES:
        mine = sorted(v for e, v in versions if e == episode)
        manifest = read_manifest(store, "s", episode)
        if mine:
            assert manifest["version"] == mine[-1] == len(mine) + (mine[0] - 1)


def test_threads_publishing_the_same_episodes(tmp_path):
    store = LocalStore(tmp_path)
    written: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(8):
                episode = rng.choice(EPISODES)
                result = publish_variant(LocalStore(tmp_path), "s", episode, rng.randrange(6), lease_wait=60)
                if not result.unchanged:
                    with lock:
                        written.append((episode, result.version))
        except BaseException as exc:  # noqa: BLE001 - reported below
            import traceback

            errors.append("".join(traceback.format_exception(exc)))

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[0]
    assert verify_store(store) == []
    _no_lost_updates(written, store)


def _worker(root: Path, seed: int, rounds: int, ttl: float = 120.0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.publish_worker", str(root), "s", ",".join(EPISODES),
                             str(seed), str(rounds), str(ttl)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_processes_publishing_the_same_episodes(tmp_path):
    procs = [_worker(tmp_path, seed, rounds=6) for seed in range(3)]
    written = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        for line in out.splitlines():
            row = json.loads(line)
            assert "error" not in row, row
            if not row["unchanged"]:
                written.append((row["episode"], row["version"]))
    store = LocalStore(tmp_path)
    assert verify_store(store) == []
    _no_lost_updates(written, store)


def test_sigkill_mid_publish_never_leaves_a_manifest_that_lies(tmp_path):
    """A publisher killed at random moments: each time, every manifest still names exactly what
    exists; the next publish takes over the dead process's lease at once (not after its TTL) and
    leaves nothing outside a manifest."""
    store = LocalStore(tmp_path)
    rng = random.Random(7)
    for round_ in range(5):
        proc = _worker(tmp_path, 100 + round_, rounds=0, ttl=600)
        assert proc.stdout is not None
        proc.stdout.readline()  # one publish finished: the next is under way
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        problems = [p for p in verify_store(store) if p.kind != "unlisted"]
        assert problems == [], f"round {round_}: {problems}"
    started = time.monotonic()
    for episode in EPISODES:
        publish_variant(store, "s", episode, 5, lease_wait=30)
    assert time.monotonic() - started < 30  # a dead holder's lease (TTL 600 s) did not block
    assert verify_store(store) == []


def test_lease_is_exclusive_expires_and_can_be_given_back(tmp_path):
    store = LocalStore(tmp_path)
    first = acquire_lease(store, "s/e/.lease", ttl=0.5)
    with pytest.raises(PublishConflict, match="busy"):
        acquire_lease(store, "s/e/.lease", wait=0)
    time.sleep(0.6)
    second = acquire_lease(store, "s/e/.lease", wait=0)  # expired: taken over
    with pytest.raises(PublishConflict, match="lost"):
        first.renew()  # the stalled holder learns it before touching anything
    second.release()
    third = acquire_lease(store, "s/e/.lease", wait=0)  # given back: free at once
    third.ensure()
    third.release()


def test_a_lease_this_process_no_longer_holds_is_taken_over_at_once(tmp_path):
    """A thread that could not give its lease back (storage down at that moment) does not block
    the rest of its process until the TTL ends."""
    from localise.lease import _HELD_HERE

    store = LocalStore(tmp_path)
    lost = acquire_lease(store, "s/e/.lease", ttl=600)
    _HELD_HERE.discard(lost.owner)  # what release() does before its write fails
    acquire_lease(store, "s/e/.lease", wait=0).release()


def test_full_disk_while_publishing_locally_leaks_no_temp_files(tmp_path):
    """RLIMIT_FSIZE makes the kernel refuse writes past 64 kB (EFBIG), as a full disk would."""
    script = (
        "import resource, signal, json, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "from localise.errors import PublishError\n"
        "from localise.storage import LocalStore\n"
        "from tests.publish_worker import publish_variant, variant\n"
        "store = LocalStore(sys.argv[1])\n"
        "publish_variant(store, 's', 'small', 1)\n"
        "try:\n"
        "    store.write('s/big/0123456789abcdef/en.srt', b'x' * 200000)\n"
        "    print('written')\n"
        "except PublishError as exc:\n"
        "    print('refused', exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("refused") and "File too large" in proc.stdout
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]
    assert verify_store(LocalStore(tmp_path)) == []


def test_partial_files_of_a_killed_write_are_swept_by_the_next_publish(tmp_path):
    store = LocalStore(tmp_path)
    publish_variant(store, "s", "e", 0)
    leftover = tmp_path / "s" / "e" / ".tmp-killed"
    leftover.write_bytes(b"half a track")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    fresh = tmp_path / "s" / "e" / ".tmp-in-flight"
    fresh.write_bytes(b"another writer's, right now")
    publish_variant(store, "s", "e", 1)
    assert not leftover.exists() and fresh.exists()  # only what is old enough to be abandoned


def test_listing_while_another_writer_removes_folders(tmp_path):
    """A sweep removes emptied content folders while another writer lists the episode (the
    read-only fast path takes no lease): the listing skips them (rglob raised FileNotFoundError)."""
    store = LocalStore(tmp_path)
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            key = f"s/e/{i % 50:016x}/en.srt"
            store.write(key, b"x")
            store.delete(key)
            i += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(2000):
            assert all(k.startswith("s/e/") for k in store.list("s/e"))
    finally:
        stop.set()
        thread.join(timeout=30)
