"""`sift cluster init|start|status|stop` and `--cluster` on reindex, search and stats."""

from __future__ import annotations

import json

from tests.cluster.conftest import require_searchd
from tests.cluster.test_failover import sift
from tests.conftest import DATA


def test_a_local_cluster_from_init_to_stop(tmp_path):
    require_searchd()
    folder = tmp_path / "c"
    assert sift("cluster", "init", str(folder), "--shards", "2", "--replicas", "2").returncode == 0
    again = sift("cluster", "init", str(folder), "--shards", "1", "--replicas", "1")
    assert again.returncode != 0 and "exists" in again.stderr
    toml = str(folder / "cluster.toml")
    try:
        assert sift("cluster", "start", str(folder)).returncode == 0
        daemons = json.loads(sift("cluster", "status", str(folder), "--json").stdout)["daemons"]
        assert [(d["role"], d["shard"]) for d in daemons] == [
            ("front", None),
            ("replica", 0),
            ("replica", 0),
            ("replica", 1),
            ("replica", 1),
        ]
        assert all(
            d["up"] and d["pid"] > 0 and d["address"].startswith("127.0.0.1:") for d in daemons
        )
        built = sift("reindex", "--cluster", toml, str(DATA))
        assert built.returncode == 0, built.stderr
        found = sift("search", "coalition", "--json", "--cluster", toml, "--per-page", "100")
        body = json.loads(found.stdout)
        assert body["total"] > 0 and "partial" not in body
        stats = json.loads(sift("stats", "--json", "--cluster", toml).stdout)
        assert stats["documents"] == len(list(DATA.glob("*.txt"))) + _json_records()
    finally:
        assert sift("cluster", "stop", str(folder)).returncode == 0
    down = json.loads(sift("cluster", "status", str(folder), "--json").stdout)["daemons"]
    assert not any(d["up"] or d["pid"] for d in down)
    assert sift("cluster", "status", str(folder)).returncode == 1


def _json_records() -> int:
    articles = json.loads((DATA / "articles.json").read_text("utf-8"))
    feed = (DATA / "feed.jsonl").read_text("utf-8").splitlines()
    return len(articles) + len([line for line in feed if line.strip()])
