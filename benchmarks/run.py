"""`make bench`: build Sift, SQLite FTS5 and tantivy indexes of the same corpus, time them
interleaved on the same queries, and print one table (JSON in benchmarks/results/).

    python -m benchmarks            # Reuters-21578 and 4x it, 6 runs (several minutes)
    python -m benchmarks --quick    # 2,000 articles and 2x, 2 runs: a smoke test for CI

Figures are never asserted: the machine may be shared. Every engine is timed in the same
run, query by query in rotating order, so ratios are fair even when absolute times drift;
CPU time (`process_time`) is reported beside wall time for the same reason.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import anchors, sift_side
from benchmarks.corpus import QUICK_DOCUMENTS, reuters_path, write_corpus
from benchmarks.measure import folder_bytes, machine_load, percentile, run_measured
from benchmarks.queries import QUERIES

ENGINES = ("sift", "fts5", "tantivy")
MODES = sift_side.MODES
RESULTS = Path(__file__).resolve().parent / "results"
# Requests per client thread in the HTTP phases (quick mode: a fifth).
HTTP_REQUESTS_PER_THREAD = 150


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_all(corpus: Path, work: Path, tag: str, builds: int) -> dict:
    """Build the three indexes of `corpus` `builds` times, the engines taking turns (so a
    slow spell of the machine hits them alike); the build with the median wall time
    of each, and every build's wall time."""
    runs: dict[str, list] = {engine: [] for engine in ENGINES}
    docs = work / f"export-{tag}.jsonl.gz"
    count = 0
    for _ in range(builds):
        sift_dir = work / f"sift-{tag}"
        shutil.rmtree(sift_dir, ignore_errors=True)
        result = sift_side.build(corpus, sift_dir)
        if not count:  # the anchors index what Sift indexed, exported once
            count = sift_side.export_documents(sift_dir, docs)
        runs["sift"].append((result, folder_bytes(sift_dir / "generations")))
        for engine in ("fts5", "tantivy"):
            folder = work / f"{engine}-{tag}"
            shutil.rmtree(folder, ignore_errors=True)
            result = run_measured(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.anchors",
                    "build",
                    engine,
                    str(docs),
                    str(folder),
                ],
                cwd=str(sift_side.ROOT),
            )
            runs[engine].append((result, folder_bytes(folder)))
    figures = {}
    for engine, results in runs.items():
        walls = sorted(result.wall_s for result, _ in results)
        median = walls[(len(walls) - 1) // 2]
        result, size = next((r, size) for r, size in results if r.wall_s == median)
        figures[engine] = _build_figures(result, count, size)
        figures[engine]["all_seconds"] = [round(r.wall_s, 3) for r, _ in results]
    figures["documents"] = count
    return figures


def _build_figures(result, count: int, size: int) -> dict:
    return {
        "seconds": round(result.wall_s, 3),
        "cpu_seconds": round(result.cpu_s, 3),
        "docs_per_s": round(count / result.wall_s, 1),
        "index_bytes": size,
        "peak_rss_bytes": result.peak_rss,
    }


def open_engines(work: Path, tag: str) -> dict:
    return {
        "sift": sift_side.SiftApi(work / f"sift-{tag}"),
        "fts5": anchors.Fts5(work / f"fts5-{tag}"),
        "tantivy": anchors.Tantivy(work / f"tantivy-{tag}"),
    }


def time_queries(
    engines: dict, runs: int, queries: list | None = None, modes: tuple = MODES
) -> tuple[dict, dict]:
    """Latencies per engine and mode (wall and CPU ms), interleaved; totals per query
    (`queries`: the fixed mix unless given)."""
    samples = {e: {m: {"wall": [], "cpu": []} for m in modes} for e in engines}
    totals = {e: {} for e in engines}
    order = list(engines)
    for run in range(runs + 1):  # run 0 warms caches and is not recorded
        for qi, query in enumerate(QUERIES if queries is None else queries):
            for mode in modes:
                shift = (qi + run) % len(order)
                for name in order[shift:] + order[:shift]:
                    engine = engines[name]
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    total = engine.run(query, mode)
                    wall = time.perf_counter() - t0
                    cpu = time.process_time() - c0
                    if run:
                        samples[name][mode]["wall"].append(wall * 1e3)
                        samples[name][mode]["cpu"].append(cpu * 1e3)
                    totals[name][query.label] = total
    stats = {
        e: {
            m: {
                "p50_ms": round(percentile(s["wall"], 50), 3),
                "p95_ms": round(percentile(s["wall"], 95), 3),
                "cpu_p50_ms": round(percentile(s["cpu"], 50), 3),
            }
            for m, s in modes.items()
        }
        for e, modes in samples.items()
    }
    return stats, totals


def cold_open(work: Path, tag: str) -> dict:
    query = QUERIES[0]
    figures = {"sift": sift_side.cold_open(work / f"sift-{tag}", query)}
    for engine, module, opener in (
        ("fts5", "sqlite3", f"anchors.Fts5(Path({str(work / f'fts5-{tag}')!r}))"),
        ("tantivy", "tantivy", f"anchors.Tantivy(Path({str(work / f'tantivy-{tag}')!r}))"),
    ):
        code = f"""
import json, time
t0 = time.perf_counter()
import {module}
t1 = time.perf_counter()
from pathlib import Path
from benchmarks import anchors
from benchmarks.queries import QUERIES
t1b = time.perf_counter()
engine = {opener}
engine.open_probe()
t2 = time.perf_counter()
engine.run(QUERIES[0], "ranked")
t3 = time.perf_counter()
print(json.dumps({{"import_ms": (t1 - t0) * 1e3, "open_ms": (t2 - t1b) * 1e3,
                  "first_query_ms": (t3 - t2) * 1e3}}))
"""
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=str(sift_side.ROOT),
            capture_output=True,
            text=True,
            check=True,
        )
        figures[engine] = json.loads(out.stdout)
    return {e: {k: round(v, 2) for k, v in f.items()} for e, f in figures.items()}


def http_phase(work: Path, tag: str, workers: int, per_thread: int) -> dict:
    """gunicorn with `workers`; latency at `workers` clients, throughput at twice that."""
    paths = [f"/api/v1/search?{sift_side.http_params(q)}" for q in QUERIES]
    server = sift_side.Server(work / f"sift-{tag}", workers, _free_port(), work / "gunicorn.log")
    figures = {"workers": workers}
    try:
        # Warm every worker as the in-process engines are warmed (one untimed pass each):
        # each client cycles through all the queries, so each worker sees nearly all.
        _load(server.base, workers * 2, len(paths), paths)
        phases = (
            ("latency", workers, paths),
            ("throughput", workers * 2, paths),
            # What any request costs here (gunicorn, the client, the scheduler on a
            # shared machine): the floor under the search figures.
            ("floor", workers, ["/healthz"]),
        )
        for phase, concurrency, targets in phases:
            got = _load(server.base, concurrency, per_thread, targets)
            lat = [x * 1e3 for x in got["latencies"]]
            figures[phase] = {
                "concurrency": concurrency,
                "requests": len(lat),
                "errors": got["errors"],
                "p50_ms": round(percentile(lat, 50), 2),
                "p99_ms": round(percentile(lat, 99), 2),
                "requests_per_s": round(len(lat) / got["elapsed"], 1),
            }
    finally:
        server.stop()
    return figures


def _load(
    base: str, concurrency: int, per_thread: int, paths: list[str], *, once: bool = False
) -> dict:
    """`concurrency` clients sending `per_thread` requests each, cycling through `paths`;
    with `once`, each path exactly once between them (benchmarks/load.py)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.load",
            base,
            str(concurrency),
            str(per_thread),
            *(["once"] if once else []),
        ],
        input=json.dumps(paths),
        cwd=str(sift_side.ROOT),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def agreement(totals: dict) -> dict:
    """On how many queries each anchor's match count equals Sift's (analysers differ)."""
    sift = totals["sift"]
    return {
        e: sum(totals[e].get(label) == count for label, count in sift.items())
        for e in ("fts5", "tantivy")
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small corpus, few runs (for CI)")
    parser.add_argument("--corpus", help="Reuters-21578 .jsonl.gz (default ../shared/data)")
    parser.add_argument("--scale", type=int, default=None, help="copies for the growth run (4)")
    parser.add_argument("--runs", type=int, default=None, help="timed passes over the queries")
    parser.add_argument(
        "--builds", type=int, default=None, help="builds of the 1x corpus, median kept (3)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP phase")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the JSON results")
    parser.add_argument("--keep", action="store_true", help="keep the indexes (prints where)")
    args = parser.parse_args(argv)
    quick = args.quick
    scale = args.scale or (2 if quick else 4)
    runs = args.runs or (2 if quick else 6)
    builds = args.builds or (1 if quick else 3)
    limit = QUICK_DOCUMENTS if quick else None
    per_thread = HTTP_REQUESTS_PER_THREAD // (5 if quick else 1)

    source = reuters_path(args.corpus)
    work = Path(tempfile.mkdtemp(prefix="sift-bench-"))
    started = time.perf_counter()
    report: dict = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": machine_load(),
        },
        "queries": [q.label for q in QUERIES],
    }
    try:
        corpora = {}
        for tag, copies in (("1x", 1), (f"{scale}x", scale)):
            path = work / f"corpus-{tag}.jsonl.gz"
            write_corpus(source, path, scale=copies, limit=limit)
            corpora[tag] = path
            _say(f"building {tag} ...")
            # The growth corpus is built once: it takes minutes, and its rate is a check
            # on how cost grows, not a headline figure.
            times = builds if copies == 1 else 1
            report[f"build_{tag}"] = build_all(path, work, tag, times)
        _say("cold open ...")
        report["cold_open"] = cold_open(work, "1x")
        for tag, passes in (("1x", runs), (f"{scale}x", max(1, runs // 2))):
            _say(f"queries on {tag} ...")
            engines = open_engines(work, tag)
            report[f"queries_{tag}"], totals = time_queries(engines, passes)
            report[f"matches_{tag}"] = {e: sum(t.values()) for e, t in totals.items()}
            report[f"same_counts_{tag}"] = agreement(totals)
            report[f"totals_{tag}"] = totals
            del engines
        if not args.no_http:
            _say("HTTP ...")
            report["http"] = http_phase(work, "1x", args.workers, per_thread)
        report["machine"]["load_after"] = machine_load()
        report["seconds"] = round(time.perf_counter() - started, 1)
        report["scale"] = scale
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        name = "quick" if quick else "reuters"
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        for target in (out / f"{name}-{stamp}.json", out / f"{name}-latest.json"):
            target.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        print(render(report))
        print(f"\nJSON: {out / f'{name}-latest.json'}")
    finally:
        if args.keep:
            print(f"indexes kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the table -------------------------------------------------------------------------------


def _ratio(value: float, anchor: float) -> str:
    if not anchor or value != value or anchor != anchor:
        return "-"
    return f"{value / anchor:.2f}x"


def render(r: dict) -> str:
    scale = r["scale"]
    big = f"{scale}x"
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(label, sift, fts, tan, lower_is_better=True, fmt="{:,.1f}"):
        def f(v):
            return fmt.format(v) if isinstance(v, int | float) else str(v)

        rows.append((label, f(sift), f(fts), f(tan), _ratio(sift, fts), _ratio(sift, tan)))

    b = r["build_1x"]
    builds = len(b["sift"].get("all_seconds", [None]))
    row(
        f"indexing, docs/s (Sift: `sift reindex`), median of {builds}",
        *(b[e]["docs_per_s"] for e in ENGINES),
    )
    row("indexing CPU s (all processes)", *(b[e]["cpu_seconds"] for e in ENGINES), fmt="{:,.2f}")
    row("index size, MB", *(b[e]["index_bytes"] / 1e6 for e in ENGINES))
    row("peak memory while indexing, MB", *(b[e]["peak_rss_bytes"] / 1e6 for e in ENGINES))
    c = r["cold_open"]
    row("import, ms", *(c[e]["import_ms"] for e in ENGINES))
    row("open the index (new process), ms", *(c[e]["open_ms"] for e in ENGINES))
    row("first query after open, ms", *(c[e]["first_query_ms"] for e in ENGINES))
    q = r["queries_1x"]
    for mode, label in (
        ("ranked", "ranked top 10"),
        ("snippets", "+ 10 snippets"),
        ("facets", "+ 4 facets over all matches"),
    ):
        row(f"{label}: p50 ms", *(q[e][mode]["p50_ms"] for e in ENGINES), fmt="{:,.2f}")
        row(f"{label}: p95 ms", *(q[e][mode]["p95_ms"] for e in ENGINES), fmt="{:,.2f}")
        row(f"{label}: CPU p50 ms", *(q[e][mode]["cpu_p50_ms"] for e in ENGINES), fmt="{:,.2f}")
    qb = r[f"queries_{big}"]
    bb = r[f"build_{big}"]
    row(f"at {big}: indexing docs/s", *(bb[e]["docs_per_s"] for e in ENGINES))
    for mode in ("ranked", "facets"):
        row(f"at {big}: {mode} p50 ms", *(qb[e][mode]["p50_ms"] for e in ENGINES), fmt="{:,.2f}")
    growth = []
    for e in ENGINES:
        m1, mb = r["matches_1x"][e], r[f"matches_{big}"][e]
        t1, tb = q[e]["facets"]["cpu_p50_ms"], qb[e]["facets"]["cpu_p50_ms"]
        growth.append(f"{tb / t1:.1f}x time / {mb / max(m1, 1):.1f}x matches")
    rows.append((f"at {big}: facets CPU p50 growth", *growth, "", ""))
    if "http" in r:
        h = r["http"]
        lat, thr = h["latency"], h["throughput"]
        fq = q["fts5"]["facets"]
        tq = q["tantivy"]["facets"]
        rows.append(
            (
                f"HTTP search+snippets+facets, {h['workers']} workers, {lat['concurrency']} "
                "clients: p50 / p99 ms",
                f"{lat['p50_ms']:.1f} / {lat['p99_ms']:.1f}",
                f"{fq['p50_ms']:.2f} / {fq['p95_ms']:.2f} (in-process, p95)",
                f"{tq['p50_ms']:.2f} / {tq['p95_ms']:.2f} (in-process, p95)",
                _ratio(lat["p50_ms"], fq["p50_ms"]),
                _ratio(lat["p50_ms"], tq["p50_ms"]),
            )
        )
        if "floor" in h:
            fl = h["floor"]
            rows.append(
                (
                    f"HTTP floor: GET /healthz, {fl['concurrency']} clients: p50 / p99 ms",
                    f"{fl['p50_ms']:.1f} / {fl['p99_ms']:.1f}",
                    "",
                    "",
                    "",
                    "",
                )
            )
        rows.append(
            (
                f"HTTP requests/s, {thr['concurrency']} clients (errors {thr['errors']})",
                f"{thr['requests_per_s']:,.0f}",
                f"{2000 / fq['p50_ms']:,.0f} (2 cores / p50)",
                f"{2000 / tq['p50_ms']:,.0f} (2 cores / p50)",
                _ratio(thr["requests_per_s"], 2000 / fq["p50_ms"]),
                _ratio(thr["requests_per_s"], 2000 / tq["p50_ms"]),
            )
        )
    agree = r["same_counts_1x"]
    rows.append(
        (
            f"queries with Sift's match count (of {len(r['queries'])})",
            "-",
            str(agree["fts5"]),
            str(agree["tantivy"]),
            "",
            "",
        )
    )
    header = ("", "Sift", "SQLite FTS5", "tantivy", "Sift/FTS5", "Sift/tantivy")
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(6)]
    lines = [
        "  ".join(
            str(v).ljust(widths[i]) if i == 0 else str(v).rjust(widths[i]) for i, v in enumerate(x)
        )
        for x in [header, *rows]
    ]
    lines.insert(1, "-" * len(lines[0]))
    docs = r["build_1x"]["documents"]
    load = r["machine"]
    lines.insert(
        0,
        f"Sift benchmark: {docs:,} documents ({'quick' if r['quick'] else 'Reuters-21578'}), "
        f"{load['cpus']} CPUs, load {load['load_before'][0]:.1f} -> {load['load_after'][0]:.1f}, "
        f"{r['seconds']:.0f} s",
    )
    return "\n".join(lines)
