"""GET /metrics: Prometheus text, counted across every gunicorn worker.

Requests, latencies and refusals are counted where they happen, in whichever worker
served them; prometheus_client's multiprocess mode keeps each worker's counts in files
under PROMETHEUS_MULTIPROC_DIR (api/gunicorn_conf.py makes one per server) and a scrape
sums them. Facts about the index (documents, generation, its age, pending writes) are
read at scrape time instead: they belong to the index, not to a process.

Without PROMETHEUS_MULTIPROC_DIR (the Flask test client, one process) the counts are
this process's own.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from search.errors import SearchError

# This process's metrics (in multiprocess mode their values live in the shared files).
_OWN = CollectorRegistry()
REQUESTS = Counter(
    "sift_http_requests",
    "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
    registry=_OWN,
)
LATENCY = Histogram(
    "sift_http_request_duration_seconds",
    "Time from the request reaching Sift to its response being ready, by route.",
    ["route"],
    # Searches answer in milliseconds; the budget cuts queries near half a second.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=_OWN,
)
RATE_LIMITED = Counter(
    "sift_rate_limit_refusals",
    "Requests refused with 429, by the limit they were over (all requests or writes).",
    ["limit"],
    registry=_OWN,
)
QUERY_REFUSALS = Counter(
    "sift_query_refusals",
    "Queries refused as too complex: over a cost cap, or over the time budget.",
    ["reason"],
    registry=_OWN,
)
DOCUMENTS_WRITTEN = Counter(
    "sift_documents_written",
    "Documents written through the API and journaled, by operation (put or delete).",
    ["op"],
    registry=_OWN,
)
# Requests that matched no route share one label, so probing URLs cannot grow the series.
UNMATCHED = "unmatched"


def install_metrics(app: Flask) -> None:
    """Count and time every request (install first, so refused requests are timed too)."""

    @app.before_request
    def _start_clock() -> None:
        g.metrics_start = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        start = g.get("metrics_start")
        if start is not None:
            LATENCY.labels(route).observe(time.perf_counter() - start)
        return response


class _IndexCollector:
    """The served index as gauges, read when scraped (`handle` is api.index_handle's)."""

    def __init__(self, handle):
        self.handle = handle

    def collect(self) -> Iterator[Metric]:
        ready = GaugeMetricFamily("sift_index_ready", "1 if an index is open and answering.")
        try:
            stats = self.handle.backend.stats()
        except SearchError:
            ready.add_metric([], 0)
            yield ready
            return
        ready.add_metric([], 1)
        yield ready
        yield GaugeMetricFamily(
            "sift_index_documents", "Documents in the served index.", value=stats.documents
        )
        yield GaugeMetricFamily(
            "sift_index_bytes", "Size of the served generation on disk.", value=stats.index_bytes
        )
        info = GaugeMetricFamily(
            "sift_index_generation_info", "The served generation (always 1).", labels=["generation"]
        )
        info.add_metric([stats.generation], 1)
        yield info
        built = _timestamp(stats.last_reindex)
        if built is not None:
            yield GaugeMetricFamily(
                "sift_index_age_seconds",
                "Seconds since the served generation was built (by `sift reindex`).",
                value=max(0.0, time.time() - built),
            )
        yield GaugeMetricFamily(
            "sift_journal_pending_writes",
            "API writes journaled but not yet searchable (the applier's backlog).",
            value=self.handle.pending_writes(),
        )


def _timestamp(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


class _Scrape:
    """What one scrape reports: the request counts and the index gauges."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition(handle) -> Response:
    """The metrics page: every worker's counts summed, plus the index's gauges."""
    multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    counts = MultiProcessCollector(None, path=multiprocess_dir) if multiprocess_dir else _OWN
    body = generate_latest(_Scrape(counts, _IndexCollector(handle)))
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
