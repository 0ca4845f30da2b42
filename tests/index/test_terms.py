"""Term lookups through TermsTable answer as Whoosh's own OrderedHashReader, term by term."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest
from whoosh.filedb.filetables import FileFormatError, OrderedHashReader, OrderedHashWriter
from whoosh.filedb.structfile import StructFile
from whoosh.reading import ReaderClosed, TermNotFound

from index import generations, pread
from index.applier import apply_pending, put_op
from index.codec.compound import PreadBufferFile
from index.codec.postings import term_start
from index.codec.terms import TermsReader, TermsTable, term_location, term_locations
from index.reindex import reindex
from search.engine import Engine

REUTERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "reuters21578.jsonl.gz"


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A real index of 3,000 Reuters articles in two segments (languages other than
    English among them: fields that hold few terms)."""
    folder = tmp_path_factory.mktemp("terms")
    corpus = folder / "reuters.jsonl"
    with gzip.open(REUTERS, "rt", encoding="utf-8") as source, corpus.open("w") as out:
        for line in itertools.islice(source, 3000):
            out.write(line)
    root = folder / "index"
    assert reindex(root, [corpus]).switched
    engine = Engine(root)
    reader = engine._snapshot().reader
    yield reader
    reader.close()


def _whoosh_table(leaf) -> OrderedHashReader:
    """Whoosh's own reader of the same terms table."""
    table = leaf._terms._tindex
    return OrderedHashReader(table.dbfile, None)


def test_segments_read_their_terms_tables_with_exact_reads(reader):
    leaves = [leaf for leaf, _ in reader.leaf_readers()]
    assert len(leaves) >= 2
    for leaf in leaves:
        assert isinstance(leaf._terms, TermsReader)
        assert isinstance(leaf._terms._tindex, TermsTable)
        assert isinstance(leaf._terms._tindex.dbfile, PreadBufferFile)


# What Whoosh's HashReader and OrderedHashReader read when a table opens.
_OPENED = ("hashtype", "startofdata", "endofdata", "tables", "extras", "indexbase", "indexlen")


def _opened(table) -> dict:
    return {name: getattr(table, name) for name in _OPENED}


def test_a_table_opens_as_whoosh_opens_it(reader, tmp_path):
    """TermsTable reads the 256 hash tables' directory in one read, not one per table:
    what it reads is what Whoosh's constructor reads, and a file that is not a table is
    refused as Whoosh refuses it."""
    for leaf, _ in reader.leaf_readers():
        ours = leaf._terms._tindex
        assert _opened(ours) == _opened(_whoosh_table(leaf))
        assert len(ours.tables) == 256 and ours.hashfn is _whoosh_table(leaf).hashfn
    path = tmp_path / "not-a-table"
    path.write_bytes(b"HSH2" + bytes(4096))
    with pytest.raises(FileFormatError):
        TermsTable(PreadBufferFile(pread.Descriptor.open(path), 0, 4100), 4100)


def test_every_term_and_many_misses_answer_as_whoosh(reader):
    checked = misses = 0
    for leaf, _ in reader.leaf_readers():
        ours, theirs = leaf._terms._tindex, _whoosh_table(leaf)
        fields = sorted(leaf.indexed_field_names())
        for field in fields:
            number = leaf._terms._fieldmap[field]
            for btext in leaf.lexicon(field):
                key = number.to_bytes(2, "big") + btext
                assert ours[key] == theirs[key]
                assert list(ours.ranges_for_key(key)) == list(theirs.ranges_for_key(key))
                assert key in ours
                info = leaf.term_info(field, btext)
                assert term_location(leaf, field, btext) == (
                    info.doc_frequency(),
                    term_start(info),
                )
                # The same word in every other field, and with a letter more: mostly
                # absent (iraq is ira + q), each probing the hash table as far as
                # Whoosh's reader does.
                for other in fields:
                    found = _whoosh_location(leaf, other, btext)
                    misses += found == (0, None)
                    assert term_location(leaf, other, btext) == found
                for near in (btext + b"q", b"q" + btext):
                    found = _whoosh_location(leaf, field, near)
                    misses += found == (0, None)
                    assert term_location(leaf, field, near) == found
                    key = number.to_bytes(2, "big") + near
                    assert (key in ours) is (key in theirs)
                    assert ours.get(key) == theirs.get(key)
                checked += 1
    assert checked > 10_000
    assert misses > 10_000


def _whoosh_location(leaf, field, btext):
    try:
        info = leaf.term_info(field, btext)
    except TermNotFound:
        return 0, None
    return info.doc_frequency(), term_start(info)


def test_values_longer_than_the_first_read_and_colliding_slots(tmp_path):
    """A table Whoosh wrote itself, with values of every length around VALUE_BYTES (a
    term info with inlined postings is longer than what a lookup reads with the key: it
    is read again, whole) and thousands of keys, so that slots collide and probes wrap."""
    path = tmp_path / "table"
    items = {f"key{i}".encode() * (1 + i % 3): bytes([i % 251]) * (i % 130) for i in range(5000)}
    with path.open("wb") as out:
        writer = OrderedHashWriter(StructFile(out))
        for key in sorted(items):
            writer.add(key, items[key])
        writer.close()
    length = path.stat().st_size
    ours = TermsTable(PreadBufferFile(pread.Descriptor.open(path), 0, length), length)
    with path.open("rb") as file:
        theirs = OrderedHashReader(StructFile(file), length)
        assert _opened(ours) == _opened(theirs)
        for key, value in items.items():
            assert ours[key] == value == theirs[key]
            assert list(ours.ranges_for_key(key)) == list(theirs.ranges_for_key(key))
        for i in range(5000, 7000):
            key = f"key{i}".encode()
            assert key not in ours and key not in theirs
            assert ours.get(key, "absent") == "absent"


def test_fields_not_in_the_schema_or_segment_are_absent(reader):
    leaf, _ = next(iter(reader.leaf_readers()))
    with pytest.raises(KeyError):
        leaf._terms._tindex[b"\xff\xfe" + b"oil"]
    assert term_location(leaf, "no_such_field", b"oil") == (0, None)
    assert term_location(leaf, "text", b"oil")[0] > 0
    with pytest.raises(TypeError):
        leaf._terms._tindex["text"]  # keys are bytes, as in Whoosh


def test_lookups_match_in_a_small_index_and_a_closed_reader_says_so(tmp_path):
    """Whatever the corpus (here a few hand-made documents, one segment): same answers;
    and a closed reader raises as Whoosh's does, instead of reading a reused descriptor."""
    root = _built(tmp_path, [{"id": f"d{i}", "text": f"word{i} shared {i % 3}"} for i in range(40)])
    reader = Engine(root)._snapshot().reader
    for leaf, _ in reader.leaf_readers():
        for field in leaf.indexed_field_names():
            for btext in leaf.lexicon(field):
                assert term_location(leaf, field, btext) == _whoosh_location(leaf, field, btext)
    reader.close()
    with pytest.raises(ReaderClosed):
        term_location(leaf, "text", b"shared")


def test_a_word_looked_up_in_every_segment_at_once_answers_as_each_alone(reader):
    """`term_locations` builds a word's key once per field numbering; segments number
    their fields by the fields they hold, so a field's number can differ between them."""
    leaves = [leaf for leaf, _ in reader.leaf_readers()]
    words = {btext for leaf in leaves for btext in itertools.islice(leaf.lexicon("text"), 300)}
    fields = sorted({field for leaf in leaves for field in leaf.indexed_field_names()})
    found = 0
    for field in [*fields, "no_such_field"]:
        for btext in sorted(words):
            together = term_locations(leaves, field, btext)
            assert together == [_whoosh_location(leaf, field, btext) for leaf in leaves]
            found += sum(frequency > 0 for frequency, _ in together)
    assert found > 1000


def test_segments_numbering_fields_differently_find_the_same_words(tmp_path):
    """An API write's segment holds other fields than the build's (German ones), so it
    numbers them differently: each segment's key is its own."""
    root = _built(
        tmp_path,
        [{"id": f"d{i}", "title": f"Talks {i}", "text": f"Coalition talks {i}"} for i in range(30)],
    )
    german = "Die Koalition verhandelt in Ankara über die Zukunft der Regierung und der Partei."
    generations.journal(root).append([put_op({"id": "late", "text": f"coalition. {german}"})])
    assert apply_pending(root, wait_s=5)
    reader = Engine(root)._snapshot().reader
    leaves = [leaf for leaf, _ in reader.leaf_readers()]
    numberings = {tuple(sorted(leaf._terms._fieldmap.items())) for leaf in leaves}
    assert len(leaves) == 2 and len(numberings) == 2
    in_both = 0
    for field in sorted({f for leaf in leaves for f in leaf.indexed_field_names()}):
        for btext in (b"coalit", b"coalition", b"talk", b"ankara", b"koalit", b"zebra"):
            together = term_locations(leaves, field, btext)
            assert together == [_whoosh_location(leaf, field, btext) for leaf in leaves]
            in_both += together[0][0] > 0 and together[1][0] > 0
    assert in_both
    reader.close()


def _built(folder: Path, records: list[dict]) -> Path:
    """An index of `records` (one segment), built by `sift reindex`'s own code."""
    corpus = folder / "c.jsonl"
    corpus.write_text("\n".join(json.dumps(record) for record in records), encoding="utf-8")
    root = folder / "index"
    assert reindex(root, [corpus]).switched
    return root
