"""CORS: off unless origins are listed (`SIFT_CORS_ORIGINS`), and then for reads only.

A listed origin (or `*`) may read the API from a browser: GET and HEAD answers carry
`Access-Control-Allow-Origin` and preflights for them are answered. Writes are never
CORS-enabled (their key must not live in a web page), credentials are never allowed,
and `Vary: Origin` keeps caches from handing one origin's answer to another.
"""

from __future__ import annotations

from flask import Flask, request

READ_METHODS = "GET, HEAD"
# Preflight answers may be cached this long by browsers.
MAX_AGE_S = 600


def parse_origins(text: str | None) -> tuple[str, ...]:
    """'https://a.example, https://b.example' -> a tuple; empty -> () (CORS off)."""
    return tuple(item.strip().rstrip("/") for item in (text or "").split(",") if item.strip())


def install_cors(app: Flask, origins: tuple[str, ...]) -> None:
    allowed = set(origins)

    @app.after_request
    def _cors(response):
        if not allowed:
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin is None or ("*" not in allowed and origin not in allowed):
            return response
        preflight = request.method == "OPTIONS"
        wanted = request.headers.get("Access-Control-Request-Method", "GET")
        if request.method not in ("GET", "HEAD") and not (preflight and wanted in ("GET", "HEAD")):
            return response
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        if preflight:
            response.headers["Access-Control-Allow-Methods"] = READ_METHODS
            response.headers["Access-Control-Max-Age"] = str(MAX_AGE_S)
        return response
