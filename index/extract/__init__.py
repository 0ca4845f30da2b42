"""Metadata extraction: from a RawDocument to a Document (given metadata always wins)."""

from __future__ import annotations

import datetime as dt

from index.documents import EXTRACTED, GIVEN, UNKNOWN, Actor, Document, RawDocument
from index.language import detect_language


def _given_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(value[:10])


def extract(raw: RawDocument) -> Document:
    """A first, honest pass: given fields, the first line as title, the detected language."""
    text = raw.text.strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = raw.title or (lines[0] if lines else raw.id)
    language = raw.language or detect_language(text)
    date = _given_date(raw.date)
    actors = [
        Actor(a["name"], a.get("type", "organisation"))
        if isinstance(a, dict)
        else Actor(a, "organisation")
        for a in raw.actors or []
    ]
    provenance = {
        "title": GIVEN if raw.title else EXTRACTED,
        "language": GIVEN if raw.language else EXTRACTED,
        "date": GIVEN if date else UNKNOWN,
        "source": GIVEN if raw.source else UNKNOWN,
        "actors": GIVEN if actors else UNKNOWN,
        "places": UNKNOWN,
    }
    return Document(
        id=raw.id,
        title=title,
        text=text,
        language=language,
        source=raw.source,
        date=date,
        url=raw.url,
        actors=actors,
        fetched=raw.fetched,
        provenance=provenance,
        extra=dict(raw.extra),
    )
