"""Kill -9 of `sift reindex` at 20 random moments while the API serves: no answer changes.

The API (real gunicorn, 2 workers) serves generation A, built from the first 1,000
Reuters documents. `sift reindex` of the first 1,500 is started and SIGKILLed at a random
moment of its run, 20 times, while a client keeps asking the 20 fixed queries. Every
answer until a complete build switches in must be A's, exactly (ids and order); after
each kill CURRENT is unchanged and the reindex lock is free. A second reindex started
during one is refused. Then one run completes: within seconds every answer is B's (a
fresh build of the same 1,500), and no partial generation is left.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from index import generations
from index.reindex import reindex
from tests.conftest import ROOT
from tests.servers import call, gunicorn
from tests.stress.conftest import FIXED_QUERIES, answers, record, reuters_records, write_jsonl

KILLS = 20
SIFT = Path(sys.executable).parent / "sift"


def http_answers(base: str) -> dict[str, tuple]:
    found = {}
    for q in FIXED_QUERIES:
        status, _, body = call(base, "/api/v1/search?" + urllib.parse.urlencode({"q": q}))
        assert status == 200, (q, status, body)
        found[q] = (body["total"], [hit["id"] for hit in body["hits"]])
    return found


class Prober(threading.Thread):
    """Asks the fixed queries in a loop; remembers every answer that is not allowed."""

    def __init__(self, base: str, allowed: list[dict]):
        super().__init__(daemon=True)
        self.base, self.allowed = base, allowed
        self.asked = 0
        self.wrong: list = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for q in FIXED_QUERIES:
                status, _, body = call(
                    self.base, "/api/v1/search?" + urllib.parse.urlencode({"q": q})
                )
                self.asked += 1
                got = (body.get("total"), [h["id"] for h in body.get("hits", [])])
                if status != 200 or all(got != ref[q] for ref in self.allowed):
                    self.wrong.append((q, status, got))


def run_reindex(source: Path, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SIFT), "reindex", str(source), "--index-dir", str(root)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def lock_is_free(root: Path) -> bool:
    try:
        with generations.file_lock(root / generations.REINDEX_LOCK, wait_s=None):
            return True
    except generations.IndexBusy:
        return False


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_kill_9_of_reindex_while_serving(reuters_1000, tmp_path):
    root = tmp_path / "index"
    assert reindex(root, [reuters_1000]).switched
    live = generations.current_generation(root)
    bigger = write_jsonl(tmp_path / "reuters-1500.jsonl", reuters_records(1500))
    reference_root = tmp_path / "reference"
    started = time.monotonic()
    assert reindex(reference_root, [bigger]).switched
    build_s = time.monotonic() - started
    a, b = answers(root), answers(reference_root)
    assert a != b
    rng = random.Random(7)
    with gunicorn(root, tmp_path, workers=2, rate_limit="off") as server:
        assert http_answers(server.base) == a
        prober = Prober(server.base, [a])
        prober.start()

        first = run_reindex(bigger, root)  # two reindexes cannot race
        time.sleep(1.0)
        second = run_reindex(bigger, root)
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0 and b"another reindex is running" in err
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)

        moments = []
        for _ in range(KILLS):
            child = run_reindex(bigger, root)
            moment = rng.uniform(0.2, build_s * 1.2)
            moments.append(round(moment, 2))
            time.sleep(moment)
            child.send_signal(signal.SIGKILL)
            child.communicate(timeout=30)
            assert child.returncode == -signal.SIGKILL, "the build finished before the kill"
            assert generations.current_generation(root) == live
            assert lock_is_free(root), "a killed reindex kept the lock"
            assert http_answers(server.base) == a
        prober.allowed = [a, b]  # from here a complete build may switch in
        leftover_builds = len(list(generations.generations_dir(root).iterdir())) - 1
        finished = run_reindex(bigger, root)
        _, err = finished.communicate(timeout=600)
        assert finished.returncode == 0, err.decode()[-2000:]
        deadline = time.monotonic() + 5
        while http_answers(server.base) != b:
            assert time.monotonic() < deadline, "the new generation was not served in 5 s"
            time.sleep(0.1)
        for _ in range(10):  # every worker, not just one
            assert http_answers(server.base) == b
        prober.stop.set()
        prober.join(60)
    assert prober.wrong == [], prober.wrong[:5]
    kept = {path.name for path in generations.generations_dir(root).iterdir()}
    assert kept == {live, generations.current_generation(root)}  # new + rollback only
    record(
        "crash_reindex",
        {
            "kills": KILLS,
            "build_seconds": round(build_s, 1),
            "kill_moments_s": moments,
            "answers_checked_while_killing": prober.asked,
            "wrong_answers": len(prober.wrong),
            "partial_generations_before_last_run": leftover_builds,
            "partial_generations_after": 0,
        },
    )
