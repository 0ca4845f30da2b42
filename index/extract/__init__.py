"""Metadata extraction: from a RawDocument to a Document (given metadata always wins).

`extract()` cleans the body (clean.py), reads its layout (layout.py), then fills every
field that was not given: title (title.py), language (index/language.py), date
(dates.py; dateparse.py beyond English when that finds none), source and site
(sources.py), actors and places (actors.py). Each field's provenance says whether it was
given (by the user, or by a web page's metadata: `page`), extracted, or is unknown.
Nothing here raises on bad input: unreadable given values are treated as not given, odd
text as unknown.
"""

from __future__ import annotations

import datetime as dt

from index import aliases
from index.documents import (
    EXTRACTED,
    EXTRACTION,
    GIVEN,
    ORGANISATION,
    PERSON,
    TRUNCATED,
    UNDETERMINED,
    UNKNOWN,
    Actor,
    Document,
    RawDocument,
)
from index.extract import actors, dateparse, dates, sources, title
from index.extract.clean import clean
from index.extract.layout import layout
from index.language import detect_language


def given_date(value: object) -> dt.date | None:
    """A given ISO 8601 date or date-time as a date; None when absent or unreadable."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def given_actors(values: object) -> list[Actor]:
    """Given actors (names or {"name", "type"} objects) under canonical names, deduplicated."""
    found: dict[str, Actor] = {}
    for value in values if isinstance(values, list) else []:
        name, kind = (
            (value.get("name"), value.get("type")) if isinstance(value, dict) else (value, None)
        )
        if not isinstance(name, str) or not name.strip():
            continue
        name = " ".join(name.split())
        canonical = aliases.canonical(name) or name
        if kind not in (PERSON, ORGANISATION):
            kind = aliases.actor_type(canonical) or ORGANISATION
        found.setdefault(canonical, Actor(canonical, kind))
    return list(found.values())


def _given_text(value: object) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def extract(raw: RawDocument) -> Document:
    """A Document for `raw`: given fields as given, the rest extracted from its text.

    Every step takes time linear in the text; name finding, the costly one, also stops at
    a CPU-time budget (actors.BUDGET_S, counted from here), and the document then says
    so: `provenance["extraction"] == "truncated"`.
    """
    deadline = actors.Deadline()
    cleaned = clean(raw.text if isinstance(raw.text, str) else "")
    page = layout(cleaned.text)
    provenance: dict[str, str] = {}

    def pick(field: str, given, find):
        if given is not None and given != "":  # an empty list given means none
            provenance[field] = raw.provenance.get(field, GIVEN)
            return given
        value = find()
        provenance[field] = EXTRACTED if value not in (None, "", [], UNDETERMINED) else UNKNOWN
        return value

    mentions = actors.find_mentions(cleaned.text, deadline)
    site = sources.find_site(cleaned.removed, raw.url if isinstance(raw.url, str) else None)
    doc_title = pick("title", _given_text(raw.title), lambda: title.find_title(page))
    if not doc_title:
        doc_title = raw.id
    language = pick("language", _given_text(raw.language), lambda: detect_language(cleaned.text))
    source = pick("source", _given_text(raw.source), lambda: sources.find_source(page) or site)
    # The publisher is the source facet, not an actor of its own story ("(Reuters) -").
    publishers = {name.casefold() for name in (source, site) if name}
    doc_actors = pick(
        "actors",
        given_actors(raw.actors) if isinstance(raw.actors, list) else None,
        lambda: [
            a for a in actors.actors_of(mentions, language) if a.name.casefold() not in publishers
        ],
    )
    document = Document(
        id=raw.id,
        title=doc_title,
        text=cleaned.text,
        language=language,
        source=source,
        site=site if site != source else None,
        date=pick(
            "date",
            given_date(raw.date),
            lambda: (
                dates.find_date(page, raw.fetched)
                or dateparse.parsed_date(page, language, raw.fetched)
            ),
        ),
        url=raw.url,
        actors=doc_actors,
        places=pick("places", None, lambda: actors.places_of(mentions)),
        fetched=raw.fetched,
        provenance=provenance,
        extra=dict(raw.extra),
    )
    if deadline.passed:
        provenance[EXTRACTION] = TRUNCATED
    return document
