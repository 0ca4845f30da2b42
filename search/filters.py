"""Filters as document masks: one per filter parameter, so facets can leave their own out."""

from __future__ import annotations

import numpy as np

from index.analysis import fold
from search.actors import resolve_actor
from search.request import Filters
from search.tables import MultiColumn, SingleColumn, Tables, selected


def value_ids(
    column: SingleColumn | MultiColumn, wanted: tuple[str, ...], *, canonicalise: bool = False
) -> list[int]:
    """Value ids matching `wanted` (case- and accent-insensitive; aliases for actors)."""
    ids: list[int] = []
    for value in wanted:
        names = [value]
        if canonicalise and (canonical := resolve_actor(value)):
            names.append(canonical)
        for name in names:
            ids.extend(column.lookup.get(fold(name), []))
    return sorted(set(ids))


def date_mask(tables: Tables, filters: Filters) -> np.ndarray | None:
    """Dated documents within the range and in one of the chosen years; None if unfiltered."""
    if filters.date_from is None and filters.date_to is None and not filters.years:
        return None
    mask = tables.date > 0
    if filters.date_from is not None:
        mask &= tables.date >= _yyyymmdd(filters.date_from)
    if filters.date_to is not None:
        mask &= tables.date <= _yyyymmdd(filters.date_to)
    if filters.years:
        years = [year for year in set(filters.years) if 0 < year < 10000]  # yyyymmdd
        mask &= selected(tables.date // 10000, years, 10000)
    return mask


def _yyyymmdd(day) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def filter_masks(tables: Tables, filters: Filters) -> dict[str, np.ndarray]:
    """One mask per active filter, keyed by the facet it belongs to."""
    masks: dict[str, np.ndarray] = {}
    if filters.sources:
        masks["source"] = tables.source.mask_for(value_ids(tables.source, filters.sources))
    if filters.actors:
        masks["actor"] = tables.actor.mask_for(
            value_ids(tables.actor, filters.actors, canonicalise=True)
        )
    if filters.languages:
        masks["language"] = tables.language.mask_for(value_ids(tables.language, filters.languages))
    dates = date_mask(tables, filters)
    if dates is not None:
        masks["year"] = dates
    return masks


def combine(base: np.ndarray, masks: dict[str, np.ndarray], *, leave_out: str | None = None):
    """`base` AND every mask but the one for `leave_out`."""
    result = base.copy()
    for name, mask in masks.items():
        if name != leave_out:
            result &= mask
    return result
