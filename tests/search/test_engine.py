"""The engine on a real index: query syntax, analysis, filters, facets, sorting, snippets."""

from __future__ import annotations

import datetime as dt

import pytest

from search.request import Filters, SearchRequest
from tests.helpers import assert_safe_snippet


def ids(engine, q="", **kwargs) -> list[str]:
    return [hit.id for hit in engine.search(SearchRequest(q=q, per_page=100, **kwargs)).hits]


def test_plain_words_are_anded(engine):
    both = set(ids(engine, "parliament elections"))
    assert both == {"xss_markup"}
    assert set(ids(engine, "parliament")) > both


def test_op_or_ors_plain_words(engine):
    assert set(ids(engine, "zebra parliament", op="or")) == set(ids(engine, "parliament"))
    assert ids(engine, "zebra parliament") == []


def test_boolean_operators_and_groups(engine):
    assert set(ids(engine, "coalition OR gas")) == set(ids(engine, "coalition")) | set(
        ids(engine, "gas")
    )
    nato_not_trump = set(ids(engine, "NATO NOT Trump"))
    assert nato_not_trump and not nato_not_trump & set(ids(engine, "Trump"))
    assert set(ids(engine, "NATO -Trump")) == nato_not_trump
    assert set(ids(engine, "(gas OR coalition) AND parties")) == {
        "coalition_title",
        "coalition_body",
    }


def test_phrases_need_adjacent_words(engine):
    assert "coalition_body" in ids(engine, "coalition parties")
    assert ids(engine, '"new coalition"') == ["coalition_body"]
    assert ids(engine, '"coalition new"') == []


def test_field_queries(engine):
    seeds_with_coalition_titles = {
        "001_3dbdce3846ecd486",
        "002_75796edd39bcd684",
        "003_ec049e7e27b04e78",
    }
    assert set(ids(engine, "title:coalition")) == {"coalition_title"} | seeds_with_coalition_titles
    assert set(ids(engine, "text:coalition")) >= {"coalition_body"}
    assert "coalition_title" not in ids(engine, "text:coalition")
    assert set(ids(engine, "source:wire")) == {"xss_markup", "coalition_title"}
    assert set(ids(engine, "language:de")) == {"de_fluechtlinge"}


def test_english_stemming(engine):
    assert "wire_brussels" in ids(engine, "agreeing")
    assert "wire_brussels" in ids(engine, "households")
    assert "wire_brussels" in ids(engine, "household")


@pytest.mark.parametrize(
    "query, doc",
    [
        ("Flüchtling", "de_fluechtlinge"),  # German plural found by singular
        ("Lager", "de_fluechtlinge"),  # "Lagern" (dative plural)
        ("école", "fr_ecoles"),
        ("sequías", "es_sequia"),
        ("treno", "it_treni"),
        ("dijk", "nl_dijken"),
        ("chuva", "pt_chuvas"),
        ("станции", "ru_moskva"),  # "станция" in another case
    ],
)
def test_stemming_in_the_documents_language(engine, query, doc):
    assert doc in ids(engine, query)


def test_accent_folding_both_ways(engine):
    assert "undated_rub" in ids(engine, "Rub")
    assert "undated_rub" in ids(engine, "RÜB")
    assert "fr_ecoles" in ids(engine, "ecoles")
    assert "de_fluechtlinge" in ids(engine, "Fluchtlinge")


def test_prefix_and_fuzzy(engine):
    assert set(ids(engine, "stoltenb*")) == set(ids(engine, "Stoltenberg"))
    assert set(ids(engine, "Stoltenbrg~")) == set(ids(engine, "Stoltenberg"))
    assert "wire_brussels" in ids(engine, "Brusels~2")


def test_question_mark_is_not_a_wildcard(engine):
    assert ids(engine, "gas price cap?") == ids(engine, "gas price cap") == ["wire_brussels"]


def test_filters_by_source_language_and_date(engine):
    assert set(ids(engine, filters=Filters(sources=("Test Wire",)))) == {
        "xss_markup",
        "coalition_title",
    }
    assert set(ids(engine, filters=Filters(sources=("Test Wire", "Daily Observer")))) == {
        "xss_markup",
        "coalition_title",
        "coalition_body",
    }
    assert set(ids(engine, filters=Filters(sources=("test wire",)))) == {
        "xss_markup",
        "coalition_title",
    }
    assert ids(engine, "coalition", filters=Filters(languages=("fr",))) == []
    in_2024 = set(
        ids(engine, filters=Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31)))
    )
    assert in_2024 == {"xss_markup", "coalition_title", "coalition_body"}
    one_day = ids(
        engine, filters=Filters(date_from=dt.date(2024, 2, 9), date_to=dt.date(2024, 2, 9))
    )
    assert one_day == ["coalition_title"]


def test_facets_are_disjunctive_and_keep_selected_values(engine):
    plain = engine.search(SearchRequest(q="coalition"))
    picked = engine.search(
        SearchRequest(q="coalition", filters=Filters(sources=("Daily Observer",)))
    )
    sources = {f.value: f for f in picked.facets["source"]}
    assert sources["Daily Observer"].selected and sources["Daily Observer"].count == 1
    # the other sources keep their counts: the facet ignores its own filter
    assert {f.value: f.count for f in plain.facets["source"]} == {
        value: f.count for value, f in sources.items()
    }
    # ... but other facets apply it
    assert sum(f.count for f in picked.facets["language"]) == picked.total == 1
    absent = engine.search(
        SearchRequest(q="coalition", filters=Filters(sources=("Nowhere Times",)))
    )
    assert absent.total == 0
    assert [(f.value, f.count, f.selected) for f in absent.facets["source"] if f.selected] == [
        ("Nowhere Times", 0, True)
    ]


def test_year_facet_and_language_facet(engine):
    result = engine.search(SearchRequest())
    years = {f.value: f.count for f in result.facets["year"]}
    assert years["2024"] == 3 and years["2017"] == 2
    languages = {f.value: f.count for f in result.facets["language"]}
    assert {"de", "fr", "es", "it", "nl", "pt", "ru", "en"} <= set(languages)


def test_sort_by_date_puts_undated_last(engine):
    newest = ids(engine, sort="newest")
    oldest = ids(engine, sort="oldest")
    assert newest[0] == "coalition_body" and oldest[0] == "004_7af4038d53513d56"
    undated = {"undated_rub", "short"}
    assert set(newest[-len(undated) :]) >= undated - {"short"}
    assert set(oldest[-len(undated) :]) >= undated - {"short"}


def test_paging_is_consistent(engine):
    everything = ids(engine, "the OR la OR die OR de", op="or")
    pages = []
    for page in range(1, 5):
        pages += [
            h.id
            for h in engine.search(
                SearchRequest(q="the OR la OR die OR de", op="or", page=page, per_page=3)
            ).hits
        ]
    assert pages == everything[: len(pages)]
    assert len(set(pages)) == len(pages)


def test_snippets_mark_matches_and_escape_markup(engine):
    result = engine.search(SearchRequest(q="parliament elections"))
    snippet = result.hits[0].snippet
    assert "<mark>parliament</mark>" in snippet and "<mark>elections</mark>" in snippet
    assert "&lt;img src=x onerror=alert(2)&gt;" in snippet
    assert_safe_snippet(snippet)
    for hit in engine.search(SearchRequest(q="alert OR mark OR onerror OR script", op="or")).hits:
        assert_safe_snippet(hit.snippet)


def test_snippets_mark_stemmed_and_folded_forms(engine):
    snippet = engine.search(SearchRequest(q="Rub")).hits[0].snippet
    assert "<mark>Rüb</mark>" in snippet
    snippet = engine.search(SearchRequest(q="household")).hits[0].snippet
    assert "<mark>households</mark>" in snippet


def test_phrase_is_marked_as_a_whole(engine):
    snippet = engine.search(SearchRequest(q='"new coalition"')).hits[0].snippet
    assert "<mark>new coalition</mark>" in snippet


def test_did_you_mean(engine):
    result = engine.search(SearchRequest(q="Stoltenbrg"))
    assert result.total == 0 and result.suggestion == "stoltenberg"
    assert engine.search(SearchRequest(q="Stoltenberg")).suggestion is None


def test_document_similar_timeline_stats(engine):
    view = engine.document("coalition_title", q="coalition")
    assert view.document.title == "Coalition talks collapse"
    assert engine.document("missing") is None
    similar = [hit.id for hit in engine.similar("001_3dbdce3846ecd486")]
    assert similar[0] == "002_75796edd39bcd684"
    assert "001_3dbdce3846ecd486" not in similar
    timeline = engine.timeline("", Filters(), interval="year")
    assert sum(b.count for b in timeline.buckets) + timeline.undated == timeline.total
    assert timeline.undated >= 1
    stats = engine.stats()
    assert stats.documents == timeline.total


def test_match_all_lists_every_document(engine):
    result = engine.search(SearchRequest(per_page=100))
    assert result.total == len(result.hits) == engine.stats().documents


def test_years_filter_any_of_them_within_the_range(engine):
    in_2017 = set(ids(engine, filters=Filters(years=(2017,))))
    in_2024 = set(ids(engine, filters=Filters(years=(2024,))))
    both = set(ids(engine, filters=Filters(years=(2017, 2024))))
    assert in_2017 and in_2024 and both == in_2017 | in_2024
    ranged = Filters(years=(2017, 2024), date_from=dt.date(2024, 1, 1))
    assert set(ids(engine, filters=ranged)) == in_2024
    result = engine.search(SearchRequest(filters=Filters(years=(2017, 1999))))
    years = {f.value: f for f in result.facets["year"]}
    assert years["2017"].selected and not years["2024"].selected
    assert (years["1999"].count, years["1999"].selected) == (0, True)  # chosen stays listed


def test_document_text_keeps_paragraphs_only_when_asked(engine):
    plain = engine.document("001_3dbdce3846ecd486", "NATO")
    lines = engine.document("001_3dbdce3846ecd486", "NATO", keep_lines=True)
    assert "\n" not in plain.text_html
    assert "\n\n" in lines.text_html and "\n\n\n" not in lines.text_html
    assert lines.text_html.count("<mark>") == plain.text_html.count("<mark>") > 0
    assert " ".join(lines.text_html.split()) == " ".join(plain.text_html.split())
