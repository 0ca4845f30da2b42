"""A worker gives the memory its searches freed back to the system once it goes quiet.

glibc keeps what a worker's threads free for their next allocations, so after a burst of
concurrent searches (numpy temporaries of tens of MB each on a million articles) a worker
holds its peak: 570 MB of anonymous memory after 8 threads ran the benchmark's queries on
50x Reuters-21578, 310 MB after one `malloc_trim` (23 ms). Under load the memory is
reused, so nothing is trimmed while requests keep coming; once a worker has answered
nothing for IDLE_S, a background thread trims. (Fixing glibc's mmap threshold instead
gave the memory back on every free, and cost every search about 15 % more CPU.)
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable

IDLE_S = 1.0


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's malloc_trim(0), or None where the C library has none (musl)."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return lambda: trim(0)


class IdleTrimmer:
    """Counts requests in flight (`started`, `finished`); `run` trims when idle."""

    def __init__(self, trim: Callable[[], object], idle_s: float = IDLE_S):
        self.trim = trim
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._active = 0
        self._last_end = 0.0
        self._freed = False  # a request ended since the last trim

    def started(self) -> None:
        with self._lock:
            self._active += 1

    def finished(self) -> None:
        with self._lock:
            self._active -= 1
            self._last_end = time.monotonic()
            self._freed = True

    def trim_if_idle(self) -> bool:
        with self._lock:
            due = (
                self._freed
                and not self._active
                and time.monotonic() - self._last_end >= self.idle_s
            )
            if due:
                self._freed = False
        if due:
            self.trim()
        return due

    def run(self) -> None:
        while True:
            time.sleep(self.idle_s / 2)
            self.trim_if_idle()


def start() -> IdleTrimmer | None:
    """In a worker: the trimmer, its thread started (None without malloc_trim)."""
    trim = _malloc_trim()
    if trim is None:
        return None
    trimmer = IdleTrimmer(trim)
    threading.Thread(target=trimmer.run, name="sift-idle-trim", daemon=True).start()
    return trimmer
