"""Prefix and fuzzy terms expand to Whoosh's words, in Whoosh's order, through the lexicon.

The engine compiles queries against IndexWords (search/words.py): the generation
lexicon's words merged with those of the segments it does not cover. After API writes
add words only their new segment holds, every expansion must still be what Whoosh's own
reader walks from all the segments.
"""

from __future__ import annotations

from index import generations, schema
from index.applier import apply_pending, put_op
from search.engine import Engine
from search.request import SearchRequest

NEW_TEXT = "Quokkas and quolls: coalitional zoologists quarrel over coalface counts."


def _words(fresh_root):
    journal = generations.journal(fresh_root)
    journal.append([put_op({"id": "new-words", "text": NEW_TEXT})])
    assert apply_pending(fresh_root, wait_s=5)
    engine = Engine(fresh_root)
    snap = engine._snapshot()
    words = snap.postings.words(snap.searcher)
    assert words._lexicon is not None and len(words._uncovered) == 1
    return engine, snap.reader, words


def test_prefixes_expand_to_whooshs_words_with_those_of_new_segments(fresh_root):
    _, reader, words = _words(fresh_root)
    everything = list(reader.expand_prefix(schema.WORDS, ""))
    assert b"quokkas" in everything and b"coalitional" in everything
    assert list(words.expand_prefix(schema.WORDS, "")) == everything
    prefixes = sorted({w.decode()[:n] for w in everything for n in (1, 2, 4)})
    for prefix in prefixes:
        assert list(words.expand_prefix(schema.WORDS, prefix)) == list(
            reader.expand_prefix(schema.WORDS, prefix)
        ), prefix
    # other fields are Whoosh's own walk
    assert list(words.expand_prefix(schema.SOURCE_TEXT, "")) == list(
        reader.expand_prefix(schema.SOURCE_TEXT, "")
    )


def test_fuzzy_terms_find_whooshs_words(fresh_root):
    _, reader, words = _words(fresh_root)
    for text in ["quokas", "coalitoin", "coalface", "quarel", "natoo", "zebra"]:
        for distance, shared in [(1, 1), (2, 2), (2, 0)]:
            expected = list(reader.terms_within(schema.WORDS, text, distance, prefix=shared))
            got = list(words.terms_within(schema.WORDS, text, distance, prefix=shared))
            assert got == expected, (text, distance, shared)


def test_searches_with_prefix_and_fuzzy_terms_find_the_new_words(fresh_root):
    engine, _, _ = _words(fresh_root)
    for q in ["quok*", "quokas~", "coalitional", "coalf*"]:
        hits = engine.search(SearchRequest(q=q)).hits
        assert "new-words" in {hit.id for hit in hits}, q
