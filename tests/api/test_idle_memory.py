"""A worker trims freed memory once it has been quiet, never while it answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from api import idle_memory
from api.idle_memory import IdleTrimmer
from tests.conftest import ROOT


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


# Threads that each allocate (glibc gives a thread its own arena on its first allocation,
# up to the limit), then glibc's own account of its arenas (malloc_stats, on stderr).
_ARENAS_SCRIPT = """
import ctypes, sys, threading
from api import idle_memory
if sys.argv[1] == "one":
    assert idle_memory.one_arena()
def work():
    kept.append([bytearray(200_000) for _ in range(20)])
kept = []
threads = [threading.Thread(target=work) for _ in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def _arenas(mode: str) -> int:
    """How many arenas three allocating threads left (`mode` "one": after `one_arena`)."""
    done = subprocess.run(
        [sys.executable, "-c", _ARENAS_SCRIPT, mode],
        cwd=ROOT,
        env={name: value for name, value in os.environ.items() if name != "MALLOC_ARENA_MAX"},
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_threads_allocate_from_one_arena():
    """Each thread had an arena of its own, holding its own freed memory; after
    `one_arena` (gunicorn's master calls it before forking workers) they share one."""
    assert _arenas("default") > 1
    assert _arenas("one") == 1


def test_the_operators_arena_setting_is_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")  # glibc read it at start: it stands
    assert not idle_memory.one_arena()
