"""Worker processes for the build's parallel steps (index/pipeline.py, index/columns.py,
index/stories.py): how many, how a forked worker dies with the process that started it,
and one step run beside another."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def meanwhile(work: Callable[[], object]) -> Iterator[None]:
    """Run `work()` in a forked process while the body runs, then wait for it; its
    exception is raised here. Forked, it reads what this process holds without a copy
    or a pickle (a full build's stories: gigabytes). Only from a process without threads."""
    context = multiprocessing.get_context("fork")
    answers, answer = context.Pipe(duplex=False)
    process = context.Process(target=_answering, args=(answer, work), daemon=True)
    process.start()
    answer.close()
    try:
        yield
        try:
            failure = answers.recv()
        except EOFError:  # it died without a word (killed)
            process.join()
            raise RuntimeError(f"a forked step ended with exit code {process.exitcode}") from None
        if failure is not None:
            raise failure
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        answers.close()


def _answering(answer, work: Callable[[], object]) -> None:
    """In the forked process: do `work`, then send None, or what it raised."""
    die_with_parent()
    try:
        work()
    except BaseException as exc:
        answer.send(exc)
    else:
        answer.send(None)
