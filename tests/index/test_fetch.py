"""The polite fetcher against a real HTTP server on loopback: retries with backoff,
a pause per host, robots.txt's Crawl-delay, the size cap, dead hosts."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from index.fetch import USER_AGENT, FetchError, PoliteFetcher


@pytest.fixture
def server():
    state = {"flaky": 0, "agents": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["agents"].append(self.headers.get("User-Agent"))
            if self.path == "/robots.txt":
                body, status, extra = b"User-agent: *\nCrawl-delay: 1\n", 200, {}
            elif self.path == "/flaky":
                state["flaky"] += 1
                ok = state["flaky"] > 2
                body, status = (b"fine", 200) if ok else (b"busy", 503)
                extra = {} if ok else {"Retry-After": "0"}
            elif self.path == "/big":
                body, status, extra = b"x" * 3000, 200, {}
            else:
                body, status, extra = b"fine", 200, {}
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


def test_retries_with_backoff_then_succeeds(server):
    base, state = server
    pauses: list[float] = []
    fetcher = PoliteFetcher(delay_s=0, backoff_s=0.01, sleep=pauses.append)
    assert fetcher.get(f"{base}/flaky").body == b"fine"
    assert state["flaky"] == 3
    backoffs = [p for p in pauses if p in (0.01, 0.02)]
    assert backoffs == [0.01, 0.02]  # doubled each time
    assert set(state["agents"]) == {USER_AGENT}


def test_crawl_delay_spaces_requests_to_one_host(server):
    base, _ = server
    pauses: list[float] = []
    fetcher = PoliteFetcher(delay_s=0.05, sleep=pauses.append)
    fetcher.get(f"{base}/a")  # reads robots.txt first: Crawl-delay 1
    fetcher.get(f"{base}/b")
    assert pauses and max(pauses) > 0.5


def test_size_cap_and_dead_host(server):
    base, _ = server
    fetcher = PoliteFetcher(delay_s=0, max_bytes=1000, backoff_s=0.01, sleep=lambda s: None)
    with pytest.raises(FetchError) as big:
        fetcher.get(f"{base}/big")
    assert big.value.permanent and "larger than 1,000 bytes" in big.value.reason
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/feed.rss"  # bound, not listening
        with pytest.raises(FetchError) as gone:
            fetcher.get(dead)
    assert not gone.value.permanent and "robots.txt unreachable" in gone.value.reason
