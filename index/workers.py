"""Worker processes for the build's parallel steps (index/pipeline.py, index/columns.py,
index/stories.py): how many, how a forked worker dies with the process that started it,
and one step run beside another."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
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


class Forked:
    """`work(*args)` running in a forked process, which reads what this process held when
    it forked without a copy or a pickle (a round of documents, a full build's stories);
    what it returns comes back pickled. Only from a process without threads."""

    def __init__(self, work: Callable[..., object], *args: object):
        context = multiprocessing.get_context("fork")
        self.answers, answer = context.Pipe(duplex=False)  # `answers`: readable once done
        self._process = context.Process(target=_answering, args=(answer, work, args), daemon=True)
        self._process.start()
        answer.close()

    def result(self) -> object:
        """Wait for it: what `work` returned; what it raised is raised here."""
        try:
            value, failure = self.answers.recv()
        except EOFError:  # it died without a word (killed)
            self._process.join()
            raise RuntimeError(
                f"a forked step ended with exit code {self._process.exitcode}"
            ) from None
        finally:
            self.stop()
        if failure is not None:
            raise failure
        return value

    def stop(self) -> None:
        """Kill it unless it has ended, and let it go."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self.answers.close()


def _answering(answer, work: Callable[..., object], args: tuple) -> None:
    """In the forked process: do `work`, then send (what it returned, None) or (None,
    what it raised)."""
    die_with_parent()
    try:
        value = work(*args)
    except BaseException as exc:
        try:
            answer.send((None, exc))
        except Exception:  # an exception that does not pickle: its text
            answer.send((None, RuntimeError(repr(exc))))
    else:
        answer.send((value, None))


@contextmanager
def meanwhile(work: Callable[[], object]) -> Iterator[None]:
    """Run `work()` in a forked process (`Forked`) while the body runs, then wait for
    it; what it raised is raised here."""
    forked = Forked(work)
    try:
        yield
        forked.result()
    finally:
        forked.stop()


class Beside:
    """`work()` begun now in a forked process (`Forked`) while the caller goes on, where
    this process has no other thread (a lock another thread held at the fork would stay
    held in the child); with threads, run here once its `result` is asked for."""

    def __init__(self, work: Callable[[], object]):
        self._work = work
        self._forked = Forked(work) if threading.active_count() == 1 else None

    def result(self) -> object:
        """Wait for it (or run it): what `work` returned; what it raised is raised here."""
        return self._forked.result() if self._forked else self._work()

    def stop(self) -> None:
        if self._forked:
            self._forked.stop()
