"""A Document as a row of the cluster's RT indexes, and a row back as stored fields.

Each Sphinx field receives the term list Sift's own analysis made for the same Whoosh
field (index/writer.py's `index_fields`), so both backends match the same words. Terms are
written as tokens of [0-9a-z_] only: a term already made of ASCII letters and digits as
itself, any other as `_` and the base32 of its UTF-8 (Sphinx's charset is then trivial
and no term can be split or folded differently).
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib

from index import schema
from index.analysis import fold
from index.cluster.layout import STRING_ATTRS, TEXT_FIELDS, UINT_ATTRS
from index.documents import Document
from index.writer import index_fields

ALL_TOKEN = "_x_all"  # in every document: what a query of only NOTs subtracts from
NONE_TOKEN = "_x_none"  # in none: a query part that can match nothing
_PLAIN_RE = re.compile(r"[0-9a-z]+")
COLUMNS = ("id", *TEXT_FIELDS, *STRING_ATTRS, *UINT_ATTRS, "actor_keys")


def token(term: str) -> str:
    """The Sphinx token of one Sift term."""
    if _PLAIN_RE.fullmatch(term):
        return term
    return "_" + base64.b32hexencode(term.encode("utf-8")).decode().rstrip("=").lower()


def doc_key(doc_id: str) -> int:
    """The 63-bit document id Sphinx keys a Sift id by (stable across processes)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


def shard_of(doc_id: str, shards: int) -> int:
    return doc_key(doc_id) % shards


def value_key(value: str) -> int:
    """A facet value's filter key: case and accents do not matter, as in search/filters.py."""
    return zlib.crc32(fold(value).encode("utf-8"))


def row(doc: Document) -> dict:
    """The column values of `doc`'s row."""
    fields = index_fields(doc)
    values = {
        name: " ".join(token(t) for t in fields.get(name) or ())
        for name in TEXT_FIELDS
        if name not in ("language_t", "all_t")
    }
    date = int(doc.date.strftime("%Y%m%d")) if doc.date else 0
    values.update(
        id=doc_key(doc.id),
        language_t=token(doc.language.lower()) if doc.language else "",
        all_t=ALL_TOKEN,
        doc_id=doc.id,
        title_s=doc.title,
        text_s=doc.text,
        source=doc.source or "",
        language=doc.language or "",
        actors_s="\n".join(actor.name for actor in doc.actors),
        meta=fields[schema.META],
        source_key=value_key(doc.source) if doc.source else 0,
        language_key=value_key(doc.language) if doc.language else 0,
        date=date,
        month=date // 100,
        year=date // 10000,
        actor_keys=sorted({value_key(actor.name) for actor in doc.actors}),
    )
    return values


def words_of(doc: Document) -> set[str]:
    """The document's unstemmed words (its `words` field): the vocabulary Sift keeps."""
    return set(index_fields(doc)[schema.WORDS])


def stored_fields(found: dict) -> dict:
    """A row's attributes as the stored fields `index.writer.stored_document` reads."""
    stored = {
        schema.ID: found["doc_id"],
        schema.TITLE: found["title_s"],
        schema.TEXT: found["text_s"],
        schema.LANGUAGE: found["language"],
        schema.META: found["meta"],
    }
    if found["source"]:
        stored[schema.SOURCE] = found["source"]
    if found["date"]:
        day = str(found["date"])
        stored[schema.DATE] = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    return stored
