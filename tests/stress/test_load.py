"""A bounded load test on 127.0.0.1: 2 workers, 60 s, a mix of reads on all of Reuters.

A fixed request loop (no load tool to install): 4 client threads ask, in turn, searches
(plain, phrases, OR, prefixes, filters, sorted by date, deep pages), timelines,
suggestions and documents. Must hold: 0 errors. Throughput and latency percentiles are
recorded (test-artifacts/stress/load.json).
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
import urllib.parse

import pytest

from tests.servers import call, gunicorn
from tests.stress.conftest import FIXED_QUERIES, record
from tests.stress.test_query_of_death import warm_up

DURATION_S = 60
CLIENTS = 4


def mixed_paths() -> list[str]:
    paths = []
    for q in FIXED_QUERIES:
        quoted = urllib.parse.quote(q)
        paths.append(f"/api/v1/search?q={quoted}")
        paths.append(f"/api/v1/search?q={quoted}&sort=newest&facets=source,year")
    paths += [
        "/api/v1/search?q=oil&op=or&page=5",
        "/api/v1/search?q=petro*",
        "/api/v1/search?q=" + urllib.parse.quote('"crude oil" -opec'),
        "/api/v1/search?q=wheat&date_from=1987-03-01&date_to=1987-03-31",
        "/api/v1/search?q=bank&language=en&per_page=50",
        "/api/v1/search",
        "/api/v1/timeline?q=oil&interval=month",
        "/api/v1/suggest?q=pet",
        "/api/v1/documents/reuters-42?q=oil",
        "/api/v1/stats",
    ]
    return paths


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the first user of reuters_root builds it
def test_bounded_load(reuters_root, tmp_path):
    paths = mixed_paths()
    latencies: list[float] = []
    errors: list = []
    lock = threading.Lock()
    with gunicorn(reuters_root, tmp_path, workers=2, rate_limit="off") as server:
        warm_up(server.base)
        ends = time.monotonic() + DURATION_S

        def client(offset: int) -> None:
            for path in itertools.islice(itertools.cycle(paths), offset, None):
                if time.monotonic() >= ends:
                    return
                started = time.monotonic()
                try:
                    status = call(server.base, path)[0]
                except OSError as exc:
                    status = type(exc).__name__
                elapsed = time.monotonic() - started
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        errors.append((path, status))

        threads = [threading.Thread(target=client, args=(i * 7,)) for i in range(CLIENTS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(DURATION_S + 120)
        wall = time.monotonic() - started
    latencies.sort()
    record(
        "load",
        {
            "workers": 2,
            "clients": CLIENTS,
            "seconds": round(wall, 1),
            "requests": len(latencies),
            "errors": len(errors),
            "throughput_rps": round(len(latencies) / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1),
        },
    )
    assert errors == [], errors[:10]
