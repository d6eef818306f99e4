"""Manifests tell the truth on a real S3 server (SeaweedFS) under concurrency and outages.

* two batches (other source bytes, another quality gate) and an apply-review run over the same
  episodes at once, as Prefect flows in threads against the real Prefect server;
* four publishers racing over the same episodes through the library;
* the S3 server killed (SIGKILL) in the middle of a republish, then restarted, then a rerun.

After each, :func:`localise.storage.verify_store` checks that every manifest names objects that
exist with its checksums and that no object under an episode is outside its manifest."""

from __future__ import annotations

import os
import random
import shutil
import signal
import threading
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "tingyu-teahouse"
SERIES = "tingyu-teahouse"
EPISODES = ["ep01", "ep02", "ep03"]


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    return s3_server


def _copy_samples(dest: Path, change: bool = False) -> Path:
    """The sample series; ``change`` alters one sentence of every file (other bytes, same cues)."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in SAMPLES.iterdir():
        if path.suffix in (".srt", ".ass"):
            text = path.read_text(encoding="utf-8-sig")
            (dest / path.name).write_text(text.replace("。", "！", 1) if change else text, encoding="utf-8")
    return dest


def _run_in_threads(*calls):
    """Run the calls at once; their results (or exceptions) in order. Each thread runs in a copy
    of this thread's context: Prefect keeps its settings (the test server's API URL, the private
    result storage) in context variables, which a new thread would not see."""
    import contextvars

    results: list = [None] * len(calls)

    def run(i, fn, context):
        try:
            results[i] = context.run(fn)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn, contextvars.copy_context())) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=480)
    assert not any(t.is_alive() for t in threads), "a concurrent run did not finish"
    return results


def test_two_batches_and_apply_review_at_once(s3_env, prefect_server, tiny_model, tmp_path):
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    from flows.apply_review import apply_review
    from flows.localise_batch import localise_batch
    from localise.review.store import Decision, ReviewStore
    from localise.review.sync import ingest_published
    from localise.storage import open_store, read_manifest, verify_store

    bucket = s3_env.make_bucket("race")
    dest = f"s3://{bucket}/out"
    publish_all = tmp_path / "publish-all.toml"
    publish_all.write_text(f'targets = ["en", "es"]\nmodel = "{tiny_model}"\n[quality_gate]\nmax_flagged_share = 1.0\n')
    hold_all = tmp_path / "hold-all.toml"  # the tiny model's lines are all flagged: everything is held
    hold_all.write_text(f'targets = ["en", "es"]\nmodel = "{tiny_model}"\n'
                        '[quality_gate]\nmax_flagged_share = 0.0\nseverity = "minor"\n')
    first_source = _copy_samples(tmp_path / "a" / SERIES)
    changed_source = _copy_samples(tmp_path / "b" / SERIES, change=True)
    review = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    store = open_store(dest)

    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: str(tmp_path / "results")}):
        first = localise_batch(str(first_source), destination=dest, config=str(publish_all))
        assert {row["status"] for row in first["episodes"]} == {"published"}
        for episode in EPISODES:  # a reviewer edits the first line of every track
            ingest_published(review, store, SERIES, episode)
            review.apply([Decision(f"{SERIES}/{episode}/{lang}", 0, "edited", f"Reviewed {episode} {lang}.")
                          for lang in ("en", "es")], reviewer="ann")
        assert verify_store(store, SERIES) == []

        held, changed, reviewed = _run_in_threads(
            lambda: localise_batch(str(first_source), destination=dest, config=str(hold_all)),
            lambda: localise_batch(str(changed_source), destination=dest, config=str(publish_all)),
            lambda: apply_review(SERIES, EPISODES, storage_url=dest, review_db_url=review.url),
        )
    for summary in (held, changed, reviewed):
        assert not isinstance(summary, BaseException), summary
        assert not [row for row in summary["episodes"] if row["status"] == "failed"], summary
    assert verify_store(store, SERIES) == []
    for episode in EPISODES:
        manifest = read_manifest(store, SERIES, episode)
        # each publish saw the one before it: versions 1 (first batch) + up to one per run
        assert 2 <= manifest["version"] <= 4
        statuses = {entry["status"] for entry in manifest["languages"].values()}
        if manifest["quality_gate"]["max_flagged_share"] == 0.0:  # the hold-all gate: nothing public
            assert statuses == {"held"}, manifest["languages"]
        for lang, entry in manifest["languages"].items():
            public = [k for k in store.list(f"{SERIES}/{episode}") if k.endswith(f"/{lang}.{entry['format']}")]
            assert public == [f"{SERIES}/{episode}/{entry['track']}"]  # exactly one track per language


def test_publishers_racing_over_s3(s3_env):
    """Four threads, each with its own store object, publishing variants of the same episodes."""
    from localise.storage import open_store, read_manifest, verify_store
    from tests.publish_worker import publish_variant

    url = f"s3://{s3_env.make_bucket('racers')}/out"
    written: list[tuple[str, int]] = []
    lock = threading.Lock()

    def racer(seed: int):
        rng = random.Random(seed)
        for _ in range(6):
            episode = rng.choice(EPISODES)
            result = publish_variant(open_store(url), "s", episode, rng.randrange(6), lease_wait=120)
            if not result.unchanged:
                with lock:
                    written.append((episode, result.version))

    outcomes = _run_in_threads(*[lambda seed=seed: racer(seed) for seed in range(4)])
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    store = open_store(url)
    assert verify_store(store) == []
    assert len(set(written)) == len(written)  # no two publishes got the same version: no lost update
    for episode in {e for e, _ in written}:
        assert read_manifest(store, "s", episode)["version"] == max(v for e, v in written if e == episode)


class KillingStore:
    """Wraps a real S3 store; the n-th object upload kills the S3 server (SIGKILL) just before it."""

    def __init__(self, store, server, kill_at: int) -> None:
        self._store, self._server, self.kill_at, self.uploads = store, server, kill_at, 0
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._store, name)

    def write(self, key, data, content_type=None):
        with self._lock:
            self.uploads += 1
            if self.uploads == self.kill_at and self._server.running:
                os.killpg(self._server.proc.pid, signal.SIGKILL)
                self._server.proc.wait(timeout=30)
        return self._store.write(key, data, content_type)


@pytest.mark.parametrize("kill_at", [2, 5, 9])
def test_s3_killed_mid_republish_then_rerun(s3_env, kill_at):
    """Episodes republished at once while the server is killed: every manifest still describes
    exactly the objects it names (the old version, or the new one where its manifest got in);
    after a restart and a rerun, all are the new version and nothing is left outside a manifest,
    and what the interrupted run uploaded is not uploaded again."""
    from localise.errors import PublishError
    from localise.storage import S3Store, open_store, read_manifest, verify_store
    from tests.publish_worker import publish_variant

    url = f"s3://{s3_env.make_bucket('kill')}/out"
    store = open_store(url, max_attempts=1)
    assert isinstance(store, S3Store)
    for episode in EPISODES:
        publish_variant(store, "s", episode, 0)
    killer = KillingStore(store, s3_env, kill_at)

    def republish(episode):
        try:
            return publish_variant(killer, "s", episode, 1, lease_wait=5)
        except PublishError as exc:
            return exc

    outcomes = _run_in_threads(*[lambda e=e: republish(e) for e in EPISODES])
    assert any(isinstance(o, PublishError) for o in outcomes), "the server was killed too late to matter"
    s3_env.stop()
    s3_env.start()
    problems = verify_store(store)
    assert [p for p in problems if p.kind != "unlisted"] == [], problems
    before = set(store.list(""))
    for episode in EPISODES:  # the rerun: the dead run's leases are taken over at once (same process)
        result = publish_variant(store, "s", episode, 1, lease_wait=10)
        manifest = read_manifest(store, "s", episode)
        assert manifest["source"]["variant"] == 1
        if not result.unchanged:
            assert result.uploaded == len({f"s/{episode}/{n}" for n in manifest["files"]} - before) + 1
    assert verify_store(store) == []


def test_verify_cli_reports_an_s3_store(s3_env):
    """`localise storage verify` on S3: exit 0 when consistent, 1 with one line per problem."""
    from typer.testing import CliRunner

    from localise.cli import app
    from localise.storage import open_store, read_manifest
    from tests.publish_worker import publish_variant

    url = f"s3://{s3_env.make_bucket('verify')}/out"
    store = open_store(url)
    publish_variant(store, "s", "ep01", 0)
    runner = CliRunner()
    ok = runner.invoke(app, ["storage", "verify", url])
    assert ok.exit_code == 0, ok.output
    track = read_manifest(store, "s", "ep01")["languages"]["en"]["track"]
    store.write(f"s/ep01/{track}", b"tampered")
    bad = runner.invoke(app, ["storage", "verify", url, "--series", "s"])
    assert bad.exit_code == 1 and f"checksum: s/ep01/{track}" in bad.output


def test_stale_staging_of_a_current_episode_is_swept_by_the_next_batch(s3_env, prefect_server, tiny_model, tmp_path):
    """A batch that finds an episode current still sweeps what an interrupted run left beside it."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    from flows.localise_batch import localise_batch
    from localise.storage import open_store, verify_store

    bucket = s3_env.make_bucket("tidy")
    dest = f"s3://{bucket}/out"
    config = tmp_path / "c.toml"
    config.write_text(f'targets = ["en"]\nmodel = "{tiny_model}"\n[quality_gate]\nmax_flagged_share = 1.0\n')
    source = tmp_path / SERIES
    source.mkdir()
    shutil.copy(SAMPLES / "ep01.srt", source / "ep01.srt")
    store = open_store(dest)
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: str(tmp_path / "results")}):
        localise_batch(str(source), destination=dest, config=str(config))
        store.write(f"{SERIES}/ep01/.staging/0123abcd/en.srt", b"left by a killed run of an earlier version")
        store.write(f"{SERIES}/ep01/fedcba9876543210/en.srt", b"uploaded, manifest never written")
        assert {p.kind for p in verify_store(store)} == {"unlisted"}
        again = localise_batch(str(source), destination=dest, config=str(config))
    assert [row["status"] for row in again["episodes"]] == ["current"]
    assert verify_store(store) == []
