"""`make bench-scale`: Sift built and served at 1x, 10x and 50x Reuters-21578 (ids
rewritten), with SQLite FTS5 doing the same work at each size; one table per size, the
targets of issue 17, JSON in benchmarks/results/scale-latest.json.

    python -m benchmarks.scale                 # 1x, 10x, 50x (50x: most of an hour)
    python -m benchmarks.scale --sizes 1       # Reuters-21578 alone (minutes)
    python -m benchmarks.scale --quick         # 1,000 articles x2: a smoke test

Per size: `sift reindex` end to end (time, CPU, peak memory of the process tree as PSS,
since a sum of RSS counts forked workers' copy-on-write pages once per worker, and its
CPU use sampled every 0.5 s: the stretches where the tree used at most 1.2 cores are the
build's single-threaded phases), the index's size; FTS5 built from what Sift indexed;
engine time in-process, Sift and FTS5 interleaved on the fixed query mix and on the ten
most common words of the corpus; `sift serve --workers 2` (rate limit off, all else
default) over HTTP: p50/p95/p99 and status counts with snippets and 4 facets, without
facets, and for the broad words, as many clients as workers (then with facets for one
client alone); RSS, PSS and shared memory per worker, the same with 3 workers, and what
the third costs; cold start (process start to the first 200 of a faceted search); then,
with 2 workers, 200 held-out queries (benchmarks/heldout.py), each sent once, as a check
outside the code would send its own. On the largest size: 10,000 new articles by `sift
reindex --incremental`, then 10,000 more by `POST /api/v1/documents`, each timed to the
first search that finds them all.

Figures are never asserted here: the machine may be shared (the load before and after
and other processes' CPU use during the build are recorded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import gzip
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

from benchmarks import anchors, sift_side
from benchmarks.corpus import reuters_path, write_corpus
from benchmarks.heldout import held_out_queries
from benchmarks.measure import (
    RunResult,
    children,
    folder_bytes,
    machine_load,
    percentile,
    run_measured,
    tree_cpu_s,
)
from benchmarks.queries import QUERIES, Query
from benchmarks.run import RESULTS, _free_port, _load, time_queries

SIZES = (1, 10, 50)
# --quick: one size of two copies (rewritten ids), every phase; `--sizes 1,2` for two.
QUICK_SIZES = (2,)
# --quick: articles a copy (server starts, not articles, take most of its time).
QUICK_ARTICLES = 1000
# CPU use of the build's process tree is sampled this often; an interval where it used
# at most SERIAL_CORES cores counts as single-threaded.
CPU_SAMPLE_S = 0.5
SERIAL_CORES = 1.2
# ... unless the machine had less than this many cores idle (others' work starved it).
STARVED_IDLE = 0.5
# Seconds the server is left without requests before its memory is read once more.
QUIET_S = 3
# A build starved for more than this share of its time says nothing of its serial phases.
STARVED_SHARE = 0.25
BROAD_WORDS = 10
INCREMENTAL_DOCUMENTS = 10_000
QUICK_INCREMENTAL = 500
WORKERS = 2
# Requests per client in each timed HTTP category (quick: a tenth).
HTTP_REQUESTS_PER_CLIENT = 150
COLD_STARTS = 3
SEARCHABLE_WAIT_S = 600
MB = 1e6

# Issue 17's targets, judged on the largest size of the run.
TARGETS = {
    "http_p50_ms": 20,
    "http_p95_ms": 100,
    "engine_vs_fts5": 2.0,
    "rss_per_worker_bytes": 1.5e9,
    "worker_cost_bytes": 300e6,
    "build_docs_per_s": 1500,
    "serial_share": 0.10,
    "peak_build_bytes": 4e9,
    "searchable_s": 60,
    "cold_start_s": 5,
}


def _say(text: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] {text}", file=sys.stderr, flush=True)


# -- the corpus --------------------------------------------------------------------------


def _records(source: Path, limit: int | None):
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                return
            yield json.loads(line)


def broad_words(source: Path, limit: int | None, count: int = BROAD_WORDS) -> list[str]:
    """The `count` words in most articles (title and body), leaving out the English stop
    words Sift drops (index/analysis.py) and numbers."""
    from index.analysis import stop_words

    stops = stop_words("en")
    df: Counter[str] = Counter()
    for record in _records(source, limit):
        text = f"{record.get('title') or ''} {record.get('body') or record.get('text') or ''}"
        df.update(set(re.findall(r"[a-z]{2,}", text.lower())) - stops)
    return [word for word, _ in df.most_common(count)]


def new_articles(source: Path, count: int, suffix: str, marker: str) -> list[dict]:
    """`count` Reuters articles under fresh ids (`suffix`), each carrying `marker` (a word
    found nowhere else) so that one search tells when all are searchable."""
    out: list[dict] = []
    while len(out) < count:
        for record in _records(source, count - len(out)):
            body = record.get("body") or record.get("text") or ""
            out.append(
                {**record, "id": f"{record['id']}{suffix}{len(out)}", "body": f"{body}\n{marker}"}
            )
    return out


# -- the build ---------------------------------------------------------------------------


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (not idle, not waiting on I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class CpuSampler:
    """Called by run_measured at every memory sample; every CPU_SAMPLE_S it records the
    process tree's CPU seconds so far, and the machine's."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, float]] = []
        self.cpus = os.cpu_count() or 1

    def __call__(self, pid: int, pids: list[int]) -> None:
        now = time.perf_counter()
        if self.samples and now - self.samples[-1][0] < CPU_SAMPLE_S:
            return
        self.samples.append((now, tree_cpu_s(pids), _machine_busy_s()))

    def phases(self, started: float, wall_s: float) -> dict:
        """Stretches of parallel, single-threaded (<= SERIAL_CORES, the machine not
        busy) and starved work, the longest single-threaded one, and the cores other
        processes used meanwhile."""
        stretches: list[dict] = []
        serial = 0.0
        others = []
        for (t0, c0, m0), (t1, c1, m1) in zip(self.samples, self.samples[1:], strict=False):
            if c1 < c0:  # sampled once the tree had ended: its CPU is no longer readable
                continue
            span = t1 - t0
            cores = max(c1 - c0, 0.0) / span
            others.append(max(m1 - m0 - (c1 - c0), 0.0) / span)
            idle = self.cpus - (m1 - m0) / span
            # At most SERIAL_CORES with a core to spare is single-threaded work; with the
            # machine busy (other processes) it is only starved.
            if cores > SERIAL_CORES:
                kind = "parallel"
            else:
                kind = "serial" if idle >= STARVED_IDLE else "starved"
            serial += span if kind == "serial" else 0
            if stretches and stretches[-1]["kind"] == kind:
                last = stretches[-1]
                last["cpu"] += c1 - c0
                last["seconds"] += span
            else:
                stretches.append(
                    {"kind": kind, "from_s": t0 - started, "seconds": span, "cpu": c1 - c0}
                )
        for s in stretches:
            s["cores"] = round(s.pop("cpu") / s["seconds"], 2) if s["seconds"] else 0.0
            s["from_s"] = round(s["from_s"], 1)
            s["seconds"] = round(s["seconds"], 1)
        longest = max((s["seconds"] for s in stretches if s["kind"] == "serial"), default=0.0)
        return {
            "sample_s": CPU_SAMPLE_S,
            "serial_cores": SERIAL_CORES,
            "starved_seconds": round(
                sum(x["seconds"] for x in stretches if x["kind"] == "starved"), 1
            ),
            "serial_seconds": round(serial, 1),
            "serial_share": round(serial / wall_s, 3) if wall_s else 0.0,
            "longest_serial_s": longest,
            "longest_serial_share": round(longest / wall_s, 3) if wall_s else 0.0,
            "others_cores_mean": round(statistics.fmean(others), 2) if others else 0.0,
            "stretches": stretches,
        }


def _sift(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("sift")), *args]


def build(input_dir: Path, index_dir: Path, *, incremental: bool = False) -> dict:
    """`sift reindex` of `input_dir` into `index_dir`, measured from outside."""
    sampler = CpuSampler()
    env = dict(os.environ, SIFT_INDEX_DIR=str(index_dir))
    flags = ["--incremental"] if incremental else []
    started = time.perf_counter()
    result = run_measured(
        _sift("reindex", *flags, str(input_dir)), env=env, cwd=str(sift_side.ROOT), watch=sampler
    )
    found = re.search(r"indexed (\d+) documents", result.stdout)
    documents = int(found.group(1)) if found else 0
    figures = _run_figures(result, documents)
    figures["phases"] = sampler.phases(started, result.wall_s)
    # What `sift reindex` says each of its phases took ("phases: documents 812.3s, ...").
    said = re.search(r"^phases: (.*)$", result.stdout, re.M)
    figures["reported_phases"] = (
        {
            name: float(seconds.rstrip("s"))
            for name, seconds in (part.split() for part in said.group(1).split(", ") if part)
        }
        if said
        else {}
    )
    figures["index_bytes"] = folder_bytes(index_dir / "generations")
    return figures


def _peak_text(build: dict) -> str:
    return (
        f"{build['peak_pss_bytes'] / MB:,.0f} MB PSS at {build['peak_pss_at_s']:,.0f} s "
        f"(RSS summed {build['peak_rss_bytes'] / MB:,.0f} MB)"
    )


def _run_figures(result: RunResult, documents: int) -> dict:
    return {
        "documents": documents,
        "seconds": round(result.wall_s, 2),
        "cpu_seconds": round(result.cpu_s, 2),
        "docs_per_s": round(documents / result.wall_s, 1) if result.wall_s else 0.0,
        "peak_rss_bytes": result.peak_rss,
        "peak_pss_bytes": result.peak_pss,
        "peak_pss_at_s": result.peak_pss_at_s,
    }


def build_fts5(index_dir: Path, work: Path) -> dict:
    docs = work / "export.jsonl.gz"
    count = sift_side.export_documents(index_dir, docs)
    folder = work / "fts5"
    result = run_measured(
        [sys.executable, "-m", "benchmarks.anchors", "build", "fts5", str(docs), str(folder)],
        cwd=str(sift_side.ROOT),
    )
    docs.unlink()
    figures = _run_figures(result, count)
    figures["index_bytes"] = folder_bytes(folder)
    return figures


# -- engine time in-process ----------------------------------------------------------------


def engine_times(index_dir: Path, fts5_dir: Path, broad: list[Query], runs: int) -> dict:
    """Sift's engine and FTS5 in this process, interleaved, on the fixed mix (3 modes) and
    on the broad words (with snippets and facets)."""
    engines = {"sift": sift_side.SiftApi(index_dir), "fts5": anchors.Fts5(fts5_dir)}
    mix, totals = time_queries(engines, runs)
    wide, wide_totals = time_queries(engines, runs, broad, modes=("facets",))
    del engines
    gc.collect()
    figures: dict = {"mix": mix, "broad": wide}
    for name, stats in (("mix", mix), ("broad", wide)):
        figures[f"{name}_ratio"] = {
            mode: {
                f"{p}_ratio": round(
                    stats["sift"][mode][f"{p}_ms"] / stats["fts5"][mode][f"{p}_ms"], 2
                )
                for p in ("p50", "p95")
            }
            for mode in stats["sift"]
        }
    figures["matches"] = {e: sum(totals[e].values()) for e in totals}
    figures["broad_matches"] = {e: sum(wide_totals[e].values()) for e in wide_totals}
    return figures


# -- serving -----------------------------------------------------------------------------


def _search_path(query: Query, facets: bool = True) -> str:
    path = f"/api/v1/search?{sift_side.http_params(query)}"
    return path if facets else path + "&facets="


def _mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def _process_memory(pid: int) -> dict:
    """VmRSS, and from smaps_rollup PSS (shared pages divided among their users), shared
    and private bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            found["rss"] = int(line.split()[1]) * 1024
    rollup = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            rollup[key] = int(rest.split()[0]) * 1024
    found["pss"] = rollup.get("Pss", 0)
    found["shared"] = rollup.get("Shared_Clean", 0) + rollup.get("Shared_Dirty", 0)
    found["private"] = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    return found


def server_memory(master: int, available_before: int) -> dict:
    workers = [_process_memory(pid) for pid in children(master)]
    main = _process_memory(master)
    return {
        "workers": workers,
        "master": main,
        "max_worker_rss_bytes": max((w["rss"] for w in workers), default=0),
        "max_worker_pss_bytes": max((w["pss"] for w in workers), default=0),
        "tree_pss_bytes": main["pss"] + sum(w["pss"] for w in workers),
        "tree_rss_bytes": main["rss"] + sum(w["rss"] for w in workers),
        "machine_used_bytes": available_before - _mem_available(),
    }


def _latency(got: dict) -> dict:
    lat = [x * 1e3 for x in got["latencies"]]
    statuses = got.get("statuses", {})
    return {
        "requests": len(lat),
        "p50_ms": round(percentile(lat, 50), 2),
        "p95_ms": round(percentile(lat, 95), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "requests_per_s": round(len(lat) / got["elapsed"], 1) if got["elapsed"] else 0.0,
        "statuses": statuses,
        "4xx": sum(n for s, n in statuses.items() if s.startswith("4")),
        "5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
        "failed": statuses.get("error", 0),
    }


def serve(
    index_dir: Path,
    work: Path,
    workers: int,
    categories: dict,
    per_client: int,
    env: dict,
    held_out: list[str] | None = None,
) -> dict:
    """`sift serve --workers N`: its cold start and, after a warm pass, the memory of each
    process; then (`per_client` > 0) latency per category at N clients, and the memory
    again; then (`held_out`) each of those paths sent once, N clients sharing them, and
    the memory after them."""
    available = _mem_available()
    server = sift_side.Server(
        index_dir,
        workers,
        _free_port(),
        work / f"serve-{workers}.log",
        cli=True,
        env=env,
        ready_path=categories["facets"][0],
        poll_s=0.05,
    )
    figures: dict = {"workers": workers, "cold_start_s": round(server.ready_s, 2)}
    try:
        everything = [path for paths in categories.values() for path in paths]
        # One warming pass: each of N clients cycles through every path (so each worker
        # sees nearly all of them). Its latency is what queries seen for the first time
        # get (postings not yet read and cached: a held-out query's lot), reported apart.
        got = _load(server.base, workers, len(everything), everything)
        figures["latency_first_pass"] = _latency(got)
        figures["memory_warm"] = server_memory(server.proc.pid, available)
        if per_client:
            figures["latency"] = {}
            for name, paths in categories.items():
                got = _load(server.base, workers, per_client, paths)
                figures["latency"][name] = _latency(got)
            # What one user alone sees: each request waits for none but its own work.
            got = _load(server.base, 1, per_client, categories["facets"])
            figures["latency_one_client"] = _latency(got)
            figures["memory"] = server_memory(server.proc.pid, available)
            # Workers give back what their searches freed once quiet (api/idle_memory.py).
            time.sleep(QUIET_S)
            figures["memory_quiet"] = server_memory(server.proc.pid, available)
        if held_out:
            # Queries no pass has sent: every word read from the index for its query, as
            # a check outside the code sends its own (benchmarks/heldout.py).
            got = _load(server.base, workers, 0, held_out, once=True)
            figures["latency_held_out"] = _latency(got)
            figures["memory_held_out"] = server_memory(server.proc.pid, available)
    finally:
        server.stop()
    return figures


def cold_starts(index_dir: Path, work: Path, path: str, times: int, env: dict) -> list[float]:
    out = []
    for _ in range(times):
        server = sift_side.Server(
            index_dir,
            WORKERS,
            _free_port(),
            work / "cold.log",
            cli=True,
            env=env,
            ready_path=path,
            poll_s=0.05,
        )
        out.append(round(server.ready_s, 2))
        server.stop()
    return out


# -- incremental additions -----------------------------------------------------------------


def _total(base: str, marker: str) -> int:
    url = f"{base}/api/v1/search?{urllib.parse.urlencode({'q': marker, 'facets': ''})}"
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return int(json.loads(r.read())["total"])
    except (OSError, ValueError, KeyError):
        return -1


def _until_found(
    base: str, marker: str, count: int, started: float, failed: list | None = None
) -> float | None:
    """Seconds from `started` to the first search finding all `count` (None: never, or
    what should add them failed)."""
    while time.perf_counter() - started < SEARCHABLE_WAIT_S and not failed:
        if _total(base, marker) >= count:
            return round(time.perf_counter() - started, 2)
        time.sleep(0.25)
    return None


def incremental(
    source: Path, input_dir: Path, index_dir: Path, work: Path, count: int, env: dict
) -> dict:
    """With `sift serve` up: `count` new articles in a new input file and `sift reindex
    --incremental`, then `count` more by POST; each timed to the first search that finds
    all of them."""
    server = sift_side.Server(
        index_dir, WORKERS, _free_port(), work / "incremental.log", cli=True, env=env
    )
    figures: dict = {"documents": count}
    try:
        marker = "zqscaleinc" + secrets.token_hex(3)
        articles = new_articles(source, count, "-inc", marker)
        with gzip.open(input_dir / "incremental.jsonl.gz", "wt", encoding="utf-8") as out:
            for record in articles:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        _say(f"  reindex --incremental of {count:,} new articles ...")
        started = time.perf_counter()
        built: dict = {}
        failed: list[BaseException] = []

        def reindex() -> None:
            try:
                built.update(build(input_dir, index_dir, incremental=True))
            except BaseException as exc:  # re-raised below, once the search has waited
                failed.append(exc)

        thread = threading.Thread(target=reindex)
        thread.start()
        found = _until_found(server.base, marker, count, started, failed)
        thread.join()
        if failed:
            raise failed[0]
        built.pop("phases", None)
        # `sift reindex` says how many documents the new generation holds, not how many
        # it read: no rate for an incremental run.
        built["index_documents"] = built.pop("documents", None)
        built.pop("docs_per_s", None)
        figures["reindex"] = {**built, "searchable_s": found}

        _say(f"  POST of {count:,} new articles ...")
        marker = "zqscaleapi" + secrets.token_hex(3)
        articles = new_articles(source, count, "-api", marker)
        batch = int(os.environ.get("SIFT_MAX_BATCH_DOCUMENTS", "1000"))
        statuses: Counter[str] = Counter()
        started = time.perf_counter()
        for i in range(0, len(articles), batch):
            request = urllib.request.Request(
                server.base + "/api/v1/documents",
                data=json.dumps(articles[i : i + batch]).encode(),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {env['SIFT_API_KEY']}",
                },
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=120) as r:
                    statuses[str(r.status)] += 1
            except urllib.error.HTTPError as exc:
                statuses[str(exc.code)] += 1
        posted = time.perf_counter() - started
        found = _until_found(server.base, marker, count, started)
        figures["api"] = {
            "batch": batch,
            "requests": dict(statuses),
            "posted_s": round(posted, 2),
            "searchable_s": found,
        }
    finally:
        server.stop()
    return figures


# -- one size ------------------------------------------------------------------------------


def run_size(
    source: Path,
    work: Path,
    copies: int,
    *,
    limit: int | None,
    broad: list[Query],
    held_out: list[Query],
    quick: bool,
    last: bool,
    env: dict,
) -> dict:
    tag = f"{copies}x"
    here = work / tag
    input_dir, index_dir = here / "input", here / "index"
    input_dir.mkdir(parents=True)
    _say(f"{tag}: writing the corpus ...")
    write_corpus(source, input_dir / "reuters.jsonl.gz", scale=copies, limit=limit)
    _say(f"{tag}: sift reindex ...")
    figures: dict = {"copies": copies, "build": build(input_dir, index_dir)}
    b = figures["build"]
    _say(f"{tag}: built {b['documents']:,} documents in {b['seconds']:.1f} s; FTS5 ...")
    figures["fts5_build"] = build_fts5(index_dir, here)
    runs = 1 if quick else (3 if copies == 1 else 2 if copies <= 10 else 1)
    _say(f"{tag}: engine time, Sift and FTS5 in-process ({runs} passes) ...")
    figures["engine"] = engine_times(index_dir, here / "fts5", broad, runs)
    shutil.rmtree(here / "fts5", ignore_errors=True)

    held_out_paths = [_search_path(q) for q in held_out]
    categories = {
        "facets": [_search_path(q) for q in QUERIES],
        "no_facets": [_search_path(q, facets=False) for q in QUERIES],
        "broad": [_search_path(q) for q in broad],
    }
    per_client = HTTP_REQUESTS_PER_CLIENT // (10 if quick else 1)
    _say(f"{tag}: sift serve --workers {WORKERS}, HTTP ...")
    figures[f"serve_{WORKERS}"] = serve(
        index_dir, here, WORKERS, categories, per_client, env, held_out=held_out_paths
    )
    # One worker more, for what it costs: as many clients as workers again, so that each
    # worker answers as many requests as each of the two did.
    _say(f"{tag}: sift serve --workers {WORKERS + 1}, HTTP ...")
    figures[f"serve_{WORKERS + 1}"] = serve(
        index_dir, here, WORKERS + 1, categories, per_client, env
    )
    extra = 0 if quick else COLD_STARTS - 1
    starts = [figures[f"serve_{WORKERS}"]["cold_start_s"]]
    if extra:
        _say(f"{tag}: {extra} more cold starts ...")
        starts += cold_starts(index_dir, here, categories["facets"][0], extra, env)
    figures["cold_start"] = {"seconds": starts, "median_s": statistics.median(starts)}
    two, three = (figures[f"serve_{w}"]["memory"] for w in (WORKERS, WORKERS + 1))
    figures["worker_cost"] = {
        "pss_bytes": three["tree_pss_bytes"] - two["tree_pss_bytes"],
        "rss_bytes": three["tree_rss_bytes"] - two["tree_rss_bytes"],
        "machine_bytes": three["machine_used_bytes"] - two["machine_used_bytes"],
        # What PSS says a worker more should cost: a worker's own pages (the shared ones
        # are only divided again).
        "private_bytes": max(w["private"] for w in two["workers"]),
    }
    if last:
        count = QUICK_INCREMENTAL if quick else INCREMENTAL_DOCUMENTS
        _say(f"{tag}: incremental additions ...")
        figures["incremental"] = incremental(source, input_dir, index_dir, here, count, env)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", help="copies of Reuters-21578, comma list (1,10,50)")
    parser.add_argument("--quick", action="store_true", help="1,000 articles x2 (a smoke test)")
    parser.add_argument("--corpus", help="Reuters-21578 .jsonl.gz (default ../shared/data)")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the JSON results")
    parser.add_argument("--work", help="folder for the corpora and indexes (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the indexes (prints where)")
    args = parser.parse_args(argv)
    quick = args.quick
    if args.sizes:
        sizes = tuple(sorted({int(x) for x in args.sizes.split(",")}))
    else:
        sizes = QUICK_SIZES if quick else SIZES
    limit = QUICK_ARTICLES if quick else None
    source = reuters_path(args.corpus)
    work = Path(tempfile.mkdtemp(prefix="sift-scale-", dir=args.work))
    env = {
        "SIFT_RATE_LIMIT": "off",
        "SIFT_API_KEY": secrets.token_hex(16),
    }
    started = time.perf_counter()
    words = broad_words(source, limit)
    broad = [Query("term", (word,)) for word in words]
    held_out = held_out_queries(_records(source, limit), set(words))
    report: dict = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": {
            "cpus": os.cpu_count(),
            "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "python": platform.python_version(),
            "load_before": machine_load(),
        },
        "articles_per_copy": limit or sum(1 for _ in _records(source, None)),
        "queries": len(QUERIES),
        "broad_words": words,
        "held_out_queries": [q.label for q in held_out],
        "settings": {"workers": WORKERS, "rate_limit": "off"},
        "sizes": {},
    }
    _say(f"sizes {', '.join(f'{n}x' for n in sizes)}; work in {work}")
    try:
        for copies in sizes:
            report["sizes"][f"{copies}x"] = run_size(
                source,
                work,
                copies,
                limit=limit,
                broad=broad,
                held_out=held_out,
                quick=quick,
                last=copies == sizes[-1],
                env=env,
            )
            if not args.keep:
                shutil.rmtree(work / f"{copies}x", ignore_errors=True)
        report["machine"]["load_after"] = machine_load()
        report["seconds"] = round(time.perf_counter() - started, 1)
        report["targets"] = targets(report)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        name = "scale-quick" if quick else "scale-latest"
        target = out / f"{name}.json"
        target.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        print(render(report))
        print(f"\nJSON: {target}")
    finally:
        if args.keep:
            print(f"indexes kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


# -- targets and tables ----------------------------------------------------------------------


def targets(r: dict) -> list[dict]:
    """Issue 17's targets, each with the figure measured at the largest size run."""
    tag = list(r["sizes"])[-1]
    s = r["sizes"][tag]
    t = TARGETS
    b, lat = s["build"], s[f"serve_{WORKERS}"]["latency"]
    fac = lat["facets"]
    refused = sum(lat[c]["4xx"] for c in lat)
    answered = sum(lat[c]["requests"] for c in lat)
    ratio = s["engine"]["mix_ratio"]["facets"]
    mem = s[f"serve_{WORKERS}"]["memory"]
    cost = s["worker_cost"]["pss_bytes"]
    phases = b["phases"]
    # A build the machine's other work starved for long cannot show its serial phases.
    starved = phases["starved_seconds"] > b["seconds"] * STARVED_SHARE
    rows = [
        (
            f"HTTP p50 ≤ {t['http_p50_ms']} ms, p95 ≤ {t['http_p95_ms']} ms "
            "(snippets + 4 facets, 2 workers)",
            f"{fac['p50_ms']:.1f} / {fac['p95_ms']:.1f} ms",
            fac["p50_ms"] <= t["http_p50_ms"] and fac["p95_ms"] <= t["http_p95_ms"],
        ),
        *_held_out_target(s, t),
        (
            "no benchmark query refused (4xx), default query budget",
            f"{refused} of {answered} refused, {sum(lat[c]['5xx'] for c in lat)} 5xx",
            refused == 0,
        ),
        (
            f"engine time ≤ {t['engine_vs_fts5']:g}× FTS5 (p50, snippets + facets)",
            f"{ratio['p50_ratio']:.2f}× (p95 {ratio['p95_ratio']:.2f}×)",
            ratio["p50_ratio"] <= t["engine_vs_fts5"],
        ),
        (
            f"RSS per worker ≤ {t['rss_per_worker_bytes'] / 1e9:g} GB",
            f"{mem['max_worker_rss_bytes'] / MB:,.0f} MB "
            f"(PSS {mem['max_worker_pss_bytes'] / MB:,.0f} MB)",
            mem["max_worker_rss_bytes"] <= t["rss_per_worker_bytes"],
        ),
        (
            f"a worker more costs ≤ {t['worker_cost_bytes'] / MB:,.0f} MB (PSS of the tree)",
            f"{cost / MB:,.0f} MB (RSS {s['worker_cost']['rss_bytes'] / MB:,.0f} MB"
            + (
                f"; a worker's private {s['worker_cost']['private_bytes'] / MB:,.0f} MB)"
                if "private_bytes" in s["worker_cost"]
                else ")"
            ),
            cost <= t["worker_cost_bytes"],
        ),
        (
            f"build ≥ {t['build_docs_per_s']:,} articles/s end to end",
            f"{b['docs_per_s']:,.0f}/s ({b['documents']:,} in {b['seconds']:,.0f} s)",
            b["docs_per_s"] >= t["build_docs_per_s"],
        ),
        (
            f"no single-threaded phase > {t['serial_share']:.0%} of the build",
            f"longest {phases['longest_serial_s']:.1f} s "
            f"({phases['longest_serial_share']:.1%}); all {phases['serial_share']:.0%}"
            + (
                f"; unmeasured: {phases['starved_seconds']:.0f} s starved by other processes"
                if starved
                else ""
            ),
            None if starved else phases["longest_serial_share"] <= t["serial_share"],
        ),
        (
            f"peak build memory ≤ {t['peak_build_bytes'] / 1e9:g} GB",
            _peak_text(b),
            b["peak_pss_bytes"] <= t["peak_build_bytes"],
        ),
    ]
    inc = s.get("incremental")
    if inc:
        for key, label in (("reindex", "`sift reindex --incremental`"), ("api", "POST")):
            found = inc[key]["searchable_s"]
            rows.append(
                (
                    f"{inc['documents']:,} new articles by {label} searchable ≤ "
                    f"{t['searchable_s']} s",
                    f"{found:.1f} s" if found is not None else "never found",
                    found is not None and found <= t["searchable_s"],
                )
            )
    cold = s["cold_start"]["median_s"]
    rows.append(
        (
            f"cold start ≤ {t['cold_start_s']} s (`sift serve --workers 2` to a faceted 200)",
            f"{cold:.2f} s (median of {len(s['cold_start']['seconds'])})",
            cold <= t["cold_start_s"],
        )
    )
    return [{"target": a, "measured": m, "met": ok, "size": tag} for a, m, ok in rows]


def _held_out_target(s: dict, t: dict) -> list[tuple[str, str, bool]]:
    """The HTTP targets on the held-out queries, each sent once (none cached)."""
    held = s[f"serve_{WORKERS}"].get("latency_held_out")
    if not held:
        return []
    return [
        (
            f"the same on {held['requests']} held-out queries, each sent once (nothing "
            "cached), none refused",
            f"{held['p50_ms']:.1f} / {held['p95_ms']:.1f} ms; {held['4xx']} refused, "
            f"{held['5xx']} 5xx",
            held["p50_ms"] <= t["http_p50_ms"]
            and held["p95_ms"] <= t["http_p95_ms"]
            and held["4xx"] == 0
            and held["5xx"] == 0,
        )
    ]


def _latency_row(label: str, lat: dict) -> tuple[str, str, str]:
    return (
        f"{label}: p50 / p95 / p99 ms (4xx, 5xx)",
        f"{lat['p50_ms']:,.1f} / {lat['p95_ms']:,.1f} / {lat['p99_ms']:,.1f} "
        f"({lat['4xx']}, {lat['5xx']})",
        "",
    )


def _mb(value: float) -> str:
    return f"{value / MB:,.0f} MB"


def render_size(tag: str, s: dict) -> str:
    b, f = s["build"], s["fts5_build"]
    e = s["engine"]
    rows: list[tuple[str, str, str]] = [
        ("articles", f"{b['documents']:,}", f"{f['documents']:,}"),
        (
            "build: s (articles/s)",
            f"{b['seconds']:,.1f} ({b['docs_per_s']:,.0f}/s)",
            f"{f['seconds']:,.1f} ({f['docs_per_s']:,.0f}/s)",
        ),
        ("build: CPU s", f"{b['cpu_seconds']:,.1f}", f"{f['cpu_seconds']:,.1f}"),
        ("build: peak memory", _peak_text(b), _peak_text(f)),
        (
            f"build: s at ≤ {SERIAL_CORES} cores, longest stretch (s starved by others)",
            f"{b['phases']['serial_seconds']:,.1f}, {b['phases']['longest_serial_s']:,.1f} = "
            f"{b['phases']['longest_serial_share']:.0%} ({b['phases']['starved_seconds']:,.1f})",
            "",
        ),
        (
            "build: phases sift reindex reports, s",
            ", ".join(f"{k} {v:,.1f}" for k, v in b.get("reported_phases", {}).items()),
            "",
        ),
        (
            "build: other processes' CPU meanwhile, cores",
            f"{b['phases']['others_cores_mean']:.2f}",
            "",
        ),
        ("index size", _mb(b["index_bytes"]), _mb(f["index_bytes"])),
    ]
    for group, label in (("mix", "50 queries"), ("broad", "10 broad words")):
        for mode, stats in e[group]["sift"].items():
            fts = e[group]["fts5"][mode]
            ratio = e[f"{group}_ratio"][mode]
            rows.append(
                (
                    f"engine {label}, {mode}: p50 / p95 ms (Sift/FTS5)",
                    f"{stats['p50_ms']:,.2f} / {stats['p95_ms']:,.2f} "
                    f"({ratio['p50_ratio']:.2f}x / {ratio['p95_ratio']:.2f}x)",
                    f"{fts['p50_ms']:,.2f} / {fts['p95_ms']:,.2f}",
                )
            )
    for workers in (WORKERS, WORKERS + 1):
        served = s[f"serve_{workers}"]
        clients = f"HTTP {workers} workers, {workers} clients"
        for name, lat in served.get("latency", {}).items():
            rows.append(_latency_row(f"{clients}, {name}", lat))
        if served.get("latency_first_pass"):
            label = f"{clients}, first pass over every query (nothing cached)"
            rows.append(_latency_row(label, served["latency_first_pass"]))
        held = served.get("latency_held_out")
        if held:
            label = f"{clients}, {held['requests']} held-out queries, each once"
            rows.append(_latency_row(label, held))
        if served.get("latency_one_client"):
            label = f"HTTP {workers} workers, one client, facets"
            rows.append(_latency_row(label, served["latency_one_client"]))
    whens = {
        "memory_warm": "after the warm pass",
        "memory": "after the timed passes",
        "memory_quiet": f"{QUIET_S:g} s later",
        "memory_held_out": "after the held-out queries",
    }
    for workers, key in (
        (WORKERS, "memory_warm"),
        (WORKERS, "memory"),
        (WORKERS, "memory_quiet"),
        (WORKERS, "memory_held_out"),
        (WORKERS + 1, "memory_warm"),
        (WORKERS + 1, "memory"),
        (WORKERS + 1, "memory_quiet"),
    ):
        if key not in s[f"serve_{workers}"]:  # a run before these were measured
            continue
        mem = s[f"serve_{workers}"][key]
        when = whens[key]
        per = ", ".join(
            f"{w['rss'] / MB:,.0f}/{w['pss'] / MB:,.0f}/{w['shared'] / MB:,.0f}"
            for w in mem["workers"]
        )
        rows.append((f"{workers} workers {when}: RSS/PSS/shared per worker, MB", per, ""))
        rows.append(
            (
                f"{workers} workers {when}: all PSS (machine used)",
                f"{_mb(mem['tree_pss_bytes'])} ({_mb(mem['machine_used_bytes'])})",
                "",
            )
        )
    cost = s["worker_cost"]
    rows.append(
        (
            "a worker more: PSS (RSS, machine; a worker's private pages)",
            f"{_mb(cost['pss_bytes'])} ({_mb(cost['rss_bytes'])}, {_mb(cost['machine_bytes'])}; "
            f"{_mb(cost['private_bytes']) if 'private_bytes' in cost else '-'})",
            "",
        )
    )
    cold = s["cold_start"]
    rows.append(
        (
            "cold start to a faceted 200, s (median)",
            f"{', '.join(f'{x:.2f}' for x in cold['seconds'])} ({cold['median_s']:.2f})",
            "",
        )
    )
    inc = s.get("incremental")
    if inc:
        r, a = inc["reindex"], inc["api"]
        rows.append(
            (
                f"+{inc['documents']:,} by reindex --incremental: run s, searchable s",
                f"{r['seconds']:,.1f}, {r['searchable_s']}",
                "",
            )
        )
        rows.append(
            (
                f"+{inc['documents']:,} by POST ({a['batch']:,} a request): posted s, searchable s",
                f"{a['posted_s']:,.1f}, {a['searchable_s']} (statuses {a['requests']})",
                "",
            )
        )
    header = (f"{tag}", "Sift", "SQLite FTS5")
    widths = [max(len(x[i]) for x in [header, *rows]) for i in range(3)]
    lines = [
        "  ".join(v.ljust(widths[i]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(x))
        for x in [header, *rows]
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def render_targets(r: dict) -> str:
    verdict = {True: "met", False: "NOT MET", None: "unmeasured"}
    judged = targets(r)  # from the figures, so the verdicts follow this code's rules
    rows = [(t["target"], t["measured"], verdict[t["met"]]) for t in judged]
    header = (f"target (at {judged[0]['size']})", "measured", "")
    widths = [max(len(x[i]) for x in [header, *rows]) for i in range(3)]
    lines = ["  ".join(v.ljust(widths[i]) for i, v in enumerate(x)) for x in [header, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def render(r: dict, with_targets: bool = True) -> str:
    m = r["machine"]
    head = (
        f"Sift at scale: {r['articles_per_copy']:,} articles a copy "
        f"({'quick' if r['quick'] else 'Reuters-21578'}), {m['cpus']} CPUs, "
        f"load {m['load_before'][0]:.1f} -> {m['load_after'][0]:.1f}, {r['seconds']:,.0f} s; "
        f"broad words: {', '.join(r['broad_words'])}"
    )
    parts = [head, *(render_size(tag, s) for tag, s in r["sizes"].items())]
    if with_targets:
        parts.append(render_targets(r))
    return "\n\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
