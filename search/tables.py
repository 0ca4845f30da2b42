"""Per-generation tables from document number to facet values, built once per searcher.

Whoosh's own faceting rebuilds a document-to-value map from every value's postings on
every query. Sift builds it once when a searcher opens on a new index version, as numpy
arrays, so filters, facet counts, date sorting and the timeline are array operations.
Tables are keyed by the searcher's version, so a write or a reindex never serves stale
counts: a new version opens a new searcher and builds new tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import W3TermsReader

from index import schema
from index.analysis import fold
from search.postings import matcher_ids


@dataclass(frozen=True)
class SingleColumn:
    """A field with at most one value per document (source, language)."""

    values: list[str]  # value id -> value
    ids: np.ndarray  # docnum -> value id, -1 for none
    lookup: dict[str, list[int]]  # folded value -> value ids

    def mask_for(self, wanted: list[int]) -> np.ndarray:
        return np.isin(self.ids, wanted)

    def counts(self, mask: np.ndarray) -> np.ndarray:
        chosen = self.ids[mask]
        return np.bincount(chosen[chosen >= 0], minlength=len(self.values))


@dataclass(frozen=True)
class MultiColumn:
    """A field with any number of values per document (actor), as (doc, value) pairs."""

    values: list[str]
    doc: np.ndarray  # pair -> docnum
    val: np.ndarray  # pair -> value id
    lookup: dict[str, list[int]]
    size: int

    def mask_for(self, wanted: list[int]) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[self.doc[np.isin(self.val, wanted)]] = True
        return mask

    def counts(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.val[mask[self.doc]], minlength=len(self.values))


@dataclass(frozen=True)
class Tables:
    size: int  # document numbers run 0..size-1 (deleted ones included)
    live: np.ndarray  # bool: not deleted
    source: SingleColumn
    language: SingleColumn
    actor: MultiColumn
    date: np.ndarray  # int32 yyyymmdd, 0 when undated

    @property
    def doc_count(self) -> int:
        return int(self.live.sum())

    def languages(self) -> list[str]:
        counts = self.language.counts(self.live)
        return [value for value, count in zip(self.language.values, counts, strict=True) if count]


def _field_postings(reader, field: str, live: np.ndarray) -> dict[bytes, np.ndarray]:
    """Every term of `field` (in lexicon order) with its live documents.

    One sequential pass over each segment's terms table and postings: asking the reader
    for each term's postings costs two hash lookups and a matcher per term and segment,
    which for Reuters' 23,000 actor names took over a second on every index version.
    """
    found: dict[bytes, list[np.ndarray]] = {}
    fmt = reader.schema[field].format
    for leaf, offset in reader.leaf_readers():
        terms = getattr(leaf, "_terms", None)
        if isinstance(terms, W3TermsReader):
            for btext, terminfo in leaf.iter_field(field):
                matcher = terms._codec.postings_reader(terms._postfile, terminfo, fmt)
                found.setdefault(btext, []).append(matcher_ids(matcher) + offset)
        else:
            for btext in leaf.lexicon(field):
                ids = np.fromiter(leaf.postings(field, btext).all_ids(), dtype=np.int64)
                found.setdefault(btext, []).append(ids + offset)
    result = {}
    for btext in sorted(found):
        ids = np.concatenate(found[btext])
        result[btext] = ids[live[ids]]
    return result


def _lookup(values: list[str]) -> dict[str, list[int]]:
    lookup: dict[str, list[int]] = {}
    for vid, value in enumerate(values):
        lookup.setdefault(fold(value), []).append(vid)
    return lookup


def _single(reader, field: str, size: int, live: np.ndarray) -> SingleColumn:
    ids = np.full(size, -1, dtype=np.int32)
    values: list[str] = []
    for raw, docs in _field_postings(reader, field, live).items():
        ids[docs] = len(values)
        values.append(raw.decode("utf-8"))
    return SingleColumn(values, ids, _lookup(values))


def _multi(reader, field: str, size: int, live: np.ndarray) -> MultiColumn:
    docs: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    values: list[str] = []
    for raw, found in _field_postings(reader, field, live).items():
        docs.append(found)
        vals.append(np.full(len(found), len(values), dtype=np.int32))
        values.append(raw.decode("utf-8"))
    doc = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
    val = np.concatenate(vals) if vals else np.zeros(0, dtype=np.int32)
    return MultiColumn(values, doc, val, _lookup(values), size)


def _dates(reader, size: int, live: np.ndarray) -> np.ndarray:
    dates = np.zeros(size, dtype=np.int32)
    for raw, docs in _field_postings(reader, schema.DATE, live).items():
        dates[docs] = int(raw.replace(b"-", b""))
    return dates


def build_tables(reader) -> Tables:
    """The tables for one reader (one index version)."""
    size = reader.doc_count_all()
    live = np.zeros(size, dtype=bool)
    live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
    return Tables(
        size=size,
        live=live,
        source=_single(reader, schema.SOURCE, size, live),
        language=_single(reader, schema.LANGUAGE, size, live),
        actor=_multi(reader, schema.ACTOR, size, live),
        date=_dates(reader, size, live),
    )
