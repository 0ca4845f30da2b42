"""Limits and hygiene: shared rate limits, CORS, body size, a full disk, auth on every write."""

from __future__ import annotations

import errno
import logging
import socket

import pytest

from api import create_app
from api.limits import Limit, SlidingLog, parse_limit
from index.journal import Journal
from tests.conftest import API_KEY
from tests.helpers import assert_problem
from tests.servers import call, gunicorn, wait_for

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def app_for(root, **settings):
    return create_app({"index_dir": str(root), "api_key": API_KEY, **settings})


def test_limits_parse_and_refuse_nonsense():
    assert parse_limit("600/minute") == Limit(600, 60)
    assert parse_limit("5 per second") == Limit(5, 1)
    assert parse_limit("off") is None and parse_limit("0") is None
    for bad in ("600", "x/minute", "-1/minute", "5/fortnight"):
        with pytest.raises(ValueError):
            parse_limit(bad)
    with pytest.raises(ValueError, match="SIFT_RATE_LIMIT"):
        create_app({"rate_limit": "lots"})


def test_the_sliding_log_admits_exactly_n_per_window(tmp_path):
    log = SlidingLog(tmp_path / "rl.sqlite3")
    limit = Limit(3, 60)
    assert [log.hit("k", limit, now=100.0 + i) for i in range(3)] == [None, None, None]
    assert log.hit("k", limit, now=110.0) == pytest.approx(50.0)  # oldest (100) + 60 - 110
    assert log.hit("other", limit, now=110.0) is None
    assert log.hit("k", limit, now=160.5) is None  # the first expired


def test_two_workers_sharing_the_store_admit_the_limit_once(fresh_root):
    """Two apps = two gunicorn workers: one count, not one each."""
    workers = [app_for(fresh_root, rate_limit="5/minute").test_client() for _ in range(2)]
    statuses = [workers[i % 2].get("/api/v1/search?q=nato").status_code for i in range(12)]
    assert statuses.count(200) == 5 and statuses.count(429) == 7
    response = workers[0].get("/api/v1/stats")
    body = assert_problem(response, 429)
    assert body["type"] == "/problems/rate-limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert workers[1].get("/healthz").status_code == 200  # probes are never limited
    assert workers[1].get("/readyz").status_code == 200


def test_writes_and_refused_keys_have_their_own_limit(fresh_root):
    client = app_for(fresh_root, write_rate_limit="3/minute").test_client()
    doc = {"id": "rl", "text": "x"}
    guesses = [
        client.post("/api/v1/documents", json=doc, headers={"Authorization": f"Bearer g{i}"})
        for i in range(4)
    ]
    assert [r.status_code for r in guesses] == [403, 403, 403, 429]
    assert_problem(client.post("/api/v1/documents", json=doc, headers=AUTH), 429)
    assert client.get("/api/v1/search?q=x").status_code == 200  # reads are not writes


def test_rate_limits_hold_across_real_gunicorn_workers(fresh_root, tmp_path):
    with gunicorn(fresh_root, tmp_path, workers=4, rate_limit="6/minute") as server:
        assert len(server.worker_pids()) == 4
        statuses = [call(server.base, "/api/v1/search?q=nato")[0] for _ in range(24)]
    assert statuses.count(200) == 6, statuses
    assert statuses.count(429) == 18


def test_cors_is_off_by_default(client):
    response = client.get("/api/v1/search?q=x", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_cors_lets_listed_origins_read_and_nothing_else(index_root):
    client = app_for(index_root, cors_origins="https://news.example").test_client()
    ok = client.get("/api/v1/search?q=x", headers={"Origin": "https://news.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "Origin" in ok.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in ok.headers
    other = client.get("/api/v1/search?q=x", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers and "Origin" in other.headers["Vary"]
    preflight = client.options(
        "/api/v1/search",
        headers={"Origin": "https://news.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]
    write_preflight = client.options(
        "/api/v1/documents",
        headers={"Origin": "https://news.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in write_preflight.headers
    write = client.post(
        "/api/v1/documents",
        json={"id": "c", "text": "x"},
        headers={"Origin": "https://news.example"},
    )
    assert "Access-Control-Allow-Origin" not in write.headers


@pytest.mark.parametrize(
    "code, status, slug",
    [(errno.ENOSPC, 507, "insufficient-storage"), (errno.EIO, 503, "write-unavailable")],
)
def test_a_journal_that_cannot_take_a_write_acknowledges_nothing(
    fresh_root, monkeypatch, code, status, slug
):
    def fail(self, ops):
        raise OSError(code, "simulated")

    monkeypatch.setattr(Journal, "append", fail)
    client = app_for(fresh_root).test_client()
    response = client.post("/api/v1/documents", json={"id": "full", "text": "x"}, headers=AUTH)
    body = assert_problem(response, status)
    assert body["type"] == f"/problems/{slug}" and response.headers["Retry-After"]
    assert "simulated" not in response.get_data(as_text=True)
    monkeypatch.undo()
    assert_problem(client.get("/api/v1/documents/full"), 404)


def test_bodies_over_the_limit_are_413_even_when_chunked(fresh_root, tmp_path):
    with gunicorn(fresh_root, tmp_path, workers=1, max_body_bytes=2000) as server:
        big = b'{"id": "big", "text": "' + b"x" * 50_000 + b'"}'
        status, headers, _ = call(server.base, "/api/v1/documents", "POST", big, key=API_KEY)
        assert status == 413 and headers["Content-Type"] == "application/problem+json"
        reply = _post_chunked(server.base, big)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert call(server.base, "/api/v1/documents/big")[0] == 404
        small = b'{"id": "small", "text": "chunked bodies within the limit are read"}'
        assert _post_chunked(server.base, small).startswith(b"HTTP/1.1 20")
        # A 202 (journalled, not yet applied on a loaded machine) becomes visible soon.
        wait_for(server.base + "/api/v1/documents/small")


def _post_chunked(base: str, body: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + b"%x\r\n%s\r\n0\r\n\r\n"
            % (len(body), body)
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_every_write_route_requires_the_key(index_root):
    """Walk the URL map: a route added without `auth=True` fails here."""
    app = app_for(index_root)
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            path = rule.rule.replace("<doc_id>", "coalition_title").replace("<path:name>", "x")
            path = path.replace("<slug>", "x")
            for headers, status in (
                ({}, 401),
                ({"Authorization": "Bearer wrong"}, 403),
                ({"Authorization": "Basic " + API_KEY}, 401),
            ):
                response = client.open(path, method=method, json={"id": "k"}, headers=headers)
                assert_problem(response, status)


def test_keys_never_reach_the_logs(fresh_root, caplog):
    client = app_for(fresh_root).test_client()
    caplog.set_level(logging.DEBUG)
    client.post("/api/v1/documents", json={"id": "k1", "text": "x"}, headers=AUTH)
    client.post("/api/v1/documents", json={"id": "k1"}, headers={"Authorization": "Bearer leak"})
    assert API_KEY not in caplog.text and "leak" not in caplog.text
