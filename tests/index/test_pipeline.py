"""Parallel ingest writes the same index as Whoosh's own writer, document for document.

The corpus is built twice: through `reindex` with the pipeline forced to fork workers and
cut tiny rounds (so there are many worker-built segments), and with Whoosh's plain
`SegmentWriter` adding the same documents in one process. Every stored field, every
posting (term, document, weight, positions) and every field length must be equal, in the
same document numbers.
"""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh.codec.whoosh3 import STORED_COLUMN
from whoosh.columns import VarBytesColumn

from index import generations, pipeline
from index.analysis import document_terms
from index.codec import segments
from index.codec.storage import DurableFileStorage
from index.documents import Document
from index.extract import extract
from index.readers import input_files, read_file
from index.reindex import reindex
from index.storage import make_private_dir
from index.writer import index_fields
from tests.conftest import DATA, SEEDS


def _plain_build(root: Path, paths) -> Path:
    make_private_dir(root)
    ix = generations.create_generation(root, "plain")
    writer = ix.writer()
    for path in input_files(paths):
        for raw in read_file(path):
            writer.add_document(**index_fields(extract(raw)))
    writer.commit()
    ix.close()
    return generations.generation_path(root, "plain")


def _blocks(reader, field: str, btext: bytes) -> list[tuple] | None:
    """Each posting block's header (count, last id, max weight, lengths). Not its
    compression: the pipeline stores small blocks plain (segments.MIN_COMPRESSED_BYTES),
    and the postings compared beside this show they decode the same."""
    if not reader.is_atomic():
        return None  # blocks differ with segmentation; compared for one-segment builds
    m = reader.postings(field, btext)
    m = getattr(m, "child", m)
    found = []
    while True:
        found.append((m._blocklength, m._maxid, m._maxweight, m._minlength, m._maxlength))
        if m._lastblock:
            return found
        m._goto(m._nextoffset)


def _contents(folder: Path) -> dict:
    ix = DurableFileStorage(str(folder)).open_index()
    with ix.reader() as reader:
        postings = {}
        infos = {}
        for field in reader.indexed_field_names():
            fmt = ix.schema[field].format
            for btext in reader.lexicon(field):
                m = reader.postings(field, btext)
                rows = []
                while m.is_active():
                    value = m.value() if fmt.supports("positions") else None
                    rows.append((m.id(), m.weight(), value))
                    m.next()
                postings[(field, btext)] = rows
                ti = reader.term_info(field, btext)
                infos[(field, btext)] = (
                    ti.weight(),
                    ti.doc_frequency(),
                    ti.min_length(),
                    ti.max_length(),
                    ti.max_weight(),
                    ti.min_id(),
                    ti.max_id(),
                    _blocks(reader, field, btext),
                )
        size = reader.doc_count_all()
        names = [n for n in ix.schema.names() if ix.schema[n].scorable]
        # `or 0`: a segment without the field answers 0, one with it None, for "no length"
        lengths = {(d, n): reader.doc_field_length(d, n) or 0 for d in range(size) for n in names}
        totals = {n: reader.field_length(n) for n in names}
        stored = list(reader.all_stored_fields())
        segments = len(reader.leaf_readers()) if not reader.is_atomic() else 1
    ix.close()
    return {
        "postings": postings,
        "infos": infos,
        "lengths": lengths,
        "totals": totals,
        "stored": stored,
        "segments": segments,
    }


def test_parallel_segments_equal_whoosh_writer(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(pipeline, "SHARE_DOCUMENTS", 5)  # rounds of 10: 4 segments, kept
    monkeypatch.setattr(pipeline, "default_workers", lambda: 2)
    report = reindex(tmp_path / "fast", [DATA, SEEDS])
    assert report.switched
    fast = _contents(generations.generation_path(tmp_path / "fast", report.generation))
    plain = _contents(_plain_build(tmp_path / "plain", [DATA, SEEDS]))
    assert fast["segments"] > 2
    assert fast["stored"] == plain["stored"]
    assert fast["postings"] == plain["postings"]
    assert fast["lengths"] == plain["lengths"]
    assert fast["totals"] == plain["totals"]


def test_in_process_builder_equals_whoosh_writer(tmp_path):
    report = reindex(tmp_path / "fast", [DATA])
    fast = _contents(generations.generation_path(tmp_path / "fast", report.generation))
    plain = _contents(_plain_build(tmp_path / "plain", [DATA]))
    assert (fast["stored"], fast["postings"], fast["lengths"]) == (
        plain["stored"],
        plain["postings"],
        plain["lengths"],
    )
    # One segment each: the terms table and every block header must be Whoosh's too.
    assert fast["segments"] == plain["segments"] == 1
    assert fast["infos"] == plain["infos"]


def test_a_failing_worker_fails_the_build_and_keeps_the_old_index(tmp_path, monkeypatch):
    root = tmp_path / "index"
    first = reindex(root, [DATA])
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(pipeline, "default_workers", lambda: 2)

    def broken(doc: Document) -> dict:
        raise RuntimeError("analysis exploded")

    monkeypatch.setattr(pipeline, "index_fields", broken)
    with pytest.raises(Exception, match="analysis exploded"):
        reindex(root, [DATA, SEEDS])
    assert generations.current_generation(root) == first.generation
    assert [p.name for p in generations.generations_dir(root).iterdir()] == [first.generation]


@given(st.text(), st.text())
def test_words_field_is_title_then_text(title, text):
    """index_fields tokenises once; the `words` field must equal the old title+text pass."""
    doc = Document(id="x", title=title, text=text, language="en")
    assert index_fields(doc)["words"] == document_terms(f"{title}\n{text}", None)


def _multi_block_documents() -> list[Document]:
    """300 documents; "alpha" is in 225 of them: two posting blocks and a bit."""
    return [
        Document(
            id=f"d{i}",
            title=f"alpha report {i}",
            text=" ".join(["alpha"] * (1 + i % 3) + ["beta"] * (i % 5 == 0) + [f"w{i}"] * 2),
            language="en" if i % 4 else "und",
        )
        for i in range(300)
    ]


def _one_segment(folder: Path, docs: list[Document], fast: bool) -> Path:
    """`docs` as one segment of a new index: by SegmentBuilder, or by Whoosh's writer."""
    make_private_dir(folder)
    ix = generations.create_generation(folder, "g")
    writer = ix.writer()
    if fast:
        built = segments.SegmentBuilder(ix)
        for doc in docs:
            built.add_document(**index_fields(doc))
        writer.segments.append(built.finish())
    else:
        for doc in docs:
            writer.add_document(**index_fields(doc))
    writer.commit()
    ix.close()
    return generations.generation_path(folder, "g")


def test_multi_block_terms_equal_whoosh_writer(tmp_path, monkeypatch):
    """Terms with more postings than a block holds (128): block splits and headers; and
    postings of several positions encoded a few at a time (segments._GAPS_AT_ONCE)."""
    monkeypatch.setattr(segments, "_GAPS_AT_ONCE", 7)
    docs = _multi_block_documents()
    fast = _contents(_one_segment(tmp_path / "fast", docs, fast=True))
    plain = _contents(_one_segment(tmp_path / "plain", docs, fast=False))
    assert len(fast["postings"][("text_en", b"alpha")]) == 225  # two blocks and a bit
    assert fast["infos"] == plain["infos"]
    assert fast["postings"] == plain["postings"]
    assert fast["stored"] == plain["stored"]


def test_long_posting_blocks_are_deflated(tmp_path):
    """Posting blocks of MIN_COMPRESSED_BYTES or more are deflated (ISA-L, in zlib's
    format: the equality tests above read them back through Whoosh's zlib)."""
    folder = _one_segment(tmp_path / "fast", _multi_block_documents(), fast=True)
    ix = DurableFileStorage(str(folder)).open_index()
    with ix.reader() as reader:
        m = reader.postings("text_en", b"alpha")
        m = getattr(m, "child", m)
        levels = [m._compression]
        while not m._lastblock:
            m._goto(m._nextoffset)
            levels.append(m._compression)
    ix.close()
    assert levels == [segments.COMPRESSION_LEVEL] * 2  # 128 postings, then 97: > 128 bytes


def test_stored_fields_are_deflated_about_as_small_as_by_zlib(tmp_path):
    """Each document's stored fields are deflated (ISA-L) to within a few percent of
    zlib's size at Whoosh's level 3, and inflate with zlib to Whoosh's pickle."""
    report = reindex(tmp_path / "ix", [DATA])
    ix = DurableFileStorage(str(generations.generation_path(tmp_path / "ix", report.generation)))
    ix = ix.open_index()
    with ix.reader() as reader:
        column = reader._perdoc._cached_reader("_stored", STORED_COLUMN)._child
        deflated = [VarBytesColumn.Reader.__getitem__(column, n) for n in range(reader.doc_count())]
        pickles = [zlib.decompress(d) for d in deflated]
        assert [pickle.loads(p) for p in pickles] == list(reader.all_stored_fields())
    ix.close()
    assert len(pickles) >= 8
    assert sum(map(len, deflated)) <= 1.03 * sum(len(zlib.compress(p, 3)) for p in pickles)


def test_segment_builder_refuses_text_it_would_have_to_analyse(tmp_path):
    """The builder takes index_fields' term lists; raw text for a positional field would
    need Whoosh's analysis, which it does not do: refused, not indexed as one term."""
    make_private_dir(tmp_path / "ix")
    ix = generations.create_generation(tmp_path / "ix", "g")
    built = segments.SegmentBuilder(ix)
    fields = index_fields(Document(id="d1", title="Talks", text="Coalition talks", language="en"))
    built.add_document(**fields)
    with pytest.raises(NotImplementedError, match="text_en"):
        built.add_document(**{**fields, "id": "d2", "text_en": "coalition talks"})
    built.add_document(**{**fields, "id": "d3"})  # the refused document left nothing behind
    writer = ix.writer()
    writer.segments.append(built.finish())
    writer.commit()
    with ix.searcher() as searcher:
        assert [searcher.stored_fields(n)["id"] for n in range(searcher.doc_count_all())] == [
            "d1",
            "d3",
        ]
        assert searcher.doc_frequency("text_en", "talk") == 2
        assert searcher.document_number(id="d2") is None
    ix.close()
