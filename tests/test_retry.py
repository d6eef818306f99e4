"""``localise.retry``: transient failures are retried after each delay, bad input never."""

from __future__ import annotations

import logging

import pytest

from localise.errors import ParseError, PublishError
from localise.retry import call_with_retries, is_transient


def test_transient_failures_are_retried_with_the_given_delays(caplog):
    slept: list[float] = []
    attempts = iter([PublishError("s3://b/k: upload failed"), ConnectionError("reset"), None])

    def flaky() -> str:
        exc = next(attempts)
        if exc is not None:
            raise exc
        return "done"

    with caplog.at_level(logging.WARNING, logger="localise.retry"):
        assert call_with_retries(flaky, what="ep01: publishing", delays=(1, 4, 10), sleep=slept.append) == "done"
    assert slept == [1, 4]
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "ep01: publishing: attempt 1 of 4 failed", "ep01: publishing: attempt 2 of 4 failed"]


def test_the_last_error_is_raised_after_every_delay():
    slept: list[float] = []
    calls = []

    def down() -> None:
        calls.append(1)
        raise PublishError("s3://b/k: upload failed")

    with pytest.raises(PublishError, match="upload failed"):
        call_with_retries(down, what="x", delays=(1, 4, 10), sleep=slept.append)
    assert len(calls) == 4 and slept == [1, 4, 10]


def test_bad_input_is_not_retried():
    slept: list[float] = []

    def bad() -> None:
        raise ParseError("not a timestamp", "ep01.srt", 3)

    with pytest.raises(ParseError):
        call_with_retries(bad, what="x", sleep=slept.append)
    assert slept == []
    assert is_transient(PublishError("x")) and is_transient(OSError("x")) and not is_transient(ParseError("m", "f", 1))
