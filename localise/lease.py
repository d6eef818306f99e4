"""One writer per episode at a time, across threads, processes, flows and machines: a lease object
beside the episode's manifest, taken, renewed and given back with conditional writes.

Why a lease *and* a conditional manifest write: the manifest is written with a compare-and-swap
(``If-Match`` on the ETag read at the start, ``If-None-Match: *`` for the first one), which alone
keeps the pointer from losing an update. But publishing also uploads and sweeps objects, and a
sweep by one writer must never delete what another is about to name; so every step of a publish
runs while its writer holds the episode's lease. The lease is an object (``<episode>/.lease``)
holding its owner and an expiry:

* taken with a conditional create (``If-None-Match: *``), or by a conditional overwrite
  (``If-Match`` on its ETag) of a lease that has expired, was given back, or belongs to a process
  on this machine that is gone (a crashed run does not block the next one for the whole TTL);
* renewed (again ``If-Match``) before a step when a third of its time has passed — a renewal that
  fails means someone took it over, and the publish stops before touching anything users see;
* given back by overwriting it, conditionally, with an expired record (no conditional delete is
  needed, which not every S3 implementation offers).

Both stores provide the two conditional primitives (``Store.write_if``, ``Store.read_with_etag``):
S3 through ``If-None-Match``/``If-Match`` on PutObject (AWS S3 since 2024; SeaweedFS 4.x — checked
once per process and bucket, since a server that ignored them would make every lease shared), a
local folder through ``flock`` on the folder. The remaining assumption, as with any lease: the
TTL (default 120 s) is longer than clock skew between machines plus the longest stall of a writer.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from localise.errors import PublishConflict, PublishError

if TYPE_CHECKING:
    from localise.storage import Store

log = logging.getLogger(__name__)

LEASE = ".lease"
#: Seconds a lease lasts without renewal (a crashed writer on another machine blocks this long).
LEASE_TTL_S = 120.0

# Owner ids of the leases this process holds now: a lease record naming this process but not
# listed here was left by a thread that gave up (storage down while releasing) and is stale.
_HELD_HERE: set[str] = set()
_HELD_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def machine_id() -> str:
    """Who "this machine" is for the dead-process check: host name, boot id and PID namespace
    (two containers with one host name and kernel still differ by their PID namespace)."""
    parts = [socket.gethostname()]
    for path in ("/proc/sys/kernel/random/boot_id",):
        try:
            with open(path, encoding="ascii") as fh:
                parts.append(fh.read().strip())
        except OSError:
            parts.append("?")
    try:
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:
        parts.append("?")
    return "|".join(parts)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except (OSError, ValueError, OverflowError):
        return True  # cannot tell: treat as alive (only delays a takeover)
    return True


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def lease_record(owner: str | None, ttl: float, purpose: str) -> dict[str, Any]:
    now = time.time()
    return {"owner": owner, "purpose": purpose, "host": socket.gethostname(), "machine": machine_id(),
            "pid": os.getpid(), "acquired_at": _iso(now), "expires_at": now + ttl if owner else 0.0, "ttl": ttl}


def is_stale(record: dict[str, Any] | None, now: float | None = None) -> bool:
    """Whether a lease record may be taken over: given back, expired, unreadable, or held by a
    process of this machine that no longer runs (or by this process, no longer holding it)."""
    if not isinstance(record, dict) or not record.get("owner"):
        return True
    try:
        if float(record.get("expires_at", 0)) <= (time.time() if now is None else now):
            return True
    except (TypeError, ValueError):
        return True
    if record.get("machine") == machine_id() and isinstance(record.get("pid"), int):
        if record["pid"] == os.getpid():
            with _HELD_LOCK:
                return record["owner"] not in _HELD_HERE
        return not _pid_alive(record["pid"])
    return False


def _parse(data: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


@dataclass
class Lease:
    """A held lease: ``ensure()`` before each step that changes storage, ``release()`` at the end
    (also as a context manager)."""

    store: Store
    key: str
    owner: str
    ttl: float
    purpose: str
    etag: str
    renewed: float = field(default_factory=time.monotonic)
    released: bool = False

    def ensure(self, fraction: float = 1 / 3) -> None:
        """Renew when more than ``fraction`` of the TTL has passed since the last write: a lease
        that a renewal finds taken over raises :class:`PublishConflict` before any further step."""
        if self.released:
            raise PublishConflict(f"{self.store.location(self.key)}: lease already given back")
        if time.monotonic() - self.renewed > self.ttl * fraction:
            self.renew()

    def renew(self) -> None:
        started = time.monotonic()
        record = json.dumps(lease_record(self.owner, self.ttl, self.purpose)).encode()
        try:
            self.etag = self.store.write_if(self.key, record, etag=self.etag)
        except PublishConflict as exc:
            self._forget()
            raise PublishConflict(f"{self.store.location(self.key)}: lease lost to another writer "
                                  f"(renewing after {started - self.renewed:.0f}s)") from exc
        self.renewed = started

    def release(self) -> None:
        """Give the lease back (best effort: a lease that cannot be written now simply expires,
        and a process of this machine sees at once that it is no longer held)."""
        if self.released:
            return
        self._forget()
        record = json.dumps(lease_record(None, 0, self.purpose)).encode()
        try:
            self.store.write_if(self.key, record, etag=self.etag)
        except PublishError as exc:
            log.debug("lease %s not given back: %s", self.key, exc)

    def _forget(self) -> None:
        self.released = True
        with _HELD_LOCK:
            _HELD_HERE.discard(self.owner)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire_lease(store: Store, key: str, *, ttl: float = LEASE_TTL_S, wait: float | None = None,
                  purpose: str = "publish") -> Lease:
    """Take the lease at ``key``, waiting up to ``wait`` seconds (default: the TTL and half a
    minute, so a crashed holder's lease expires meanwhile) while another writer holds it.

    Raises :class:`PublishConflict` naming the holder when the wait ends, :class:`PublishError`
    when storage fails."""
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + (ttl + 30.0 if wait is None else max(0.0, wait))
    delay = 0.05
    holder: dict[str, Any] | None = None
    # Listed as held here *before* the write: another thread of this process reading the new
    # record in between must not find it abandoned.
    with _HELD_LOCK:
        _HELD_HERE.add(owner)
    try:
        return _acquire(store, key, owner, ttl, purpose, deadline, delay, holder)
    except BaseException:
        with _HELD_LOCK:
            _HELD_HERE.discard(owner)
        raise


def _acquire(store: Store, key: str, owner: str, ttl: float, purpose: str, deadline: float, delay: float,
             holder: dict[str, Any] | None) -> Lease:
    while True:
        record = json.dumps(lease_record(owner, ttl, purpose)).encode()
        etag: str | None = None
        try:
            etag = store.write_if(key, record, etag=None)
        except PublishConflict:
            try:
                data, current = store.read_with_etag(key)
            except FileNotFoundError:
                continue  # given back and deleted meanwhile: create it again
            holder = _parse(data)
            if is_stale(holder):
                try:
                    etag = store.write_if(key, record, etag=current)
                    if holder and holder.get("owner"):
                        log.warning("%s: took over a stale lease of %s (pid %s on %s)", store.location(key),
                                    holder.get("purpose"), holder.get("pid"), holder.get("host"))
                except PublishConflict:
                    etag = None  # someone else was quicker
        if etag is not None:
            return Lease(store, key, owner, ttl, purpose, etag)
        left = deadline - time.monotonic()
        if left <= 0:
            who = (f"{holder.get('purpose')} by pid {holder.get('pid')} on {holder.get('host')} "
                   f"until {_iso(float(holder.get('expires_at', 0)))}") if holder else "another writer"
            raise PublishConflict(f"{store.location(key)}: busy, held by {who}")
        time.sleep(min(left, delay * random.uniform(0.5, 1.0)))
        delay = min(delay * 2, 1.0)
