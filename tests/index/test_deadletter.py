"""An entry that cannot be applied is set aside after a few tries; later writes are not
held up, a reindex's replay skips it, and `sift verify` lists it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from index import deadletter, generations
from index.applier import EntryFailed, apply_pending, put_op
from index.documents import document_from_record, document_record
from index.extract import extract
from index.readers import raw_document
from index.reindex import reindex
from index.verify import verify
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import DATA, ROOT

# An entry journaled by an older Sift, before input was validated: NaN is not JSON, and
# the record is refused when it is applied.
UNAPPLIABLE = {"op": "put", "doc": {"id": "nan-doc", "text": "Quaggas.", "score": float("nan")}}


def total(root, q: str) -> int:
    return Engine(root).search(SearchRequest(q=q)).total


def test_a_failing_entry_is_set_aside_and_later_writes_are_applied(fresh_root):
    journal = generations.journal(fresh_root)
    journal.append([UNAPPLIABLE])
    journal.append([put_op({"id": "okapi", "text": "Okapis in the forest."})])
    for _ in range(1, deadletter.MAX_ATTEMPTS):
        with pytest.raises(EntryFailed):
            apply_pending(fresh_root)
        assert total(fresh_root, "okapis") == 0
        assert deadletter.entries(fresh_root) == []
    assert apply_pending(fresh_root) == 2
    assert total(fresh_root, "okapis") == 1 and total(fresh_root, "quaggas") == 0
    [entry] = deadletter.entries(fresh_root)
    assert entry["seq"] == 1 and entry["id"] == "nan-doc" and "score" in entry["error"]
    assert entry["attempts"] == deadletter.MAX_ATTEMPTS
    assert (
        not (fresh_root / deadletter.ATTEMPTS_FILE).exists()
        or json.loads((fresh_root / deadletter.ATTEMPTS_FILE).read_text()) == {}
    )

    journal.append([put_op({"id": "zebra-later", "text": "Zebras later."})])
    assert apply_pending(fresh_root) == 1 and total(fresh_root, "zebras") == 1

    report = verify(fresh_root)
    assert report.ok and len(report.set_aside) == 1 and "nan-doc" in report.set_aside[0]
    run = subprocess.run(
        [str(Path(sys.executable).parent / "sift"), "verify", "--index-dir", str(fresh_root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and "set aside:      journal entry 1 (id 'nan-doc')" in run.stdout

    rebuilt = reindex(fresh_root, [DATA])  # the replay skips it and counts right
    assert rebuilt.switched and rebuilt.api_writes_replayed == 2
    assert total(fresh_root, "okapis") == 1 and total(fresh_root, "zebras") == 1


def test_a_replay_sets_a_failing_entry_aside_at_once(fresh_root):
    generations.journal(fresh_root).append(
        [UNAPPLIABLE, put_op({"id": "okapi", "text": "Okapis."})]
    )
    report = reindex(fresh_root, [DATA])
    assert report.switched and report.api_writes_replayed == 1
    assert [e["id"] for e in deadletter.entries(fresh_root)] == ["nan-doc"]
    assert apply_pending(fresh_root) == 0  # nothing pending: the replay marked both applied


def test_the_journal_keeps_the_extraction_and_applying_it_gives_the_same_document():
    record = {"id": "w", "text": "Jens Stoltenberg said in Brussels on Monday.", "x": [1]}
    op = put_op(record)
    assert op["doc"] == record
    restored = document_from_record(json.loads(json.dumps(op["document"])))
    assert restored == extract(raw_document(record))
    assert document_record(restored) == op["document"]
