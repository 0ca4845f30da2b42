"""The generation lexicon gives, for every term, what each segment's terms table gives.

Each test builds a small index of several segments as a parallel build cuts them, then
compares every term of every field of every segment: the lexicon's segments, document
frequencies and postings starts against Whoosh's own term infos.
"""

from __future__ import annotations

import gzip
from collections import Counter

import numpy as np
import pytest

from index import generations, pipeline, schema
from index.codec import arrays, lexicon
from index.codec.postings import term_start
from index.reindex import reindex
from index.storage import LEXICON_FILE
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import ROOT

REUTERS = ROOT.parent / "shared" / "data" / "reuters21578.jsonl.gz"


def _build(folder, articles: int, share: int, monkeypatch):
    assert REUTERS.exists(), f"the Reuters-21578 corpus is needed at {REUTERS}"
    with gzip.open(REUTERS, "rt", encoding="utf-8") as lines:
        records = [line for _, line in zip(range(articles), lines, strict=False)]
    (folder / "in").mkdir()
    (folder / "in" / "reuters.jsonl").write_text("".join(records), "utf-8")
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(pipeline, "SHARE_DOCUMENTS", share)
    monkeypatch.setattr(pipeline, "default_workers", lambda: 1)
    assert reindex(folder / "index", [folder / "in"]).switched
    return generations.generation_path(
        folder / "index", generations.current_generation(folder / "index")
    )


def _expected(folder) -> dict[tuple[str, bytes], dict[str, tuple[int, int | None]]]:
    """{(field, term): {segment id: (document frequency, postings start)}}, from Whoosh."""
    ix = generations.open_generation(folder.parent.parent, folder.name)
    found: dict = {}
    try:
        with ix.reader() as reader:
            for leaf, _ in reader.leaf_readers():
                segment_id = leaf.segment().segment_id()
                for field, term in leaf.all_terms():
                    info = leaf.term_info(field, term)
                    found.setdefault((field, term), {})[segment_id] = (
                        info.doc_frequency(),
                        term_start(info),
                    )
    finally:
        ix.close()
    return found


def _assert_same(folder) -> int:
    expected = _expected(folder)
    table = lexicon.open_lexicon(folder)
    assert table is not None
    for (field, term), where in expected.items():
        numbers, frequencies, starts, _ = table.find(field, term)
        got = {
            table.segments[n]: (f, s)
            for n, f, s in zip(numbers.tolist(), frequencies.tolist(), starts.tolist(), strict=True)
        }
        assert got == where, (field, term)
    return len(expected)


def test_every_term_of_every_segment_is_where_whoosh_has_it(tmp_path, monkeypatch):
    folder = _build(tmp_path, 300, 50, monkeypatch)
    table = lexicon.open_lexicon(folder)
    assert len(table.segments) == 6
    assert _assert_same(folder) > 10_000
    for field, term in [("text_en", b"zzyzx"), ("no_such_field", b"oil"), ("words", b"")]:
        assert [a.tolist() for a in table.find(field, term)[:3]] == [[], [], []]


def test_keys_sharing_the_high_half_of_their_hash_are_told_apart(tmp_path, monkeypatch):
    """Keys are found by their hashes' high halves and told apart by the low halves: with
    only 16 distinct high halves, each spans hundreds of the lookup's blocks."""
    real = arrays.key_hashes

    def weak(field, terms):
        halves = real(field, terms).copy()
        halves[:, 0] >>= np.uint64(60)
        return halves

    monkeypatch.setattr(arrays, "key_hashes", weak)
    folder = _build(tmp_path, 100, 40, monkeypatch)
    assert len(np.unique(lexicon.open_lexicon(folder).sample)) <= 16
    assert _assert_same(folder) > 3_000


def test_a_reindex_adding_segments_covers_them_and_api_segments_are_left_out(tmp_path, monkeypatch):
    folder = _build(tmp_path, 100, 50, monkeypatch)
    assert len(lexicon.open_lexicon(folder).segments) == 2
    with gzip.open(REUTERS, "rt", encoding="utf-8") as lines:
        more = [line for _, line in zip(range(200), lines, strict=False)][100:]
    (tmp_path / "in" / "more.jsonl").write_text("".join(more), "utf-8")
    assert reindex(tmp_path / "index", [tmp_path / "in"], incremental=True).switched
    root = tmp_path / "index"
    newer = generations.generation_path(root, generations.current_generation(root))
    assert newer != folder
    assert len(lexicon.open_lexicon(newer).segments) == 4
    _assert_same(newer)


def _add_and_reindex(tmp_path, start: int, end: int):
    """Reuters' articles [start, end) added to the input and reindexed incrementally; the
    new generation's folder."""
    with gzip.open(REUTERS, "rt", encoding="utf-8") as lines:
        more = [line for _, line in zip(range(end), lines, strict=False)][start:]
    (tmp_path / "in" / f"more-{start}.jsonl").write_text("".join(more), "utf-8")
    root = tmp_path / "index"
    assert reindex(root, [tmp_path / "in"], incremental=True).switched
    return generations.generation_path(root, generations.current_generation(root))


def test_a_reindex_adding_few_documents_keeps_the_lexicon_and_searches_see_them(
    tmp_path, monkeypatch
):
    """10 articles added to 300 (3 %) leave the copied lexicon as it was (the same file):
    their segment is looked up in its own terms table, and every one of its words has
    the document frequency Whoosh gives. 40 more (14 % then) and it covers all again."""
    folder = _build(tmp_path, 300, 50, monkeypatch)
    assert len(lexicon.open_lexicon(folder).segments) == 6
    newer = _add_and_reindex(tmp_path, 300, 310)
    assert (newer / LEXICON_FILE).samefile(folder / LEXICON_FILE)
    assert lexicon.open_lexicon(newer).segments == lexicon.open_lexicon(folder).segments
    engine = Engine(tmp_path / "index")
    snap = engine._snapshot()
    leaves = list(snap.searcher.reader().leaf_readers())
    assert len(leaves) == 7
    words = [(f, t) for f, t in leaves[-1][0].all_terms() if f in ("text_en", "title_en")]
    assert len(words) > 500
    for field, term in words:
        text = term.decode("utf-8")
        whooshs = snap.searcher.doc_frequency(field, term)
        assert snap.postings.frequency(snap.searcher, field, text) == whooshs, (field, term)
    new, _ = leaves[-1]
    added = {new.stored_fields(n)[schema.ID] for n in range(new.doc_count_all())}
    found = engine.search(SearchRequest(q=words[-1][1].decode("utf-8"), per_page=100))
    assert added & {hit.id for hit in found.hits}
    assert len(lexicon.open_lexicon(_add_and_reindex(tmp_path, 310, 350)).segments) == 8


def test_segments_without_term_hashes_get_no_lexicon(tmp_path, monkeypatch):
    """Segments written before the lexicon have no hashes: nothing is written, and
    searches look terms up segment by segment (tests/search/test_postings.py)."""
    monkeypatch.setattr(arrays, "hashed_terms", lambda folder, segment_id: None)
    folder = _build(tmp_path, 60, 30, monkeypatch)
    assert not (folder / LEXICON_FILE).exists()
    assert lexicon.open_lexicon(folder) is None


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_an_unreadable_lexicon_is_not_used(tmp_path, monkeypatch, damage):
    folder = _build(tmp_path, 60, 30, monkeypatch)
    path = folder / LEXICON_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"x" * len(data))
    lexicon._open.clear()
    assert lexicon.open_lexicon(folder) is None


def test_its_words_are_whooshs_words_in_whooshs_order(tmp_path, monkeypatch):
    folder = _build(tmp_path, 300, 50, monkeypatch)
    table = lexicon.open_lexicon(folder)
    assert table.has_words
    ix = generations.open_generation(folder.parent.parent, folder.name)
    try:
        with ix.reader() as reader:
            everything = list(reader.expand_prefix(schema.WORDS, ""))
            assert list(table.words_from(b"")) == everything
            prefixes = sorted({word[:n] for word in everything[::7] for n in (1, 2, 3)})
            for prefix in [*prefixes, b"zzz", b"\xc3\xa9", b"\xff"]:
                expected = list(reader.expand_prefix(schema.WORDS, prefix.decode(errors="ignore")))
                if prefix.decode(errors="ignore").encode() == prefix:
                    assert list(table.words_from(prefix)) == expected, prefix
                else:
                    assert list(table.words_from(prefix)) == [], prefix
    finally:
        ix.close()
    assert len(everything) > 5_000


@pytest.mark.parametrize("piece", [None, 997])
def test_rare_keys_postings_are_pooled_as_their_segments_hold_them(tmp_path, monkeypatch, piece):
    """A key with at most POOLED_POSTINGS postings over all segments has them in the
    pool, segment after segment in its rows' order: ids, weights and positions as each
    segment's own arrays hold them (tests/index/test_codec_postings.py compares those
    with Whoosh); a key with more has none. Written in one piece (POOL_PIECE), or in
    pieces of rows holding about `piece` postings (some 40 here)."""
    monkeypatch.setattr(lexicon, "POOLED_POSTINGS", 25)
    if piece:
        monkeypatch.setattr(lexicon, "POOL_PIECE", piece)
    written = tmp_path / "pieces"  # a file: the lexicon is written by a forked process
    real = lexicon._Pool.pieces

    def counted(pool):
        for name, part in real(pool):
            with written.open("a") as out:
                out.write(name + "\n")
            yield name, part

    monkeypatch.setattr(lexicon._Pool, "pieces", counted)
    folder = _build(tmp_path, 300, 50, monkeypatch)
    table = lexicon.open_lexicon(folder)
    kinds = Counter()
    for field, term in _expected(folder):
        found = table.find(field, term)
        assert (found.pool is not None) == (found.frequencies.sum() <= 25), (field, term)
        if found.pool is None:
            kinds["not pooled"] += 1
            continue
        ids, weights, sizes, positions = table.pooled(found, positions=True)
        parts = [
            arrays.read_term(str(folder), table.segments[n], field, start, True)
            or arrays.read_term(str(folder), table.segments[n], field, start, False)
            for n, start in zip(found.numbers.tolist(), found.starts.tolist(), strict=True)
        ]
        assert ids.tolist() == [i for part in parts for i in part[0].tolist()]
        assert weights.tolist() == [w for part in parts for w in part[1].tolist()]
        if parts[0][2] is None:
            assert not sizes.any() and not len(positions)
            kinds["pooled"] += 1
            continue
        assert sizes.tolist() == [s for part in parts for s in np.diff(part[2][1]).tolist()]
        assert positions.tolist() == [x for part in parts for x in part[2][0].tolist()]
        kinds["pooled with positions"] += 1
    assert min(kinds.values()) > 300 and len(kinds) == 3, kinds
    pieces = written.read_text().split()
    assert pieces.count("pool") > 20 if piece else pieces == ["pool", "pool_positions"]
