"""A worker trims freed memory once it has been quiet, never while it answers."""

from __future__ import annotations

import time

from api import idle_memory
from api.idle_memory import IdleTrimmer


def test_a_quiet_worker_trims_once_and_a_busy_one_never():
    calls: list[int] = []
    trimmer = IdleTrimmer(lambda: calls.append(1), idle_s=0.05)
    assert not trimmer.trim_if_idle()  # nothing answered yet: nothing freed
    trimmer.started()
    time.sleep(0.1)
    assert not trimmer.trim_if_idle()  # a request in flight
    trimmer.finished()
    assert not trimmer.trim_if_idle()  # it has only just ended
    time.sleep(0.1)
    assert trimmer.trim_if_idle() and calls == [1]
    time.sleep(0.1)
    assert not trimmer.trim_if_idle() and calls == [1]  # nothing answered since


def test_glibc_gives_freed_memory_back():
    trim = idle_memory._malloc_trim()
    assert trim is not None  # Debian's glibc, as in the Docker image
    assert trim() in (0, 1)  # malloc_trim: whether memory was released
