"""A WSGI app whose answers take as long as asked (`/slow?ms=N`), for the worker tests."""

from __future__ import annotations

import time
from urllib.parse import parse_qs


def app(environ, start_response):
    wait_ms = int(parse_qs(environ.get("QUERY_STRING", "")).get("ms", ["0"])[0])
    time.sleep(wait_ms / 1000)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done"]
