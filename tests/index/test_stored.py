"""Stored fields' offsets summed by numpy (index/codec/stored.py) are Whoosh's own."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest
from whoosh import columns

from index.codec import stored
from index.reindex import reindex
from search.engine import Engine

REUTERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "reuters21578.jsonl.gz"


def _both(leaf):
    """The segment's stored-fields column opened by Sift's code and by Whoosh's."""
    perdoc = leaf._perdoc
    colfile, offset, length = perdoc._get_column_file("_stored")
    ours = columns.VarBytesColumn.Reader(colfile, offset, length, perdoc._doccount)
    theirs = object.__new__(columns.VarBytesColumn.Reader)
    theirs._dbfile, theirs._basepos = colfile, offset
    theirs._length, theirs._doccount = length, perdoc._doccount
    stored._whoosh_read(theirs)
    return ours, theirs


def _index(folder: Path, lines: list[str]) -> Engine:
    corpus = folder / "c.jsonl"
    corpus.write_text("".join(lines), encoding="utf-8")
    assert reindex(folder / "index", [corpus]).switched
    return Engine(folder / "index")


@pytest.mark.parametrize("size", [1, 2, 2500])
def test_stored_fields_read_as_whoosh_reads_them(tmp_path, size):
    """Every document's offset, length and stored bytes, in segments of one document,
    two, and some thousands of Reuters articles (lengths of one byte and of four)."""
    with gzip.open(REUTERS, "rt", encoding="utf-8") as source:
        engine = _index(tmp_path, list(itertools.islice(source, size)))
    reader = engine._snapshot().reader
    checked = 0
    for leaf, _ in reader.leaf_readers():
        ours, theirs = _both(leaf)
        assert ours._offsets.typecode == theirs._offsets.typecode
        assert ours._offsets.tolist() == theirs._offsets.tolist()
        assert ours._lengths.tolist() == theirs._lengths.tolist()
        for docnum in range(leaf.doc_count_all()):
            assert ours[docnum] == theirs[docnum]
            checked += 1
    assert checked == size
    assert engine._snapshot().searcher.stored_fields(size - 1)["id"]
