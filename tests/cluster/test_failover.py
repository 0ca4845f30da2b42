"""Writes and failures through real gunicorn on a real 2 x 2 cluster.

Daemons are killed by the pid `sift cluster status --json` reports, as an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.cluster.layout import load_cluster
from index.cluster.rows import doc_key, shard_of
from index.cluster.sql import connect, live_slot
from tests.cluster.conftest import local_cluster
from tests.servers import API_KEY, call, gunicorn

# The `sift` command installed beside this interpreter.
SIFT = [str(Path(sys.executable).parent / "sift")]


def sift(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SIFT, *args], capture_output=True, text=True, check=False, timeout=120)


def status(folder) -> list[dict]:
    done = sift("cluster", "status", str(folder), "--json")
    return json.loads(done.stdout)["daemons"]


def on_replica(address: str, doc_id: str, cluster) -> bool:
    """Whether the replica at `address` holds `doc_id` in the serving slot."""
    front = connect(cluster.front)
    slot = live_slot(front)
    front.close()
    conn = connect(address)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id FROM docs_{slot} WHERE id = %s", (doc_key(doc_id),))
            return bool(cur.fetchall())
    finally:
        conn.close()


def kill_and_wait(folder, daemon: dict) -> None:
    """Kill a replica's searchd and wait until `sift cluster status` reports it down (a
    killed process lingers until it is reaped: a fixed sleep was sometimes too short)."""
    os.kill(daemon["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while next(d for d in status(folder) if d["address"] == daemon["address"])["up"]:
        assert time.monotonic() < deadline, f"{daemon['address']} still up after SIGKILL"
        time.sleep(0.1)


def id_on_shard(shard: int, stem: str) -> str:
    return next(f"{stem}-{i}" for i in range(1000) if shard_of(f"{stem}-{i}", 2) == shard)


def search(base: str, q: str) -> dict:
    code, _, body = call(base, "/api/v1/search?" + q)
    assert code == 200, body
    return body


# Searches in a row that must agree before a write counts as applied to every replica.
AGREEING_SEARCHES = 3


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("failover")
    with local_cluster(folder) as toml, gunicorn(folder, folder, cluster=toml) as server:
        yield folder, load_cluster(toml), server.base


def test_writes_go_to_every_replica_of_the_shard_and_deletes_too(served):
    _, cluster, base = served
    doc_id = id_on_shard(1, "zebra")
    doc = {"id": doc_id, "title": "Zebras crossing", "text": "Zebras crossed the river."}
    code, _, body = call(base, "/api/v1/documents", "POST", doc, key=API_KEY)
    assert code in (200, 202), body
    deadline = time.monotonic() + 10
    while search(base, "q=zebras")["total"] != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [h["id"] for h in search(base, "q=zebras")["hits"]] == [doc_id]
    assert all(on_replica(address, doc_id, cluster) for address in cluster.shards[1])
    assert not any(on_replica(address, doc_id, cluster) for address in cluster.shards[0])
    code, _, _ = call(base, f"/api/v1/documents/{doc_id}", "DELETE", key=API_KEY)
    assert code in (200, 202, 204)
    # A delete reaches the shard's replicas one after the other, and a search is answered
    # by either: wait until several searches in a row agree (one 0 may be the first
    # replica's while the second still holds the document).
    deadline = time.monotonic() + 10
    zeros = 0
    while zeros < AGREEING_SEARCHES and time.monotonic() < deadline:
        zeros = zeros + 1 if search(base, "q=zebras")["total"] == 0 else 0
        time.sleep(0.1)
    assert search(base, "q=zebras")["total"] == 0
    code, _, _ = call(base, f"/api/v1/documents/{doc_id}")
    assert code == 404


def test_one_replica_down_answers_complete_all_down_says_partial(served, tmp_path):
    folder, cluster, base = served
    baseline = search(base, "q=coalition+OR+nato&op=or&per_page=100")
    daemons = status(folder)
    shard0 = [d for d in daemons if d["shard"] == 0]
    assert len(shard0) == 2 and all(d["up"] and d["pid"] for d in daemons)

    kill_and_wait(folder, shard0[0])
    for _ in range(10):
        body = search(base, "q=coalition+OR+nato&op=or&per_page=100")
        assert "partial" not in body
        assert body["total"] == baseline["total"]
        assert {h["id"] for h in body["hits"]} == {h["id"] for h in baseline["hits"]}
    assert call(base, "/readyz")[0] == 200

    # A write while that replica is down reaches the other, and is searchable.
    doc_id = id_on_shard(0, "okapi")
    doc = {"id": doc_id, "title": "Okapi sighted", "text": "An okapi was sighted."}
    assert call(base, "/api/v1/documents", "POST", doc, key=API_KEY)[0] in (200, 202)
    deadline = time.monotonic() + 10
    while search(base, "q=okapi")["total"] != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert search(base, "q=okapi")["total"] == 1

    kill_and_wait(folder, shard0[1])
    body = search(base, "q=coalition+OR+nato&op=or&per_page=100")
    assert body["partial"] is True and body["missing_shards"] == [0]
    assert body["total"] < baseline["total"]
    code, _, html = call(base, "/?q=coalition")
    assert code == 200 and "could not be searched just now (shards 0)" in html
    code, _, problem = call(base, "/readyz")
    assert code == 503 and problem["type"] == "/problems/index-unavailable"
    with gunicorn(
        folder, tmp_path, workers=1, cluster=cluster.folder, cluster_partial="fail"
    ) as strict:
        code, headers, problem = call(strict.base, "/api/v1/search?q=nato")
        assert code == 503 and problem["type"] == "/problems/partial-results"
        assert headers["Content-Type"] == "application/problem+json"
        assert call(strict.base, "/?q=nato")[0] == 503

    # Back up: `start` has the replica that missed the write apply it from the journal
    # before the front can reach it.
    started = sift("cluster", "start", str(folder))
    assert started.returncode == 0, started.stderr[-2000:]  # its ClusterError, if any
    assert on_replica(shard0[0]["address"], doc_id, cluster)
    deadline = time.monotonic() + 15
    while call(base, "/readyz")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    body = search(base, "q=coalition+OR+nato&op=or&per_page=100")
    assert "partial" not in body and body["total"] == baseline["total"]
