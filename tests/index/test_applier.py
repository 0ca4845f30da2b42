"""The applier: idempotent replay, group commit, compaction, and what reindex replays."""

from __future__ import annotations

import random
import threading

from index import generations
from index import journal as jmod
from index.applier import apply_pending
from index.reindex import reindex
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import DATA

DOCS = 14  # documents in tests/data


def put(doc_id: str, text: str) -> dict:
    return {"op": "put", "doc": {"id": doc_id, "text": text}}


def ids_matching(root, q: str) -> list[str]:
    result = Engine(root).search(SearchRequest(q=q, per_page=100))
    return sorted(hit.id for hit in result.hits)


def test_replaying_applied_entries_changes_nothing(fresh_root):
    """A crash between the commit and the `applied` mark replays the batch: no duplicate,
    no resurrection."""
    journal = generations.journal(fresh_root)
    journal.append([put("w1", "quagga one"), put("w2", "quagga two")])
    journal.append([{"op": "delete", "id": "w1"}, put("w2", "quagga two again")])
    journal.append([{"op": "delete", "id": "short"}])
    assert apply_pending(fresh_root) == 5
    name = generations.current_generation(fresh_root)
    expected = ids_matching(fresh_root, "quagga")
    assert expected == ["w2"]
    for mark in range(5):  # every point the mark could have been lost at
        generations.write_applied(fresh_root, name, mark)
        assert apply_pending(fresh_root) == 5 - mark
        assert ids_matching(fresh_root, "quagga") == expected
        assert Engine(fresh_root).search(SearchRequest()).total == DOCS  # +w2 -short
        assert Engine(fresh_root).document("short") is None


def test_a_waiting_writer_is_served_by_whoever_holds_the_lock(fresh_root):
    journal = generations.journal(fresh_root)
    with generations.writer_lock(fresh_root, wait_s=0):
        seq = journal.append([put("late", "okapi sighting")])
        assert apply_pending(fresh_root) is None  # busy: the holder will apply it
        results = []
        other = threading.Thread(target=lambda: results.append(apply_pending(fresh_root, wait_s=5)))
        other.start()
    other.join(10)
    assert results == [1]
    name = generations.current_generation(fresh_root)
    assert generations.read_applied(fresh_root, name) == seq


def test_the_applier_compacts_and_a_reindex_still_replays_every_api_document(
    fresh_root, monkeypatch
):
    monkeypatch.setattr(jmod, "SEGMENT_BYTES", 400)
    journal = generations.journal(fresh_root)
    for round_ in range(8):
        for i in range(5):
            journal.append([put(f"api{i}", f"pangolin number {i} round {round_}")])
        apply_pending(fresh_root)
    journal.append([{"op": "delete", "id": "api0"}, {"op": "delete", "id": "short"}])
    apply_pending(fresh_root)
    assert len(list(journal.read_after(0))) < 8 * 5  # compacted along the way
    before = ids_matching(fresh_root, "pangolin")
    assert before == ["api1", "api2", "api3", "api4"]
    report = reindex(fresh_root, [DATA])
    assert report.switched
    assert ids_matching(fresh_root, "pangolin") == before
    assert ids_matching(fresh_root, "round") == before
    assert Engine(fresh_root).document("short") is None
    assert Engine(fresh_root).document("api3").document.text == "pangolin number 3 round 7"
    assert report.documents == DOCS - 1 + 4


def test_commits_survive_a_seeded_random_module(fresh_root):
    """Whoosh names files with the global PRNG; seeded twice, it would reuse a name."""
    journal = generations.journal(fresh_root)
    for n in range(3):
        random.seed(0)
        journal.append([put(f"seeded{n}", f"axolotl {n}")])
        assert apply_pending(fresh_root) == 1
    assert ids_matching(fresh_root, "axolotl") == ["seeded0", "seeded1", "seeded2"]


def test_a_put_replaces_a_built_document_and_only_ids_held_are_looked_up(fresh_root):
    """Puts of new ids skip Whoosh's delete by term (index/columns.py `ids_maybe_held`);
    a put of an id the build holds still replaces it."""
    from index import columns
    from index.codec.storage import DurableFileStorage

    folder = generations.generation_path(fresh_root, generations.current_generation(fresh_root))
    segments = DurableFileStorage(str(folder)).open_index()._segments()
    assert columns.ids_maybe_held(folder, segments, ["short", "never-seen", "short-"]) == {"short"}
    generations.journal(fresh_root).append([put("short", "quokka replaced"), put("n1", "quokka")])
    assert apply_pending(fresh_root) == 2
    assert ids_matching(fresh_root, "quokka") == ["n1", "short"]
    assert Engine(fresh_root).search(SearchRequest()).total == DOCS + 1
    assert Engine(fresh_root).document("short").document.text == "quokka replaced"
    assert "short" not in ids_matching(fresh_root, "bank rates")
