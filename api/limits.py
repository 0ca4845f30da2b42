"""Rate limits that hold across every gunicorn worker: a sliding log in one SQLite file.

Per-process counters (Flask-Limiter's in-memory default) let N workers admit N times the
limit. Sift keeps the log of admitted requests in a small SQLite database (by default
`ratelimit.sqlite3` in the index folder, `SIFT_RATE_LIMIT_STORAGE` to move it) that all
workers on the machine share; SQLite's own locking makes each check-and-record atomic,
with no extra service to run. The log is exact: at most N requests are admitted in any
window, and a refused request learns in `Retry-After` when the oldest one expires.

Two limits, per client address: `SIFT_RATE_LIMIT` for every API request and
`SIFT_WRITE_RATE_LIMIT` additionally for writes (and failed key checks, which are
writes too), so guessing keys is as slow as writing. Health checks are never limited.
If the store cannot be used (a full disk, say), requests are let through and the
failure is logged: a broken limiter must not take the search service down with it.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, request
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import ApiError
from api.metrics import RATE_LIMITED

log = logging.getLogger(__name__)

DB_FILE = "ratelimit.sqlite3"
_WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT_RE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(second|minute|hour|day)\s*$")
# How long a worker waits for another worker's check-and-record before letting the
# request through (it takes microseconds; this only matters on a stalled disk).
BUSY_TIMEOUT_MS = 2000
# Every this many checks, records of clients that went quiet are purged.
PURGE_EVERY = 1000
# Paths never limited: liveness and readiness probes and the metrics scrape must not be
# refused, nor count against the address they come from.
EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    def __str__(self) -> str:
        unit = next(name for name, size in _WINDOWS.items() if size == self.seconds)
        return f"{self.count}/{unit}"


def parse_limit(text: str | None) -> Limit | None:
    """'600/minute' (or '600 per minute') -> Limit; 'off', '0' or empty -> None."""
    if text is None or text.strip().lower() in ("", "off", "0", "none"):
        return None
    match = _LIMIT_RE.match(text.lower())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"not a rate limit: {text!r} (expected e.g. '600/minute' or 'off')")
    return Limit(int(match.group(1)), _WINDOWS[match.group(2)])


class SlidingLog:
    """Admitted requests per (limit name, client), in one SQLite file shared by workers."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._checks = 0

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():  # never share one across fork
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # counters need no durability
            conn.execute("CREATE TABLE IF NOT EXISTS hits (bucket TEXT NOT NULL, at REAL NOT NULL)")
            conn.execute("CREATE INDEX IF NOT EXISTS hits_bucket_at ON hits (bucket, at)")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def hit(self, bucket: str, limit: Limit, now: float | None = None) -> float | None:
        """Record a request if `limit` allows it: None; else seconds until it would."""
        now = time.time() if now is None else now
        since = now - limit.seconds
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM hits WHERE bucket = ? AND at <= ?", (bucket, since))
            count, oldest = conn.execute(
                "SELECT COUNT(*), MIN(at) FROM hits WHERE bucket = ?", (bucket,)
            ).fetchone()
            if count < limit.count:
                conn.execute("INSERT INTO hits (bucket, at) VALUES (?, ?)", (bucket, now))
                wait = None
            else:
                wait = max(oldest + limit.seconds - now, 0.0)
            self._checks += 1
            if self._checks % PURGE_EVERY == 0:
                conn.execute("DELETE FROM hits WHERE at <= ?", (now - max(_WINDOWS.values()),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return wait


def rate_limited(wait: float, limit: Limit) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(
        429,
        "rate-limited",
        "Too Many Requests",
        f"More than {limit} requests from this client; retry in {seconds} s.",
        headers={"Retry-After": str(seconds)},
    )


def install_rate_limits(app: Flask, storage: Path, every: Limit | None, writes: Limit | None):
    """Check both limits before each request (before the key check: see the docstring)."""
    if every is None and writes is None:
        return
    store = SlidingLog(storage)

    @app.before_request
    def _limit():
        if request.path in EXEMPT_PATHS:
            return
        client = request.remote_addr or "unknown"
        checks = [("all", every)]
        if request.method in WRITE_METHODS:
            checks.append(("write", writes))
        for name, limit in checks:
            if limit is None:
                continue
            try:
                wait = store.hit(f"{name}:{client}", limit)
            except sqlite3.Error:
                log.exception("rate limit store unusable; letting the request through")
                return
            if wait is not None:
                RATE_LIMITED.labels(name).inc()
                raise rate_limited(wait, limit)


def read_body() -> bytes:
    """The request body, or a 413 if it is over MAX_CONTENT_LENGTH, chunked or not.

    For a body sent without a length (chunked), Werkzeug stops reading at the limit and
    hands over the truncated bytes without a word; a byte beyond them means too large.
    """
    try:
        data = request.get_data(cache=True)
    except (ParseException, OSError) as exc:  # `zz` as a chunk size, say: gunicorn then
        log.info("unreadable request body: %s", exc)  # closes the connection itself
        raise ApiError(
            400,
            "invalid-parameters",
            "Bad Request",
            "The request body could not be read: its chunked encoding is malformed or it "
            "ended before its Content-Length.",
            errors={"body": ["Malformed or incomplete body."]},
        ) from None
    limit = request.max_content_length
    unbounded = limit is not None and request.content_length is None and len(data) >= limit
    if unbounded and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return data
