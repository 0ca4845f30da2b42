"""A generation's lexicon: where a term is in every segment, found with one lookup.

A search looks each of its words up in every field it may be in and in every segment:
at a million articles (36 segments) a word new to a worker was some 500 lookups in
Whoosh's per-segment terms tables, a tenth of its first search, and a prefix or fuzzy
term standing for a few hundred words was tens of thousands of them, past the query
budget. The segment builder knows every term it writes, so it writes a hash of each
(field and term, 128-bit BLAKE2b: `arrays.key_hashes`) into the segment's posting
arrays (index/codec/arrays.py); when a build or reindex finishes, `ensure` joins the
segments' hashes into one table, sorted by hash, that gives for each term the segments
holding it, its document frequency in each (deleted documents included, as Whoosh
counts) and where its postings start. The table is read through the page cache, not
mapped (index/pread.py): a lookup is three small reads, some 30 microseconds in all.

A rare term's postings are also in the table (its pool), every segment's one after
another. Read from the segments, a word is two or three reads in each of them (ids,
weights, positions: a hundred small reads at a million articles), and these machines
page out file pages nobody has read for a minute or so: a word no query asked for since
the build cost some 200 reads of the disk, 35 ms. Keys with at most POOLED_POSTINGS
postings over all the segments (at a million articles, 99.99 % of keys, three quarters
of the postings, and all but one in twelve of the segments' reads of unseen queries) are
read from the pool in one or two reads (Lucene keeps a rare term's postings in its terms
dictionary for the same reason: "pulsing").

A 128-bit hash is taken to name its key: two keys of a generation sharing one are as
likely as a collision of git's object names. Segments the table does not cover (written
by Whoosh for API writes and merges, or built after it) are looked up in their own
terms tables, so answers never depend on the table (tests/index/test_lexicon.py compares
it with the terms tables, term by term).
"""

from __future__ import annotations

import bisect
import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from index import packed, pread
from index.codec import arrays
from index.codec.storage import DurableFileStorage
from index.storage import LEXICON_FILE

log = logging.getLogger(__name__)

# Keys per block of the in-memory sample (`Lexicon.sample`): a lookup reads one block of
# hashes (1 KB), the sample is a 64th of the keys (190 KB at a million articles).
BLOCK = 64
# A row: the segment's number in the table's list (upper 32 bits) and the term's
# document frequency there (lower 32), then where its postings start.
_SEGMENT_SHIFT = 32
_FREQUENCY_MASK = (1 << _SEGMENT_SHIFT) - 1
# Keys with at most this many postings over all the segments are pooled: at most 1.5 MB
# of postings read at once (ids, weights and position counts, 4 bytes each), one read
# where the segments took 72. At 50x Reuters-21578, raised from 16,384: a held-out query
# makes 46 reads instead of 142, the file is 2.2 GB instead of 1.1 and its write takes
# 16 s instead of 17 (written in pieces, `_Pool.pieces`: its peak 1.4 GB).
POOLED_POSTINGS = 131_072
# Postings of the pool written at a time (`_Pool.pieces`): 12 bytes each, 384 MB.
POOL_PIECE = 32 << 20
# A reindex that adds few documents keeps the lexicon it copied (`ensure`): a segment it
# does not cover is looked up in its own terms table, a few reads a word, and rewriting
# the table at a million articles took 17-23 s of a 10,000-article incremental reindex's
# 47-58 s. It is written again once the segments it does not cover hold more than this
# share of the documents, or there are more than UNCOVERED_SEGMENTS of them.
UNCOVERED_SHARE = 0.05
UNCOVERED_SEGMENTS = 4


def write(folder: str | Path, segment_ids: list[str]) -> list[str]:
    """Write the lexicon of the segments `segment_ids` of the index in `folder` (those
    whose posting arrays hold term hashes); the segments it covers (none: not written)."""
    covered: list[str] = []
    sources: list[tuple[str, str]] = []  # (segment, field) of each run of rows
    hashes, rows, sourced, begun = [], [], [], []
    for segment_id in segment_ids:
        fields = arrays.hashed_terms(folder, segment_id)
        if fields is None:
            continue
        number = len(covered)
        covered.append(segment_id)
        for field, keys, frequencies, offsets, firsts in fields:
            hashes.append(keys)
            rows.append(np.stack([(number << _SEGMENT_SHIFT) | frequencies, offsets], axis=1))
            sourced.append(np.full(len(keys), len(sources), dtype=np.int32))
            begun.append(firsts)
            sources.append((segment_id, field))
    if not covered:
        return covered
    words = _words(folder, covered)
    keys, rows_of = np.concatenate(hashes), np.concatenate(rows)
    del hashes, rows  # a copy of each is enough (some 200 MB at a million articles)
    order = np.lexsort((rows_of[:, 0], keys[:, 1], keys[:, 0]))
    keys, rows_of = keys[order], rows_of[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = (keys[1:] != keys[:-1]).any(axis=1)
    unique = keys[new]
    first = np.append(np.flatnonzero(new), len(keys)).astype("<i8")
    del keys, new  # the pool is the phase's peak: what it does not need goes first
    counts = rows_of[:, 0] & _FREQUENCY_MASK
    totals = np.add.reduceat(counts, first[:-1])
    counts[np.repeat(totals > POOLED_POSTINGS, np.diff(first))] = 0  # each row's pooled
    del totals
    source_of = np.concatenate(sourced)[order]
    begins = np.concatenate(begun)[order]
    del order, sourced, begun
    pool = _Pool(folder, sources, source_of, begins, counts)
    del source_of, begins, counts
    pool_at, positions_at = pool.pool_at, pool.positions_at
    tables: dict[str, np.ndarray | packed.Later] = {
        "sample": np.ascontiguousarray(unique[::BLOCK, 0]),
        "keys": unique.reshape(-1),
        # Per key and one more: its first row, its first pooled posting and position.
        "spans": np.stack([first, pool_at[first], positions_at[first]], axis=1).reshape(-1),
        "rows": rows_of.astype("<i8", copy=False).reshape(-1),
        "pool": packed.Later(np.dtype("<u4"), 3 * int(pool_at[-1])),
        "pool_positions": packed.Later(np.dtype("<i4"), int(positions_at[-1])),
    }
    if words is not None:
        tables["words"] = np.frombuffer(b"".join(words), dtype=np.uint8)
        tables["word_ends"] = np.cumsum([len(word) for word in words], dtype=np.int64)
    meta = {"segments": covered, "block": BLOCK}
    packed.write(Path(folder) / LEXICON_FILE, tables, meta, pool.pieces())
    return covered


class _Pool:
    """The pooled rows' postings, row after row: (id, weight's bits, its positions'
    count) as uint32, and their positions (int32), written a part at a time (`pieces`)."""

    def __init__(self, folder, sources: list[tuple[str, str]], source_of, begins, counts):
        """`counts`: each row's postings pooled (0: none); `begins`: where the row's
        postings begin in its source's arrays. The positional sources' position starts
        are read here, for where each row's positions go (`positions_at`)."""
        self.folder, self.sources, self.begins, self.counts = folder, sources, begins, counts
        # Where each row's postings and positions start in the pool (one more than rows).
        self.pool_at = run_starts(counts)
        taken = np.flatnonzero(counts)
        taken = taken[np.argsort(source_of[taken], kind="stable")]
        bounds = np.searchsorted(source_of[taken], np.arange(len(sources) + 1))
        # Each source's pooled rows, in row order.
        self.rows = [taken[bounds[n] : bounds[n + 1]] for n in range(len(sources))]
        row_positions = np.zeros(len(counts), dtype=np.int64)
        for (segment_id, field), rows in zip(sources, self.rows, strict=True):
            starts = arrays.field_position_starts(folder, segment_id, field) if len(rows) else None
            if starts is not None:
                taken_from = concatenated_ranges(begins[rows], counts[rows])
                sizes = starts[taken_from + 1] - starts[taken_from]
                row_positions[rows] = np.add.reduceat(sizes, run_starts(counts[rows])[:-1])
        self.positions_at = run_starts(row_positions)

    def pieces(self) -> Iterator[tuple[str, np.ndarray]]:
        """("pool", ...) and ("pool_positions", ...) parts, in order, of rows holding
        about POOL_PIECE postings each: held whole, the pool was the build's peak (3 GB
        at 50x Reuters-21578). Each part reads every source's arrays again (from the
        page cache: the build wrote them)."""
        marks = np.arange(POOL_PIECE, int(self.pool_at[-1]), POOL_PIECE)
        cuts = sorted({0, *np.searchsorted(self.pool_at, marks).tolist(), len(self.counts)})
        for start, end in itertools.pairwise(cuts):
            yield from self._piece(start, end)

    def _piece(self, start: int, end: int) -> Iterator[tuple[str, np.ndarray]]:
        counts, begins = self.counts, self.begins
        pool_at, positions_at = self.pool_at, self.positions_at
        pool = np.zeros((int(pool_at[end] - pool_at[start]), 3), dtype="<u4")
        flat = np.zeros(int(positions_at[end] - positions_at[start]), dtype="<i4")
        for (segment_id, field), every in zip(self.sources, self.rows, strict=True):
            rows = every[np.searchsorted(every, start) : np.searchsorted(every, end)]
            if not len(rows):
                continue
            ids, weights, starts, positions = arrays.field_postings(
                self.folder, segment_id, field, True
            )
            into = concatenated_ranges(pool_at[rows] - pool_at[start], counts[rows])
            taken_from = concatenated_ranges(begins[rows], counts[rows])
            pool[into, 0] = ids[taken_from]
            pool[into, 1] = weights[taken_from].view("<u4")
            if starts is None:
                continue
            sizes = starts[taken_from + 1] - starts[taken_from]
            pool[into, 2] = sizes
            before = run_starts(sizes)[:-1]  # each posting's positions, from the source's first
            firsts = run_starts(counts[rows])[:-1]
            at = positions_at[rows] - positions_at[start] - before[firsts]
            flat[concatenated_ranges(np.repeat(at, counts[rows]) + before, sizes)] = positions[
                concatenated_ranges(starts[taken_from], sizes)
            ]
        yield "pool", pool.reshape(-1)
        yield "pool_positions", flat


def run_starts(sizes: np.ndarray) -> np.ndarray:
    """Where each of runs of these sizes starts, one after another, and where the last
    ends (int64, one more than the runs)."""
    starts = np.zeros(len(sizes) + 1, dtype="<i8")
    np.cumsum(sizes, out=starts[1:])
    return starts


def concatenated_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """start, start + 1, ... start + count - 1 of each (start, count), one after another."""
    counts = np.asarray(counts, dtype=np.int64)
    before = run_starts(counts)
    return np.repeat(np.asarray(starts, dtype=np.int64) - before[:-1], counts) + np.arange(
        before[-1]
    )


def _words(folder: str | Path, segment_ids: list[str]) -> list[bytes] | None:
    """The words (arrays.WORD_FIELD's terms) of the segments, sorted, once each; None if
    a segment did not keep them."""
    found: set[bytes] = set()
    for segment_id in segment_ids:
        words = arrays.segment_words(folder, segment_id)
        if words is None:
            return None
        found.update(words)
    return sorted(found)


def ensure(folder: str | Path) -> None:
    """Write the lexicon of the index in `folder` unless the one there covers every
    segment that could be covered, or all but a few small ones (UNCOVERED_SHARE).
    Called once a build's segments are committed."""
    ix = DurableFileStorage(str(folder)).open_index()
    try:
        sizes = {segment.segment_id(): segment.doc_count_all() for segment in ix._segments()}
    finally:
        ix.close()
    segment_ids = list(sizes)
    found = open_lexicon(folder)
    if found is not None:
        covered = set(found.segments)
        left = [s for s in segment_ids if s not in covered and arrays.has_term_hashes(folder, s)]
        share = sum(sizes[s] for s in left) / max(sum(sizes.values()), 1)
        if not left or (len(left) <= UNCOVERED_SEGMENTS and share <= UNCOVERED_SHARE):
            return
    try:
        write(folder, segment_ids)
    except OSError as exc:  # a full disk: segments are looked up one by one instead
        log.warning("lexicon of %s not written: %s", folder, exc)
    forget(folder)


def forget(folder: str | Path) -> None:
    """Drop this process's open lexicon of `folder`: it was written again (by `ensure`,
    here or in a forked process)."""
    with _open_lock:
        _open.pop(str(Path(folder) / LEXICON_FILE), None)


class Found(NamedTuple):
    """A key's rows (`Lexicon.find`): the segments holding it (numbers in `segments`),
    its document frequency and where its postings start in each, and where its pooled
    postings and positions lie (`Lexicon.pooled`), None when it is not pooled."""

    numbers: np.ndarray
    frequencies: np.ndarray
    starts: np.ndarray
    pool: tuple[int, int, int, int] | None = None


class Lexicon:
    """A generation's lexicon file, opened: `find` a term's rows."""

    def __init__(self, path: Path):
        names = ("keys", "first", "spans", "rows", "pool", "pool_positions")
        mapped, unmapped, meta = packed.read_parts(path, names)
        if meta.get("block") != BLOCK:
            raise ValueError(f"{path}: blocks of {meta.get('block')} keys")
        self.segments: list[str] = meta["segments"]
        self.sample = np.array(mapped["sample"])  # a copy: the map can go
        self._keys = unmapped["keys"]
        # Per key: its first row, then (since pools) its first pooled posting and position.
        self._spans = unmapped["spans"] if "spans" in unmapped else unmapped["first"]
        self._span = 3 if "spans" in unmapped else 1
        self._rows = unmapped["rows"]
        self._pool = unmapped.get("pool")
        self._pool_positions = unmapped.get("pool_positions")
        self._count = len(self._keys) // 2
        # The words, UTF-8, one after another (mapped: a prefix walks a run of them).
        self._words = mapped.get("words")
        self._word_ends = mapped.get("word_ends")

    @property
    def has_words(self) -> bool:
        return self._word_ends is not None

    def words_from(self, prefix: bytes) -> Iterator[bytes]:
        """The words starting with `prefix`, in order (UTF-8: Whoosh's term order)."""
        assert self._words is not None and self._word_ends is not None
        data, ends = self._words, self._word_ends

        def word(i: int) -> bytes:
            return data[int(ends[i - 1]) if i else 0 : int(ends[i])].tobytes()

        for i in range(bisect.bisect_left(range(len(ends)), prefix, key=word), len(ends)):
            found = word(i)
            if not found.startswith(prefix):
                return
            yield found

    def find(self, field: str, term: bytes) -> Found:
        """The rows of `term` in `field`: empty arrays when no segment holds it."""
        return self.find_all([(field, term)])[0]

    def find_all(self, terms: list[tuple[str, bytes]]) -> list[Found]:
        """`find` for each (field, term) of `terms`, the reads of each step made together
        (`pread.read_all`): a query's words are looked up in three waves of reads, not
        three reads each one after another, and their pools are asked of the disk before
        they are read (`pooled`)."""
        # Keys whose high half equals a term's lie from the block before the first sample
        # not below it to the first block whose sample is above it (usually one block).
        # Each half as numpy's own: a Python int above 2**63 makes searchsorted convert
        # the whole sample (8 us a call).
        hashes = [arrays.key_hashes(field, [term])[0] for field, term in terms]
        blocks = []
        for high, _ in hashes:
            begin = max(int(self.sample.searchsorted(high, "left")) - 1, 0) * BLOCK
            end = min(int(self.sample.searchsorted(high, "right")) * BLOCK, self._count)
            blocks.append((begin, np.empty(2 * max(end - begin, 0), dtype=self._keys.dtype)))
        pread.read_all([self._keys.read_at(2 * begin, out) for begin, out in blocks])
        keys: list[int | None] = []
        for (high, low), (begin, block) in zip(hashes, blocks, strict=True):
            pairs = block.reshape(-1, 2)
            at = np.flatnonzero((pairs[:, 0] == high) & (pairs[:, 1] == low))
            keys.append(begin + int(at[0]) if len(at) else None)
        width = self._span
        spans = {k: np.empty(2 * width, dtype=self._spans.dtype) for k in keys if k is not None}
        pread.read_all([self._spans.read_at(width * key, out) for key, out in spans.items()])
        rows = {
            key: np.empty(2 * int(span[width] - span[0]), dtype=self._rows.dtype)
            for key, span in spans.items()
        }
        pread.read_all([self._rows.read_at(2 * int(spans[k][0]), out) for k, out in rows.items()])
        found = []
        for key in keys:
            if key is None:
                found.append(_NOTHING)
                continue
            span = spans[key].tolist()
            head, starts = rows[key].reshape(-1, 2).T
            pool = None
            if width == 3 and span[4] > span[1]:
                pool = (span[1], span[4], span[2], span[5])
                assert self._pool is not None
                self._pool.advise(3 * span[1], 3 * span[4])
            found.append(Found(head >> _SEGMENT_SHIFT, head & _FREQUENCY_MASK, starts, pool))
        return found

    def pooled(self, found: Found, positions: bool = False):
        """The pooled postings of a key `find` gave, every segment's in the order of its
        rows: (ids as uint32, weights as float32, and with `positions` each posting's
        positions' count and the positions, int32, one after another)."""
        assert found.pool is not None and self._pool is not None
        begin, end, first, last = found.pool
        rows = self._pool.take(3 * begin, 3 * end).reshape(-1, 3)
        ids, weights = rows[:, 0], rows[:, 1].view(np.float32)
        if not positions:
            return ids, weights, None, None
        assert self._pool_positions is not None
        return ids, weights, rows[:, 2], self._pool_positions.take(first, last)


_NOTHING = Found(np.zeros(0, dtype="<i8"), np.zeros(0, dtype="<i8"), np.zeros(0, dtype="<i8"))

# Lexicons open in this process, by file, the least recent closed past OPEN_LEXICONS (an
# open one keeps a replaced generation's file on disk). A generation's is written once,
# before any searcher opens it; `ensure` forgets one it rewrites.
OPEN_LEXICONS = 4
_open: OrderedDict[str, Lexicon | None] = OrderedDict()
_open_lock = threading.Lock()


def open_lexicon(folder: str | Path) -> Lexicon | None:
    """The lexicon of the generation in `folder`; None when it has none (built before
    lexicons, or no disk space) or it cannot be read."""
    path = str(Path(folder) / LEXICON_FILE)
    with _open_lock:
        if path in _open:
            _open.move_to_end(path)
            return _open[path]
    found: Lexicon | None
    try:
        found = Lexicon(Path(path))
    except (OSError, ValueError, KeyError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("lexicon %s not used: %s", path, exc)
        found = None
    with _open_lock:
        _open[path] = found
        while len(_open) > OPEN_LEXICONS:
            _open.popitem(last=False)
    return found
