"""Per-generation tables from document number to facet values, built once per searcher.

Whoosh's own faceting rebuilds a document-to-value map from every value's postings on
every query. Sift builds it once when a searcher opens on a new index version, as numpy
arrays, so filters, facet counts, date sorting and the timeline are array operations.
Tables are keyed by the searcher's version, so a write or a reindex never serves stale
counts: a new version opens a new searcher and builds new tables. Building them reads
only segments not seen before (what is read from a segment is kept by its id), so after
an API write a version costs its new small segment, not the whole archive again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index import schema
from index.analysis import fold
from index.codec.postings import segment_term_ids
from search.stories import StoryTable, build_story_table


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

    def pairs(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(docnum, value id) of the documents of `mask` that have a value."""
        docs = np.flatnonzero(mask)
        vids = self.ids[docs]
        has = vids >= 0
        return docs[has], vids[has]


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

    def pairs(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(docnum, value id) of each value of the documents of `mask`."""
        chosen = mask[self.doc]
        return self.doc[chosen], self.val[chosen]


@dataclass(frozen=True)
class Tables:
    size: int  # document numbers run 0..size-1 (deleted ones included)
    live: np.ndarray  # bool: not deleted
    source: SingleColumn
    language: SingleColumn
    actor: MultiColumn
    date: np.ndarray  # int32 yyyymmdd, 0 when undated
    story: StoryTable

    @property
    def doc_count(self) -> int:
        return int(self.live.sum())

    def languages(self) -> list[str]:
        counts = self.language.counts(self.live)
        return [value for value, count in zip(self.language.values, counts, strict=True) if count]


@dataclass(frozen=True)
class _Pairs:
    """One field of one segment: its terms in lexicon order and (document, term) pairs."""

    values: list[bytes]
    doc: np.ndarray  # pair -> document number within the segment
    val: np.ndarray  # pair -> index in `values`


# Segments never change once written (a deletion only changes the live mask, a merge
# writes a new segment under a new id), so a segment's pairs are read once and kept,
# keyed by its id: a new index version after an API write reads only its new segments.
# A few entries per segment (one per faceted field); old ones are dropped first.
SEGMENT_CACHE_ENTRIES = 256
_segment_pairs: OrderedDict[tuple[str, str], _Pairs] = OrderedDict()
_segment_lock = threading.Lock()


def _segment_field(leaf, field: str) -> _Pairs:
    segment = leaf.segment()
    if segment is None:  # an empty index's reader: nothing to read or keep
        return _read_pairs(leaf, field)
    key = (segment.segment_id(), field)
    with _segment_lock:
        found = _segment_pairs.get(key)
        if found is not None:
            _segment_pairs.move_to_end(key)
            return found
    found = _read_pairs(leaf, field)
    with _segment_lock:
        _segment_pairs[key] = found
        while len(_segment_pairs) > SEGMENT_CACHE_ENTRIES:
            _segment_pairs.popitem(last=False)
    return found


def _read_pairs(leaf, field: str) -> _Pairs:
    """Every term of `field` in one segment with its documents, deleted ones included.

    One sequential pass over the segment's terms table and postings: asking the reader
    for each term's postings costs two hash lookups and a matcher per term, which for
    Reuters' 23,000 actor names took over a second.
    """
    values, docs = segment_term_ids(leaf, field)
    doc = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
    val = np.repeat(np.arange(len(values), dtype=np.int32), [len(d) for d in docs])
    return _Pairs(values, doc, val)


def _field_pairs(reader, field: str, live: np.ndarray) -> _Pairs:
    """Every term of `field` across the reader's segments, in lexicon order, with its
    live (document number, term) pairs."""
    parts = [(_segment_field(leaf, field), offset) for leaf, offset in reader.leaf_readers()]
    if len(parts) == 1 and not parts[0][1]:
        values = parts[0][0].values
        doc, val = parts[0][0].doc, parts[0][0].val
    else:
        values = sorted(set().union(*(part.values for part, _ in parts)))
        index = {value: vid for vid, value in enumerate(values)}
        doc = np.concatenate(
            [part.doc + offset for part, offset in parts] or [np.zeros(0, dtype=np.int64)]
        )
        val = np.concatenate(
            [
                np.array([index[v] for v in part.values], dtype=np.int32)[part.val]
                for part, _ in parts
                if len(part.values)
            ]
            or [np.zeros(0, dtype=np.int32)]
        )
    keep = live[doc]
    return _Pairs(values, doc[keep], val[keep])


@lru_cache(maxsize=1 << 20)  # facet values: folded once per process, not per version
def _folded(value: str) -> str:
    return fold(value)


def _lookup(values: list[str]) -> dict[str, list[int]]:
    lookup: dict[str, list[int]] = {}
    for vid, value in enumerate(values):
        lookup.setdefault(_folded(value), []).append(vid)
    return lookup


def _single(reader, field: str, size: int, live: np.ndarray) -> SingleColumn:
    pairs = _field_pairs(reader, field, live)
    ids = np.full(size, -1, dtype=np.int32)
    ids[pairs.doc] = pairs.val
    values = [raw.decode("utf-8") for raw in pairs.values]
    return SingleColumn(values, ids, _lookup(values))


def _multi(reader, field: str, size: int, live: np.ndarray) -> MultiColumn:
    pairs = _field_pairs(reader, field, live)
    values = [raw.decode("utf-8") for raw in pairs.values]
    return MultiColumn(values, pairs.doc, pairs.val, _lookup(values), size)


def _dates(reader, size: int, live: np.ndarray) -> np.ndarray:
    pairs = _field_pairs(reader, schema.DATE, live)
    dates = np.zeros(size, dtype=np.int32)
    as_int = np.array([int(raw.replace(b"-", b"")) for raw in pairs.values], dtype=np.int32)
    dates[pairs.doc] = as_int[pairs.val]
    return dates


def _doc_ids(reader, size: int, live: np.ndarray) -> list[str | None]:
    pairs = _field_pairs(reader, schema.ID, live)
    ids: list[str | None] = [None] * size
    values = [raw.decode("utf-8") for raw in pairs.values]
    for doc, val in zip(pairs.doc.tolist(), pairs.val.tolist(), strict=True):
        ids[doc] = values[val]
    return ids


def build_tables(reader, story_of: dict[str, str] | None = None) -> Tables:
    """The tables for one reader (one index version); `story_of`: id -> story id."""
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
        story=build_story_table(_doc_ids(reader, size, live), story_of or {}),
    )
