"""A small in-process limit on failed attempts per client address (the login form): after
``attempts`` failures within ``window_s`` seconds the address waits until the oldest one ages out.
Bounded memory: at most ``max_clients`` addresses are tracked (the least recently failing go)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque


class FailureLimiter:
    def __init__(self, attempts: int, window_s: float, *, max_clients: int = 10_000) -> None:
        self.attempts, self.window_s, self.max_clients = attempts, window_s, max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is not None:
            while failures and failures[0] <= now - self.window_s:
                failures.popleft()
            if not failures:
                del self._failures[client]
                return None
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds the client must wait before trying again (0: it may try now)."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if failures is None or len(failures) < self.attempts:
                return 0
            return max(1, int(failures[0] + self.window_s - now + 0.999))

    def fail(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if failures is None:
                failures = self._failures[client] = deque(maxlen=self.attempts)
            failures.append(now)
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def succeed(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
