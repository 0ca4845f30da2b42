"""`meanwhile`: a step run in a forked process beside the caller's (a full build writes
its stories' keys table that way while assigning the stories)."""

import errno
import os
import signal
import threading
import time

import pytest

from index import workers
from index.workers import Beside, meanwhile


def test_the_forked_step_runs_beside_the_body_and_is_waited_for(tmp_path):
    started = tmp_path / "started"
    done = tmp_path / "done"

    def work():
        started.write_text(str(os.getpid()))
        time.sleep(0.3)
        done.write_text("yes")

    with meanwhile(work):
        deadline = time.monotonic() + 10
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert started.exists() and not done.exists()  # running while the body runs
    assert done.read_text() == "yes"  # and finished once the block is left
    assert int(started.read_text()) != os.getpid()


def test_what_the_forked_step_raised_is_raised_after_the_body():
    def work():
        raise OSError(errno.ENOSPC, "No space left on device")

    body_ran = []
    with pytest.raises(OSError) as raised, meanwhile(work):
        body_ran.append(True)
    assert body_ran == [True]
    assert raised.value.errno == errno.ENOSPC


def test_a_forked_step_killed_is_an_error_not_a_silent_success():
    with (
        pytest.raises(RuntimeError, match="exit code -9"),
        meanwhile(lambda: os.kill(os.getpid(), signal.SIGKILL)),
    ):
        pass


def test_a_failing_body_stops_the_forked_step(tmp_path):
    pid_file = tmp_path / "pid"

    def work():
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)

    started = time.monotonic()
    with pytest.raises(ValueError), meanwhile(work):
        while not pid_file.exists():
            time.sleep(0.01)
        raise ValueError("the body failed")
    assert time.monotonic() - started < 30
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_beside_forks_a_process_without_threads_and_runs_here_with_them(monkeypatch):
    with monkeypatch.context() as patch:  # other tests may have left threads running
        patch.setattr(workers.threading, "active_count", lambda: 1)
        alone = Beside(os.getpid)
    assert alone.result() != os.getpid()  # begun in a forked process

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        ran = []
        with_thread = Beside(lambda: ran.append(os.getpid()) or os.getpid())
        assert ran == []  # not begun before it is asked for
        assert with_thread.result() == os.getpid() and ran == [os.getpid()]
    finally:
        release.set()
        thread.join()


def test_what_a_step_beside_raised_is_raised_by_its_result():
    def work():
        raise OSError(errno.ENOSPC, "No space left on device")

    beside = Beside(work)
    with pytest.raises(OSError) as raised:
        beside.result()
    assert raised.value.errno == errno.ENOSPC
