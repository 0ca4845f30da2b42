"""Real gunicorn, real HTTP: two workers serve searches and see each other's writes."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from tests.conftest import API_KEY


def request(base: str, path: str, method: str = "GET", body=None, key: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, json.loads(error.read())


def test_gunicorn_serves_search_errors_and_writes(gunicorn_server):
    base = gunicorn_server
    status, _, body = request(base, "/api/v1/search?q=coalition")
    assert status == 200 and body["total"] >= 2
    status, headers, body = request(base, "/api/v1/search?page=abc")
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    status, _, _ = request(base, "/api/v1/documents", "POST", {"id": "g1", "text": "x"})
    assert status == 401

    doc = {"id": "g1", "text": "Okapis were seen in the forest near Epulu.", "date": "2024-05-01"}
    status, _, body = request(base, "/api/v1/documents", "POST", doc, key=API_KEY)
    assert status in (200, 202), body
    # every worker sees the write within a few seconds (no sticky sessions here)
    deadline = time.monotonic() + 5
    seen = 0
    while seen < 10 and time.monotonic() < deadline:
        _, _, body = request(base, "/api/v1/search?q=okapis")
        seen = seen + 1 if body["total"] == 1 else 0
    assert seen == 10

    status, _, _ = request(base, "/api/v1/documents/g1", "DELETE", key=API_KEY)
    assert status in (200, 202)
    deadline = time.monotonic() + 5
    gone = 0
    while gone < 10 and time.monotonic() < deadline:
        _, _, body = request(base, "/api/v1/search?q=okapis")
        gone = gone + 1 if body["total"] == 0 else 0
    assert gone == 10
