"""``localise.retry``: only transient storage and network errors are retried, at one layer per kind,
and the logs say which layer gave up. Real failures: a closed port on 127.0.0.1 (connection
refused, for sockets and for botocore), a real folder store, real programming errors."""

from __future__ import annotations

import errno
import logging
import pickle
import socket
import threading

import pytest

from localise.errors import ConfigError, ParseError, PublishConflict, PublishError, StorageUnavailable
from localise.retry import call_with_retries, is_transient, retried_by, transient_kind


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refused(port: int) -> ConnectionRefusedError:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError as exc:
        return exc
    raise AssertionError("something listens on the closed port")


def _raised(fn) -> BaseException:  # noqa: ANN001
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("did not raise")


def test_network_errors_are_transient_and_programming_errors_are_not():
    refused = _refused(_closed_port())
    assert transient_kind(refused) == "network" and is_transient(refused)
    assert is_transient(TimeoutError("read timed out")) and is_transient(socket.timeout("timed out"))
    assert is_transient(OSError(errno.ESTALE, "Stale file handle"))  # a network file system
    wrapped = _raised(lambda: _wrap(refused))
    assert isinstance(wrapped, PublishError) and is_transient(wrapped)  # judged by what it wraps
    assert is_transient(PublishConflict("lease held by another run"))  # a fresh read may succeed
    for exc in (TypeError("unsupported operand"), KeyError("lang"), AssertionError("cue count changed: 3 -> 2"),
                ValueError("x"), ParseError("not a timestamp", "ep01.srt", 3), ConfigError("no model"),
                PublishError("unsafe storage key '../x'"), OSError(errno.ENOSPC, "No space left on device"),
                PermissionError(errno.EACCES, "Permission denied"), FileNotFoundError(errno.ENOENT, "gone"),
                OSError("no errno")):
        assert not is_transient(exc), exc
    # bad input that happened to be raised while handling a network error is still bad input
    assert not is_transient(_raised(lambda: _wrap(refused, ParseError("bad", "ep01.srt", 1))))


def _wrap(cause: BaseException, error: Exception | None = None) -> None:
    raise (error or PublishError(f"s3://b/k: upload failed: {cause}")) from cause


def test_a_real_refused_connection_is_retried_until_the_server_listens(caplog):
    """Connection refused on a closed port; the server starts listening while we back off, and
    the next attempt connects."""
    port = _closed_port()
    listener: list[socket.socket] = []
    attempts: list[int] = []

    def connect() -> str:
        attempts.append(1)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return "connected"

    def start_listening_while_waiting(delay: float) -> None:
        if len(attempts) == 2:  # after the second refusal
            server = socket.socket()
            server.bind(("127.0.0.1", port))
            server.listen()
            listener.append(server)

    try:
        with caplog.at_level(logging.WARNING, logger="localise.retry"):
            assert call_with_retries(connect, what="review db", delays=(1, 4, 10),
                                     sleep=start_listening_while_waiting) == "connected"
    finally:
        for server in listener:
            server.close()
    assert len(attempts) == 3
    messages = [r.getMessage() for r in caplog.records]
    assert [m.split(" (")[0] for m in messages] == ["review db: attempt 1 of 4 failed", "review db: attempt 2 of 4 failed"]
    assert all("[retry layer: localise.retry]" in m and "ConnectionRefusedError" in m for m in messages)
    assert [m.rsplit("retrying in ", 1)[1] for m in messages] == ["1s", "4s"]


def test_giving_up_names_this_layer(caplog):
    port = _closed_port()
    slept: list[float] = []
    with caplog.at_level(logging.WARNING, logger="localise.retry"), pytest.raises(ConnectionRefusedError):
        call_with_retries(lambda: socket.create_connection(("127.0.0.1", port), timeout=5), what="ep01: reading",
                          delays=(1, 4, 10), sleep=slept.append)
    assert slept == [1, 4, 10]
    gave_up = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage().split(" - ")[0] for r in gave_up] == [
        "ep01: reading: gave up after 4 attempts (retry layer: localise.retry)"]


@pytest.mark.parametrize("error", [TypeError("bad operand"), KeyError("en"), AssertionError("cue count changed"),
                                   ParseError("not a timestamp", "ep01.srt", 3)])
def test_programming_errors_and_bad_input_are_raised_at_once(error, caplog):
    calls: list[int] = []
    slept: list[float] = []

    def fails() -> None:
        calls.append(1)
        raise error

    with caplog.at_level(logging.WARNING, logger="localise.retry"), pytest.raises(type(error)):
        call_with_retries(fails, what="x", sleep=slept.append)
    assert calls == [1] and slept == [] and not caplog.records


def test_s3_without_credentials_is_not_retried(monkeypatch):
    from localise.storage import S3Store

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = S3Store("bucket", endpoint_url=f"http://127.0.0.1:{_closed_port()}", region="us-east-1")
    calls: list[int] = []
    with pytest.raises(PublishError, match="credentials") as info:
        call_with_retries(lambda: calls.append(1) or store.read("k"), what="x", sleep=lambda s: None)
    assert calls == [1] and not isinstance(info.value, StorageUnavailable)


def test_s3_calls_are_retried_by_botocore_only_and_the_log_says_so(caplog, monkeypatch):
    """A real S3 client against a closed port: botocore retries the connection (its standard mode),
    gives up, the store raises StorageUnavailable naming botocore, and our layer does not retry it."""
    from localise.storage import S3Store

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")

    store = S3Store("bucket", endpoint_url=f"http://127.0.0.1:{_closed_port()}", region="us-east-1", max_attempts=2)
    calls: list[int] = []
    slept: list[float] = []

    def read() -> bytes:
        calls.append(1)
        return store.read("series/ep01/manifest.json")

    with caplog.at_level(logging.WARNING), pytest.raises(StorageUnavailable) as info:
        call_with_retries(read, what="ep01: manifest", sleep=slept.append)
    assert calls == [1] and slept == []
    exc = info.value
    assert exc.retried_by == "botocore" and retried_by(exc) == "botocore" and transient_kind(exc) == "s3"
    assert not is_transient(exc) and "127.0.0.1" in str(exc)
    messages = [r.getMessage() for r in caplog.records]
    assert any("gave up after 2 attempt(s) (retry layer: botocore, max_attempts=2)" in m for m in messages), messages
    assert any(m.startswith("ep01: manifest: gave up: botocore already retried it (retry layer: botocore)")
               for m in messages), messages
    assert pickle.loads(pickle.dumps(exc)).retried_by == "botocore"  # Prefect ships it between processes


def test_a_folder_store_error_of_a_non_network_kind_is_not_retried(tmp_path):
    from localise.storage import LocalStore

    blocker = tmp_path / "root"
    blocker.write_text("a file where the store's folder should be")
    store = LocalStore(blocker)
    calls: list[int] = []

    def write() -> None:
        calls.append(1)
        store.write("series/ep01/en.srt", b"1\n")

    with pytest.raises(PublishError) as info:
        call_with_retries(write, what="x", sleep=lambda s: None)
    assert calls == [1] and not is_transient(info.value)


def test_prefect_tasks_do_not_retry_exceptions():
    """One layer per kind: storage is retried inside the tasks; Prefect retries nothing."""
    from flows.apply_review import republish_episode
    from flows.tasks import load_file_task, publish_chunk_task, publish_task, scan_task, translate_task

    for task in (scan_task, publish_chunk_task, load_file_task, publish_task, translate_task, republish_episode):
        assert task.retries == 0, task.name


def test_a_conflict_is_retried_in_a_thread_safe_way():
    """Two threads each retry their own call; one attempt per thread conflicts first."""
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def busy_once(name: str) -> str:
        with lock:
            seen[name] = seen.get(name, 0) + 1
            if seen[name] == 1:
                raise PublishConflict(f"{name}: lease held by another run")
        return name

    results: list[str] = []
    threads = [threading.Thread(target=lambda n=n: results.append(
        call_with_retries(lambda: busy_once(n), what=n, sleep=lambda s: None))) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["a", "b"] and seen == {"a": 2, "b": 2}
