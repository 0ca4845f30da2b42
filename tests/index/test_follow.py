"""`sift follow` against a real HTTP server on loopback serving a feed and real pages:
conditional GET, robots.txt, dead feeds and pages, two runs without duplicates, and a
run killed half way that a restart completes with nothing lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.html import url_id
from search.engine import Engine
from search.request import Filters
from tests.feed_site import KEYS, Site

SIFT = Path(sys.executable).parent / "sift"


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


def feeds_file(tmp_path: Path, site: Site) -> Path:
    path = tmp_path / "feeds.txt"
    path.write_text(
        f"# the site's feed\n{site.base}/feed.rss\n{site.base}/not-a-feed.rss\n"
        f"{site.base}/missing.rss\n",
        "utf-8",
    )
    return path


def follow(feeds: Path, root: Path, delay: str = "0") -> subprocess.Popen:
    return subprocess.Popen(
        [str(SIFT), "follow", str(feeds), "--once", "--delay", delay, "--index-dir", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def documents(root: Path) -> list:
    return list(Engine(root).export("", Filters()))


def test_follow_once_twice_adds_each_article_once(tmp_path, site):
    root = tmp_path / "index"
    feeds = feeds_file(tmp_path, site)
    first = follow(feeds, root)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert f"{len(KEYS)} new articles added" in out
    assert f"feed {site.base}/not-a-feed.rss: not an RSS or Atom feed" in err
    assert f"feed {site.base}/missing.rss: HTTP 404" in err
    assert f"page {site.base}/gone.html: HTTP 404" in err
    assert f"page {site.base}/private/secret.html: not fetched: robots.txt disallows it" in err
    docs = documents(root)
    assert sorted(d.id for d in docs) == sorted(
        url_id(f"{site.base}/articles/{key}.html") for key in KEYS
    )
    for doc in docs:
        assert doc.provenance["title"] == "page" and doc.fetched and doc.text
    assert all(agent.startswith("Sift/") for _, agent, _ in site.requests)
    assert not any(path.startswith("/private/") for path, _, _ in site.requests)
    pages_fetched = sum(path.startswith("/articles/") for path, _, _ in site.requests)

    second = follow(feeds, root)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "0 new articles added" in out and "(1 not modified)" in out
    assert ("/feed.rss", next(a for _, a, _ in site.requests), '"v1"') in site.requests
    assert sum(path.startswith("/articles/") for path, _, _ in site.requests) == pages_fetched
    assert sorted(d.id for d in documents(root)) == sorted(d.id for d in docs)


def test_a_killed_follow_loses_nothing_on_restart(tmp_path, site):
    root = tmp_path / "index"
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"{site.base}/feed.rss\n", "utf-8")
    child = follow(feeds, root, delay="0.4")
    seen = root / "follow" / "seen.log"
    deadline = time.monotonic() + 60
    while not (seen.exists() and seen.read_text().count("\n") >= 2):
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    done_before = seen.read_text().count("\n")
    assert done_before < len(KEYS)  # killed half way
    restart = follow(feeds, root)
    _, err = restart.communicate(timeout=120)
    assert restart.returncode == 0, err
    ids = [d.id for d in documents(root)]
    assert len(ids) == len(set(ids))
    assert set(ids) == {url_id(f"{site.base}/articles/{key}.html") for key in KEYS}
    # The feed was fetched again in full (its validators were not saved when killed).
    assert [p for p, _, _ in site.requests].count("/feed.rss") == 2
