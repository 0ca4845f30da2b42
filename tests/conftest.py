"""Shared fixtures: a real on-disk index built from tests/data and seeds/, and HTTP clients."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from api import create_app
from index.applier import ApplierThread
from index.reindex import reindex
from search.engine import Engine
from tests.servers import API_KEY, gunicorn

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEEDS = ROOT / "seeds"
__all__ = ["API_KEY", "DATA", "ROOT", "SEEDS"]
# A skipped test fails: the suite never passes by leaving something out.
pytest_plugins = ["tests.no_skips"]


@pytest.fixture(autouse=True, scope="module")
def _appliers_stop_with_their_module():
    """An app's applier thread (api/index_handle.py) polls its journal every 0.1 s until
    stopped, and many tests' apps never stop theirs: dozens ran through the rest of the
    suite, beside builds that fork workers. Stopped and joined once a module is done (a
    write restarts its app's applier)."""
    yield
    for thread in threading.enumerate():
        if isinstance(thread, ApplierThread):
            thread.stop()
            thread.join(timeout=10)


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


@contextlib.contextmanager
def running_gunicorn(index_dir: Path, log_path: Path, workers: int = 2):
    """Real gunicorn serving `index_dir` on a free port; yields the base URL."""
    with gunicorn(index_dir, log_path.parent, workers=workers) as server:
        yield server.base


@pytest.fixture
def gunicorn_server(fresh_root, tmp_path):
    """Real gunicorn (2 workers) serving a fresh index on a free port; yields the base URL."""
    with running_gunicorn(fresh_root, tmp_path / "gunicorn.log") as base:
        yield base
