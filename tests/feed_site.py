"""A news site on 127.0.0.1 in a thread, for the `sift follow` tests: a feed with an ETag,
real article pages of the extraction benchmark, robots.txt, and URLs that fail."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "html-articles"
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
