"""Who appears with whom, and how sources differ: aggregates over a set of matches.

The engine hands over the facet tables and the mask of documents the query and filters
match; everything here is counting over those arrays, plus (for the words that set a
source apart) reading a bounded sample of each source's matches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
from whoosh.lang import NoStopWords, stopwords_for_language

from index.analysis import fold, word_list
from index.documents import Document
from search.results import (
    ActorView,
    Bucket,
    Count,
    RelatedActor,
    SignificantTerm,
    SourceProfile,
    Timeline,
    bucket_key,
)
from search.significance import significant
from search.tables import MultiColumn, SingleColumn, Tables

RELATED_ACTORS = 20
TOP_SOURCES = 10
TOP_ACTORS = 10
TOP_TERMS = 15
# Matches per source read for its distinctive words: enough for their document
# frequencies to be stable, few enough that a comparison stays interactive.
TERM_SAMPLE = 200
TERM_MIN_CHARS = 4


def timeline_of(dates: np.ndarray, mask: np.ndarray, interval: str) -> Timeline:
    """Documents of `mask` per year, month or day, with the undated count."""
    chosen = dates[mask]
    dated = chosen[chosen > 0]
    divisor = {"year": 10000, "month": 100, "day": 1}[interval]
    keys, counts = np.unique(dated // divisor, return_counts=True)
    buckets = [
        Bucket(bucket_key(int(k), interval), int(c))
        for k, c in zip(keys.tolist(), counts.tolist(), strict=True)
    ]
    return Timeline(interval, buckets, undated=int((chosen == 0).sum()), total=int(mask.sum()))


def top_counts(column: SingleColumn | MultiColumn, mask: np.ndarray, limit: int) -> list[Count]:
    counts = column.counts(mask)
    order = np.lexsort((np.arange(len(counts)), -counts))
    return [Count(column.values[i], int(counts[i])) for i in order[:limit] if counts[i]]


def actor_view(
    tables: Tables,
    vids: list[int],
    scope: np.ndarray,
    interval: str,
    type_of: Callable[[int, np.ndarray], str | None],
) -> ActorView:
    """The actor with value ids `vids` (one name, its aliases) within `scope` (the query's
    and filters' matches): mentions over time, sources, and the actors significantly often
    named with it, against the whole scope as background. `type_of(vid, mask)` reads
    an actor's type from a document of `mask` naming it."""
    actor = tables.actor
    mine = actor.mask_for(vids) & scope
    fg_total, bg_total = int(mine.sum()), int(scope.sum())
    fg = actor.counts(mine)
    fg[vids] = 0  # not related to itself
    bg = actor.counts(scope)
    related = [
        RelatedActor(actor.values[vid], type_of(vid, mine), count, score)
        for vid, count, score in significant(fg, fg_total, bg, bg_total, RELATED_ACTORS)
    ]
    return ActorView(
        name=actor.values[vids[0]],
        type=type_of(vids[0], mine if fg_total else tables.live),
        total=fg_total,
        timeline=timeline_of(tables.date, mine, interval),
        sources=top_counts(tables.source, mine, TOP_SOURCES),
        related=related,
    )


def distinctive_words(
    samples: dict[str, list[Document]], rest: list[Document]
) -> dict[str, list[SignificantTerm]]:
    """Per source, the words its sampled matches use far more often than all samples do;
    `rest` (a sample of the other sources' matches) joins the background: what a single
    source is compared with."""
    frequencies: dict[str, Counter[str]] = {name: Counter() for name in samples}
    for name, docs in samples.items():
        for doc in docs:
            frequencies[name].update(_words(doc))
    others: Counter[str] = Counter()
    for doc in rest:
        others.update(_words(doc))
    vocabulary = sorted(set().union(*frequencies.values()))
    at = {word: i for i, word in enumerate(vocabulary)}
    matrix = np.zeros((len(samples), len(vocabulary)), dtype=np.int64)
    for row, name in enumerate(samples):
        for word, count in frequencies[name].items():
            matrix[row, at[word]] = count
    background = matrix.sum(axis=0) + np.array([others[w] for w in vocabulary], dtype=np.int64)
    bg_total = sum(len(docs) for docs in samples.values()) + len(rest)
    result = {}
    for row, (name, docs) in enumerate(samples.items()):
        found = significant(matrix[row], len(docs), background, bg_total, TOP_TERMS)
        result[name] = [SignificantTerm(vocabulary[i], count, score) for i, count, score in found]
    return result


def source_profile(
    tables: Tables, source: str, mask: np.ndarray, interval: str, terms: list[SignificantTerm]
) -> SourceProfile:
    return SourceProfile(
        source=source,
        total=int(mask.sum()),
        timeline=timeline_of(tables.date, mask, interval),
        actors=top_counts(tables.actor, mask, TOP_ACTORS),
        terms=terms,
    )


def _words(doc: Document) -> set[str]:
    """The distinct content words of a document (folded; numbers and short words out)."""
    stop = _stop_words(doc.language)
    return {
        word
        for word in (fold(w) for w in word_list(f"{doc.title}\n{doc.text}"))
        if len(word) >= TERM_MIN_CHARS and word.isalpha() and word not in stop
    }


def _stop_words(language: str) -> frozenset[str]:
    try:
        return stopwords_for_language(language)
    except NoStopWords:
        return frozenset()
