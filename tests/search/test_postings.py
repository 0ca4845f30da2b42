"""The numpy match/top-k pass gives exactly Whoosh's answers: same documents, same scores.

Each query is compiled as the engine compiles it, then run both ways: Whoosh's matcher
(`all_ids`) and its scored search, against `search.postings.evaluate`. Scores are compared
as floats, not rounded: the fast path must reproduce Whoosh's arithmetic to the last bit,
or ties between documents would order differently.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh.system import pack_ushort
from whoosh.util import make_weighted_tree

from index import generations, pipeline, schema
from index.applier import apply_pending, delete_op, put_op
from index.codec import arrays, lexicon
from index.codec.lexicon import Lexicon
from index.codec.terms import TermsTable
from index.reindex import reindex
from search import parser as p
from search import postings
from search.engine import Engine
from search.postings import (
    PostingsCache,
    _leaves,
    _merge,
    _merge_order,
    _runs,
    _runs_of_segments,
    _Shapes,
    _sorted_unique,
    _Term,
    evaluate,
    intersect_sorted,
)
from search.queries import compile_query
from search.request import SearchRequest
from search.suggest import did_you_mean
from tests.conftest import ROOT

REUTERS = ROOT.parent / "shared" / "data" / "reuters21578.jsonl.gz"

QUERIES = [
    "coalition",
    "parliament elections",
    "coalition OR gas",
    "coalition OR gas OR nato OR parties",
    "NATO NOT Trump",
    "NATO -Trump",
    "-nato",
    "(gas OR coalition) AND parties",
    '"new coalition"',
    '"coalition new"',
    '"the the"',
    '"islamic state" -syria',
    "title:coalition",
    "text:coalition",
    "source:wire",
    "actor:ISIL",
    'actor:"jens stoltenberg"',
    "language:de",
    "Flüchtlinge",
    "Rub",
    "écoles",
    "running",
    "stoltenberg coalition",
    "coal*",
    "coalitoin~",
    "nato~2",
    "a OR b OR c OR d OR e",
    "zebra",
    "",
]


def both_ways(engine: Engine, text: str, op: str = "and"):
    snap = engine._snapshot()
    node = p.parse(text, op)
    query, _ = compile_query(node, snap.reader, snap.tables.languages())
    if isinstance(node, p.MatchAll):
        query = wq.Every()
    fast = evaluate(snap.postings, snap.searcher, query)
    found = np.fromiter(query.matcher(snap.searcher).all_ids(), dtype=np.int64)
    found = np.sort(found[snap.tables.live[found]])
    ranked = [(hit.docnum, hit.score) for hit in snap.searcher.search(query, limit=None)]
    # Whoosh's scored search lets deleted documents through a top-level NOT (its
    # InverseMatcher ignores `missing` there); its own match pass and the fast path do not.
    ranked = [(d, s) for d, s in ranked if snap.tables.live[d]]
    return fast, found, ranked


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("op", ["and", "or"])
def test_fast_path_matches_and_scores_like_whoosh(engine, text, op):
    fast, found, ranked = both_ways(engine, text, op)
    if text == "":
        assert fast is None  # Every(): Whoosh answers (the engine never asks: match-all)
        return
    assert fast is not None, "a query the engine builds fell back to Whoosh"
    assert fast.ids.tolist() == found.tolist()
    assert fast.top(None, len(found) + 1) == ranked


def test_top_k_with_filter_and_offsets_is_whoosh_order(engine):
    fast, found, ranked = both_ways(engine, "coalition OR nato OR gas OR the", "and")
    assert len(ranked) > 5
    allowed = np.zeros(engine._snapshot().tables.size, dtype=bool)
    allowed[found[::2]] = True
    expected = [(d, s) for d, s in ranked if allowed[d]][:3]
    assert fast.top(allowed, 3) == expected


def _answer(results):
    """What a search answers, less its timing and version."""
    return (results.total, results.hits, results.facets, results.suggestion)


def test_engine_answers_equal_the_whoosh_path(engine, monkeypatch):
    """Whole responses (hits, scores, totals, facets) with the fast path on and off."""
    requests = [SearchRequest(q=q, per_page=20) for q in QUERIES[:-1]]
    requests += [SearchRequest(q="coalition", sort="newest"), SearchRequest(q="nato", page=2)]
    requests += [  # OR questions (stop words, repeats) and feedback's AndMaybe
        SearchRequest(q="what did the coalition parties say about the coalition?", op="or"),
        SearchRequest(q="coalition talks nato", op="or", expand=True, per_page=20),
    ]
    fast = [engine.search(r) for r in requests]
    monkeypatch.setattr("search.engine.evaluate", lambda *args: None)
    monkeypatch.setattr(Engine, "_evaluate", staticmethod(lambda *args: None))
    slow = [engine.search(r) for r in requests]
    assert [_answer(a) for a in fast] == [_answer(b) for b in slow]


def test_deleted_documents_and_new_segments(fresh_root):
    """After API writes (a second segment, deletions) both paths still agree."""
    journal = generations.journal(fresh_root)
    journal.append(
        [
            put_op({"id": "extra-1", "text": "The coalition talks in Berlin went on for days."}),
            put_op({"id": "extra-2", "text": "Gas prices and the coalition: a new deal today."}),
            delete_op("coalition_body"),
        ]
    )
    assert apply_pending(fresh_root, wait_s=5)
    engine = Engine(fresh_root)
    assert len(engine._snapshot().reader.leaf_readers()) > 1
    for text in ["coalition", "coalition gas", '"the coalition"', "-coalition", "coal*"]:
        fast, found, ranked = both_ways(engine, text)
        assert fast is not None
        assert fast.ids.tolist() == found.tolist()
        assert fast.top(None, len(found) + 1) == ranked
    assert "coalition_body" not in {h.id for h in engine.search(SearchRequest(q="coalition")).hits}


class _Child:
    """An item of Whoosh's weighted tree: children sort by position (so its sort of
    (weight, child) pairs is a stable sort by weight), a merged pair never before an
    equal weight (so `insort` puts it after them)."""

    def __init__(self, tree, position: int | None = None):
        self.tree, self.position = tree, position

    def __lt__(self, other: _Child) -> bool:
        if self.position is None or other.position is None:
            return False
        return self.position < other.position


def _lowest_first(tree):
    """A nested pair with each pair's lower child first, as `_merge_order` gives them."""
    if isinstance(tree, int):
        return tree, tree
    (a, low_a), (b, low_b) = _lowest_first(tree[0]), _lowest_first(tree[1])
    return ((a, b), low_a) if low_a < low_b else ((b, a), low_b)


@given(st.lists(st.integers(0, 40), min_size=1, max_size=9))
def test_merge_order_is_whooshs_weighted_tree(weights):
    """`_merge_order` builds the tree `whoosh.util.make_weighted_tree` does, ties and all
    (weights 0 to 40 for many equal ones)."""
    items = [(weight, _Child(i, i)) for i, weight in enumerate(weights)]
    whooshs = make_weighted_tree(lambda a, b: _Child((a.tree, b.tree)), items)
    assert _merge_order(tuple(weights)) == _lowest_first(whooshs.tree)[0]


@given(
    st.lists(st.integers(0, 1 << 40), max_size=80),
    st.lists(st.integers(0, 1 << 40), max_size=80),
)
def test_sorted_unique_and_merge_are_numpys(a, b):
    """The sort-based set operations give numpy's answers, dtype included, and `_merge`
    says where each array's values sit in the union."""
    a_ids, b_ids = np.unique(np.array(a, dtype=np.int64)), np.unique(np.array(b, dtype=np.int64))
    raw = np.array(a + b, dtype=np.int64)
    assert _sorted_unique(raw).tolist() == np.unique(raw).tolist()
    union, places = _merge([a_ids, b_ids, a_ids[::2]])
    assert union.tolist() == np.union1d(a_ids, b_ids).tolist()
    assert union.dtype == np.union1d(a_ids, b_ids).dtype
    for values, at in zip([a_ids, b_ids, a_ids[::2]], places, strict=True):
        assert union[at].tolist() == values.tolist()


def test_remembered_term_lookups_are_bounded_and_change_no_answer(engine, monkeypatch):
    """Each term's per-segment lookup is remembered per version, up to CACHE_LOCATIONS
    segment entries (then forgotten at once): answers and suggestions are those of a fresh
    engine, and did-you-mean's counts those of Whoosh's own reader."""
    requests = [SearchRequest(q=q, per_page=20) for q in QUERIES[:-1]]
    requests += [SearchRequest(q="coalitoin parlament"), SearchRequest(q="nato coalitoin")]
    expected = [Engine(engine.root).search(r) for r in requests]
    monkeypatch.setattr("search.postings.CACHE_LOCATIONS", 7)
    bounded = Engine(engine.root)
    for _ in range(2):  # the second pass reads what the first left remembered
        got = [bounded.search(r) for r in requests]
        assert [_answer(a) for a in got] == [_answer(b) for b in expected]
        postings = bounded._snapshot().postings
        leaves = len(postings.bounds) - 1
        assert 0 < len(postings._frequencies) * leaves <= 7
        assert len(postings._located) <= 7
        assert set(postings._starts) <= set(postings._frequencies)
    snap = bounded._snapshot()
    node = p.parse("coalitoin parlament", "and")
    assert expected[-2].suggestion is not None
    assert expected[-2].suggestion == did_you_mean(snap.reader, "coalitoin parlament", node)


def test_decoded_postings_are_bounded_in_bytes_and_change_no_answer(engine, monkeypatch):
    """Decoded postings (phrases' positions included) are kept up to CACHE_BYTES, least
    recently used dropped first: a bounded cache answers as a fresh engine does, and
    holds no more than the bound (or its one newest entry)."""
    requests = [SearchRequest(q=q, per_page=20) for q in QUERIES]
    unbounded = Engine(engine.root)
    expected = [unbounded.search(r) for r in requests]
    bound = 1000
    assert unbounded._snapshot().postings._held > 2 * bound  # so the bound drops some
    monkeypatch.setattr("search.postings.CACHE_BYTES", bound)
    bounded = Engine(engine.root)
    for _ in range(2):  # the second pass finds some terms kept, others dropped
        got = [bounded.search(r) for r in requests]
        assert [_answer(a) for a in got] == [_answer(b) for b in expected]
        cache = bounded._snapshot().postings
        held = [size for _, size in cache._decoded.values()]
        assert cache._held == sum(held)
        assert cache._held <= bound or len(held) == 1
    # A phrase's positions are counted with its postings.
    unbounded = Engine(engine.root)
    unbounded.search(SearchRequest(q='"islamic state"'))
    cache = unbounded._snapshot().postings
    phrases = [v for v, _ in cache._decoded.values() if getattr(v, "positions", None) is not None]
    assert phrases
    assert cache._held == sum(
        sum(a.nbytes for a in (v.ids, v.scores, v.positions, v.starts))
        if isinstance(v, _Term)
        else v[0].nbytes + v[1].nbytes
        for v, _ in cache._decoded.values()
    )


# Queries whose trees Whoosh shapes differently from one Reuters segment to the next: And
# of three words (weighted by each segment's sizes), Ors of a word's six language forms
# (in segments this small, added one by one), phrases, NOT.
SEGMENTED_QUERIES = [
    "interest rates bank",
    "gold OR silver OR copper",
    "wheat OR corn OR grain",
    "oil prices opec",
    '"crude oil" -opec',
    "trade deficit japan",
    "dollar yen sterling",
    "-oil",
    "coffee (cocoa OR sugar)",
]


@pytest.fixture(
    scope="module", params=["pooled", "in segments", "partly pooled", "some without arrays"]
)
def segmented(tmp_path_factory, request):
    """1,200 Reuters articles in twelve segments of 100 (as a parallel build cuts them),
    its rare words' postings pooled in the lexicon (index/codec/lexicon.py: here nearly
    every word), or every word read from the segments, or a lexicon of every other
    segment (as one a reindex kept, lexicon.UNCOVERED_SHARE), the first left out: a
    word's postings come from the pool and from the segments it leaves out, in turn.
    Or every third segment without posting arrays (as API writes and merges are
    written) and left out of the lexicon, which pools words of at most 40 postings: a
    rare word comes from the pool and those segments' blocks, a common one from the
    other segments' arrays and those blocks, in one buffer."""
    assert REUTERS.exists(), f"the Reuters-21578 corpus is needed at {REUTERS}"
    folder = tmp_path_factory.mktemp("segmented")
    with gzip.open(REUTERS, "rt", encoding="utf-8") as lines:
        records = [line for _, line in zip(range(1200), lines, strict=False)]
    (folder / "reuters.jsonl").write_text("".join(records), "utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "PARALLEL_MIN_DOCUMENTS", 1)
        patch.setattr(pipeline, "SHARE_DOCUMENTS", 100)
        patch.setattr(pipeline, "default_workers", lambda: 1)
        if request.param == "in segments":
            patch.setattr(lexicon, "POOLED_POSTINGS", 0)
        assert reindex(folder / "index", [folder / "reuters.jsonl"]).switched
    root = folder / "index"
    generation = generations.generation_path(root, generations.current_generation(root))
    ix = generations.open_generation(root, generation.name)
    segment_ids = [segment.segment_id() for segment in ix._segments()]
    ix.close()
    if request.param == "partly pooled":
        lexicon.write(generation, segment_ids[1::2])
        lexicon._open.clear()
    if request.param == "some without arrays":
        for segment_id in segment_ids[::3]:
            (generation / arrays.FOLDER / f"{segment_id}.pack").unlink()
        arrays._open.clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(lexicon, "POOLED_POSTINGS", 40)
            assert lexicon.write(generation, segment_ids) == [
                s for n, s in enumerate(segment_ids) if n % 3
            ]
        lexicon._open.clear()
    return Engine(folder / "index")


def test_deleted_documents_in_segments_read_at_once(tmp_path, monkeypatch):
    """Deletions inside segments whose postings are read into one buffer (every segment
    has posting arrays: no API write added one without): the deleted documents' postings,
    and their positions, leave the others' as Whoosh reads them."""
    with gzip.open(REUTERS, "rt", encoding="utf-8") as lines:
        records = [line for _, line in zip(range(800), lines, strict=False)]
    (tmp_path / "reuters.jsonl").write_text("".join(records), "utf-8")
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(pipeline, "SHARE_DOCUMENTS", 200)
    monkeypatch.setattr(pipeline, "default_workers", lambda: 1)
    root = tmp_path / "index"
    assert reindex(root, [tmp_path / "reuters.jsonl"]).switched
    # Every other article with the word "oil" in it: the remaining matches of phrases
    # with it lie between deleted postings in each segment.
    oily = [
        r["id"]
        for r in map(json.loads, records)
        if re.search(r"\boil\b", (r.get("body") or "").lower())
    ]
    gone = oily[::2]
    assert len(gone) >= 10
    generations.journal(root).append([delete_op(doc_id) for doc_id in gone])
    assert apply_pending(root, wait_s=5)
    engine = Engine(root)
    segments = engine._snapshot().reader.leaf_readers()
    assert len(segments) == 4
    read_at_once = []
    real = PostingsCache._read_all

    def read_all(*args, **kwargs):
        read_at_once.append(real(*args, **kwargs))
        return read_at_once[-1]

    monkeypatch.setattr(PostingsCache, "_read_all", read_all)
    # Each query's words are new to the engine (its terms cache), so each is read.
    for text in ['"crude oil"', '"oil prices"', "oil", "crude", "prices -crude"]:
        read_at_once.clear()
        fast, found, ranked = both_ways(engine, text)
        assert fast is not None and any(read_at_once), text
        assert fast.ids.tolist() == found.tolist(), text
        assert fast.top(None, len(found) + 1) == ranked, text
    assert not {h.id for h in engine.search(SearchRequest(q="oil", per_page=100)).hits} & set(gone)


@pytest.mark.parametrize("text", SEGMENTED_QUERIES)
def test_segments_evaluated_in_runs_score_like_whoosh(segmented, text):
    fast, found, ranked = both_ways(segmented, text)
    assert fast is not None
    assert fast.ids.tolist() == found.tolist()
    assert fast.top(None, len(found) + 1) == ranked


def test_segments_of_one_shape_run_together_and_others_apart(segmented):
    """The queries above both join neighbouring segments into runs and split them where
    Whoosh's trees differ, so the comparison above covers both."""
    snap = segmented._snapshot()
    leaves = _leaves(snap.searcher)
    assert len(leaves) == 12
    counts = []
    for text in SEGMENTED_QUERIES:
        query, _ = compile_query(p.parse(text, "and"), snap.reader, snap.tables.languages())
        counts.append(len(_runs(_Shapes(snap.postings, snap.searcher, leaves, {}), query)))
    assert min(counts) < len(leaves)
    assert max(counts) > 1


# Ands of a rare word with a common one ("said" is in most of these articles), of three
# words, with a NOT and an Or, and phrases: the children after the smallest, and a
# phrase's words after its rarest, are read within the documents of those before them.
WITHIN_QUERIES = [
    "said opec",
    "oil said prices",
    "said -oil",
    "said (cocoa OR sugar)",
    '"crude oil" said',
    '"said it"',
    '"oil prices"',
    '"cocoa prices"',
    '"sugar exports" said',
    'cocoa "the price"',
]


def test_and_children_read_within_the_others_answer_like_whoosh(segmented, monkeypatch):
    """The first time a query is asked, its And's common word is read only within the rare
    word's documents and not cached; the second time it is read whole and cached, the
    third cut from the cache: each time Whoosh's answer, to the last bit."""
    within_reads = []
    real = PostingsCache._read_all

    def read_all(self, *args, within=None, **kwargs):
        found = real(self, *args, within=within, **kwargs)
        if within is not None:
            within_reads.append(found)
        return found

    monkeypatch.setattr(PostingsCache, "_read_all", read_all)

    def said_cached(engine: Engine) -> bool:
        decoded = engine._snapshot().postings._decoded
        return any(key[0] == "fielded" and key[2] == "said" for key in decoded)

    for text in WITHIN_QUERIES:
        engine = Engine(segmented.root)  # nothing cached: every word is new to it
        for time in ("first", "second", "third"):
            within_reads.clear()
            fast, found, ranked = both_ways(engine, text)
            assert fast is not None
            assert fast.ids.tolist() == found.tolist(), (text, time)
            assert fast.top(None, len(found) + 1) == ranked, (text, time)
            assert bool(within_reads) == (time == "first"), (text, time)
        if text == "said opec":
            assert said_cached(engine)
    # The first time, "said" is read within "opec"'s documents: fewer postings than it
    # has, and not kept.
    engine = Engine(segmented.root)
    within_reads.clear()
    both_ways(engine, "said opec")
    assert not said_cached(engine)
    snap = engine._snapshot()
    said = snap.searcher.schema["text_en"].to_bytes("said")
    in_text = int(snap.postings.frequencies(_leaves(snap.searcher), "text_en", said).sum())
    assert within_reads and max(len(r.ids) for r in within_reads) < in_text / 4


def test_terms_asked_within_are_remembered_up_to_a_bound(segmented, monkeypatch):
    """Which terms were read within some documents is kept for CACHE_ASKED of them, then
    forgotten at once: a worker answering new words for days does not grow without
    bound, and a forgotten term is read within again, with the same answers."""
    monkeypatch.setattr("search.postings.CACHE_ASKED", 3)
    engine = Engine(segmented.root)
    asked = engine._snapshot().postings._asked
    for text in WITHIN_QUERIES:
        fast, found, ranked = both_ways(engine, text)
        assert fast is not None
        assert fast.ids.tolist() == found.tolist(), text
        assert fast.top(None, len(found) + 1) == ranked, text
        assert 0 < len(asked) <= 3, text


@pytest.mark.parametrize("limit", [1, 400, 1 << 17])
def test_words_read_a_run_of_segments_at_a_time_score_like_whoosh(segmented, monkeypatch, limit):
    """A word's postings are read and scored a run of segments at a time (RUN_POSTINGS):
    one segment a run, a few, or all twelve, the answers are Whoosh's to the last bit."""
    monkeypatch.setattr("search.postings.RUN_POSTINGS", limit)
    engine = Engine(segmented.root)
    for text in [*SEGMENTED_QUERIES, "said", "oil"]:
        fast, found, ranked = both_ways(engine, text)
        assert fast is not None
        assert fast.ids.tolist() == found.tolist(), text
        assert fast.top(None, len(found) + 1) == ranked, text


def test_a_new_word_is_looked_up_once_in_each_segment(segmented, monkeypatch):
    """Without the generation's lexicon, a word's first search finds its document
    frequencies for the query's shape, its idf and its postings from the same remembered
    lookups: none of its keys is looked up in a segment's terms table twice (at a million
    articles a lookup is some 8 us, and a word is in a dozen fields of three dozen
    segments). A segment without posting arrays is the exception: Whoosh's own
    postings reader, which decodes it, looks the word up again."""
    monkeypatch.setattr("search.postings.open_lexicon", lambda folder: None)
    engine = Engine(segmented.root)
    decoded = _tables_without_arrays(engine)
    # The languages' document counts are each field's statistics, once per field and
    # version (search/ranking.py: LanguageBM25.documents), not a word's lookups.
    looked_up = Counter()
    entry = TermsTable._entry

    def counted(table, key, extra):
        language = pack_ushort(table.extras["fieldmap"][schema.LANGUAGE])
        if key[:2] != language and id(table) not in decoded:
            looked_up[(id(table), key)] += 1
        return entry(table, key, extra)

    monkeypatch.setattr(TermsTable, "_entry", counted)
    for text in SEGMENTED_QUERIES:
        engine.search(SearchRequest(q=text))
    assert len(looked_up) > 100
    assert sorted({key for (_, key), times in looked_up.items() if times > 1}) == []


def _tables_without_arrays(engine: Engine) -> set[int]:
    """The ids of the terms tables of the segments without posting arrays."""
    snap = engine._snapshot()
    return {
        id(reader._terms._tindex)
        for reader, _ in snap.reader.leaf_readers()
        if arrays._segment(snap.postings.folder, reader.segment().segment_id()) is None
    }


def test_a_new_word_is_looked_up_once_in_the_lexicon(segmented, monkeypatch):
    """With the lexicon of a build (index/codec/lexicon.py), a word's key in a field is
    found in all twelve segments at one lookup, once, and no segment's terms table is
    read for the words of the queries but those of the segments it leaves out, once
    (those without posting arrays, again by Whoosh's reader that decodes them)."""
    engine = Engine(segmented.root)
    decoded = _tables_without_arrays(engine)
    found = Counter()
    calls = []
    find_all = Lexicon.find_all

    def counted(table, terms):
        found.update(terms)
        calls.append(len(terms))
        return find_all(table, terms)

    tables = Counter()
    entry = TermsTable._entry

    def table_lookup(table, key, extra):
        language = pack_ushort(table.extras["fieldmap"][schema.LANGUAGE])
        if key[:2] != language and id(table) not in decoded:
            tables[key] += 1
        return entry(table, key, extra)

    monkeypatch.setattr(Lexicon, "find_all", counted)
    monkeypatch.setattr(TermsTable, "_entry", table_lookup)
    for text in SEGMENTED_QUERIES:
        engine.search(SearchRequest(q=text))
    assert len(found) > 20
    assert sorted(key for key, times in found.items() if times > 1) == []
    snap = engine._snapshot()
    segments = len(snap.searcher.reader().leaf_readers())
    left_out = segments - len(snap.postings._lexicon.segments) - len(decoded)
    assert set(tables.values()) == ({left_out} if left_out else set())
    # A query's words are found together (its fields' terms at once), not one by one.
    assert max(calls) >= 6 and sum(calls) > 2 * len(calls)


def test_did_you_means_words_are_looked_up_with_the_querys(segmented, monkeypatch):
    """The words did-you-mean asks about (search/suggest.py: every plain word of four
    letters or more) are found in the lexicon in the query's own lookup, not one more
    lookup each after it."""
    engine = Engine(segmented.root)
    calls: list[list] = []
    find_all = Lexicon.find_all

    def counted(table, terms):
        calls.append(list(terms))
        return find_all(table, terms)

    monkeypatch.setattr(Lexicon, "find_all", counted)
    engine.search(SearchRequest(q="coffee prices rose"))
    assert len(calls) == 1
    asked = {term for field, term in calls[0] if field == schema.WORDS}
    assert {b"coffee", b"prices"} <= asked
    assert b"rose" in asked


def test_pooled_words_are_read_from_the_pool_not_the_segments(segmented, monkeypatch):
    """Words the lexicon pools (here all, unless the variant pools none or only the
    rarest) are read in one or two reads, whatever the number of segments, and from the
    segments it does not cover; the others from each segment's arrays."""
    engine = Engine(segmented.root)
    pool_reads, segment_reads = Counter(), Counter()
    pooled, term_reads = Lexicon.pooled, postings.term_reads
    segments_read = set()

    def from_pool(table, entry, positions=False):
        pool_reads[positions] += 1
        return pooled(table, entry, positions)

    def from_segment(*args, **kwargs):
        segment_reads[args[2]] += 1
        segments_read.add(args[1])
        return term_reads(*args, **kwargs)

    monkeypatch.setattr(Lexicon, "pooled", from_pool)
    monkeypatch.setattr(postings, "term_reads", from_segment)
    for text in [*SEGMENTED_QUERIES, *WITHIN_QUERIES]:
        fast, found, ranked = both_ways(engine, text)
        assert fast is not None and fast.ids.tolist() == found.tolist(), text
        assert fast.top(None, len(found) + 1) == ranked, text
    snap = engine._snapshot()
    said = snap.postings._lexicon.find("text_en", snap.searcher.schema["text_en"].to_bytes("said"))
    leaves = [leaf.segment().segment_id() for leaf, _ in snap.searcher.reader().leaf_readers()]
    covered = snap.postings._lexicon.segments
    if said.pool is not None:
        assert pool_reads[True] > 5 and pool_reads[False] > 20
        # Only the segments the lexicon leaves out, if any, are read.
        assert segments_read == set(leaves) - set(covered)
        assert (segment_reads["text_en"] > 100) == (len(covered) < len(leaves))
    else:  # a lexicon pooling none, or only the rarest words
        assert bool(pool_reads) == (len(snap.postings._lexicon._pool) > 0)
        assert segment_reads["text_en"] > 100


def test_runs_of_segments_hold_about_the_limit_each():
    assert _runs_of_segments(np.array([5, 5, 5]), 10) == [range(0, 2), range(2, 3)]
    assert _runs_of_segments(np.array([20, 1, 1]), 10) == [range(0, 1), range(1, 3)]
    assert _runs_of_segments(np.array([1, 20, 1]), 10) == [range(0, 1), range(1, 2), range(2, 3)]
    assert _runs_of_segments(np.array([0, 0, 7]), 10) == [range(0, 3)]
    assert _runs_of_segments(np.array([], dtype=np.int64), 10) == []
    counts = np.array([400, 30, 30, 500, 0, 90])
    runs = _runs_of_segments(counts, 100)
    assert [seg for run in runs for seg in run] == list(range(len(counts)))
    assert all(counts[list(run)].sum() <= 100 or len(run) == 1 for run in runs)


def test_sorted_intersection_is_numpys_intersect1d():
    """Ids, places in each array and dtype, for sizes far apart, alike, and empty."""
    rng = np.random.default_rng(11)
    sizes = [(0, 50), (50, 0), (3, 200_000), (200_000, 40), (5_000, 6_000), (1, 1)]
    for small, large in sizes:
        a = np.unique(rng.integers(0, 300_000, small)).astype(np.int32)
        b = np.unique(rng.integers(0, 300_000, large)).astype(np.int64)
        for x, y in ((a, b), (b, a)):
            expected = np.intersect1d(x, y, assume_unique=True, return_indices=True)
            found = intersect_sorted(x, y)
            for want, got in zip(expected, found, strict=True):
                assert want.dtype == got.dtype and np.array_equal(want, got)
    common = np.arange(0, 100_000, 3)
    ids, at_a, at_b = intersect_sorted(common, np.arange(0, 100_000, 2))
    assert np.array_equal(ids, np.arange(0, 100_000, 6)) and len(at_a) == len(at_b) > 1000
