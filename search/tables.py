"""Per-generation tables from document number to facet values, built once per searcher.

Whoosh's own faceting rebuilds a document-to-value map from every value's postings on
every query. Sift builds it once when a searcher opens on a new index version, as numpy
arrays, so filters, facet counts, date sorting and the timeline are array operations.
Tables are keyed by the searcher's version, so a write or a reindex never serves stale
counts: a new version opens a new searcher and builds new tables. They are put together
from each segment's columns (index/columns.py: memory-mapped files the writers leave
beside the segments, shared by every worker), opened once per segment and kept by its
id, so after an API write a version costs its new small segment, not the archive again.

The tables themselves are shared too (`open_tables`): the first process to open a version
writes them to one file in the generation's `tables/` folder and maps it, and every other
worker maps the same file instead of building a copy of its own (at a million articles
some 60 MB a worker).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from index import columns, generations, packed, schema
from index.analysis import fold
from index.storage import TABLES_DIR
from search.stories import StoryNames, StoryTable, build_story_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SingleColumn:
    """A field with at most one value per document (source, language)."""

    values: list[str]  # value id -> value
    ids: np.ndarray  # docnum -> value id, -1 for none
    lookup: dict[str, list[int]]  # folded value -> value ids

    def mask_for(self, wanted: list[int]) -> np.ndarray:
        return selected(self.ids, wanted, len(self.values))

    def counts(self, scope: np.ndarray) -> np.ndarray:
        """How many documents of `scope` (a mask, or document numbers) hold each value."""
        chosen = self.ids[scope]
        return np.bincount(chosen[chosen >= 0], minlength=len(self.values))

    def pairs(self, scope: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(docnum, value id) of the documents of `scope` that have a value."""
        docs = documents(scope)
        vids = self.ids[docs]
        has = vids >= 0
        return docs[has], vids[has]


@dataclass(frozen=True)
class MultiColumn:
    """A field with any number of values per document (actor), as (doc, value) pairs
    sorted by document, with where each document's pairs start (`starts`, size + 1)."""

    values: list[str]
    doc: np.ndarray  # pair -> docnum
    val: np.ndarray  # pair -> value id
    lookup: dict[str, list[int]]
    size: int
    starts: np.ndarray  # docnum -> its first pair; starts[size] is the number of pairs

    def mask_for(self, wanted: list[int]) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[self.doc[selected(self.val, wanted, len(self.values))]] = True
        return mask

    def counts(self, scope: np.ndarray) -> np.ndarray:
        """How many documents of `scope` (a mask, or document numbers) hold each value. A
        narrow scope gathers its own documents' pairs (the cost grows with the matches); a
        broad one picks from every pair, and where it picks most of them (a common word)
        counts the pairs left out instead, taken from the counts of all of them."""
        docs = documents(scope)
        if len(docs) * SPARSE_FRACTION < self.size:
            first = self.starts[docs]
            lengths = self.starts[docs + 1] - first
            ends = np.cumsum(lengths)
            total = int(ends[-1]) if len(ends) else 0
            at = np.repeat(first - ends + lengths, lengths) + np.arange(total)
            return np.bincount(self.val[at], minlength=len(self.values))
        # `take` by intp numbers: indexing by int32 ones copied them to intp first (4x
        # slower at 2.9 million pairs, and a 23 MB temporary).
        picked = as_mask(scope, self.size).take(self.doc)
        if 2 * np.count_nonzero(picked) <= len(picked):
            return np.bincount(self.val[picked], minlength=len(self.values))
        return self.every_pair - np.bincount(self.val[~picked], minlength=len(self.values))

    @cached_property
    def every_pair(self) -> np.ndarray:
        """Each value's count over every document (the tables hold live ones only)."""
        return np.bincount(self.val, minlength=len(self.values))

    def pairs(self, scope: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(docnum, value id) of each value of the documents of `scope`."""
        chosen = as_mask(scope, self.size)[self.doc]
        return self.doc[chosen], self.val[chosen]


# Document numbers of the pairs as read from the segments, in 32 bits as their posting
# arrays hold them (index/codec/arrays.py); the actor column's are widened to intp.
DOCNUM = np.int32

# Below one document in this many, counting gathers the matches' pairs (search/facets.py).
SPARSE_FRACTION = 8


# Up to this many wanted values, `selected` compares the column with each.
FEW_VALUES = 4


def selected(column: np.ndarray, wanted: list[int], values: int) -> np.ndarray:
    """Mask of the entries of `column` (value ids below `values`, -1 for none) that are
    among `wanted`. np.isin sorts both, or tables the column's range, on every call: 8.6 ms
    for one value over a million documents, where a comparison is 0.2 ms; more values are
    looked up in a table (3 ms whatever their number)."""
    if len(wanted) <= FEW_VALUES:
        mask = np.zeros(len(column), dtype=bool)
        for vid in wanted:
            mask |= column == vid
        return mask
    table = np.zeros(values + 1, dtype=bool)  # its last entry stays False: -1 reads it
    table[list(wanted)] = True
    return table[column]


def documents(scope: np.ndarray) -> np.ndarray:
    """The document numbers of `scope`: a mask over every document, or the numbers
    already (ascending). Indexing a column by either gives the same values; a query's
    matches are usually a small part of the archive, and gathering their values costs a
    tenth of reading every document's through a mask."""
    return np.flatnonzero(scope) if scope.dtype == bool else scope


def as_mask(scope: np.ndarray, size: int) -> np.ndarray:
    """`scope` as a mask over `size` documents."""
    if scope.dtype == bool:
        return scope
    mask = np.zeros(size, dtype=bool)
    mask[scope] = True
    return mask


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

    @cached_property
    def present_languages(self) -> tuple[str, ...]:
        """The languages of live documents (asked by every query: counted once)."""
        counts = self.language.counts(self.live)
        values = self.language.values
        return tuple(value for value, count in zip(values, counts, strict=True) if count)

    def languages(self) -> list[str]:
        return list(self.present_languages)


# Segments never change once written (a deletion only changes the live mask, a merge
# writes a new segment under a new id), so a segment's columns (index/columns.py,
# memory-mapped) are opened once and kept, keyed by its id: a new index version after an
# API write opens only its new segments. Old entries are dropped first.
SEGMENT_CACHE_ENTRIES = 256
_segment_columns: OrderedDict[str, columns.SegmentColumns] = OrderedDict()
_segment_lock = threading.Lock()


def _segment(leaf, folder: str | Path) -> columns.SegmentColumns:
    segment = leaf.segment()
    if segment is None:  # an empty index's reader: nothing to read or keep
        return columns.load(leaf, folder)
    key = segment.segment_id()
    with _segment_lock:
        found = _segment_columns.get(key)
        if found is not None:
            _segment_columns.move_to_end(key)
            return found
    found = columns.load(leaf, folder)
    with _segment_lock:
        _segment_columns[key] = found
        while len(_segment_columns) > SEGMENT_CACHE_ENTRIES:
            _segment_columns.popitem(last=False)
    return found


Parts = list[tuple[columns.SegmentColumns, int]]  # each segment's columns and first docnum


def _field_pairs(parts: Parts, field: str, live: np.ndarray) -> columns.Pairs:
    """Every value of `field` across the segments, in lexicon order, with its live
    (document number, value) pairs."""
    fields = [(part.fields[field], offset) for part, offset in parts]
    if len(fields) == 1 and not fields[0][1]:
        values = fields[0][0].values
        doc = np.asarray(fields[0][0].doc, dtype=DOCNUM)
        val = np.asarray(fields[0][0].val)
    else:
        values = sorted(set().union(*(pairs.values for pairs, _ in fields)))
        index = {value: vid for vid, value in enumerate(values)}
        doc = np.concatenate(
            [pairs.doc.astype(DOCNUM) + offset for pairs, offset in fields]
            or [np.zeros(0, dtype=DOCNUM)]
        )
        val = np.concatenate(
            [
                np.array([index[v] for v in pairs.values], dtype=np.int32)[pairs.val]
                for pairs, _ in fields
                if len(pairs.values)
            ]
            or [np.zeros(0, dtype=np.int32)]
        )
    keep = live[doc]
    return columns.Pairs(values, doc[keep], val[keep])


@lru_cache(maxsize=1 << 20)  # facet values: folded once per process, not per version
def _folded(value: str) -> str:
    return fold(value)


def _lookup(values: list[str]) -> dict[str, list[int]]:
    lookup: dict[str, list[int]] = {}
    for vid, value in enumerate(values):
        lookup.setdefault(_folded(value), []).append(vid)
    return lookup


def _single(parts: Parts, field: str, size: int, live: np.ndarray) -> SingleColumn:
    pairs = _field_pairs(parts, field, live)
    ids = np.full(size, -1, dtype=np.int32)
    ids[pairs.doc] = pairs.val
    return SingleColumn(pairs.values, ids, _lookup(pairs.values))


def _multi(parts: Parts, field: str, size: int, live: np.ndarray) -> MultiColumn:
    pairs = _field_pairs(parts, field, live)  # by document: each segment's are
    doc = pairs.doc.astype(np.intp)  # `counts` takes by it (shared: one copy for all)
    starts = np.zeros(size + 1, dtype=np.int32 if len(pairs.doc) < 2**31 else np.int64)
    np.cumsum(np.bincount(doc, minlength=size), out=starts[1:])
    return MultiColumn(pairs.values, doc, pairs.val, _lookup(pairs.values), size, starts)


def _dates(parts: Parts, size: int, live: np.ndarray) -> np.ndarray:
    pairs = _field_pairs(parts, schema.DATE, live)
    dates = np.zeros(size, dtype=np.int32)
    as_int = np.array([int(value.replace("-", "")) for value in pairs.values], dtype=np.int32)
    dates[pairs.doc] = as_int[pairs.val]
    return dates


def build_tables(reader, folder: str | Path) -> Tables:
    """The tables for one reader (one index version) of the generation in `folder`."""
    size = reader.doc_count_all()
    live = _live(reader, size)
    parts = [(_segment(leaf, folder), offset) for leaf, offset in reader.leaf_readers()]
    story_keys = np.concatenate(
        [part.story_keys for part, _ in parts] or [np.zeros(0, dtype=np.int64)]
    )
    return Tables(
        size=size,
        live=live,
        source=_single(parts, schema.SOURCE, size, live),
        language=_single(parts, schema.LANGUAGE, size, live),
        actor=_multi(parts, schema.ACTOR, size, live),
        date=_dates(parts, size, live),
        story=build_story_table(DocIds(parts), story_keys, live),
    )


def _live(reader, size: int) -> np.ndarray:
    """Which documents are not deleted, from each segment's set of deleted ones: a
    multi-segment reader's `all_doc_ids` asks `is_deleted` of every document (1.1
    million Python calls, most of the time to open a 50x index)."""
    live = np.ones(size, dtype=bool)
    for leaf, offset in reader.leaf_readers():
        if leaf.has_deletions():
            deleted = np.fromiter(leaf.deleted_docs_set, dtype=np.int64)
            live[deleted + offset] = False
    return live


class DocIds:
    """Document number -> document id, read from the segments' columns when asked."""

    def __init__(self, parts: Parts):
        self._parts = [part for part, _ in parts]
        self._starts = np.array([offset for _, offset in parts], dtype=np.int64)

    def __getitem__(self, docnum: int) -> str:
        at = int(np.searchsorted(self._starts, docnum, side="right")) - 1
        return self._parts[at].doc_id(docnum - int(self._starts[at]))


# Bumped whenever what a shared tables file holds changes: files of another are rebuilt.
_SHARED_FORMAT = 2
# Seconds a process waits for another to write a version's tables (about a second at a
# million articles) before building its own copy.
BUILD_WAIT_S = 60.0


def open_tables(reader, folder: str | Path, commit: int) -> Tables:
    """The tables of version `commit` (its TOC generation) of the generation in `folder`,
    memory-mapped from `tables/<commit>.pack`: written by the first process to open the
    version, mapped by the rest, so the workers share one copy in the page cache. Where
    the folder cannot be written (a read-only mount), this process keeps its own copy."""
    path = Path(folder) / TABLES_DIR / f"{commit}.pack"
    identity = _identity(reader)
    if identity is None:  # an empty index: nothing worth sharing
        return build_tables(reader, folder)
    found = _read_shared(path, reader, folder, identity)
    if found is not None:
        return found
    built = None
    try:
        # Workers start together: without the lock each built and wrote its own file,
        # and the one whose file was replaced kept a private copy mapped.
        path.parent.mkdir(parents=True, exist_ok=True)
        with generations.file_lock(path.parent / ".lock", wait_s=BUILD_WAIT_S):
            found = _read_shared(path, reader, folder, identity)
            if found is not None:
                return found
            built = build_tables(reader, folder)
            _write_shared(path, built, identity)
            _prune(path.parent, commit)
    except (OSError, generations.IndexBusy) as exc:
        log.warning("tables of %s kept in this process: %s", path, exc)
        return built if built is not None else build_tables(reader, folder)
    return _read_shared(path, reader, folder, identity) or built


def _identity(reader) -> list[list] | None:
    """What the file must have been built from: each segment's id, size and deletions
    (the TOC generation names a version; this also catches a file of another)."""
    found = []
    for leaf, _ in reader.leaf_readers():
        segment = leaf.segment()
        if segment is None:
            return None
        found.append([segment.segment_id(), leaf.doc_count_all(), leaf.doc_count()])
    return found


def _write_shared(path: Path, tables: Tables, identity: list[list]) -> None:
    arrays = {
        "source.ids": tables.source.ids,
        "language.ids": tables.language.ids,
        "actor.doc": tables.actor.doc,
        "actor.val": tables.actor.val,
        "actor.starts": tables.actor.starts,
        "date": tables.date,
        "story.keys": tables.story.values.keys,
        "story.codes": tables.story.codes,
        "story.alone": tables.story.alone,
    }
    meta = {
        "format": _SHARED_FORMAT,
        "size": tables.size,
        "segments": identity,
        "values": {
            "source": tables.source.values,
            "language": tables.language.values,
            "actor": tables.actor.values,
        },
    }
    packed.write(path, arrays, meta)


def _read_shared(path: Path, reader, folder, identity: list[list]) -> Tables | None:
    """The tables in `path`, mapped; None if absent, unreadable or of another version."""
    try:
        arrays, meta = packed.read(path)
        if meta["format"] != _SHARED_FORMAT or meta["segments"] != identity:
            return None
        values = {field: columns.interned(found) for field, found in meta["values"].items()}
        size = meta["size"]
        parts = [(_segment(leaf, folder), offset) for leaf, offset in reader.leaf_readers()]
        return Tables(
            size=size,
            live=_live(reader, size),
            source=SingleColumn(values["source"], arrays["source.ids"], _lookup(values["source"])),
            language=SingleColumn(
                values["language"], arrays["language.ids"], _lookup(values["language"])
            ),
            actor=MultiColumn(
                values["actor"],
                arrays["actor.doc"],
                arrays["actor.val"],
                _lookup(values["actor"]),
                size,
                arrays["actor.starts"],
            ),
            date=arrays["date"],
            story=StoryTable(
                StoryNames(arrays["story.keys"]),
                arrays["story.codes"],
                DocIds(parts),
                arrays["story.alone"],
            ),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _prune(folder: Path, commit: int) -> None:
    """Remove the tables of earlier versions: processes still on one keep their map of
    it (POSIX unlink) until they move on, and one that opens it late builds its own.
    Temporaries go too: under the lock, one is what a killed writer left."""
    for entry in folder.iterdir():
        stem = entry.name.split(".")[0]
        stale = stem.isdigit() and int(stem) < commit
        if stale or (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            entry.unlink(missing_ok=True)
