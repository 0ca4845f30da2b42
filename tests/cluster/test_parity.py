"""Both backends find the same documents: hit id sets and totals, query by query.

The queries are the existing API and engine tests' ones plus every syntax the contract
lists; the corpus is the same (tests/data and seeds/). Scores and order are each engine's
own (BM25F per language in Whoosh, Sphinx's BM25 per shard), so only sets are compared,
and facet counts, which depend on sets only.
"""

from __future__ import annotations

import datetime as dt

import pytest

from search.request import Filters, SearchRequest

QUERIES = [
    "NATO",
    "Trump",
    "coalition",
    "coalition talks parties",
    "parliament elections",
    "Stoltenberg",
    "Stoltenbrg",
    "household",
    "Rub",
    '"new coalition"',
    "nato OR parliament",
    "coalition NOT nato",
    "NOT nato",
    "-coalition",
    "title:coalition",
    "text:coalition",
    "source:observer",
    "actor:stoltenberg",
    "language:de",
    "coal*",
    "stoltenberk~",
    "(nato OR coalition) -trump",
    "Flüchtlinge",
    "fluchtlinge",
    "écoles",
    "the OR la OR die OR de",
    "alert OR script OR onerror",
    "",
]


def same_answers(engine, sphinx, request: SearchRequest) -> None:
    embedded = engine.search(request)
    cluster = sphinx.search(request)
    assert cluster.total == embedded.total, request
    assert {h.id for h in cluster.hits} == {h.id for h in embedded.hits}, request
    assert not cluster.partial
    for name, values in embedded.facets.items():
        expected = {(v.value, v.count, v.selected) for v in values}
        assert {(v.value, v.count, v.selected) for v in cluster.facets[name]} == expected, name


@pytest.mark.parametrize("q", QUERIES)
@pytest.mark.parametrize("op", ["and", "or"])
def test_the_same_documents_match(engine, sphinx, q, op):
    same_answers(engine, sphinx, SearchRequest(q=q, op=op, per_page=100, facet_size=100))


@pytest.mark.parametrize(
    "filters",
    [
        Filters(sources=("RFE/RL",)),
        Filters(sources=("rfe/rl", "Daily Observer")),
        Filters(actors=("Jens Stoltenberg",)),
        Filters(languages=("en",)),
        Filters(date_from=dt.date(2017, 1, 1), date_to=dt.date(2019, 12, 31)),
        Filters(years=(2017,)),
        Filters(sources=("Nowhere Times",)),
    ],
)
@pytest.mark.parametrize("q", ["", "coalition", "NATO"])
def test_filters_and_disjunctive_facets_agree(engine, sphinx, q, filters):
    same_answers(engine, sphinx, SearchRequest(q=q, filters=filters, per_page=100, facet_size=100))


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_orders_agree_where_dates_differ(engine, sphinx, sort):
    """Ordered by date (undated last) the sequences of dates are the same."""
    request = SearchRequest(q="", sort=sort, per_page=100)
    dates = [h.date for h in engine.search(request).hits]
    assert [h.date for h in sphinx.search(request).hits] == dates


def test_paging_walks_every_hit_once(sphinx):
    total = sphinx.search(SearchRequest(q="coalition OR nato", per_page=100)).total
    seen = []
    for page in range(1, total // 3 + 2):
        seen += [
            h.id
            for h in sphinx.search(SearchRequest(q="coalition OR nato", page=page, per_page=3)).hits
        ]
    assert len(seen) == len(set(seen)) == total


def test_snippets_and_documents_read_the_same(engine, sphinx):
    for q in ("coalition", '"new coalition"', "Rub"):
        request = SearchRequest(q=q, per_page=100)
        snippets = {h.id: h.snippet for h in engine.search(request).hits}
        assert {h.id: h.snippet for h in sphinx.search(request).hits} == snippets
    for hit in engine.search(SearchRequest(q="", per_page=100)).hits:
        assert sphinx.document(hit.id, "coalition") == engine.document(hit.id, "coalition")
    assert sphinx.document("no-such-id") is None


def test_suggestions_timeline_and_stats_agree(engine, sphinx):
    misspelt = SearchRequest(q="Stoltenbrg")
    assert sphinx.search(misspelt).suggestion == engine.search(misspelt).suggestion
    assert engine.search(misspelt).suggestion
    assert sphinx.suggest("stolt") == engine.suggest("stolt")
    for interval in ("year", "month", "day"):
        assert sphinx.timeline("NATO", Filters(), interval=interval) == engine.timeline(
            "NATO", Filters(), interval=interval
        )
    ours, theirs = sphinx.stats(), engine.stats()
    assert (ours.documents, ours.sources, ours.languages, ours.undated) == (
        theirs.documents,
        theirs.sources,
        theirs.languages,
        theirs.undated,
    )
    assert ours.index_bytes > 0


def test_more_like_this_finds_related_documents(sphinx):
    similar = sphinx.similar("coalition_title")
    assert similar and "coalition_title" not in {h.id for h in similar}
    assert sphinx.similar("no-such-id") is None
