"""Worker processes for the build's parallel steps (index/pipeline.py, index/columns.py):
how many, and how a forked worker dies with the process that started it."""

from __future__ import annotations

import ctypes
import os
import signal

# Workers at most, whatever the machine: segments multiply with them.
MAX_WORKERS = 8

# linux/prctl.h: deliver a signal to this process when its parent dies.
_PR_SET_PDEATHSIG = 1


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def die_with_parent() -> None:
    """In a worker: be killed when the process that forked it dies (kill -9 included),
    instead of finishing work nobody will collect (Linux; elsewhere the pool's own
    cleanup)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
