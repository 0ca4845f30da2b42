"""The two shapes a document takes on its way into the index.

`RawDocument` is what a reader or the write API hands over: only what was *given*.
`Document` is what ingest indexes: cleaned text plus every facet, each field marked
with where it came from (`given` by the user, `page` from a web page's or feed's own
metadata, `extracted` from the text, or `unknown`), so the API can say so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PERSON = "person"
ORGANISATION = "organisation"
ACTOR_TYPES = (PERSON, ORGANISATION)

GIVEN = "given"
EXTRACTED = "extracted"
PAGE = "page"  # from a web page's metadata (JSON-LD, OpenGraph, <meta>) or a feed item's
UNKNOWN = "unknown"

# Language code for text too short or too mixed to tell.
UNDETERMINED = "und"

# Fields whose provenance a Document records.
PROVENANCE_FIELDS = ("title", "language", "date", "source", "actors", "places")


@dataclass(frozen=True)
class Actor:
    """A person or organisation under its one canonical name."""

    name: str
    type: str  # PERSON or ORGANISATION


@dataclass
class RawDocument:
    """A document as given: from a file, a JSON line or an API write; nothing inferred."""

    id: str
    text: str
    title: str | None = None
    source: str | None = None
    date: str | None = None  # ISO 8601 as given (date or date-time)
    url: str | None = None
    language: str | None = None
    # Given actors: plain names, or {"name": ..., "type": "person"|"organisation"}.
    actors: list[str | dict] | None = None
    fetched: str | None = None  # when a crawler fetched it: the year for datelines
    extra: dict = field(default_factory=dict)  # unknown input fields, kept, not indexed
    origin: str | None = None  # where it was read from (a path), for error messages
    # Where given fields came from when not from the user: {"title": PAGE, "date": EXTRACTED}
    # for a web page's metadata, or a date guessed from its markup. Absent means GIVEN.
    provenance: dict[str, str] = field(default_factory=dict)


@dataclass
class Document:
    """A document ready to index: cleaned text and complete, honest metadata."""

    id: str
    title: str
    text: str  # the body with site boilerplate removed: what is indexed and shown
    language: str  # ISO 639-1 code, or UNDETERMINED
    source: str | None = None  # publisher or wire agency; None when unknown
    site: str | None = None  # the site that republished a wire story, when told apart
    date: dt.date | None = None
    url: str | None = None
    actors: list[Actor] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    fetched: str | None = None
    provenance: dict[str, str] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
