"""Turning a Document into Whoosh fields, and back into what the API shows.

The analysis happens here, once per document: Whoosh receives term lists, so it never
re-tokenises, and the stored text stays exactly the cleaned text users read.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache

from index import aliases, schema, stored_json
from index.analysis import STEMMED_LANGUAGES, document_terms, terms_of, word_list
from index.documents import Actor, Document


def index_fields(doc: Document) -> dict:
    """The keyword arguments for `writer.add_document` / `update_document`."""
    lang = doc.language
    actor_terms: list[str] = []
    for actor in doc.actors:
        for form in aliases.variants(actor.name):
            actor_terms.extend(_name_terms(form))
    title_words = word_list(doc.title)
    text_words = word_list(doc.text)
    title_terms = terms_of(title_words, lang)
    text_terms = terms_of(text_words, lang)
    if lang in STEMMED_LANGUAGES:
        plain = terms_of(title_words + text_words, None)
    else:  # the same unstemmed terms: do not look them up twice
        plain = title_terms + text_terms
    fields = {
        schema.ID: doc.id,
        schema.TITLE: [],
        "_stored_" + schema.TITLE: doc.title,
        schema.TEXT: [],
        "_stored_" + schema.TEXT: doc.text,
        schema.field_for(schema.TITLE, lang): title_terms,
        schema.field_for(schema.TEXT, lang): text_terms,
        # = document_terms(title + "\n" + text, None): no word spans the line break
        schema.WORDS: plain,
        schema.LANGUAGE: doc.language,
        schema.ACTOR: [actor.name for actor in doc.actors],
        schema.ACTOR_TEXT: actor_terms,
        schema.PLACE: list(doc.places),
        schema.META: json.dumps(_meta(doc), ensure_ascii=False, separators=(",", ":")),
    }
    if doc.source:
        fields[schema.SOURCE] = doc.source
        fields[schema.SOURCE_TEXT] = list(_name_terms(doc.source))
    if doc.date:
        fields[schema.DATE] = doc.date.isoformat()
    return fields


@lru_cache(maxsize=1 << 14)
def _name_terms(name: str) -> tuple[str, ...]:
    """`document_terms(name, None)` once per distinct name: the same actors (and their
    alias variants) and sources recur in article after article."""
    return tuple(document_terms(name, None))


def _meta(doc: Document) -> dict:
    return {
        "url": doc.url,
        "site": doc.site,
        "fetched": doc.fetched,
        "actors": [[actor.name, actor.type] for actor in doc.actors],
        "places": doc.places,
        "provenance": doc.provenance,
        "extra": doc.extra,
    }


def stored_document(stored: dict) -> Document:
    """The Document behind a hit's stored fields (its metadata read by `stored_json`:
    finite numbers, bounded nesting, whatever was stored)."""
    meta = stored_json.loads(stored.get(schema.META) or "{}")
    date = stored.get(schema.DATE)
    return Document(
        id=stored[schema.ID],
        title=stored.get(schema.TITLE, ""),
        text=stored.get(schema.TEXT, ""),
        language=stored.get(schema.LANGUAGE, ""),
        source=stored.get(schema.SOURCE),
        site=meta.get("site"),
        date=dt.date.fromisoformat(date) if date else None,
        url=meta.get("url"),
        actors=[Actor(name, kind) for name, kind in meta.get("actors", [])],
        places=meta.get("places", []),
        fetched=meta.get("fetched"),
        provenance=meta.get("provenance", {}),
        extra=meta.get("extra", {}),
    )
