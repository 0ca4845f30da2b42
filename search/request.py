"""The typed requests the engine answers: what the API validates, the engine trusts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

FACETS = ("source", "actor", "language", "year")
SORTS = ("relevance", "newest", "oldest")
OPS = ("and", "or")
INTERVALS = ("year", "month", "day")
COLLAPSES = ("story",)

MAX_PER_PAGE = 100
# Deepest hit a search will return (page * per_page): deeper paging costs CPU in
# proportion to depth; export streams instead. Elasticsearch's max_result_window.
MAX_RESULT_WINDOW = 10_000
DEFAULT_FACET_SIZE = 10
MAX_FACET_SIZE = 100


@dataclass(frozen=True)
class Filters:
    """Restrictions shared by search, timeline and export."""

    sources: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    years: tuple[int, ...] = ()  # any of these years (OR), within the date range


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: Filters = Filters()
    op: str = "and"
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    facets: tuple[str, ...] = FACETS
    facet_size: int = DEFAULT_FACET_SIZE
    snippets: bool = True  # False: hits without snippets (ranking alone, for benchmarks)
    # Pseudo-relevance feedback (search/feedback.py): reorders by the best hits' words.
    expand: bool = False
    collapse: str | None = None  # "story": one hit per story, its best-ranked member
