"""Kill -9 during commits and merges, 30 times: nothing acknowledged lost, nothing back.

A child process journals batches of writes (puts, replacements and deletes over a pool
of ids) and applies them: commits, Whoosh's merges, and a full merge every fifth batch.
It is SIGKILLed at a random moment. After each kill, as a restarted server would, the
journal is applied again; then:

- every acknowledged batch is in the journal, and the index equals the journal replayed
  (the last op per id: present with that op's text, or absent), each id stored once;
- the 20 fixed queries match exactly the documents they matched before any write (the
  writes use words of their own), listed in the same order by date: by relevance the
  order may legitimately move, since every added document changes BM25's statistics;
- `verify` finds no damage, and nothing is left behind once the applier has started.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from index import generations
from index.applier import apply_pending, clean_up
from index.journal import op_id
from index.reindex import reindex
from index.verify import leftovers, verify
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import ROOT
from tests.stress.conftest import answers, record

KILLS = 30
# Random moments: after the child has started (imports take about a second) and within
# a few batches.
KILL_AFTER_S = (0.8, 4.0)


def expected_state(root) -> dict[str, dict | None]:
    """The journal replayed: id -> the put's document, or None if deleted."""
    final: dict[str, dict | None] = {}
    for _, op in generations.journal(root).read_after(0):
        final[op_id(op)] = op["doc"] if op["op"] == "put" else None
    return final


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_kill_9_during_commits_and_merges(reuters_1000, tmp_path):
    root = tmp_path / "index"
    assert reindex(root, [reuters_1000]).switched
    reference = answers(root, sort="newest", per_page=100)
    base_documents = Engine(root).search(SearchRequest()).total
    rng = random.Random(20261123)
    acknowledged: list[int] = []
    mid_commit = 0  # kills that left a commit's files behind (killed inside a commit)
    number = 0
    for kill in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.stress.crash_writer", str(root), str(number), str(kill)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(*KILL_AFTER_S))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
        lines = out.decode().split("\n")
        acked = [int(line) for line in lines[:-1]]  # the last piece may be torn
        acknowledged.extend(acked)
        number += len(acked) + 1

        mid_commit += bool(leftovers(root))  # a commit's files left behind: killed inside it
        apply_pending(root, wait_s=10)  # what the next server's applier does first
        journal = generations.journal(root)
        assert journal.last_seq() >= max(acknowledged, default=0), "an acknowledged write lost"
        final = expected_state(root)
        engine = Engine(root)
        for doc_id, doc in final.items():
            view = engine.document(doc_id)
            if doc is None:
                assert view is None, f"kill {kill}: deleted {doc_id} came back"
            else:
                assert view is not None, f"kill {kill}: acknowledged {doc_id} missing"
                assert view.document.text == doc["text"], f"kill {kill}: stale {doc_id}"
        present = sum(doc is not None for doc in final.values())
        assert engine.search(SearchRequest()).total == base_documents + present
        engine.close()
        now = answers(root, sort="newest", per_page=100)
        assert now == reference, f"kill {kill}: the fixed queries changed"
        report = verify(root)
        assert report.ok, (kill, report.problems)
        clean_up(root)
        assert verify(root).leftovers == [], f"kill {kill}: leftovers"
    assert len(acknowledged) >= KILLS, "the writer hardly ever got to write"
    record(
        "crash_commit",
        {
            "kills": KILLS,
            "acknowledged_batches": len(acknowledged),
            "acknowledged_entries": max(acknowledged),
            "kills_inside_a_commit": mid_commit,
            "lost": 0,
            "resurrected": 0,
        },
    )
