"""The write key: `Authorization: Bearer <SIFT_API_KEY>`, compared in constant time.

Without a configured key, writes are refused outright (403): an open write endpoint is
never the default. The key is never logged or echoed.
"""

from __future__ import annotations

import hmac

from flask import current_app, request

from api.errors import ApiError


def require_write_key() -> None:
    """Return if the request carries the configured key; raise a 401/403 problem if not."""
    expected = current_app.config["SIFT"].api_key
    if not expected:
        raise ApiError(
            403,
            "forbidden",
            "Forbidden",
            "Writes are disabled on this server (no API key is configured).",
        )
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(
            401,
            "unauthorized",
            "Unauthorized",
            "This endpoint needs an 'Authorization: Bearer <key>' header.",
            headers={"WWW-Authenticate": 'Bearer realm="sift"'},
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise ApiError(403, "forbidden", "Forbidden", "The API key is not valid.")
