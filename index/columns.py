"""Per-segment columns for the read side: each document's facet values, id and story
(and, for writers, the sorted hashes of the segment's ids: `ids_maybe_held`).

A searcher needs, for every document, its source, language, actors, date, id and story,
as arrays (search/tables.py). Read from the postings, that is a pass over every term of
five fields: four seconds a process at 216,000 articles, twenty at a million, paid by
every worker at start and again by every worker at every new index version. Segments
never change once written, so their columns are written once, beside the index, as
numpy arrays every searcher memory-maps (`columns/<segment id>.pack`): the pages are shared
by all workers through the page cache, and a start reads a few files per segment.

The writers (a build, an API write, an incremental build) call `ensure` after their
commit and after the documents' stories are recorded (index/stories.py). A segment
whose columns are missing or unreadable (an index built before them, a crash before
`ensure`) is computed in memory by `load`, as before; `sift verify` does not check these
files: they are a cache, rebuilt from the segment whenever they are absent.
"""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass, replace
from hashlib import blake2b
from pathlib import Path

import numpy as np

from index import packed, schema
from index.codec import arrays
from index.codec.postings import segment_term_ids
from index.codec.storage import DurableFileStorage, committed_files
from index.storage import COLUMNS_DIR
from index.stories import FILE as STORIES_FILE
from index.stories import story_id
from index.workers import die_with_parent

log = logging.getLogger(__name__)

FOLDER = COLUMNS_DIR
FACETED = (schema.SOURCE, schema.LANGUAGE, schema.ACTOR, schema.DATE)
_FORMAT = 1  # bumped when the files change: older columns are recomputed
_IN_QUERY = 500  # ids per SQLite query (its default limit on parameters is 999)


@dataclass(frozen=True)
class Pairs:
    """One field of one segment: its values in lexicon order, and (document, value) pairs
    sorted by document (numbers within the segment, deleted documents included)."""

    values: list[str]
    doc: np.ndarray  # int32
    val: np.ndarray  # int32


@dataclass(frozen=True)
class SegmentColumns:
    size: int  # documents in the segment, deleted ones included
    fields: dict[str, Pairs]  # FACETED field -> pairs
    id_bytes: np.ndarray  # uint8: every document's id, UTF-8, in document order
    id_ends: np.ndarray  # int64: where each id ends in id_bytes
    story_keys: np.ndarray  # int64: each document's story (story_key)
    # uint64, sorted: id_hashes of the segment's ids; None in files written before them
    id_hashes: np.ndarray | None = None

    def doc_id(self, docnum: int) -> str:
        return packed.string_at(self.id_bytes, self.id_ends, docnum)


def story_key(story: str) -> int:
    """A story id (index/stories.py `story_id`: "s" and 12 hex digits) as an integer."""
    return int(story[1:], 16)


def story_name(key: int) -> str:
    return f"s{key:012x}"


def compute(leaf, folder: str | Path) -> SegmentColumns:
    """One segment's columns read from its postings; stories from the generation's file."""
    size = leaf.doc_count_all()
    fields = {}
    for field in FACETED:
        values, docs = segment_term_ids(leaf, field)
        doc = np.concatenate(docs).astype(np.int32) if docs else np.zeros(0, np.int32)
        val = np.repeat(np.arange(len(values), dtype=np.int32), [len(d) for d in docs])
        order = np.lexsort((val, doc))  # by document: a reader finds a document's values
        fields[field] = Pairs([v.decode("utf-8") for v in values], doc[order], val[order])
    ids = [""] * size
    values, docs = segment_term_ids(leaf, schema.ID)
    hashes = np.sort(_hashes(values))
    for value, found in zip(values, docs, strict=True):
        text = value.decode("utf-8")
        for docnum in found.tolist():
            ids[docnum] = text
    id_bytes, id_ends = packed.pack_strings(ids)
    stories = _stories(Path(folder), ids)
    story_keys = np.array([story_key(stories.get(i) or story_id(i)) for i in ids], np.int64)
    return SegmentColumns(size, fields, id_bytes, id_ends, story_keys, hashes)


def id_hashes(ids: list[str]) -> np.ndarray:
    """64-bit hashes of `ids` (BLAKE2b): a segment's sorted hashes tell a writer, without a
    lookup in the segment's term table, that it does not hold an id."""
    return _hashes([i.encode("utf-8") for i in ids])


def _hashes(encoded: list[bytes]) -> np.ndarray:
    digests = b"".join(blake2b(e, digest_size=8).digest() for e in encoded)
    return np.frombuffer(digests, dtype="<u8")


def ids_maybe_held(folder: str | Path, segments, ids: list[str]) -> set[str]:
    """Those of `ids` that one of `segments` (of the index in `folder`) may hold: all of
    them if a segment's columns lack hashes. A put of a new id then skips Whoosh's delete
    by term, a term-table lookup in every segment (2 s per 1,000 puts at a million
    articles in 37 segments); a hash collision only costs that lookup."""
    wanted = id_hashes(ids)
    hit = np.zeros(len(ids), dtype=bool)
    for segment in segments:
        held = _id_hashes(folder, segment.segment_id(), segment.doc_count_all())
        if held is None:
            return set(ids)
        if len(held):
            hit |= held[np.searchsorted(held, wanted).clip(max=len(held) - 1)] == wanted
    return {doc_id for doc_id, found in zip(ids, hit.tolist(), strict=True) if found}


def _stories(folder: Path, ids: list[str]) -> dict[str, str]:
    path = folder / STORIES_FILE
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        for start in range(0, len(ids), _IN_QUERY):
            chunk = ids[start : start + _IN_QUERY]
            marks = ",".join("?" * len(chunk))
            found.update(db.execute(f"SELECT id, story FROM docs WHERE id IN ({marks})", chunk))
    return found


def _id_hashes(folder: str | Path, segment_id: str, size: int) -> np.ndarray | None:
    """A segment's id hashes alone: `read` would also intern all its facet values."""
    current = _current(folder, segment_id, size)
    return None if current is None else current[0].get("id_hashes")


def _current(folder: str | Path, segment_id: str, size: int) -> tuple[dict, dict] | None:
    """The arrays and metadata of a segment's columns file; None if it is absent,
    unreadable, of another format or not of a segment of `size` documents."""
    try:
        found, meta = packed.read(_path(folder, segment_id))
        if meta["format"] != _FORMAT or meta["size"] != size:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    hashes = found.get("id_hashes")
    return None if hashes is not None and len(hashes) > size else (found, meta)


def _complete(found: dict, meta: dict, size: int) -> bool:
    """Whether a columns file holds every array `read` needs, of the segment's size,
    checked without reading its values: `ensure` asks it of every segment after every
    commit, and `read` interned each one's values (some 800,000 strings at a million
    articles, half a second of every API write)."""
    try:
        values = meta["values"]
        for field in FACETED:
            if f"{field}.doc" not in found or f"{field}.val" not in found or field not in values:
                return False
        if "id_bytes" not in found:
            return False
        return len(found["id_ends"]) == size and len(found["story_keys"]) == size
    except (KeyError, TypeError):
        return False


def _path(folder: str | Path, segment_id: str) -> Path:
    return Path(folder) / FOLDER / f"{segment_id}.pack"


def write(folder: str | Path, segment_id: str, columns: SegmentColumns) -> None:
    """Write a segment's columns (one file, index/packed.py)."""
    found = {
        "id_bytes": columns.id_bytes,
        "id_ends": columns.id_ends,
        "story_keys": columns.story_keys,
    }
    if columns.id_hashes is not None:
        found["id_hashes"] = columns.id_hashes
    for field, pairs in columns.fields.items():
        found[f"{field}.doc"] = pairs.doc
        found[f"{field}.val"] = pairs.val
    meta = {
        "format": _FORMAT,
        "size": columns.size,
        "values": {f: pairs.values for f, pairs in columns.fields.items()},
    }
    packed.write(_path(folder, segment_id), found, meta)


def read(folder: str | Path, segment_id: str, size: int) -> SegmentColumns | None:
    """A segment's columns, memory-mapped; None if absent or not what the segment holds."""
    current = _current(folder, segment_id, size)
    if current is None:
        return None
    found, meta = current
    try:
        fields = {
            f: Pairs(interned(meta["values"][f]), found[f"{f}.doc"], found[f"{f}.val"])
            for f in FACETED
        }
        columns = SegmentColumns(
            size,
            fields,
            found["id_bytes"],
            found["id_ends"],
            found["story_keys"],
            found.get("id_hashes"),
        )
    except (KeyError, TypeError):
        return None
    if len(columns.id_ends) != size or len(columns.story_keys) != size:
        return None
    return columns


def interned(values: list[str]) -> list[str]:
    """One string per distinct value in the process: the same sources, actors and dates
    recur in every segment, and every segment's columns stay open (at 50x Reuters-21578
    and 20,000 additions, some 85 segments: 61 MB of values a worker, 12 MB interned)."""
    return [sys.intern(value) for value in values]


def load(leaf, folder: str | Path) -> SegmentColumns:
    """A segment's columns: the files if written, else computed from the segment."""
    segment = leaf.segment()
    if segment is not None:
        found = read(folder, segment.segment_id(), leaf.doc_count_all())
        if found is not None:
            return found
    return compute(leaf, folder)


def prune(cache: Path, segment_ids: set[str]) -> None:
    """Remove a cache's files for segments not in `segment_ids` (merged away); searchers
    still mapping them keep them until they close them."""
    for entry in cache.iterdir() if cache.exists() else ():
        if not entry.name.startswith(".") and entry.name.split(".")[0] not in segment_ids:
            entry.unlink(missing_ok=True)


def ensure(folder: str | Path, workers: int = 1) -> int:
    """Write the columns of every committed segment of the index in `folder` that lacks
    them, and remove those (and the posting arrays) of segments merged away; how many
    were written. Called by a writer after its commit, its documents' stories recorded.
    `workers` > 1: segments are computed in that many forked processes (a full build's
    dozens of segments: 31 s in one process at a million articles, the last stretch of
    the build); only from a process without threads (the reindex command)."""
    ix = DurableFileStorage(str(folder)).open_index()
    try:
        _, live_ids = committed_files(ix)
        with ix.reader() as reader:
            todo = {}
            for leaf, _ in reader.leaf_readers():
                segment = leaf.segment()
                if segment is None:  # an empty index
                    continue
                segment_id, size = segment.segment_id(), leaf.doc_count_all()
                current = _current(folder, segment_id, size)
                if current is None or not _complete(*current, size):
                    todo[segment_id] = leaf
                elif "id_hashes" not in current[0]:
                    found = read(folder, segment_id, size)
                    if found is None:
                        todo[segment_id] = leaf
                    else:
                        _add_hashes(folder, segment_id, found)
            if workers > 1 and len(todo) > 1:
                written = _in_workers(folder, list(todo), min(workers, len(todo)))
            else:
                written = sum(_computed(folder, leaf) for leaf in todo.values())
    finally:
        ix.close()
    prune(Path(folder) / FOLDER, live_ids)
    prune(Path(folder) / arrays.FOLDER, live_ids)
    return written


def _computed(folder: str | Path, leaf) -> bool:
    """Compute and write one segment's columns; False where the disk refused them (full:
    searchers compute them instead)."""
    segment_id = leaf.segment().segment_id()
    try:
        write(folder, segment_id, compute(leaf, folder))
    except OSError as exc:
        log.warning("columns of segment %s not written: %s", segment_id, exc)
        return False
    return True


def _add_hashes(folder: str | Path, segment_id: str, found: SegmentColumns) -> None:
    """Rewrite columns written before id hashes with them, hashed from their own ids (a
    million articles' in a second or two, once, where computing the columns from the
    postings again would take twenty)."""
    data, ends = found.id_bytes.tobytes(), found.id_ends.tolist()
    ids = [data[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    try:
        write(folder, segment_id, replace(found, id_hashes=np.sort(_hashes(ids))))
    except OSError as exc:
        log.warning("columns of segment %s not rewritten: %s", segment_id, exc)


# A forked worker's folder and own reader of the index, by segment id (`_in_workers`).
_worker_folder: list[str] = []
_worker_leaves: dict[str, object] = {}


def _in_workers(folder: str | Path, segment_ids: list[str], workers: int) -> int:
    """`_computed` for each segment, in forked worker processes with readers of their own
    (a Whoosh reader's files must not be shared across processes)."""
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_open_in_worker, initargs=(str(folder),)) as pool:
        return sum(pool.imap_unordered(_compute_in_worker, segment_ids))


def _open_in_worker(folder: str) -> None:
    die_with_parent()
    _worker_folder.append(folder)
    ix = DurableFileStorage(folder).open_index()
    reader = ix.reader()  # kept open for the worker's life
    for leaf, _ in reader.leaf_readers():
        if leaf.segment() is not None:
            _worker_leaves[leaf.segment().segment_id()] = leaf


def _compute_in_worker(segment_id: str) -> bool:
    return _computed(_worker_folder[0], _worker_leaves[segment_id])
