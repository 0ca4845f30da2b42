"""HTTP load generator, run as its own process: `python -m benchmarks.load URL CONC N
[once]`, the request paths as a JSON list on standard input.

Each of CONC threads sends N requests in turn (one connection per request: gunicorn's
sync workers close it anyway), cycling through the request paths from a different
starting point; with `once`, thread i sends paths i, i + CONC, ... instead, so that every
path is sent exactly once. Prints per-request latencies, the elapsed time and the count
of each HTTP status (`"error"` for a connection that failed) as JSON.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import urllib.parse


def main(argv: list[str]) -> None:
    base, concurrency, per_thread = argv[0], int(argv[1]), int(argv[2])
    once = argv[3:] == ["once"]
    paths = json.loads(sys.stdin.read())
    netloc = urllib.parse.urlsplit(base).netloc
    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def worker(index: int) -> None:
        nonlocal errors
        mine = []
        bad = 0
        seen: dict[str, int] = {}
        if once:
            mine_paths = paths[index::concurrency]
        else:
            mine_paths = [paths[(index * 7 + i) % len(paths)] for i in range(per_thread)]
        for path in mine_paths:
            started = time.perf_counter()
            conn = http.client.HTTPConnection(netloc, timeout=30)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
                if response.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                status = "error"
            finally:
                conn.close()
            mine.append(time.perf_counter() - started)
            seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            errors += bad
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {"latencies": latencies, "elapsed": elapsed, "errors": errors, "statuses": statuses}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
