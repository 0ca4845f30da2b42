"""Facet tables read each field's postings in one pass; they must equal the tables built
the straightforward way (the reader's postings, term by term), deletions included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from index import columns, generations, schema
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
    tables = build_tables(reader, _folder(fresh_root))
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


def test_live_mask_is_whooshs_deletions_in_every_segment(fresh_root):
    """Deleted documents of the build's segment and of a later one are marked, and only
    they (the mask is read from each segment's deleted set, not document by document)."""
    journal = generations.journal(fresh_root)
    journal.append([put_op({"id": f"n{i}", "text": f"Note {i} on NATO."}) for i in range(4)])
    assert apply_pending(fresh_root, wait_s=5)
    journal.append([delete_op("n1"), delete_op("n3"), delete_op("coalition_body")])
    assert apply_pending(fresh_root, wait_s=5)
    reader = Engine(fresh_root)._snapshot().reader
    leaves = reader.leaf_readers()
    assert sum(leaf.has_deletions() for leaf, _ in leaves) >= 2
    live = build_tables(reader, _folder(fresh_root)).live
    expected = [not reader.is_deleted(d) for d in range(reader.doc_count_all())]
    assert live.tolist() == expected
    assert 0 < live.sum() == reader.doc_count() < len(live) - 2


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
    tables = build_tables(reader, _folder(root))
    live = tables.live
    source = from_tables(tables.source.values, lambda vid: np.flatnonzero(tables.source.ids == vid))
    assert source == {k: sorted(v) for k, v in reference(reader, schema.SOURCE, live).items()}
    assert max(len(docs) for docs in source.values()) > 2 * 128
    actor = tables.actor
    got = from_tables(actor.values, lambda vid: actor.doc[actor.val == vid].tolist())
    assert got == {k: sorted(v) for k, v in reference(reader, schema.ACTOR, live).items()}


def test_a_new_version_reads_only_its_new_segments(fresh_root, monkeypatch):
    """Segments never change, so after a write the new version's tables open only the
    segments it did not have before, and still equal tables read from scratch."""
    first = Engine(fresh_root)._snapshot().reader
    before = {leaf.segment().segment_id() for leaf, _ in first.leaf_readers()}
    generations.journal(fresh_root).append(
        [put_op({"id": "t2", "text": "Talks in Ankara.", "source": "Wire Y", "actors": ["NATO"]})]
    )
    assert apply_pending(fresh_root, wait_s=5)
    read = []
    real = columns.load

    def counting(leaf, folder):
        read.append(leaf.segment().segment_id())
        return real(leaf, folder)

    monkeypatch.setattr(columns, "load", counting)
    reader = Engine(fresh_root)._snapshot().reader
    after = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
    assert read and set(read) == after - before
    cached = build_tables(reader, _folder(fresh_root))
    tables._segment_columns.clear()
    fresh = build_tables(reader, _folder(fresh_root))
    assert cached.source.values == fresh.source.values
    assert (cached.source.ids == fresh.source.ids).all()
    assert (cached.date == fresh.date).all()
    pairs = sorted(zip(cached.actor.doc.tolist(), cached.actor.val.tolist(), strict=True))
    assert pairs == sorted(zip(fresh.actor.doc.tolist(), fresh.actor.val.tolist(), strict=True))
    assert "Wire Y" in fresh.source.values


def test_written_columns_equal_columns_computed_from_the_segments(fresh_root):
    """What the writers leave beside the segments is what a reader would compute, and
    the tables built from either are the same."""
    folder = _folder(fresh_root)
    reader = Engine(fresh_root)._snapshot().reader
    for leaf, _ in reader.leaf_readers():
        segment_id = leaf.segment().segment_id()
        written = columns.read(folder, segment_id, leaf.doc_count_all())
        assert written is not None  # the build wrote them
        computed = columns.compute(leaf, folder)
        assert [written.doc_id(d) for d in range(written.size)] == [
            computed.doc_id(d) for d in range(computed.size)
        ]
        assert (written.story_keys == computed.story_keys).all()
        assert (written.id_hashes == computed.id_hashes).all()
        assert len(computed.id_hashes) == computed.size  # every document has an id of its own
        for field in columns.FACETED:
            ours, theirs = written.fields[field], computed.fields[field]
            assert ours.values == theirs.values
            assert (ours.doc == theirs.doc).all() and (ours.val == theirs.val).all()


def test_columns_written_before_id_hashes_get_them_from_their_own_ids(fresh_root):
    """An index written before the hashes (index/columns.py `ids_maybe_held`) has them
    added by the next writer's `ensure`, without computing the columns again."""
    from dataclasses import replace

    folder = _folder(fresh_root)
    reader = Engine(fresh_root)._snapshot().reader
    leaves = [leaf for leaf, _ in reader.leaf_readers()]
    for leaf in leaves:
        segment_id, size = leaf.segment().segment_id(), leaf.doc_count_all()
        found = columns.read(folder, segment_id, size)
        columns.write(folder, segment_id, replace(found, id_hashes=None))
        assert columns.read(folder, segment_id, size).id_hashes is None
    segments = [leaf.segment() for leaf in leaves]
    assert columns.ids_maybe_held(folder, segments, ["short", "nowhere"]) == {"short", "nowhere"}
    assert columns.ensure(folder) == 0  # none computed again
    for leaf in leaves:
        upgraded = columns.read(folder, leaf.segment().segment_id(), leaf.doc_count_all())
        assert (upgraded.id_hashes == columns.compute(leaf, folder).id_hashes).all()
    assert columns.ids_maybe_held(folder, segments, ["short", "nowhere"]) == {"short"}


def test_unreadable_columns_are_computed_instead(fresh_root):
    folder = _folder(fresh_root)
    reader = Engine(fresh_root)._snapshot().reader
    expected = build_tables(reader, folder)
    # Damaged as a crash could leave them (new files: the old ones are mapped here).
    for pack in (folder / columns.FOLDER).glob("*.pack"):
        head = pack.read_bytes()[:100]
        pack.unlink()
        pack.write_bytes(head)
    tables._segment_columns.clear()
    again = build_tables(reader, folder)
    assert again.source.values == expected.source.values
    assert (again.story.codes == expected.story.codes).all()
    assert [again.story.doc_ids[d] for d in range(again.size)] == [
        expected.story.doc_ids[d] for d in range(expected.size)
    ]
    assert columns.ensure(folder) == len(reader.leaf_readers())  # written again


def test_a_commit_reads_no_values_of_segments_already_written(fresh_root, monkeypatch):
    """`ensure` runs after every commit: segments whose columns are complete are checked
    without turning their values into strings; a segment missing its columns, or with a
    columns file cut short, is written again."""
    folder = _folder(fresh_root)
    made = []
    real = columns.interned
    monkeypatch.setattr(columns, "interned", lambda values: made.append(1) or real(values))
    assert columns.ensure(folder) == 0
    assert not made
    generations.journal(fresh_root).append([put_op({"id": "t3", "text": "Talks in Oslo."})])
    assert apply_pending(fresh_root, wait_s=5)  # a second segment
    folder = _folder(fresh_root)
    segments = sorted((folder / columns.FOLDER).glob("*.pack"))
    assert len(segments) >= 2
    made.clear()
    assert columns.ensure(folder) == 0
    assert not made
    segments[0].unlink()
    head = segments[1].read_bytes()
    segments[1].unlink()  # a new file: the old one may be mapped here
    segments[1].write_bytes(head[: len(head) // 2])
    assert columns.ensure(folder) == 2


def _folder(root):
    return generations.generation_path(root, generations.current_generation(root))


def test_an_empty_index_has_empty_tables(tmp_path):
    from index.codec.storage import DurableFileStorage

    ix = DurableFileStorage(str(tmp_path)).create_index(schema.build_schema())
    with ix.reader() as reader:
        empty = build_tables(reader, tmp_path)
    assert empty.size == 0 and empty.doc_count == 0
    assert empty.source.values == [] and empty.actor.values == [] and len(empty.date) == 0


def test_actor_counts_gathered_for_few_matches_equal_counts_over_every_pair(fresh_root):
    actor = build_tables(Engine(fresh_root)._snapshot().reader, _folder(fresh_root)).actor
    assert (np.diff(actor.doc) >= 0).all()  # pairs by document, as `starts` needs
    rng = np.random.default_rng(7)
    # Both sides of SPARSE_FRACTION, and of half the pairs (counted directly or as what is
    # left out of every pair).
    for density in (0.0, 0.05, 0.1, 0.3, 0.8, 1.0):
        mask = rng.random(actor.size) < density
        every_pair = np.bincount(actor.val[mask[actor.doc]], minlength=len(actor.values))
        assert (actor.counts(mask) == every_pair).all()


def test_columns_written_by_worker_processes_equal_those_computed_in_process(tmp_path, monkeypatch):
    """A full build writes its segments' columns in forked workers (reindex passes its
    worker count): each file must be what one process computes from the segment."""
    from index import pipeline
    from index.reindex import reindex
    from tests.conftest import DATA, SEEDS

    monkeypatch.setattr(pipeline, "PARALLEL_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(pipeline, "SHARE_DOCUMENTS", 5)  # several segments to share out
    monkeypatch.setattr(pipeline, "default_workers", lambda: 2)
    root = tmp_path / "index"
    assert reindex(root, [DATA, SEEDS]).switched
    folder = _folder(root)
    for pack in (folder / columns.FOLDER).glob("*.pack"):
        pack.unlink()
    ix = generations.open_generation(root, generations.current_generation(root))
    with ix.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) > 2
        assert columns.ensure(folder, workers=2) == len(leaves)
        for leaf in leaves:
            written = columns.read(folder, leaf.segment().segment_id(), leaf.doc_count_all())
            computed = columns.compute(leaf, folder)
            assert written is not None
            assert (written.story_keys == computed.story_keys).all()
            assert (written.id_bytes == computed.id_bytes).all()
            for field in columns.FACETED:
                ours, theirs = written.fields[field], computed.fields[field]
                assert ours.values == theirs.values
                assert (ours.doc == theirs.doc).all() and (ours.val == theirs.val).all()
    ix.close()
    assert columns.ensure(folder, workers=2) == 0  # nothing left to write


def test_selected_values_are_those_np_isin_finds():
    """Filters pick their documents by comparison (a few values) or by a table (more):
    both must be np.isin's answer, documents without a value (-1) never chosen."""
    rng = np.random.default_rng(7)
    column = rng.integers(-1, 40, 5000).astype(np.int32)
    for count in (0, 1, 2, tables.FEW_VALUES, tables.FEW_VALUES + 1, 17, 40):
        wanted = sorted(rng.choice(40, count, replace=False).tolist())
        got = tables.selected(column, wanted, 40)
        assert got.dtype == bool
        assert (got == np.isin(column, wanted)).all()
        assert not got[column == -1].any()


def _shared_files(root) -> list:
    return sorted((_folder(root) / "tables").glob("*.pack"))


def _same_tables(a, b) -> None:
    assert a.size == b.size and (a.live == b.live).all()
    for column in ("source", "language", "actor"):
        assert getattr(a, column).values == getattr(b, column).values
        assert getattr(a, column).lookup == getattr(b, column).lookup
    assert (a.source.ids == b.source.ids).all() and (a.language.ids == b.language.ids).all()
    for name in ("doc", "val", "starts"):
        assert (getattr(a.actor, name) == getattr(b.actor, name)).all()
    assert (a.date == b.date).all()
    assert (a.story.codes == b.story.codes).all() and (a.story.alone == b.story.alone).all()
    assert (a.story.values.keys == b.story.values.keys).all()
    assert [a.story.doc_ids[d] for d in range(a.size)] == [
        b.story.doc_ids[d] for d in range(b.size)
    ]


def test_a_versions_tables_are_built_once_and_mapped_by_every_process(fresh_root, monkeypatch):
    """The first process to open a version writes its tables to one file; the others map
    that file (a copy in the page cache for all of them), and never build their own."""
    folder = _folder(fresh_root)
    snap = Engine(fresh_root)._snapshot()
    [path] = _shared_files(fresh_root)
    assert path.name == f"{snap.version.commit}.pack"
    expected = build_tables(snap.reader, folder)

    def no_building(*args):
        raise AssertionError("the tables were built again")

    monkeypatch.setattr(tables, "build_tables", no_building)
    mapped = tables.open_tables(snap.reader, folder, snap.version.commit)
    _same_tables(mapped, expected)
    for array in (mapped.source.ids, mapped.actor.doc, mapped.date, mapped.story.codes):
        assert not array.flags.writeable and not array.flags.owndata  # a view of the map
    # Another process (a second gunicorn worker) maps the same file.
    script = (
        "import sys; from search import tables; from search.engine import Engine\n"
        "tables.build_tables = None  # calling it fails\n"
        "snap = Engine(sys.argv[1])._snapshot()\n"
        "print(sum(1 for line in open('/proc/self/maps') if sys.argv[2] in line))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(fresh_root), str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert int(out.stdout) >= 1, out.stderr


def test_workers_starting_together_build_the_tables_once_and_map_one_file(fresh_root):
    """gunicorn starts its workers at once: one builds the version's tables (slowly
    here, so that all of them look before any has written), and all map its file."""
    script = (
        "import os, sys, time; from search import tables; from search.engine import Engine\n"
        "real = tables.build_tables\n"
        "def slow(*args):\n"
        "    print('built'); time.sleep(1.0); return real(*args)\n"
        "tables.build_tables = slow\n"
        "Engine(sys.argv[1])._snapshot()\n"
        "maps = [line.split() for line in open('/proc/self/maps') if '/tables/' in line]\n"
        "print(' '.join(sorted({f'{m[4]}:{m[-1]}' for m in maps})))\n"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(fresh_root)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[2],
        )
        for _ in range(3)
    ]
    outputs = [worker.communicate(timeout=60)[0].split("\n") for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0]
    assert sum(out.count("built") for out in outputs) == 1
    mapped = {out[-2] for out in outputs}  # inode:path of the one file each maps
    assert len(mapped) == 1 and "deleted" not in mapped.pop()


def test_a_new_version_has_new_tables_and_the_old_ones_go(fresh_root):
    engine = Engine(fresh_root)
    engine._snapshot()
    [old] = _shared_files(fresh_root)
    generations.journal(fresh_root).append(
        [put_op({"id": "t2", "text": "Talks in Oslo.", "source": "Wire Z"}), delete_op("short")]
    )
    assert apply_pending(fresh_root, wait_s=5)
    left = old.parent / f".{old.name}.4242-1.tmp"
    left.write_bytes(b"what a writer killed mid-write leaves")
    snap = engine._snapshot()
    [new] = _shared_files(fresh_root)
    assert not left.exists()
    assert new != old and new.name == f"{snap.version.commit}.pack"
    _same_tables(snap.tables, build_tables(snap.reader, _folder(fresh_root)))
    assert "Wire Z" in snap.tables.source.values


def test_a_tables_file_of_other_segments_is_not_used(fresh_root):
    """A file under the version's name whose segments differ (a stale copy, another
    build) is built again, not trusted."""
    before = Engine(fresh_root)._snapshot().version.commit
    [old] = _shared_files(fresh_root)
    stale = old.read_bytes()
    generations.journal(fresh_root).append([delete_op("short")])
    assert apply_pending(fresh_root, wait_s=5)
    commit = Engine(fresh_root)._snapshot().version.commit
    assert commit != before
    # The previous version's file, put under the new version's name.
    (old.parent / f"{commit}.pack").unlink()  # mapped here: never rewritten in place
    (old.parent / f"{commit}.pack").write_bytes(stale)
    reopened = Engine(fresh_root)._snapshot()
    _same_tables(reopened.tables, build_tables(reopened.reader, _folder(fresh_root)))
    assert not reopened.tables.live[reopened.tables.story.codes < 0].any()


def test_tables_are_kept_in_process_where_the_folder_cannot_be_written(fresh_root):
    folder = _folder(fresh_root)
    (folder / "tables").write_text("not a folder")  # as a read-only mount refuses it
    snap = Engine(fresh_root)._snapshot()
    _same_tables(snap.tables, build_tables(snap.reader, folder))
    assert snap.tables.source.ids.flags.owndata


def test_shared_tables_are_not_leftovers(fresh_root):
    from index.verify import generation_leftovers

    Engine(fresh_root)._snapshot()
    assert _shared_files(fresh_root)
    assert generation_leftovers(_folder(fresh_root)) == []
