"""Retrying what can succeed on a retry — transient storage and network failures — once, at one layer.

Which layer retries which kind (and nothing is retried at two):

* **S3 calls: botocore.** The S3 client's own retry (``standard`` mode, ``S3Store(max_attempts=)``)
  retries connection errors, timeouts, throttling and 5xx per request, with its backoff and retry
  quota. When it gives up, :class:`localise.storage.S3Store` raises
  :class:`~localise.errors.StorageUnavailable` with ``retried_by="botocore"``, logs that botocore gave
  up, and :func:`call_with_retries` does not try again.
* **Other network and storage: here.** :func:`call_with_retries` retries, per call, an ``OSError``
  of a network kind (connection refused/reset, timeouts, unreachable, a stale NFS handle), a
  database connection that dropped, and :class:`~localise.errors.PublishConflict` (a lease held or
  a manifest changed by another writer: a fresh read may succeed). Why per call and not per
  Prefect task: a batch publishes a chunk of episodes in one task, and a task retry would redo
  them all; retrying the failed episode keeps the others untouched.
* **Prefect: crashed infrastructure only.** No task retries on exceptions (the two layers above
  cover storage; anything else fails the same way again). A run whose process died is Crashed,
  not Failed, and is run again by whoever started it.

Never retried: bad input and every other ``LocaliseError``, ``TypeError``, ``KeyError``,
``AssertionError`` (the pipeline's invariant) or any other programming error, and storage errors
that answer the same way every time (access denied, no such bucket, disk full, permission).
Every retry is logged as a warning naming the layer; giving up is logged as an error naming it.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from localise.errors import LocaliseError, PublishConflict, PublishError

T = TypeVar("T")

#: Seconds to wait before the 2nd, 3rd and 4th attempt (the flows' storage steps use these).
STORAGE_DELAYS: tuple[float, ...] = (1.0, 4.0, 10.0)

#: The name this layer gives itself in logs.
LAYER = "localise.retry"

log = logging.getLogger("localise.retry")

#: ``OSError.errno`` values that mean the network or a network file system, not the request.
NETWORK_ERRNOS = frozenset(
    getattr(errno, name) for name in (
        "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH",
        "ENETDOWN", "ENETRESET", "ENOTCONN", "EPIPE", "ESTALE", "EREMOTEIO",
    ) if hasattr(errno, name)
)

# What botocore's standard retry mode treats as transient or throttled (botocore.retries.standard).
_S3_TRANSIENT_CODES = frozenset({
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError", "ServiceUnavailable",
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "RequestThrottled", "SlowDown", "500", "502", "503", "504", "429",
})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or during (bounded, no cycles)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 16:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def botocore_transient(exc: BaseException) -> bool:
    """Whether a botocore exception is one its standard retry mode retries: a connection error,
    a timeout, a throttling code, or a 5xx / 429 answer."""
    module = type(exc).__module__ or ""
    if not module.startswith("botocore"):
        return False
    try:
        from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError
    except ImportError:  # pragma: no cover - botocore is a dependency of the S3 store
        return False
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {}) or {}
        status = (exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode")
        return str(error.get("Code")) in _S3_TRANSIENT_CODES or (isinstance(status, int) and (status >= 500 or status == 429))
    return False


def transient_kind(exc: BaseException) -> str | None:
    """What kind of transient failure ``exc`` is — ``"conflict"``, ``"network"``, ``"s3"`` — or
    ``None`` when another attempt would fail the same way."""
    if isinstance(exc, PublishConflict):
        return "conflict"
    if isinstance(exc, LocaliseError) and not isinstance(exc, PublishError):
        return None  # bad input, settings, a model: the same every time
    for item in _chain(exc):
        if isinstance(item, LocaliseError):
            continue  # a storage wrapper: judge what it wraps
        if botocore_transient(item):
            return "s3"
        if isinstance(item, (TimeoutError, socket.timeout)):
            return "network"
        if isinstance(item, OSError) and item.errno in NETWORK_ERRNOS:
            return "network"
        if isinstance(item, ConnectionError):  # builtin: refused, reset, aborted, broken pipe
            return "network"
        if getattr(item, "connection_invalidated", False):  # SQLAlchemy: the database connection dropped
            return "network"
    return None


def retried_by(exc: BaseException) -> str | None:
    """The layer that already retried ``exc`` (``"botocore"``), if any: not retried again."""
    for item in _chain(exc):
        layer = getattr(item, "retried_by", None)
        if layer:
            return str(layer)
    return None


def is_transient(exc: BaseException) -> bool:
    """Worth another try at this layer: a transient kind (:func:`transient_kind`) that no other
    layer has retried already (:func:`retried_by`)."""
    return transient_kind(exc) is not None and retried_by(exc) is None


def call_with_retries(
    fn: Callable[[], T],
    *,
    what: str,
    delays: Sequence[float] = STORAGE_DELAYS,
    retry_if: Callable[[BaseException], bool] = is_transient,
    logger: logging.Logger | logging.LoggerAdapter = log,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``fn()``, tried again after each delay in ``delays`` while it raises a transient error
    (``retry_if``). Each retry is a warning naming ``what`` and this layer; giving up after the
    last attempt is an error naming this layer; a transient error another layer already retried
    is raised at once with a warning naming that layer. Anything else is raised as it is."""
    attempts = len(delays) + 1
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            return fn()
        except Exception as exc:
            if not retry_if(exc):
                other = retried_by(exc)
                if other is not None:
                    logger.warning("%s: gave up: %s already retried it (retry layer: %s) - %s: %s",
                                   what, other, other, type(exc).__name__, exc)
                raise
            if delay is None:
                logger.error("%s: gave up after %d attempts (retry layer: %s) - %s: %s",
                             what, attempts, LAYER, type(exc).__name__, exc)
                raise
            logger.warning("%s: attempt %d of %d failed (%s: %s) [retry layer: %s]; retrying in %gs",
                           what, attempt, attempts, type(exc).__name__, exc, LAYER, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises
