"""Merging: a build keeps its segments, API writes' small segments merge by tiers."""

from __future__ import annotations

from index import generations, pipeline
from index.applier import apply_pending
from index.codec import merging
from index.codec.storage import DurableFileStorage
from index.reindex import reindex
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import DATA

DOCS = 14  # documents in tests/data


def _segment_sizes(root) -> list[int]:
    name = generations.current_generation(root)
    ix = DurableFileStorage(str(generations.generation_path(root, name))).open_index()
    try:
        return [segment.doc_count_all() for segment in ix._segments()]
    finally:
        ix.close()


def test_tiers_by_powers_of_the_merge_factor():
    assert [merging.tier(n) for n in (0, 1, 9, 10, 99, 100, 999, 1000)] == [0, 0, 0, 1, 1, 2, 2, 3]


def test_a_build_keeps_every_segment_its_workers_wrote(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(pipeline, "SHARE_DOCUMENTS", 1)
    monkeypatch.setattr(pipeline, "default_workers", lambda: 2)
    root = tmp_path / "index"
    assert reindex(root, [DATA]).switched
    # Whoosh's default policy would have merged these fourteen one-document segments.
    assert _segment_sizes(root) == [1] * DOCS


def test_api_writes_merge_a_full_tier_and_nothing_larger(fresh_root, monkeypatch):
    monkeypatch.setattr(merging, "MAX_MERGED_DOCUMENTS", 5)
    journal = generations.journal(fresh_root)
    built = _segment_sizes(fresh_root)
    for i in range(merging.MERGE_FACTOR - 1):
        journal.append([{"op": "put", "doc": {"id": f"w{i}", "text": f"tapir {i}"}}])
        assert apply_pending(fresh_root) == 1
    assert _segment_sizes(fresh_root) == built + [1] * (merging.MERGE_FACTOR - 1)
    journal.append([{"op": "put", "doc": {"id": "last", "text": "tapir last"}}])
    assert apply_pending(fresh_root) == 1
    # The commit's own new segment fills tier 0: its ten segments are merged into one;
    # the build's segment (over MAX_MERGED_DOCUMENTS) is left as it was.
    assert _segment_sizes(fresh_root) == [*built, merging.MERGE_FACTOR]
    result = Engine(fresh_root).search(SearchRequest(q="tapir", per_page=20))
    assert result.total == merging.MERGE_FACTOR
    assert Engine(fresh_root).search(SearchRequest()).total == DOCS + merging.MERGE_FACTOR
