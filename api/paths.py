"""URLs Sift writes: links that survive any id, and redirects that never name a host.

A document id `.` or `..` linked as `/documents/.` is resolved away by every browser
and HTTP client (RFC 3986 dot segments) to `/documents/`; percent-encoded (`%2E`) it
reaches the route, which decodes it back. Werkzeug answers a path with doubled slashes
(`/api/v1//search`) with a redirect built from the request's `Host` header, which a
client can forge (cache poisoning, links to another site): Sift redirects to the
path alone, relative to whatever host was asked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, redirect, request
from werkzeug.routing import RequestRedirect, UnicodeConverter

# Dot segments a URL path must not carry verbatim.
_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}


class SegmentConverter(UnicodeConverter):
    """Werkzeug's default path converter, with `.` and `..` percent-encoded."""

    def to_url(self, value: str) -> str:
        return _DOT_SEGMENTS.get(value) or super().to_url(value)


def _relative_redirect():
    exc = request.routing_exception
    if not isinstance(exc, RequestRedirect):
        return None
    target = urlsplit(exc.new_url)
    # One leading slash: `//host/...` would be a link to another host.
    path = "/" + target.path.lstrip("/")
    return redirect(path + (f"?{target.query}" if target.query else ""), code=exc.code)


def install_paths(app: Flask) -> None:
    """Call before routes are registered (rules bind their converters when added)."""
    app.url_map.converters["default"] = SegmentConverter
    app.url_map.converters["string"] = SegmentConverter
    app.before_request_funcs.setdefault(None, []).insert(0, _relative_redirect)
