"""Retrying transient failures with backoff, one call at a time.

Why here and not only in Prefect: a batch publishes a whole chunk of episodes in one task (a task
per episode costs more orchestration than the episode's own work on a small machine), and a
Prefect retry of that task would redo every episode of it. Retrying the one storage call that
failed keeps the others untouched and still fails an episode for good after the last attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from localise.errors import LocaliseError, PublishError

T = TypeVar("T")

#: Seconds to wait before the 2nd, 3rd and 4th attempt (the flows' storage steps use these).
STORAGE_DELAYS: tuple[float, ...] = (1.0, 4.0, 10.0)

log = logging.getLogger("localise.retry")


def is_transient(exc: BaseException) -> bool:
    """Storage and network failures are worth another try; bad input (a ``ParseError``, a
    ``GlossaryError``, ...) fails the same way every time and is not retried."""
    return not isinstance(exc, LocaliseError) or isinstance(exc, PublishError)


def call_with_retries(
    fn: Callable[[], T],
    *,
    what: str,
    delays: Sequence[float] = STORAGE_DELAYS,
    retry_if: Callable[[BaseException], bool] = is_transient,
    logger: logging.Logger | logging.LoggerAdapter = log,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``fn()``, tried again after each delay in ``delays`` while it raises a transient error.
    Each retry is logged as a warning naming ``what``; the last error is raised as it is."""
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            return fn()
        except Exception as exc:
            if delay is None or not retry_if(exc):
                raise
            logger.warning("%s: attempt %d of %d failed (%s: %s); retrying in %gs",
                           what, attempt, len(delays) + 1, type(exc).__name__, exc, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises
