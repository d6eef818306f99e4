"""Peak resident memory and CPU time per benchmark phase.

Why not just ``resource.getrusage``: its ``ru_maxrss`` is the peak of the whole process, so after
the first phase that loads a model every later phase would report the same number. On Linux the
kernel lets a process reset its own high-water mark (write ``5`` to ``/proc/self/clear_refs``,
then read ``VmHWM`` from ``/proc/self/status``), which gives an exact peak per phase. Where that
is not allowed, a psutil sampling thread (every 10 ms) stands in.
"""

from __future__ import annotations

import resource
import sys
import threading
from pathlib import Path

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its live children (the ephemeral Prefect
    API server is a child), plus children already reaped. On a shared machine wall time depends
    on the neighbours; CPU time much less, so ratios are reported both ways."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    try:
        import psutil

        for child in psutil.Process().children(recursive=True):
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
    except ImportError:
        pass
    return total


def _read_hwm_kb() -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _read_hwm_kb() is not None


_seen_peak_mb = 0.0  # resetting VmHWM also resets ru_maxrss, so keep the highest peak seen here


def process_peak_rss_mb() -> float:
    """Peak RSS of this process over its life so far, in MiB (children not included)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    now = kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024
    return round(max(now, _seen_peak_mb), 1)


class PeakRSS:
    """``with PeakRSS() as peak: ...`` then ``peak.mb``: the highest RSS reached inside the block."""

    def __init__(self) -> None:
        self.mb: float | None = None
        self.method = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._max = 0

    def __enter__(self) -> PeakRSS:
        _remember(process_peak_rss_mb())
        if _reset_hwm():
            self.method = "VmHWM"
        else:
            import psutil

            self.method = "psutil-sampling"
            proc = psutil.Process()

            def sample() -> None:
                while not self._stop.wait(0.01):
                    self._max = max(self._max, proc.memory_info().rss)

            self._max = proc.memory_info().rss
            self._thread = threading.Thread(target=sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.method == "VmHWM":
            kb = _read_hwm_kb() or 0
            self.mb = round(kb / 1024, 1)
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self.mb = round(self._max / (1024 * 1024), 1)
        _remember(self.mb)


def _remember(mb: float) -> None:
    global _seen_peak_mb
    _seen_peak_mb = max(_seen_peak_mb, mb)
