"""Sift's gthread worker takes no new connection while it answers a short request.

Real gunicorn, one worker of four threads, serving tests/slow_app.py: a request that
arrives while another is being answered waits for it (it would have shared the worker's
core: search is Python holding the GIL), unless that one runs past LONG_REQUEST_S; plain
gthread lets it in at once. The ordering of the answers shows which worker did what.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from api.balanced_worker import LONG_REQUEST_S
from tests.conftest import ROOT
from tests.servers import free_port, wait_for

BALANCED = "api.balanced_worker.BalancedThreadWorker"


@pytest.fixture
def serve():
    started = []

    def start(worker_class: str) -> str:
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4"]
        command += ["--worker-class", worker_class, "--bind", f"127.0.0.1:{port}"]
        proc = subprocess.Popen(
            [*command, "tests.slow_app:app"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/")
        return base

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=30)


def _finishing_order(base: str, slow_ms: int, waited: list | None = None) -> list[str]:
    """Ask for a slow answer, then 50 ms later a fast one: which finished first (and in
    `waited`, how long the fast one took)."""
    done: list[str] = []

    def get(name: str, ms: int) -> None:
        urllib.request.urlopen(f"{base}/slow?ms={ms}", timeout=30).read()
        done.append(name)

    slow = threading.Thread(target=get, args=("slow", slow_ms))
    slow.start()
    time.sleep(0.05)
    asked = time.monotonic()
    get("fast", 0)
    if waited is not None:
        waited.append(time.monotonic() - asked)
    slow.join()
    return done


def test_a_connection_waits_for_the_short_request_being_answered(serve):
    slow_ms = int(LONG_REQUEST_S * 1000 / 2)
    assert _finishing_order(serve(BALANCED), slow_ms) == ["slow", "fast"]
    # gthread's own worker takes it at once, into the same process
    assert _finishing_order(serve("gthread"), slow_ms) == ["fast", "slow"]


def test_a_long_request_does_not_hold_up_the_connections_behind_it(serve):
    waited: list[float] = []
    order = _finishing_order(serve(BALANCED), int(LONG_REQUEST_S * 1000 * 8), waited)
    assert order == ["fast", "slow"]
    # taken once the slow one has run LONG_REQUEST_S (not at gunicorn's next 1 s poll)
    assert waited[0] < 4 * LONG_REQUEST_S
