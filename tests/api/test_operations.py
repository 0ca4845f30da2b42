"""What an operator watches: /metrics summed over gunicorn's workers, JSON logs with
request ids, and the real client's address behind a trusted proxy."""

from __future__ import annotations

import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from api import create_app
from tests.conftest import API_KEY
from tests.servers import call, gunicorn

AUTH = {"Authorization": f"Bearer {API_KEY}"}
_SAMPLE = re.compile(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$")


def scrape(base: str) -> dict[tuple[str, frozenset], float]:
    """/metrics as {(name, labels): value}; the page must be Prometheus text format."""
    status, headers, text = call(base, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, labels, value = _SAMPLE.match(line).groups()
            pairs = frozenset(re.findall(r'(\w+)="([^"]*)"', labels or ""))
            samples[(name, pairs)] = float(value)
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def log_lines(server) -> list[dict]:
    """Every finished line the server wrote: each must be one JSON object.

    A running server may be mid-line as the file is read, so an unterminated tail is
    left for the next read; once it has stopped there is none."""
    finished = server.log().rpartition("\n")[0]
    return [json.loads(line) for line in finished.splitlines() if line.strip()]


def search_pids(server) -> set[int]:
    return {line["pid"] for line in log_lines(server) if line.get("path") == "/api/v1/search"}


def test_metrics_count_every_workers_requests(fresh_root, tmp_path):
    with gunicorn(fresh_root, tmp_path, workers=2, rate_limit="off") as server:
        # Concurrent clients until both workers have answered some (the second may
        # still be starting when the first answers).
        sent = 0
        with ThreadPoolExecutor(4) as pool:
            while len(search_pids(server)) < 2 and sent < 400:
                paths = [f"/api/v1/search?q=coalition&page={n % 3 + 1}" for n in range(20)]
                statuses = pool.map(lambda path: call(server.base, path)[0], paths)
                assert list(statuses) == [200] * 20
                sent += 20
        assert call(server.base, "/api/v1/search?page=abc")[0] == 400
        long_query = "+".join(f"w{n}" for n in range(80))
        assert call(server.base, f"/api/v1/search?q={long_query}")[0] == 400
        doc = {"id": "m1", "text": "Metrics counted this okapi."}
        status = call(server.base, "/api/v1/documents", "POST", doc, key=API_KEY)[0]
        assert status in (200, 202)
        # Accepted (202, on a busy machine) is journaled but not yet searchable: the
        # backlog gauge shows it until the applier catches up.
        pending = [value(scrape(server.base), "sift_journal_pending_writes")]
        deadline = time.monotonic() + 15
        while pending[-1] and time.monotonic() < deadline:
            time.sleep(0.2)
            pending.append(value(scrape(server.base), "sift_journal_pending_writes"))
        assert pending[-1] == 0 and (status == 202 or pending == [0]), pending
        samples = scrape(server.base)
        _, _, stats = call(server.base, "/api/v1/stats")

    assert len(search_pids(server)) == 2, "both workers answered searches"
    search = {"route": "/api/v1/search", "method": "GET"}
    assert value(samples, "sift_http_requests_total", status="200", **search) == sent
    assert value(samples, "sift_http_requests_total", status="400", **search) == 2
    assert (
        value(samples, "sift_http_request_duration_seconds_count", route="/api/v1/search")
        == sent + 2
    )
    assert value(samples, "sift_query_refusals_total", reason="cost-cap") == 1
    assert value(samples, "sift_documents_written_total", op="put") == 1
    assert value(samples, "sift_index_ready") == 1
    assert value(samples, "sift_index_documents") == stats["documents"]
    assert value(samples, "sift_index_generation_info", generation=stats["generation"]) == 1
    assert 0 <= value(samples, "sift_index_age_seconds") < 3600


def test_logs_are_json_with_request_ids_and_no_text_or_keys(fresh_root, tmp_path):
    secret_text = f"okapi-{uuid.uuid4().hex}"
    with gunicorn(fresh_root, tmp_path, workers=2) as server:
        _, headers, _ = call(server.base, "/api/v1/search?q=nato")
        made = headers["X-Request-ID"]
        given = str(uuid.uuid4())
        _, headers, _ = call(server.base, "/healthz", headers={"X-Request-ID": given})
        assert headers["X-Request-ID"] == given
        _, headers, _ = call(server.base, "/healthz", headers={"X-Request-ID": "<not an id>" * 20})
        replaced = headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", made) and re.fullmatch(r"[0-9a-f]{32}", replaced)
        doc = {"id": "secret-doc", "text": f"A paragraph about the {secret_text} sighting."}
        call(server.base, "/api/v1/documents", "POST", doc, key=API_KEY)
        call(server.base, "/api/v1/documents", "POST", doc, key="wrong-key-42")

    assert server.log().endswith("\n"), "a stopped server left no line unfinished"
    lines = log_lines(server)  # raises if any line is not JSON
    access = {line["request_id"]: line for line in lines if line.get("event") == "access"}
    assert access[made]["path"] == "/api/v1/search" and access[made]["status"] == 200
    assert access[made]["query"] == "q=nato" and access[made]["duration_ms"] > 0
    assert given in access and replaced in access
    assert {"gunicorn.error", "gunicorn.access"} <= {line["logger"] for line in lines}
    assert secret_text not in server.log() and "wrong-key-42" not in server.log()


def test_a_trusted_proxy_gives_the_real_client(index_root, tmp_path):
    def get(app, forwarded: str):
        return app.test_client().get(
            "/api/v1/search?q=nato",
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )

    def app(name: str, **settings):
        storage = str(tmp_path / f"{name}.sqlite3")
        return create_app(
            {"index_dir": str(index_root), "rate_limit": "2/minute", "rate_limit_storage": storage}
            | settings
        )

    def refusals(app) -> float:
        text = app.test_client().get("/metrics").get_data(as_text=True)
        found = re.search(r'^sift_rate_limit_refusals_total\{limit="all"\} (\S+)$', text, re.M)
        return float(found.group(1)) if found else 0.0

    behind = app("behind", trusted_proxies=1)
    # Each person behind the proxy has their own count.
    assert [get(behind, f"203.0.113.{n}").status_code for n in range(5)] == [200] * 5
    # Not trusting the proxy: everyone is the proxy's address, and the third is refused.
    direct = app("direct")
    before = refusals(direct)
    assert [get(direct, f"198.51.100.{n}").status_code for n in range(3)] == [200, 200, 429]
    assert refusals(direct) == before + 1
