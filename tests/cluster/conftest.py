"""Real local SphinxQL clusters (searchd daemons on loopback) holding the test corpus.

The cluster tests need Sphinx's `searchd` (Debian: `apt-get install sphinxsearch`); they
fail, never skip, where it is missing.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from index.cluster import daemons
from index.cluster.layout import init_cluster, load_cluster
from index.cluster.store import ClusterStore
from search.sphinx.backend import SphinxBackend
from tests.conftest import DATA, SEEDS


def require_searchd() -> None:
    assert shutil.which("searchd"), (
        "the cluster tests need Sphinx's searchd: apt-get install sphinxsearch"
    )


@contextlib.contextmanager
def local_cluster(folder: Path, *, shards: int = 2, replicas: int = 2, paths=(DATA, SEEDS)):
    """A started cluster in `folder` with `paths` indexed; its cluster.toml. Stopped after."""
    require_searchd()
    toml = init_cluster(folder, shards, replicas, None)
    try:
        daemons.start(folder)
        report = ClusterStore(load_cluster(toml)).reindex(list(paths))
        assert report.switched, report.errors
        yield toml
    finally:
        daemons.stop(folder)


@pytest.fixture(scope="session")
def cluster_toml(tmp_path_factory):
    """The shared read-only cluster: 2 shards x 2 replicas of the corpus `index_root` holds."""
    with local_cluster(tmp_path_factory.mktemp("cluster")) as toml:
        yield toml


@pytest.fixture(scope="session")
def sphinx(cluster_toml) -> SphinxBackend:
    return SphinxBackend(cluster_toml)
