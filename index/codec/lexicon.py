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

A 128-bit hash is taken to name its key: two keys of a generation sharing one are as
likely as a collision of git's object names. Segments the table does not cover (written
by Whoosh for API writes and merges, or built after it) are looked up in their own
terms tables, so answers never depend on the table (tests/index/test_lexicon.py compares
it with the terms tables, term by term).
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from index import packed
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


def write(folder: str | Path, segment_ids: list[str]) -> list[str]:
    """Write the lexicon of the segments `segment_ids` of the index in `folder` (those
    whose posting arrays hold term hashes); the segments it covers (none: not written)."""
    covered: list[str] = []
    hashes: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    for segment_id in segment_ids:
        fields = arrays.hashed_terms(folder, segment_id)
        if fields is None:
            continue
        number = len(covered)
        covered.append(segment_id)
        for keys, frequencies, offsets in fields:
            hashes.append(keys)
            rows.append(np.stack([(number << _SEGMENT_SHIFT) | frequencies, offsets], axis=1))
    if not covered:
        return covered
    words = _words(folder, covered)
    keys, rows_of = np.concatenate(hashes), np.concatenate(rows)
    order = np.lexsort((rows_of[:, 0], keys[:, 1], keys[:, 0]))
    keys, rows_of = keys[order], rows_of[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = (keys[1:] != keys[:-1]).any(axis=1)
    unique = keys[new]
    first = np.append(np.flatnonzero(new), len(keys)).astype("<i8")
    tables = {
        "sample": np.ascontiguousarray(unique[::BLOCK, 0]),
        "keys": unique.reshape(-1),
        "first": first,
        "rows": rows_of.astype("<i8").reshape(-1),
    }
    if words is not None:
        tables["words"] = np.frombuffer(b"".join(words), dtype=np.uint8)
        tables["word_ends"] = np.cumsum([len(word) for word in words], dtype=np.int64)
    packed.write(Path(folder) / LEXICON_FILE, tables, {"segments": covered, "block": BLOCK})
    return covered


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
    segment that could be covered. Called once a build's segments are committed."""
    ix = DurableFileStorage(str(folder)).open_index()
    try:
        segment_ids = [segment.segment_id() for segment in ix._segments()]
    finally:
        ix.close()
    hashed = [s for s in segment_ids if arrays.has_term_hashes(folder, s)]
    found = open_lexicon(folder)
    if found is not None and set(hashed) <= set(found.segments):
        return
    try:
        write(folder, segment_ids)
    except OSError as exc:  # a full disk: segments are looked up one by one instead
        log.warning("lexicon of %s not written: %s", folder, exc)
    with _open_lock:
        _open.pop(str(Path(folder) / LEXICON_FILE), None)


class Lexicon:
    """A generation's lexicon file, opened: `find` a term's rows."""

    def __init__(self, path: Path):
        mapped, unmapped, meta = packed.read_parts(path, ("keys", "first", "rows"))
        if meta.get("block") != BLOCK:
            raise ValueError(f"{path}: blocks of {meta.get('block')} keys")
        self.segments: list[str] = meta["segments"]
        self.sample = np.array(mapped["sample"])  # a copy: the map can go
        self._keys = unmapped["keys"]
        self._first = unmapped["first"]
        self._rows = unmapped["rows"]
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

    def find(self, field: str, term: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment numbers in `segments`, document frequencies, postings starts) of the
        segments holding `term` in `field`; empty arrays when none does."""
        high, low = arrays.key_hashes(field, [term])[0]  # numpy's own: a Python int
        # above 2**63 makes searchsorted convert the whole sample (8 us a call)
        # Keys whose high half equals `high` lie from the block before the first sample
        # not below it to the first block whose sample is above it (usually one block).
        begin = max(int(self.sample.searchsorted(high, "left")) - 1, 0) * BLOCK
        end = min(int(self.sample.searchsorted(high, "right")) * BLOCK, self._count)
        block = self._keys.take(2 * begin, 2 * end).reshape(-1, 2)
        at = np.flatnonzero((block[:, 0] == high) & (block[:, 1] == low))
        if not len(at):
            return _NOTHING
        start, stop = (int(x) for x in self._first.take(begin + at[0], begin + at[0] + 2))
        rows = self._rows.take(2 * start, 2 * stop).reshape(-1, 2)
        head = rows[:, 0]
        return head >> _SEGMENT_SHIFT, head & _FREQUENCY_MASK, rows[:, 1]


_NOTHING = (np.zeros(0, dtype="<i8"), np.zeros(0, dtype="<i8"), np.zeros(0, dtype="<i8"))

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
