"""Sift as users meet it: `sift reindex`, the Python search API, and gunicorn over HTTP."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from api.cli import gunicorn_command, gunicorn_env
from benchmarks.measure import RunResult, run_measured
from benchmarks.queries import Query

ROOT = Path(__file__).resolve().parent.parent
MODES = ("ranked", "snippets", "facets")
ALL_FACETS = ("source", "actor", "language", "year")


def build(corpus: Path, index_dir: Path) -> RunResult:
    """`sift reindex` end to end (reading, extraction, analysis, writing, switch)."""
    env = dict(os.environ, SIFT_INDEX_DIR=str(index_dir))
    sift = Path(sys.executable).with_name("sift")
    return run_measured([str(sift), "reindex", str(corpus)], env=env, cwd=str(ROOT))


def export_documents(index_dir: Path, target: Path) -> int:
    """What Sift indexed (cleaned text and every facet value), for the anchors to index."""
    from index import generations, schema
    from index.writer import stored_document

    name, ix = generations.open_current(index_dir)
    count = 0
    with ix.searcher() as searcher, gzip.open(target, "wt", encoding="utf-8") as out:
        for stored in searcher.all_stored_fields():
            doc = stored_document(stored)
            record = {
                "id": doc.id,
                "title": doc.title,
                "text": doc.text,
                "source": doc.source or "",
                "language": doc.language,
                "date": int(doc.date.strftime("%Y%m%d")) if doc.date else 0,
                "actors": [actor.name for actor in doc.actors],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    ix.close()
    del schema, name
    return count


def request_for(query: Query, mode: str):
    from search.request import Filters, SearchRequest

    filters = Filters(
        languages=(query.language,) if query.language else (),
        date_from=query.dates[0] if query.dates else None,
        date_to=query.dates[1] if query.dates else None,
    )
    return SearchRequest(
        q=query.sift_text(),
        filters=filters,
        facets=ALL_FACETS if mode == "facets" else (),
        snippets=mode != "ranked",
    )


class SiftApi:
    name = "sift"

    def __init__(self, index_dir: Path):
        from search.engine import Engine

        self.engine = Engine(index_dir)
        self.requests = {}

    def run(self, query: Query, mode: str) -> int:
        key = (query, mode)
        request = self.requests.get(key)
        if request is None:
            request = self.requests[key] = request_for(query, mode)
        return self.engine.search(request).total


def cold_open(index_dir: Path, query: Query) -> dict:
    """Import, open and first-query times of a fresh process (files in the page cache)."""
    code = f"""
import json, time
t0 = time.perf_counter()
from search.engine import Engine
from search.request import SearchRequest
t1 = time.perf_counter()
engine = Engine({str(index_dir)!r})
engine.ready()
t2 = time.perf_counter()
engine.search(SearchRequest(q={query.sift_text()!r}))
t3 = time.perf_counter()
print(json.dumps({{"import_ms": (t1 - t0) * 1e3, "open_ms": (t2 - t1) * 1e3,
                  "first_query_ms": (t3 - t2) * 1e3}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=str(ROOT), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def http_params(query: Query) -> str:
    params = [("q", query.sift_text())]
    if query.language:
        params.append(("language", query.language))
    if query.dates:
        params += [("date_from", str(query.dates[0])), ("date_to", str(query.dates[1]))]
    return urllib.parse.urlencode(params)


class Server:
    """Real gunicorn with Sift's own configuration, on a free port: started as tests start
    it, or (`cli=True`) as an operator does, with `sift serve`. `env`: settings on top of
    this environment's. Ready once `ready_path` answers 200; `ready_s` says when, counted
    from the start of the process."""

    def __init__(
        self,
        index_dir: Path,
        workers: int,
        port: int,
        log: Path,
        app: str = "api.wsgi:app",
        *,
        cli: bool = False,
        env: dict[str, str] | None = None,
        ready_path: str = "/readyz",
        poll_s: float = 0.2,
    ):
        server_env = gunicorn_env(index_dir, host="127.0.0.1", port=port, workers=workers)
        server_env.pop("SIFT_API_KEY", None)
        server_env.update(env or {})
        self.base = f"http://127.0.0.1:{port}"
        self._log = open(log, "wb")  # noqa: SIM115 (closed in stop())
        command = (
            [str(Path(sys.executable).with_name("sift")), "serve", "--workers", str(workers)]
            if cli
            else [*gunicorn_command()[:-1], app]
        )
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            command,
            cwd=str(ROOT),
            env=server_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + ready_path, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"gunicorn did not start; see {log}") from None
            time.sleep(poll_s)
        self.ready_s = time.perf_counter() - started

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()
