"""gunicorn settings for `sift serve` and the Docker image.

No `preload_app`: each worker imports the app, and so opens the index, after fork.
Whoosh readers depend on file positions and must not be shared across processes.
gunicorn's own error pages are replaced by problem+json (see `_problem_error`).
The workers count requests in files under PROMETHEUS_MULTIPROC_DIR, which the master
creates for each run (see `on_starting`), so that GET /metrics sums every worker.
"""

import gc
import importlib
import os
import shutil
import tempfile

from gunicorn import util as _gunicorn_util
from gunicorn.workers import gthread as _gthread

from api.logs import logging_config

bind = f"{os.environ.get('SIFT_HOST', '127.0.0.1')}:{os.environ.get('SIFT_PORT', '8000')}"
workers = int(os.environ.get("SIFT_WORKERS", "2"))
# Threads, not one process per connection: a sync worker gives itself to one socket
# until it sends a request, so 50 idle connections stopped every search (18 s and more).
# gthread threads share the worker's engine (per-thread searchers, shared tables); this
# gthread takes no new connection while it answers a short request, leaving it to a free
# worker (api/balanced_worker.py).
worker_class = "api.balanced_worker.BalancedThreadWorker"
threads = int(os.environ.get("SIFT_THREADS", "8"))
preload_app = False
# A last resort only: queries are capped well below this (search/parser.py, queries.py).
timeout = 30
graceful_timeout = 10
# Recycle workers now and then so no slow leak (open files, caches) can grow unbounded.
max_requests = 20000
max_requests_jitter = 2000
# Every line, gunicorn's access log included, is one JSON object on stderr (api/logs.py
# chooses the fields: never headers, so never keys, nor bodies).
accesslog = None
logconfig_dict = logging_config()
# Longest request line gunicorn reads (its maximum): a `q` of 1,000 characters percent-
# encoded can take 3 to 9 bytes each. Longer lines are refused by gunicorn itself.
limit_request_line = 8190


def _problem_error(sock, status_int, reason, mesg):
    """gunicorn's own refusals (a request line or headers too large, a malformed request)
    as a problem+json 400 like every other refusal of Sift's, instead of an HTML page.

    gunicorn says 414 or 431 for sizes; Sift's contract answers bad input with 400 (a `q`
    is at most 1,000 characters, so only a request that is not a valid query gets here).
    """
    import json

    from gunicorn.util import write_nonblock

    status = 400 if 400 <= status_int < 500 else status_int
    title = "Bad Request" if status == 400 else reason
    body = json.dumps(
        {
            "type": "/problems/invalid-parameters" if status == 400 else "about:blank",
            "title": title,
            "status": status,
            "detail": "The request could not be read: it is malformed, or its request line "
            f"or headers are over the server's limits ({limit_request_line} bytes a line).",
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {title}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    write_nonblock(sock, head.encode("latin-1") + body)


_gunicorn_util.write_error = _problem_error
# gthread hands each new connection to a thread that waits up to 5 s for its first bytes
# before parking it in the poller: 50 idle sockets then held 8 threads for half a minute.
# A client sends its request as it connects; one that has not after 10 ms waits in the
# poller (for gunicorn's keepalive, 2 s) without a thread, and is served when it does.
_gthread.DEFAULT_WORKER_DATA_TIMEOUT = 0.01


_made_metrics_dir: list[str] = []  # the folder on_starting made, removed on exit


def on_starting(server):
    """Give the workers (forked after this) an empty folder to keep their metrics in, and
    the app's modules already imported."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        # The operator's folder: counts of an earlier run would be added to this one's.
        os.makedirs(given, exist_ok=True)
        for entry in os.scandir(given):
            if entry.name.endswith(".db"):
                os.unlink(entry.path)
    else:
        made = tempfile.mkdtemp(prefix="sift-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
        _made_metrics_dir.append(made)
    # The app's modules, imported once here (after the metrics folder is set: the metrics
    # client reads it on import) so every worker forks with them loaded instead of
    # importing them itself: most of a second of a cold start. Nothing here opens the
    # index; each worker still does, after fork.
    for module in ("flask", "api.routes", "api.index_handle", "api.metrics", "search.engine"):
        importlib.import_module(module)
    # Out of the cyclic collector's sight: its passes write to every object they visit,
    # and each page written is a worker's own copy instead of the master's shared one.
    gc.freeze()


_trimmer: list = []  # this worker's api.idle_memory.IdleTrimmer, once it has started


def post_worker_init(worker):
    """Give freed memory back to the system whenever this worker goes quiet."""
    from api import idle_memory

    trimmer = idle_memory.start()
    if trimmer is not None:
        _trimmer.append(trimmer)


def pre_request(worker, req):
    worker.log.debug("%s %s", req.method, req.path)  # gunicorn's own pre_request
    if _trimmer:
        _trimmer[0].started()


def post_request(worker, req, environ, resp):
    if _trimmer:
        _trimmer[0].finished()


def child_exit(server, worker):
    """A worker's live gauges die with it; its counts stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for made in _made_metrics_dir:
        shutil.rmtree(made, ignore_errors=True)
