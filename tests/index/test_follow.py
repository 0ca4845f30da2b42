"""`sift follow` against a real HTTP server on loopback serving a feed and real pages:
conditional GET, robots.txt, dead feeds and pages, two runs without duplicates, and a
run killed half way that a restart completes with nothing lost."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import signal
import subprocess
import sys
import threading
import time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index.html import url_id
from search.engine import Engine
from search.request import Filters

SIFT = Path(sys.executable).parent / "sift"
PAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "html-articles"
TRUTH = json.loads((PAGES / "ground-truth.json").read_text("utf-8"))
KEYS = sorted(TRUTH)[10:16]


class Site:
    """A news site on 127.0.0.1: /feed.rss (ETag), /articles/KEY.html, /robots.txt."""

    def __init__(self):
        self.requests: list[tuple[str, str, str | None]] = []  # path, user agent, If-None-Match
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(
                    (self.path, self.headers.get("User-Agent"), self.headers.get("If-None-Match"))
                )
                status, ctype, body, headers = site.answer(self.path, self.headers)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def feed(self) -> bytes:
        items = []
        when = dt.datetime(2019, 11, 20, 8, 0, tzinfo=dt.UTC)
        links = [f"/articles/{key}.html" for key in KEYS] + ["/private/secret.html", "/gone.html"]
        for number, link in enumerate(links):
            items.append(
                f"<item><title>Item {number}</title><link>{self.base}{link}</link>"
                f"<guid>{self.base}{link}</guid>"
                f"<pubDate>{format_datetime(when)}</pubDate></item>"
            )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback News</title>'
            + "".join(items)
            + "</channel></rss>"
        ).encode()

    def answer(self, path: str, headers) -> tuple[int, str, bytes, dict]:
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow: /private/\n", {}
        if path == "/feed.rss":
            if headers.get("If-None-Match") == '"v1"':
                return 304, "application/rss+xml", b"", {"ETag": '"v1"'}
            return 200, "application/rss+xml", self.feed(), {"ETag": '"v1"'}
        if path == "/not-a-feed.rss":
            return 200, "text/plain", b"this is not a feed {", {}
        if path.startswith("/articles/"):
            key = path.removeprefix("/articles/").removesuffix(".html")
            page = gzip.decompress((PAGES / "pages" / f"{key}.html.gz").read_bytes())
            return 200, "text/html", page, {}
        return 404, "text/plain", b"not found", {}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


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
