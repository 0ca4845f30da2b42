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
    stories: int | None = None  # stories among the `count` articles (with collapse=story)


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
    story: str = ""  # the story id ("" where the backend keeps no stories)
    story_summary: StorySummary | None = None  # with collapse=story


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
    partial: bool = False  # a shard of a cluster had no live replica: its hits are missing
    missing_shards: list[int] = field(default_factory=list)
    stories: int | None = None  # stories matched (None where the backend keeps none)


@dataclass(frozen=True)
class DocumentView:
    document: Document  # its text: the part asked for (from `text_offset`)
    text_html: str  # that text escaped, with the query's matches marked (if any)
    text_offset: int = 0
    text_length: int = 0  # characters in the whole text
    story: str = ""

    @property
    def partial(self) -> bool:
        """Whether `document.text` is less than the whole text."""
        return self.text_offset > 0 or len(self.document.text) < self.text_length


@dataclass(frozen=True)
class Bucket:
    key: str  # "2017", "2017-05" or "2017-05-24"
    count: int


def bucket_key(value: int, interval: str) -> str:
    """A timeline bucket's key from a yyyy, yyyymm or yyyymmdd number."""
    if interval == "year":
        return f"{value:04d}"
    if interval == "month":
        return f"{value // 100:04d}-{value % 100:02d}"
    return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"


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


@dataclass(frozen=True)
class FirstReport:
    """The earliest member of a story (undated members count as latest)."""

    id: str
    source: str | None
    date: dt.date | None


@dataclass(frozen=True)
class StorySummary:
    """What a collapsed hit says about its story."""

    id: str
    size: int
    sources: list[str]
    first: FirstReport


@dataclass(frozen=True)
class StoryMember:
    id: str
    title: str
    source: str | None
    date: dt.date | None
    adds: list[str]  # its sentences the earliest member lacks (none for the earliest)


@dataclass(frozen=True)
class StoryView:
    id: str
    size: int
    sources: list[str]
    members: list[StoryMember]  # in date order, undated last


@dataclass(frozen=True)
class Count:
    value: str
    count: int


@dataclass(frozen=True)
class RelatedActor:
    """An actor named with another more often than chance: `count` articles together,
    `score` how much more (JLH, as Elasticsearch's significant_terms)."""

    name: str
    type: str | None
    count: int
    score: float


@dataclass(frozen=True)
class ActorView:
    name: str
    type: str | None
    total: int
    timeline: Timeline
    sources: list[Count]
    related: list[RelatedActor]


@dataclass(frozen=True)
class SignificantTerm:
    term: str
    count: int  # the source's sampled matches holding it
    score: float


@dataclass(frozen=True)
class SourceProfile:
    source: str
    total: int
    timeline: Timeline
    actors: list[Count]
    terms: list[SignificantTerm]


@dataclass(frozen=True)
class Comparison:
    sources: list[SourceProfile]
