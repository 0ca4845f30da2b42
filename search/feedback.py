"""Pseudo-relevance feedback for `expand=true`: RM3 over a query's best hits.

The words the best-ranked articles share, beyond the ones the user typed, say what the
query is about ("ceasefire" for a query about truce talks). RM3 (Abdul-Jaleel et al.,
UMass at TREC 2004; the form Anserini ships) takes FEEDBACK_DOCS best hits, weighs each
of their words by its share of the article times the article's share of the hits'
scores, keeps the FEEDBACK_TERMS heaviest, and mixes them with the query's own words.

Expansion reorders, it never adds or removes: the expanded query scores the same matches
(filters, AND, NOT and the total all unchanged), so facets and counts do not move. It is
off by default because it helps broad questions with many relevant articles and hurts
pointed ones with a single answer (measured: docs/benchmarks.md, "Relevance").
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from whoosh import query as wq

from index import schema
from index.analysis import STEMMED_LANGUAGES, document_terms, stop_words, term
from index.writer import stored_document
from search import parser as p
from search.ranking import TITLE_WEIGHT, FieldedTerm

# Anserini's RM3 defaults, taken as published rather than tuned here.
FEEDBACK_DOCS = 10
FEEDBACK_TERMS = 10
# Share of the final query kept by the user's own words.
ORIGINAL_WEIGHT = 0.5
# Shorter index terms are initials and unit letters, not topics.
MIN_TERM_CHARS = 2


def expand(searcher, query: wq.Query, node: p.Node, hits: list[tuple[int, float]]) -> wq.Query:
    """`query` mixed with the feedback words of `hits` ((docnum, score), best first)."""
    model = _relevance_model(searcher, hits[:FEEDBACK_DOCS])
    if not model:
        return query
    original = ORIGINAL_WEIGHT / _query_weight(node)
    extra = 1.0 - ORIGINAL_WEIGHT
    clauses = [
        FieldedTerm(_fields(lang), stem, boost=extra * share)
        for (lang, stem), share in model.items()
    ]
    return wq.AndMaybe(query.with_boost(query.boost * original), wq.Or(clauses))


def _relevance_model(searcher, hits: list[tuple[int, float]]) -> dict:
    """(language, term) -> weight, the FEEDBACK_TERMS heaviest, weights summing to 1."""
    total = sum(score for _, score in hits)
    if total <= 0:
        return {}
    weights: Counter = Counter()
    for docnum, score in hits:
        doc = stored_document(searcher.stored_fields(docnum))
        lang = doc.language if doc.language in STEMMED_LANGUAGES else None
        terms = document_terms(f"{doc.title}\n{doc.text}", lang)
        if not terms:
            continue
        ignored = _stop_terms(lang)
        share = score / total / len(terms)
        for stem, count in Counter(terms).items():
            if len(stem) >= MIN_TERM_CHARS and not stem.isdigit() and stem not in ignored:
                weights[(lang, stem)] += count * share
    top = sorted(weights.items(), key=lambda item: (-item[1], item[0][1]))[:FEEDBACK_TERMS]
    norm = sum(weight for _, weight in top)
    return {key: weight / norm for key, weight in top} if norm else {}


def _query_weight(node: p.Node) -> float:
    """How many words the query says (repeats counted): what the mix normalises by."""
    return sum(getattr(leaf, "weight", 1) for leaf in p.positive_leaves(node)) or 1


def _fields(lang: str | None) -> tuple[tuple[str, float], ...]:
    return (
        (schema.field_for(schema.TITLE, lang), TITLE_WEIGHT),
        (schema.field_for(schema.TEXT, lang), 1.0),
    )


@cache
def _stop_terms(lang: str | None) -> frozenset[str]:
    """The index terms of `lang`'s stop words (any language's, for an unstemmed one):
    feedback never adds them."""
    languages = [lang] if lang else sorted(STEMMED_LANGUAGES)
    return frozenset(term(word, lang) for code in languages for word in stop_words(code))
