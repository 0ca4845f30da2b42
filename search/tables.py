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

from index import schema
from index.analysis import fold


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


def _postings(reader, field: str, term: bytes) -> np.ndarray:
    return np.fromiter(reader.postings(field, term).all_ids(), dtype=np.int64)


def _lookup(values: list[str]) -> dict[str, list[int]]:
    lookup: dict[str, list[int]] = {}
    for vid, value in enumerate(values):
        lookup.setdefault(fold(value), []).append(vid)
    return lookup


def _single(reader, field: str, size: int) -> SingleColumn:
    ids = np.full(size, -1, dtype=np.int32)
    values: list[str] = []
    for raw in reader.lexicon(field):
        ids[_postings(reader, field, raw)] = len(values)
        values.append(raw.decode("utf-8"))
    return SingleColumn(values, ids, _lookup(values))


def _multi(reader, field: str, size: int) -> MultiColumn:
    docs: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    values: list[str] = []
    for raw in reader.lexicon(field):
        found = _postings(reader, field, raw)
        docs.append(found)
        vals.append(np.full(len(found), len(values), dtype=np.int32))
        values.append(raw.decode("utf-8"))
    doc = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
    val = np.concatenate(vals) if vals else np.zeros(0, dtype=np.int32)
    return MultiColumn(values, doc, val, _lookup(values), size)


def _dates(reader, size: int) -> np.ndarray:
    dates = np.zeros(size, dtype=np.int32)
    for raw in reader.lexicon(schema.DATE):
        dates[_postings(reader, schema.DATE, raw)] = int(raw.replace(b"-", b""))
    return dates


def build_tables(reader) -> Tables:
    """The tables for one reader (one index version)."""
    size = reader.doc_count_all()
    live = np.zeros(size, dtype=bool)
    live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
    return Tables(
        size=size,
        live=live,
        source=_single(reader, schema.SOURCE, size),
        language=_single(reader, schema.LANGUAGE, size),
        actor=_multi(reader, schema.ACTOR, size),
        date=_dates(reader, size),
    )
