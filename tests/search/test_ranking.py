"""Ranking on the hand-written corpus: pinned orders, so a changed knob fails loudly.

The values in `search/ranking.py` were chosen on public test collections
(`benchmarks/relevance.py`); these tests pin what they do to a few news queries.
"""

from __future__ import annotations

import pytest

from search.request import SearchRequest


def ranked(engine, q, op="or", **kwargs) -> list[str]:
    return [h.id for h in engine.search(SearchRequest(q=q, op=op, per_page=100, **kwargs)).hits]


@pytest.mark.parametrize(
    "q, op, order",
    [
        (
            "coalition parties talks",
            "or",
            [
                "coalition_title",
                "coalition_body",
                "001_3dbdce3846ecd486",
                "003_ec049e7e27b04e78",
                "002_75796edd39bcd684",
                "boilerplate_nato",
                "004_7af4038d53513d56",
                "000_360175e577de7cee",
            ],
        ),
        (
            "NATO defence ministers Brussels",
            "or",
            [
                "boilerplate_nato",
                "002_75796edd39bcd684",
                "001_3dbdce3846ecd486",
                "wire_brussels",
                "003_ec049e7e27b04e78",
                "000_360175e577de7cee",
                "004_7af4038d53513d56",
                "fr_ecoles",
            ],
        ),
        (
            "coalition",
            "and",
            [
                "003_ec049e7e27b04e78",
                "001_3dbdce3846ecd486",
                "002_75796edd39bcd684",
                "coalition_title",
                "coalition_body",
                "004_7af4038d53513d56",
            ],
        ),
        (
            "Stoltenberg",
            "and",
            [
                "boilerplate_nato",
                "003_ec049e7e27b04e78",
                "001_3dbdce3846ecd486",
                "002_75796edd39bcd684",
            ],
        ),
    ],
)
def test_pinned_orders(engine, q, op, order):
    assert ranked(engine, q, op) == order


def test_a_headline_word_outranks_the_same_word_in_the_body(engine):
    # "coalition" is only in coalition_title's headline, and in coalition_body's body
    order = ranked(engine, "coalition")
    assert order.index("coalition_title") < order.index("coalition_body")


def test_stop_words_do_not_change_an_or_query(engine):
    assert ranked(engine, "the coalition talks collapse") == ranked(
        engine, "coalition talks collapse"
    )


def test_a_repeated_word_weighs_more(engine):
    once = ranked(engine, "coalition talks")
    twice = ranked(engine, "coalition coalition talks")
    assert set(once) == set(twice) and once != twice
    # boilerplate_nato says "talks" but not "coalition": stressing "coalition" lowers it
    assert "boilerplate_nato" not in ranked(engine, "coalition")
    assert twice.index("boilerplate_nato") > once.index("boilerplate_nato")


def test_ranking_is_the_order_search_pages_through(engine):
    for request in (
        SearchRequest(q="coalition talks NATO", op="or", per_page=100),
        SearchRequest(q="coalition talks NATO", op="or", per_page=100, expand=True),
    ):
        deep = [doc for doc, _ in engine.ranking(request, 1000)]
        assert deep == [h.id for h in engine.search(request).hits]


def test_expand_reorders_without_changing_the_matches(engine):
    plain = ranked(engine, "coalition parties talks")
    expanded = ranked(engine, "coalition parties talks", expand=True)
    assert sorted(plain) == sorted(expanded)
    assert expanded[:2] == ["coalition_title", "coalition_body"]


def test_each_language_has_its_own_statistics(engine):
    snap = engine._snapshot()
    model, searcher = snap.searcher.weighting, snap.searcher
    counts = {v.value: v.count for v in engine.stats().languages}
    assert model.documents(searcher, "text_de") == counts["de"]
    assert model.documents(searcher, "text_en") == counts["en"]
    german_length = searcher.field_length("text_de") / counts["de"]
    assert model.average_length(searcher, "text_de") == pytest.approx(german_length)
