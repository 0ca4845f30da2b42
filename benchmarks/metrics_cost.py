"""What counting requests for /metrics costs: HTTP p50 with and without it.

`make bench-metrics`: Reuters-21578 indexed once, then rounds that alternate gunicorn
serving Sift as shipped and Sift with its metrics hooks removed (`app_without_metrics`),
each timing the same search load as `make bench`'s HTTP latency phase. Alternating
rounds (in ABBA order) spread a busy machine's noise over both arms; the medians of the
rounds' p50s are compared. On a shared machine wall times drift more than the effect,
so the hooks' own CPU time per request is measured too, in a process of its own with
the same multiprocess files gunicorn's workers write (`hook_cpu_us`). Writes
benchmarks/results/metrics-cost.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from flask import Flask

from api import create_app
from benchmarks import sift_side
from benchmarks.corpus import reuters_path, write_corpus
from benchmarks.measure import machine_load, percentile
from benchmarks.queries import QUERIES
from benchmarks.run import RESULTS, _free_port, _load

ARMS = {
    "with_metrics": "api.wsgi:app",
    "without_metrics": "benchmarks.metrics_cost:app_without_metrics()",
}
CLIENTS = 2  # one per worker, as the latency phase of `make bench`


def without_metrics(app: Flask) -> Flask:
    """`app` with the request hooks of api/metrics.py removed (the route stays)."""
    for hooks in (*app.before_request_funcs.values(), *app.after_request_funcs.values()):
        hooks[:] = [hook for hook in hooks if hook.__module__ != "api.metrics"]
    return app


def app_without_metrics() -> Flask:
    """The control arm, for gunicorn (`benchmarks.metrics_cost:app_without_metrics()`)."""
    return without_metrics(create_app())


def one_round(index_dir: Path, work: Path, app: str, per_thread: int) -> dict:
    paths = [f"/api/v1/search?{sift_side.http_params(q)}" for q in QUERIES]
    server = sift_side.Server(index_dir, CLIENTS, _free_port(), work / "gunicorn.log", app=app)
    try:
        _load(server.base, CLIENTS * 2, len(paths), paths)  # warm both workers
        got = _load(server.base, CLIENTS, per_thread, paths)
    finally:
        server.stop()
    latencies = [x * 1e3 for x in got["latencies"]]
    return {"p50_ms": round(percentile(latencies, 50), 3), "errors": got["errors"]}


# Run in a fresh process: PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client
# is imported. CPU time of /healthz requests through Flask's test client, with the
# metrics hooks and without, interleaved; prints the difference per request in µs.
_HOOK_COST = """
import json, sys, time
from api import create_app
from benchmarks.metrics_cost import without_metrics
rounds, per_round = int(sys.argv[1]), int(sys.argv[2])
arms = {"with": create_app(), "without": without_metrics(create_app())}
clients = {name: app.test_client() for name, app in arms.items()}
spent = {name: [] for name in arms}
for _ in range(rounds):
    for name, client in clients.items():
        started = time.process_time()
        for _ in range(per_round):
            client.get("/healthz")
        spent[name].append((time.process_time() - started) / per_round * 1e6)
print(json.dumps(spent))
"""


def hook_cpu_us(index_dir: Path, work: Path, rounds: int = 15, per_round: int = 2000) -> dict:
    """CPU µs per request with and without the metrics hooks (medians of rounds)."""
    env = dict(
        os.environ,
        SIFT_INDEX_DIR=str(index_dir),
        SIFT_RATE_LIMIT="off",
        PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(dir=work),
    )
    out = subprocess.run(
        [sys.executable, "-c", _HOOK_COST, str(rounds), str(per_round)],
        cwd=str(sift_side.ROOT),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    spent = json.loads(out.stdout)
    medians = {arm: statistics.median(values) for arm, values in spent.items()}
    return {
        "with_metrics": round(medians["with"], 1),
        "without_metrics": round(medians["without"], 1),
        "metrics": round(medians["with"] - medians["without"], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.metrics_cost")
    parser.add_argument("--corpus", help="Reuters-21578 .jsonl.gz (default ../shared/data)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per arm (5)")
    parser.add_argument("--requests", type=int, default=150, help="per client per round")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sift-metrics-cost-"))
    try:
        corpus = work / "corpus.jsonl.gz"
        write_corpus(reuters_path(args.corpus), corpus)
        sift_side.build(corpus, work / "index")
        load_before = machine_load()
        rounds: dict[str, list[dict]] = {arm: [] for arm in ARMS}
        for n in range(args.rounds):
            # A B, then B A: neither arm always runs first, after the other's shutdown.
            for arm in list(ARMS)[:: 1 if n % 2 == 0 else -1]:
                rounds[arm].append(one_round(work / "index", work, ARMS[arm], args.requests))
        hooks = hook_cpu_us(work / "index", work)
        medians = {
            arm: round(statistics.median(r["p50_ms"] for r in got), 3)
            for arm, got in rounds.items()
        }
        report = {
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "clients": CLIENTS,
            "requests_per_round": CLIENTS * args.requests,
            "rounds": rounds,
            "median_p50_ms": medians,
            "change_percent": round(
                100 * (medians["with_metrics"] / medians["without_metrics"] - 1), 1
            ),
            "hook_cpu_us": hooks,
            "hook_share_of_p50_percent": round(
                100 * hooks["metrics"] / 1000 / medians["without_metrics"], 2
            ),
            "machine": {"load_before": load_before, "load_after": machine_load()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out) / "metrics-cost.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    keys = ("median_p50_ms", "change_percent", "hook_cpu_us", "hook_share_of_p50_percent")
    print(json.dumps({k: report[k] for k in keys}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
