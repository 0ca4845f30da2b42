"""Idle connections never stop the searches: real gunicorn with Sift's own config.

With sync workers, each of 2 workers gave itself to one idle socket at a time, so 50
connections that sent nothing kept every search waiting (18 s and more). gthread parks
a silent connection in its poller instead of holding a thread for it.
"""

from __future__ import annotations

import socket
import time

from tests.servers import call, gunicorn

IDLE_SOCKETS = 50
# Generous for a busy 2-core machine; idle sockets used to cost 18 s and more.
MAX_SEARCH_S = 2.0


def test_fifty_idle_connections_do_not_delay_searches(fresh_root, tmp_path):
    with gunicorn(fresh_root, tmp_path, workers=2, rate_limit="off") as server:
        host, port = server.base.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port))) for _ in range(IDLE_SOCKETS)]
        try:
            # half-sent requests too: a request line without its end
            for sock in idle[::10]:
                sock.sendall(b"GET /api/v1/search?q=coal")
            time.sleep(0.2)
            for _ in range(5):
                started = time.monotonic()
                status, _, body = call(server.base, "/api/v1/search?q=coalition", timeout=30)
                elapsed = time.monotonic() - started
                assert status == 200 and body["total"] >= 2
                assert elapsed < MAX_SEARCH_S, f"a search took {elapsed:.1f} s"
        finally:
            for sock in idle:
                sock.close()
        assert "Traceback" not in server.log()
