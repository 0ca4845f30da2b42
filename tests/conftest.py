"""Shared fixtures: a real on-disk index built from tests/data and seeds/, and HTTP clients."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from api import create_app
from index.reindex import reindex
from search.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEEDS = ROOT / "seeds"
API_KEY = "test-key-0123456789"


@pytest.fixture(scope="session")
def index_root(tmp_path_factory) -> Path:
    """The shared read-only index: the hand-written corpus plus the seeds."""
    root = tmp_path_factory.mktemp("index")
    report = reindex(root, [DATA, SEEDS])
    assert report.switched, report.errors
    return root


@pytest.fixture(scope="session")
def engine(index_root) -> Engine:
    return Engine(index_root)


@pytest.fixture(scope="session")
def client(index_root):
    app = create_app({"index_dir": str(index_root), "api_key": API_KEY})
    return app.test_client()


@pytest.fixture
def fresh_root(tmp_path) -> Path:
    """A private, writable index of the hand-written corpus for one test."""
    root = tmp_path / "index"
    assert reindex(root, [DATA]).switched
    return root


@pytest.fixture
def write_client(fresh_root):
    app = create_app({"index_dir": str(fresh_root), "api_key": API_KEY})
    yield app.test_client()
    app.config["SIFT_INDEX"].stop_applier()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


@contextlib.contextmanager
def running_gunicorn(index_dir: Path, log_path: Path, workers: int = 2):
    """Real gunicorn serving `index_dir` on a free port; yields the base URL."""
    port = free_port()
    env = dict(
        os.environ,
        SIFT_INDEX_DIR=str(index_dir),
        SIFT_PORT=str(port),
        SIFT_HOST="127.0.0.1",
        SIFT_WORKERS=str(workers),
        SIFT_API_KEY=API_KEY,
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:api.gunicorn_conf",
                "api.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        assert API_KEY not in log_path.read_text("utf-8", "replace"), "the key was logged"


@pytest.fixture
def gunicorn_server(fresh_root, tmp_path):
    """Real gunicorn (2 workers) serving a fresh index on a free port; yields the base URL."""
    with running_gunicorn(fresh_root, tmp_path / "gunicorn.log") as base:
        yield base
