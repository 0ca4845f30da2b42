"""A worker gives the memory its searches freed back to the system once it goes quiet.

glibc keeps what a worker's threads free for their next allocations, so after a burst of
concurrent searches (numpy temporaries of tens of MB each on a million articles) a worker
holds its peak: 570 MB of anonymous memory after 8 threads ran the benchmark's queries on
50x Reuters-21578, 310 MB after one `malloc_trim` (23 ms). Under load the memory is
reused, so nothing is trimmed while requests keep coming; once a worker has answered
nothing for IDLE_S, a background thread trims. (Fixing glibc's mmap threshold instead
gave the memory back on every free, and cost every search about 15 % more CPU.)

Before that, glibc gives each thread an arena of its own on its first allocation (up
to eight per core), and each arena keeps its thread's peak of freed temporaries: at 50x
Reuters-21578 every gthread thread that had searched held about 35 MB more of its
worker's memory, against 5 MB with all threads in one arena. So workers start with one
arena (`one_arena`, set by the master before it forks them); the GIL already serialises
nearly every allocation a search makes. Measured at 50x, 2 workers and 2 clients, five
runs each way interleaved: a worker's private memory after the load 205 MB against
306-342 MB, p50 / p95 with facets 21.6 / 69.6 ms against 20.8 / 65.5 ms (medians; runs
spread 19-23 ms and 58-76 ms either way), one client alone 15.1 against 15.6 ms.
"""

from __future__ import annotations

import ctypes
import os
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


# glibc's mallopt parameter for the most arenas (malloc.h: M_ARENA_MAX).
_M_ARENA_MAX = -8


def one_arena() -> bool:
    """Have every thread of this process, and of those it forks, allocate from glibc's
    main arena, unless the operator chose otherwise (MALLOC_ARENA_MAX, read by glibc
    itself at start); whether it was set (False without glibc)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, 1))


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
