"""gunicorn's gthread worker, taking no new connection while it answers a short request.

Every worker polls the same listening socket, and a gthread worker accepts a connection
whatever it is doing: its main thread takes it and hands it to a thread of its pool. A
search is Python and numpy holding the GIL most of the time, so two searches that land in
one worker take turns on one core while the other worker's core idles, and a worker
still looks busy to itself for a moment after it has sent its answer. This worker stops
taking new connections while it is answering a request, so a connection waits in the
listen queue for the first worker free, as gunicorn's sync workers do. Under the scale
benchmark's two clients on two workers at a million articles (interleaved runs): HTTP
p50 with facets 15.8-18.3 ms against 19.0-20.4 for gthread, first pass 18.9-22.5 against
25.6-31.7.

What gthread is kept for stays: connections it has accepted and that wait (kept alive,
or not yet sending) hold no request, so idle clients never stop a worker from taking
connections (tests/api/test_idle_clients.py); and once its oldest request has run for
LONG_REQUEST_S (an export, a slow client), the worker takes connections again, so a
long answer never holds up the short ones behind it.
"""

from __future__ import annotations

import time

from gunicorn.workers.gthread import ThreadWorker

# A request running this long (s) no longer keeps its worker from taking connections.
LONG_REQUEST_S = 0.2


class BalancedThreadWorker(ThreadWorker):
    """ThreadWorker that takes no new connection while it answers a short request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # When each request handed to the pool started (main thread only), by connection.
        self._started: dict[int, float] = {}

    def _busy_for(self, now: float) -> float | None:
        """How much longer the running requests keep this worker from taking connections
        (s); None when they do not."""
        if not self._started:
            return None
        left = min(self._started.values()) + LONG_REQUEST_S - now
        return left if left > 0 else None

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and self._busy_for(time.monotonic()) is None)

    def wait_for_and_dispatch_events(self, timeout):
        if self.alive:
            self.set_accept_enabled(self.nr_conns < self.worker_connections)
            busy_for = self._busy_for(time.monotonic())
            if busy_for is not None:  # look again once the oldest request runs long
                timeout = min(timeout, busy_for)
        super().wait_for_and_dispatch_events(timeout)

    def enqueue_req(self, conn):
        self._started[id(conn)] = time.monotonic()
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self._started.pop(id(conn), None)
        super().finish_request(conn, fs)
