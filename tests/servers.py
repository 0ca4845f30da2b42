"""Real gunicorn servers for tests, and a small HTTP client that never raises on 4xx/5xx."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.cli import gunicorn_command, gunicorn_env

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "test-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (the master's children) alive now."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")


@contextmanager
def gunicorn(
    index_dir: Path,
    log_dir: Path,
    *,
    workers: int = 2,
    worker_class: str | None = None,
    threads: int | None = None,
    preexec_fn=None,
    **settings: object,
) -> Iterator[Server]:
    """gunicorn with Sift's own config on a free 127.0.0.1 port; SIFT_* from `settings`.

    `worker_class` and `threads` override the config's (gthread) when given."""
    port = free_port()
    env = gunicorn_env(index_dir, host="127.0.0.1", port=port, workers=workers)
    env["SIFT_API_KEY"] = API_KEY
    env.update({f"SIFT_{name.upper()}": str(value) for name, value in settings.items()})
    log_path = log_dir / f"gunicorn-{port}.log"
    options = ("--worker-class", worker_class) if worker_class else ()
    options += ("--threads", str(threads)) if threads else ()
    command = gunicorn_command(*options)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, preexec_fn=preexec_fn
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_for(server.base + "/healthz")
        deadline = time.monotonic() + 30
        while len(server.worker_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert API_KEY not in server.log(), "the key was logged"


def call(
    base: str,
    path: str,
    method: str = "GET",
    body=None,
    *,
    key: str | None = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> tuple[int, dict, object]:
    """(status, headers, parsed JSON body or raw text) for one request."""
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, dict(response.headers), _parse(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), _parse(error.read())


def _parse(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class KeepAlive:
    """One persistent HTTP/1.1 connection (for load loops: no connect per request)."""

    def __init__(self, base: str, timeout: float = 30):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()
