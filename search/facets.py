"""Disjunctive facet counts: each facet counts with every filter except its own.

So picking one source still shows the other sources' counts (Solr's tag/exclude), and a
selected value stays listed, at count 0 if need be. With stories (`collapse=story`), each
listed value also counts the stories among its articles: only the listed values' pairs
are sorted, after the article counts chose them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from search.filters import combine, value_ids
from search.request import Filters
from search.results import FacetValue
from search.stories import StoryTable
from search.tables import Tables


def facet_counts(
    tables: Tables,
    matches: np.ndarray,
    masks: dict[str, np.ndarray],
    filters: Filters,
    names: tuple[str, ...],
    size: int,
    stories: StoryTable | None = None,
    filtered: np.ndarray | None = None,
) -> dict[str, list[FacetValue]]:
    """Counts for each facet in `names` over `matches` (a mask of the query's documents,
    live); with `stories`, each value's stories too. `filtered`: the numbers of the
    documents `matches` and every mask leave, where the caller has them already."""
    result: dict[str, list[FacetValue]] = {}
    # Each facet's documents, as numbers: those of every facet without a filter of its
    # own are the same (what every filter leaves), found once.
    scopes: dict[str | None, np.ndarray] = {} if filtered is None else {None: filtered}
    for name in names:
        own = name if name in masks else None
        if own not in scopes:
            scopes[own] = np.flatnonzero(combine(matches, masks, leave_out=name))
        scope = scopes[own]
        if name == "year":
            result[name] = _years(tables, scope, filters, size, stories)
            continue
        column = getattr(tables, name)
        selected_values = {
            "source": filters.sources,
            "actor": filters.actors,
            "language": filters.languages,
        }[name]
        selected = set(value_ids(column, selected_values, canonicalise=name == "actor"))
        counts = column.counts(scope)
        chosen = top_ids(column.values, counts, selected, size)
        story_counts: list[int | None] = [None] * len(chosen)
        if stories is not None:
            docs, vids = column.pairs(scope)
            story_counts = list(_stories_per(stories, docs, vids, chosen))
        result[name] = [
            FacetValue(column.values[vid], int(counts[vid]), vid in selected, n)
            for vid, n in zip(chosen, story_counts, strict=True)
        ]
        known = {column.values[vid] for vid in selected}
        for value in selected_values:  # selected values the index does not hold
            if not value_ids(column, (value,), canonicalise=name == "actor") and value not in known:
                result[name].append(FacetValue(value, 0, True, None if stories is None else 0))
    return result


def top_values(
    values: list[str], counts: np.ndarray, selected: set[int], size: int
) -> list[FacetValue]:
    chosen = top_ids(values, counts, selected, size)
    return [FacetValue(values[vid], int(counts[vid]), vid in selected) for vid in chosen]


def top_ids(values: list[str], counts: np.ndarray, selected: set[int], size: int) -> list[int]:
    """The value ids listed: the `size` most counted (ties by value), then the selected."""
    nonzero = np.flatnonzero(counts)
    if len(nonzero) > size:
        # Only values counted at least as often as the size-th best can be listed: sort
        # those (thousands of actors otherwise go through a Python sort per query).
        kth = np.partition(counts[nonzero], len(nonzero) - size)[len(nonzero) - size]
        nonzero = nonzero[counts[nonzero] >= kth]
    order = sorted(nonzero.tolist(), key=lambda vid: (-int(counts[vid]), values[vid]))
    chosen = order[:size]
    chosen += sorted(vid for vid in selected if vid not in chosen)
    return chosen


def _stories_per(
    stories: StoryTable, docs: np.ndarray, vids: np.ndarray, chosen: list[int]
) -> list[int]:
    """Stories among the articles of each chosen value; (docs, vids): the scope's pairs."""
    if not chosen:
        return []
    order = np.argsort(chosen)
    ranked = np.asarray(chosen)[order]
    at = np.minimum(np.searchsorted(ranked, vids), len(ranked) - 1)
    groups = np.where(ranked[at] == vids, order[at], -1)
    return stories.count_per(docs, groups, len(chosen)).tolist()


def _count_years(years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(years, return_counts=True)` by counting: a few hundred years at most
    span the dates, and a bincount over them is a fraction of the cost of hashing or
    sorting every match's year."""
    if not len(years):
        return years, np.zeros(0, dtype=np.intp)
    first = int(years.min())
    counts = np.bincount(years - first)
    present = np.flatnonzero(counts)
    return (present + first).astype(years.dtype), counts[present]


def _years(
    tables: Tables, scope: np.ndarray, filters: Filters, size: int, stories: StoryTable | None
) -> list[FacetValue]:
    dated = tables.date[scope]
    years, counts = _count_years(dated[dated > 0] // 10000)
    listed = year_values(years.tolist(), counts.tolist(), filters, size)
    if stories is None or not listed:
        return listed
    docs = scope[tables.date[scope] > 0]
    chosen = [int(v.value) for v in listed]
    story_counts = _stories_per(stories, docs, tables.date[docs] // 10000, chosen)
    return [replace(v, stories=n) for v, n in zip(listed, story_counts, strict=True)]


def year_values(
    years: list[int], counts: list[int], filters: Filters, size: int
) -> list[FacetValue]:
    """Years by count (newest first on display); the chosen years, or the range's, selected."""
    low = filters.date_from.year if filters.date_from else None
    high = filters.date_to.year if filters.date_to else None
    ranged = low is not None or high is not None
    chosen = set(filters.years)

    def is_selected(year: int) -> bool:
        if chosen:
            return year in chosen
        return ranged and (low is None or year >= low) and (high is None or year <= high)

    pairs = sorted(zip(years, counts, strict=True), key=lambda yc: (-yc[1], -yc[0]))
    top = pairs[:size]
    top += [pair for pair in pairs[size:] if is_selected(pair[0])]
    listed = {year for year, _ in top}
    top += [(year, 0) for year in chosen if year not in listed]  # chosen stays listed
    top.sort(key=lambda yc: -yc[0])  # years read best newest first
    return [FacetValue(str(year), count, is_selected(year)) for year, count in top]
