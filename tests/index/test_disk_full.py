"""A full disk (RLIMIT_FSIZE in a child process, SIGXFSZ ignored: writes fail with EFBIG)
during a commit, during a reindex, and under the HTTP API: the old index keeps serving,
locks are freed, partial files go, and nothing acknowledged is lost."""

from __future__ import annotations

import errno
import json
import random
import resource
import signal
import subprocess
import sys
from pathlib import Path

from index import generations
from index.applier import apply_pending, clean_up
from index.verify import leftovers, verify
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import DATA, ROOT
from tests.servers import API_KEY, call, gunicorn

DOCS = 14  # documents in tests/data
SIFT = Path(sys.executable).parent / "sift"


def file_size_limit(max_bytes: int):
    """A preexec_fn: no file may grow past `max_bytes`, and hitting it is an error (EFBIG),
    not a signal that kills the process."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return apply


# Applies the journal under the limit, then reports whether both locks are free in the
# same process (a Whoosh writer lock left held would make the second writer fail).
APPLY_CHILD = """
import errno, json, sys
from pathlib import Path
from index import generations
from index.applier import apply_pending
root = Path(sys.argv[1])
try:
    apply_pending(root)
    error = None
except OSError as exc:
    error = errno.errorcode.get(exc.errno, str(exc.errno))
with generations.writer_lock(root, wait_s=0):
    ix = generations.open_generation(root, generations.current_generation(root))
    writer = ix.writer(timeout=0)  # LockError if the failed writer kept Whoosh's lock
    writer.cancel()
    ix.close()
print(json.dumps({"error": error, "locks_free": True}))
"""


def total(root, q="") -> int:
    return Engine(root).search(SearchRequest(q=q)).total


def test_disk_full_during_a_commit(fresh_root):
    rng = random.Random(1)  # distinct words: neither the postings nor the stored text shrink
    words = " ".join(f"{rng.getrandbits(40):x}" for _ in range(30_000))
    big = "Capybaras graze by the river. " + words  # a segment far over the limit
    journal = generations.journal(fresh_root)
    seq = journal.append([{"op": "put", "doc": {"id": "big", "text": big}}])
    before = sorted(p.name for p in generations.generations_dir(fresh_root).iterdir())
    child = subprocess.run(
        [sys.executable, "-c", APPLY_CHILD, str(fresh_root)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        preexec_fn=file_size_limit(64 * 1024),
    )
    assert child.returncode == 0, child.stderr.decode()[-3000:]
    result = json.loads(child.stdout)
    assert result == {"error": "EFBIG", "locks_free": True}
    name = generations.current_generation(fresh_root)
    assert generations.read_applied(fresh_root, name) < seq  # not applied...
    assert total(fresh_root) == DOCS and total(fresh_root, "capybaras") == 0  # ...old serves
    assert verify(fresh_root).ok
    assert sorted(p.name for p in generations.generations_dir(fresh_root).iterdir()) == before
    assert apply_pending(fresh_root) == 1  # room again: the durable write goes in
    assert total(fresh_root, "capybaras") == 1
    clean_up(fresh_root)
    assert leftovers(fresh_root) == []


def test_disk_full_during_a_reindex(fresh_root):
    live = generations.current_generation(fresh_root)
    child = subprocess.run(
        [str(SIFT), "reindex", str(DATA), "--index-dir", str(fresh_root)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        preexec_fn=file_size_limit(32 * 1024),
    )
    assert child.returncode != 0
    assert b"disk full" in child.stderr and b"previous index still serving" in child.stderr
    assert generations.current_generation(fresh_root) == live
    assert [p.name for p in generations.generations_dir(fresh_root).iterdir()] == [live]
    with generations.file_lock(fresh_root / generations.REINDEX_LOCK, wait_s=None):
        pass  # free
    assert total(fresh_root) == DOCS and verify(fresh_root).ok
    assert leftovers(fresh_root) == []


def test_a_full_disk_under_the_api_is_507_and_reads_go_on(fresh_root, tmp_path):
    limit = file_size_limit(256 * 1024)
    statuses = []
    with gunicorn(
        fresh_root, tmp_path, workers=2, preexec_fn=limit, rate_limit="off", write_rate_limit="off"
    ) as server:
        for n in range(60):
            doc = {"id": f"f{n}", "text": f"Tapir {n} " + "filler text " * 2000}
            status, _, body = call(server.base, "/api/v1/documents", "POST", doc, key=API_KEY)
            statuses.append(status)
            if status == 507:
                assert body["type"] == "/problems/insufficient-storage"
                break
        assert statuses[-1] == 507, statuses
        assert set(statuses[:-1]) <= {200, 202}, statuses
        status, _, body = call(server.base, "/api/v1/search?q=coalition")
        assert status == 200 and body["total"] >= 1
    acknowledged = len(statuses) - 1
    with gunicorn(fresh_root, tmp_path, workers=2) as server:  # room again
        doc = {"id": "after", "text": "Tapir after the disk was freed"}
        assert call(server.base, "/api/v1/documents", "POST", doc, key=API_KEY)[0] in (200, 202)
        for n in range(acknowledged):
            assert call(server.base, f"/api/v1/documents/f{n}")[0] == 200, n
        assert call(server.base, f"/api/v1/documents/f{acknowledged}")[0] == 404
    assert verify(fresh_root).ok


def test_a_cancel_that_fails_on_a_full_disk_still_frees_whooshs_lock(fresh_root):
    """Whoosh's cancel() writes files; on a full disk it raises and keeps its lock."""
    ix = generations.open_generation(fresh_root, generations.current_generation(fresh_root))
    lock = ix.storage.lock("MAIN_WRITELOCK")  # the lock ix.writer() takes
    assert lock.acquire(blocking=False)

    class WriterOnAFullDisk:
        writelock = lock

        def cancel(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    generations.cancel_writer(WriterOnAFullDisk())  # logs, and releases the lock itself
    second = ix.writer(timeout=0)  # LockError if the lock were still held
    second.cancel()
    ix.close()
