"""`make bench-cluster`: the embedded index against a local 2-shard x 2-replica SphinxQL
cluster, in the same run, on Reuters-21578 and 4x it.

    python -m benchmarks.cluster            # 1x and 4x (minutes)
    python -m benchmarks.cluster --quick    # 2,000 articles, 1x and 2x

For each scale: documents per second through `reindex` (the same extraction feeding both),
HTTP p50/p95 of /api/v1/search with snippets and the four facets (real gunicorn, the
backends taking turns query by query), top-10 overlap and equal totals for the benchmark
queries, and per shard: documents, bytes per document and the latency of the query mix on
one replica's own index (what sizing a cluster needs; see README, "Sizing a cluster").
Figures are printed and written to benchmarks/results/, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from api.cli import gunicorn_command, gunicorn_env
from benchmarks.corpus import QUICK_DOCUMENTS, reuters_path, write_corpus
from benchmarks.measure import folder_bytes, percentile
from benchmarks.queries import QUERIES
from index.cluster import daemons
from index.cluster.layout import init_cluster, load_cluster
from index.cluster.sql import connect, live_slot
from index.cluster.store import ClusterStore
from index.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
ROUNDS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    def __init__(self, index_dir: Path, log: Path, **settings: str):
        port = _free_port()
        env = gunicorn_env(index_dir, host="127.0.0.1", port=port, workers=2)
        env.update({f"SIFT_{k.upper()}": v for k, v in settings.items()}, SIFT_RATE_LIMIT="off")
        self.base = f"http://127.0.0.1:{port}"
        self._log = open(log, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            gunicorn_command(), cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while not self._ready():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start; see {log}")
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def get(self, path: str) -> tuple[float, dict]:
        started = time.perf_counter()
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            body = json.loads(response.read())
        return (time.perf_counter() - started) * 1000, body

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._log.close()


def _path(query) -> str:
    params = [("q", query.sift_text())]
    if query.language:
        params.append(("language", query.language))
    if query.dates:
        params += [
            ("date_from", query.dates[0].isoformat()),
            ("date_to", query.dates[1].isoformat()),
        ]
    return "/api/v1/search?" + urllib.parse.urlencode(params)


def _shards(cluster) -> list[dict]:
    """Per shard, on its first replica: documents, bytes, and the query mix's latency."""
    front = connect(cluster.front)
    slot = live_slot(front)
    front.close()
    found = []
    for replicas in cluster.shards:
        conn = connect(replicas[0])
        with conn.cursor() as cur:
            cur.execute(f"SHOW INDEX docs_{slot} STATUS")
            status = dict(cur.fetchall())
            times = []
            for query in QUERIES:
                started = time.perf_counter()
                cur.execute(
                    f"SELECT id FROM docs_{slot} WHERE MATCH(%s) LIMIT 10 OPTION ranker=bm25",
                    (" | ".join(query.words),),
                )
                cur.fetchall()
                times.append((time.perf_counter() - started) * 1000)
        conn.close()
        docs = int(status["indexed_documents"])
        size = int(status.get("ram_bytes", 0)) + int(status.get("disk_bytes", 0))
        found.append(
            {
                "documents": docs,
                "bytes": size,
                "bytes_per_document": round(size / max(docs, 1)),
                "local_query_p50_ms": round(percentile(times, 50), 2),
                "local_query_p95_ms": round(percentile(times, 95), 2),
            }
        )
    return found


def run_scale(source: Path, work: Path, scale: int, limit: int | None) -> dict:
    corpus = work / f"corpus-{scale}x.jsonl.gz"
    count = write_corpus(source, corpus, scale=scale, limit=limit)
    index_dir = work / f"embedded-{scale}x"
    started = time.perf_counter()
    assert EmbeddedStore(index_dir).reindex([corpus]).switched
    embedded_s = time.perf_counter() - started
    folder = work / f"cluster-{scale}x"
    toml = init_cluster(folder, 2, 2, None)
    daemons.start(folder)
    servers = []
    try:
        started = time.perf_counter()
        assert ClusterStore(load_cluster(toml)).reindex([corpus]).switched
        cluster_s = time.perf_counter() - started
        servers = [
            _Server(index_dir, work / f"embedded-{scale}x.log"),
            _Server(folder, work / f"cluster-{scale}x.log", cluster=str(toml)),
        ]
        latency: dict[str, list[float]] = {"embedded": [], "cluster": []}
        overlap, equal_totals = [], 0
        for round_ in range(ROUNDS):
            for i, query in enumerate(QUERIES):
                order = servers if (i + round_) % 2 == 0 else servers[::-1]
                answers = {}
                for server in order:
                    name = "cluster" if server is servers[1] else "embedded"
                    ms, body = server.get(_path(query))
                    latency[name].append(ms)
                    answers[name] = body
                if round_ == 0:
                    top = [{h["id"] for h in answers[n]["hits"]} for n in ("embedded", "cluster")]
                    overlap.append(len(top[0] & top[1]) / max(len(top[0]), 1))
                    equal_totals += answers["embedded"]["total"] == answers["cluster"]["total"]
        shards = _shards(load_cluster(toml))
    finally:
        for server in servers:
            server.stop()
        daemons.stop(folder)
    return {
        "scale": scale,
        "documents": count,
        "ingest_docs_per_s": {
            "embedded": round(count / embedded_s),
            "cluster": round(count / cluster_s),
        },
        "embedded_index_bytes": folder_bytes(index_dir / "generations"),
        "http_ms": {
            name: {"p50": round(percentile(v, 50), 2), "p95": round(percentile(v, 95), 2)}
            for name, v in latency.items()
        },
        "top10_overlap_mean": round(sum(overlap) / len(overlap), 3),
        "equal_totals": f"{equal_totals}/{len(QUERIES)}",
        "shards": shards,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--corpus", help="Reuters-21578 JSONL (default ../shared/data)")
    args = parser.parse_args(argv)
    source = reuters_path(args.corpus)
    limit = QUICK_DOCUMENTS if args.quick else None
    scales = (1, 2) if args.quick else (1, 4)
    with tempfile.TemporaryDirectory(prefix="sift-bench-cluster-") as tmp:
        results = [run_scale(source, Path(tmp), scale, limit) for scale in scales]
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    name = "cluster-quick.json" if args.quick else "cluster.json"
    (RESULTS / name).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
