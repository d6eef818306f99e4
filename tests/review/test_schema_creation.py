"""Opening a new review database from several threads or processes at once: the first use of a
fresh SQLite file by a batch's parallel tasks or by two workers must not fail on CREATE TABLE."""

from __future__ import annotations

import multiprocessing
import threading

from sqlalchemy import inspect

from localise.review.schema import make_engine

TABLES = {"review_tracks", "review_items", "tm_entries"}


def _open(url: str, errors: list[str]) -> None:
    try:
        make_engine(url)
    except Exception as exc:  # noqa: BLE001 - collected for the assertion
        errors.append(repr(exc))


def test_threads_open_a_new_database_together(tmp_path):
    for trial in range(10):
        url = f"sqlite:///{tmp_path / f'threads{trial}.db'}"
        errors: list[str] = []
        threads = [threading.Thread(target=_open, args=(url, errors)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert TABLES <= set(inspect(make_engine(url)).get_table_names())


def _open_in_process(url: str) -> None:
    make_engine(url)


def test_processes_open_a_new_database_together(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for trial in range(5):
        url = f"sqlite:///{tmp_path / f'processes{trial}.db'}"
        procs = [ctx.Process(target=_open_in_process, args=(url,)) for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=60)
        assert [p.exitcode for p in procs] == [0, 0, 0]
