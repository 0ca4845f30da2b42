"""Facet tables read each field's postings in one pass; they must equal the tables built
the straightforward way (the reader's postings, term by term), deletions included."""

from __future__ import annotations

import numpy as np

from index import generations, schema
from index.applier import apply_pending, delete_op, put_op
from search import tables
from search.engine import Engine
from search.tables import build_tables


def reference(reader, field: str, live: np.ndarray) -> dict[str, list[int]]:
    return {
        raw.decode(): [d for d in reader.postings(field, raw).all_ids() if live[d]]
        for raw in reader.lexicon(field)
    }


def from_tables(values, docs_of) -> dict[str, list[int]]:
    return {value: sorted(docs_of(vid)) for vid, value in enumerate(values)}


def test_tables_equal_term_by_term_reading(fresh_root):
    generations.journal(fresh_root).append(
        [
            put_op(
                {
                    "id": "t1",
                    "text": "NATO met in Brussels.",
                    "source": "Wire X",
                    "date": "2020-01-02",
                    "actors": ["Jens Stoltenberg"],
                }
            ),
            delete_op("coalition_body"),
        ]
    )
    assert apply_pending(fresh_root, wait_s=5)
    reader = Engine(fresh_root)._snapshot().reader
    assert len(reader.leaf_readers()) > 1 and reader.has_deletions()
    tables = build_tables(reader)
    live = tables.live
    for column, field in ((tables.source, schema.SOURCE), (tables.language, schema.LANGUAGE)):
        got = from_tables(column.values, lambda vid, c=column: np.flatnonzero(c.ids == vid))
        assert got == {k: sorted(v) for k, v in reference(reader, field, live).items()}
    actor = tables.actor
    got = from_tables(actor.values, lambda vid: actor.doc[actor.val == vid].tolist())
    assert got == {k: sorted(v) for k, v in reference(reader, schema.ACTOR, live).items()}
    dates = {
        raw.decode(): sorted(np.flatnonzero(tables.date == int(raw.replace(b"-", b""))))
        for raw in reader.lexicon(schema.DATE)
    }
    assert dates == {k: sorted(v) for k, v in reference(reader, schema.DATE, live).items()}


def test_values_with_many_blocks_of_postings(tmp_path):
    """Values held by more documents than a postings block (128) span several blocks."""
    import json

    from index.reindex import reindex

    corpus = tmp_path / "many.jsonl"
    corpus.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"m{i}",
                    "text": f"Report number {i} on the coalition talks.",
                    "source": "Wire A" if i % 3 else "Wire B",
                    "date": f"2020-03-0{1 + i % 2}",
                    "actors": ["Jens Stoltenberg"] if i % 2 else ["NATO"],
                }
            )
            for i in range(400)
        ),
        encoding="utf-8",
    )
    root = tmp_path / "index"
    assert reindex(root, [corpus]).switched
    reader = Engine(root)._snapshot().reader
    tables = build_tables(reader)
    live = tables.live
    source = from_tables(tables.source.values, lambda vid: np.flatnonzero(tables.source.ids == vid))
    assert source == {k: sorted(v) for k, v in reference(reader, schema.SOURCE, live).items()}
    assert max(len(docs) for docs in source.values()) > 2 * 128
    actor = tables.actor
    got = from_tables(actor.values, lambda vid: actor.doc[actor.val == vid].tolist())
    assert got == {k: sorted(v) for k, v in reference(reader, schema.ACTOR, live).items()}


def test_a_new_version_reads_only_its_new_segments(fresh_root, monkeypatch):
    """Segments never change, so after a write the new version's tables read only the
    segments it did not have before, and still equal tables read from scratch."""
    first = Engine(fresh_root)._snapshot().reader
    before = {leaf.segment().segment_id() for leaf, _ in first.leaf_readers()}
    generations.journal(fresh_root).append(
        [put_op({"id": "t2", "text": "Talks in Ankara.", "source": "Wire Y", "actors": ["NATO"]})]
    )
    assert apply_pending(fresh_root, wait_s=5)
    read = []
    real = tables._read_pairs

    def counting(leaf, field):
        read.append(leaf.segment().segment_id())
        return real(leaf, field)

    monkeypatch.setattr(tables, "_read_pairs", counting)
    reader = Engine(fresh_root)._snapshot().reader
    after = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
    assert read and set(read) == after - before
    cached = build_tables(reader)
    tables._segment_pairs.clear()
    fresh = build_tables(reader)
    assert cached.source.values == fresh.source.values
    assert (cached.source.ids == fresh.source.ids).all()
    assert (cached.date == fresh.date).all()
    pairs = sorted(zip(cached.actor.doc.tolist(), cached.actor.val.tolist(), strict=True))
    assert pairs == sorted(zip(fresh.actor.doc.tolist(), fresh.actor.val.tolist(), strict=True))
    assert "Wire Y" in fresh.source.values


def test_an_empty_index_has_empty_tables(tmp_path):
    from index.codec.storage import DurableFileStorage

    ix = DurableFileStorage(str(tmp_path)).create_index(schema.build_schema())
    with ix.reader() as reader:
        empty = build_tables(reader)
    assert empty.size == 0 and empty.doc_count == 0
    assert empty.source.values == [] and empty.actor.values == [] and len(empty.date) == 0
