"""Plain result shapes the engine returns and the API serialises."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from index.documents import Document


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    title: str
    source: str | None
    date: dt.date | None
    language: str
    actors: list[str]
    snippet: str  # HTML: escaped text, matches in <mark>


@dataclass(frozen=True)
class SearchResults:
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None
    version: str = ""


@dataclass(frozen=True)
class DocumentView:
    document: Document  # its text: the part asked for (from `text_offset`)
    text_html: str  # that text escaped, with the query's matches marked (if any)
    text_offset: int = 0
    text_length: int = 0  # characters in the whole text

    @property
    def partial(self) -> bool:
        """Whether `document.text` is less than the whole text."""
        return self.text_offset > 0 or len(self.document.text) < self.text_length


@dataclass(frozen=True)
class Bucket:
    key: str  # "2017", "2017-05" or "2017-05-24"
    count: int


@dataclass(frozen=True)
class Timeline:
    interval: str
    buckets: list[Bucket]
    undated: int
    total: int


@dataclass(frozen=True)
class Stats:
    documents: int
    index_bytes: int
    generation: str
    last_reindex: str | None
    sources: list[FacetValue] = field(default_factory=list)
    languages: list[FacetValue] = field(default_factory=list)
    undated: int = 0
