"""`sift follow` into a SphinxQL cluster: the same journal, applied to every replica."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from index.html import url_id
from search.sphinx.backend import SphinxBackend
from tests.cluster.conftest import local_cluster
from tests.feed_site import KEYS, Site

SIFT = Path(sys.executable).parent / "sift"


def test_follow_writes_pages_to_every_replica(tmp_path):
    site = Site()
    try:
        with local_cluster(tmp_path / "cluster", shards=1, replicas=2, paths=()) as toml:
            feeds = tmp_path / "feeds.txt"
            feeds.write_text(f"{site.base}/feed.rss\n", "utf-8")
            env = {**os.environ, "SIFT_CLUSTER": str(toml)}
            command = [str(SIFT), "follow", str(feeds), "--once", "--delay", "0"]
            for _ in range(2):
                run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
                assert run.returncode == 0, run.stderr
            assert f"{len(KEYS)} new articles added" not in run.stdout  # the second run: none
            backend = SphinxBackend(toml)
            for key in KEYS:
                doc = backend.document(url_id(f"{site.base}/articles/{key}.html"))
                assert doc is not None and doc.document.provenance["title"] == "page"
            assert backend.stats().documents == len(KEYS)
            assert (tmp_path / "cluster" / "follow" / "seen.log").exists()
    finally:
        site.close()
