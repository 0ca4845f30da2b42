"""Per-generation tables from document number to facet values, built once per searcher.

Whoosh's own faceting rebuilds a document-to-value map from every value's postings on
every query. Sift builds it once when a searcher opens on a new index version, as numpy
arrays, so filters, facet counts, date sorting and the timeline are array operations.
Tables are keyed by the searcher's version, so a write or a reindex never serves stale
counts: a new version opens a new searcher and builds new tables.
"""

from __future__ import annotations

import io
import pickle
import zlib
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermsReader
from whoosh.system import unpack_int

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


def _block_ids(postings: bytes) -> list[int]:
    """The document numbers in one term's W3 postings (header, then blocks of: signed
    length, pickled block info, pickled and maybe compressed data), decoded as
    W3LeafMatcher decodes them but without a matcher object per term."""
    if postings[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError("not W3 postings")
    ids: list[int] = []
    pos = 4
    while True:
        (size,) = unpack_int(postings[pos : pos + 4])
        pos += 4
        block = io.BytesIO(postings[pos : pos + abs(size)])
        info = pickle.load(block)  # leaves the stream at the data, as read_pickle does
        data = block.read()
        if info[3]:  # compression level
            data = zlib.decompress(data)
        ids.extend(accumulate(pickle.loads(data)[0]))  # ids are delta-encoded
        pos += abs(size)
        if size < 0:  # the last block
            return ids


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
                if terminfo.is_inlined():
                    matcher = terms._codec.postings_reader(terms._postfile, terminfo, fmt)
                    ids = matcher_ids(matcher)
                else:
                    start, length = terminfo.extent()
                    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves a 1-tuple
                        (length,) = length
                    ids = np.array(_block_ids(terms._postfile.get(start, length)), np.int64)
                found.setdefault(btext, []).append(ids + offset)
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
