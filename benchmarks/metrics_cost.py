"""What counting requests for /metrics costs: HTTP p50 with and without it.

`make bench-metrics`: Reuters-21578 indexed once, then rounds that alternate gunicorn
serving Sift as shipped and Sift with its metrics hooks removed (no_metrics_wsgi.py),
each timing the same search load as `make bench`'s HTTP latency phase. Alternating
rounds (in ABBA order) spread a busy machine's noise over both arms; the medians of the
rounds' p50s are compared. Writes benchmarks/results/metrics-cost.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
from pathlib import Path

from benchmarks import sift_side
from benchmarks.corpus import reuters_path, write_corpus
from benchmarks.measure import machine_load, percentile
from benchmarks.queries import QUERIES
from benchmarks.run import RESULTS, _free_port, _load

ARMS = {"with_metrics": "api.wsgi:app", "without_metrics": "benchmarks.no_metrics_wsgi:app"}
CLIENTS = 2  # one per worker, as the latency phase of `make bench`


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
            "machine": {"load_before": load_before, "load_after": machine_load()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out) / "metrics-cost.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("median_p50_ms", "change_percent")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
