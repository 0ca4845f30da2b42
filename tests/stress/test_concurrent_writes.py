"""8 clients x 50 writes against 4 workers while workers are SIGKILLed.

Each client POSTs 50 uniquely tagged documents, then DELETEs the first 5 it got a 2xx
for. Meanwhile a random worker is killed 5 times (gunicorn starts a new one). Requests
to a dying worker may fail at the connection: those writes may be present or absent.
Must hold: no 5xx at all; every 2xx'd document is found, by id and by its own word,
exactly once; every 2xx'd delete is gone; the index verifies.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import threading
import time

import pytest

from index.verify import verify
from tests.servers import API_KEY, call, gunicorn
from tests.stress.conftest import record

CLIENTS = 8
WRITES = 50
DELETES = 5
KILLS = 5


def token(client: int, n: int) -> str:
    return f"wq{client}z{n}tok"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_concurrent_writes_survive_killed_workers(fresh_root, tmp_path):
    outcomes: dict[str, int | str] = {}
    deleted: dict[str, int | str] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def client(c: int, base: str) -> None:
        written = []
        for n in range(WRITES):
            doc_id = f"cw-{c}-{n}"
            doc = {"id": doc_id, "title": f"Writer {c}", "text": f"Pelican {token(c, n)} notes."}
            started = time.monotonic()
            try:
                status = call(base, "/api/v1/documents", "POST", doc, key=API_KEY, timeout=60)[0]
            except OSError as exc:  # the worker died under this request
                status = type(exc).__name__
            with lock:
                outcomes[doc_id] = status
                latencies.append(time.monotonic() - started)
            if status in (200, 202):
                written.append(doc_id)
        for doc_id in written[:DELETES]:
            try:
                status = call(base, f"/api/v1/documents/{doc_id}", "DELETE", key=API_KEY)[0]
            except OSError as exc:
                status = type(exc).__name__
            with lock:
                deleted[doc_id] = status

    with gunicorn(fresh_root, tmp_path, workers=4, rate_limit="off", write_rate_limit="off") as srv:
        threads = [threading.Thread(target=client, args=(c, srv.base)) for c in range(CLIENTS)]
        for t in threads:
            t.start()
        rng = random.Random(4)
        killed = 0
        while killed < KILLS and any(t.is_alive() for t in threads):
            time.sleep(rng.uniform(0.5, 2.0))
            os.kill(rng.choice(srv.worker_pids()), signal.SIGKILL)
            killed += 1
        for t in threads:
            t.join(600)
        statuses = list(outcomes.values()) + list(deleted.values())
        assert not [s for s in statuses if isinstance(s, int) and s >= 500], statuses
        acked = {i for i, s in outcomes.items() if s in (200, 202)}
        gone = {i for i, s in deleted.items() if s in (200, 202)}
        deadline = time.monotonic() + 10  # 202s become searchable within seconds
        missing = set(acked)
        while missing and time.monotonic() < deadline:
            for doc_id in sorted(missing):
                c, n = doc_id.split("-")[1:]
                _, _, body = call(srv.base, f"/api/v1/search?q={token(int(c), int(n))}")
                found = [hit["id"] for hit in body["hits"]]
                if doc_id in gone:
                    assert found == [] or body["total"] == 0 or found == [doc_id]
                    if body["total"] == 0:
                        missing.discard(doc_id)
                elif found == [doc_id] and body["total"] == 1:
                    missing.discard(doc_id)
                else:
                    assert body["total"] <= 1, f"{doc_id} found {body['total']} times"
            time.sleep(0.2)
        assert not missing, f"acknowledged but not searchable after 10 s: {sorted(missing)[:10]}"
        for doc_id in acked:
            expected = 404 if doc_id in gone else 200
            assert call(srv.base, f"/api/v1/documents/{doc_id}")[0] == expected, doc_id
        assert killed == KILLS
    report = verify(fresh_root)
    assert report.ok, report.problems
    latencies.sort()
    record(
        "concurrent_writes",
        {
            "clients": CLIENTS,
            "writes": CLIENTS * WRITES,
            "workers": 4,
            "workers_killed": killed,
            "acknowledged": len(acked),
            "failed_at_connection": sum(isinstance(s, str) for s in outcomes.values()),
            "deletes_acknowledged": len(gone),
            "responses_5xx": 0,
            "write_latency_p50_s": round(statistics.median(latencies), 3),
            "write_latency_p99_s": round(latencies[int(len(latencies) * 0.99) - 1], 3),
        },
    )
