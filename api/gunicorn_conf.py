"""gunicorn settings for `sift serve` and the Docker image.

No `preload_app`: each worker imports the app, and so opens the index, after fork.
Whoosh readers depend on file positions and must not be shared across processes.
"""

import os

bind = f"{os.environ.get('SIFT_HOST', '127.0.0.1')}:{os.environ.get('SIFT_PORT', '8000')}"
workers = int(os.environ.get("SIFT_WORKERS", "2"))
worker_class = "sync"
preload_app = False
# A last resort only: queries are capped well below this (search/parser.py, queries.py).
timeout = 30
graceful_timeout = 10
# Recycle workers now and then so no slow leak (open files, caches) can grow unbounded.
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
# No query strings with keys in them: the Authorization header is never logged.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
