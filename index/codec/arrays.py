"""Posting lists as flat numpy arrays beside each segment Sift writes, for cold reads.

Whoosh stores a term's postings as pickled, zlib-compressed blocks of 128, and each
position list as a pickle of its own. A search that meets a word for the first time in a
worker (every word, right after a start or a new version) decodes them all: at a million
articles a common word is half a million postings, and decoding them took longer than
the query budget allows. The segment builder (index/codec/segments.py) has each term's
postings in memory as it writes them, so it also writes them as arrays, one set per
field: document numbers, weights (32-bit floats, as Whoosh stores them) and, for
positional fields, positions; a term is found by where its postings start in Whoosh's
own postings file (its term info says). Reading a term is then two slices of files
read through the page cache, which every worker shares (index/packed.py: `Unmapped`).
Each field also keeps a hash of each of its terms, from which a finished build writes
the generation's lexicon (index/codec/lexicon.py).

Segments Whoosh writes (API writes, merges) have none: their terms are decoded from the
blocks as before (index/codec/postings.py), so answers never depend on these files
(tests/index/test_codec_postings.py compares both with Whoosh's own matchers).
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from hashlib import blake2b
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.formats import Positions
from whoosh.system import _INT_SIZE

from index import packed, pread, schema
from index.storage import POSTINGS_DIR

FOLDER = POSTINGS_DIR
# Segments whose arrays stay open per process (a few files each), least recent dropped.
OPEN_SEGMENTS = 512


class FieldCollector:
    """One field's postings, term by term in byte order, as flat arrays (a segment has
    hundreds of thousands of terms: nothing per term but a slice); the segment writer
    (index/codec/segments.py) makes them and fills in where each term's postings start in
    Whoosh's file as it writes them."""

    def __init__(self, field: str, fmt, terms: list[bytes], starts, ids, weights, values):
        self.field = field
        self.fmt = fmt
        self.positional = type(fmt) is Positions
        self.terms = terms
        self.offsets = np.zeros(len(terms), dtype=np.int64)
        self.starts = starts  # term -> its first posting; starts[-1] is their number
        self.ids = ids
        self.weights = weights
        self.values = values  # each posting's encoded value, as Whoosh stores it
        # A positional field's positions, each posting's after one another, and where
        # each posting's start (one more: their number).
        self.positions: np.ndarray | None = None
        self.position_starts: np.ndarray | None = None

    @cached_property
    def stored_weights(self) -> np.ndarray:
        """The weights as Whoosh stores them (32-bit floats): in its blocks and here."""
        return self.weights.astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {
            "offsets": self.offsets,
            "starts": self.starts,
            "ids": self.ids,
            "weights": self.stored_weights,
            "hashes": key_hashes(self.field, self.terms).reshape(-1),
        }
        if self.field == WORD_FIELD:  # the terms themselves, for the lexicon's words
            found["terms"] = np.frombuffer(b"".join(self.terms), dtype=np.uint8)
            found["term_ends"] = np.cumsum([len(term) for term in self.terms], dtype=np.int64)
        if self.positional:
            assert self.positions is not None and self.position_starts is not None
            found["positions"], found["position_starts"] = self.positions, self.position_starts
        return found


# The field whose terms the lexicon also keeps as sorted words: prefix and fuzzy terms
# expand against the unstemmed words (search/queries.py).
WORD_FIELD = schema.WORDS


def key_hashes(field: str, terms: list[bytes]) -> np.ndarray:
    """The 128-bit hash (BLAKE2b) of each term of `field`, as (n, 2) 64-bit halves: what
    the lexicon is keyed by (index/codec/lexicon.py)."""
    prefix = field.encode("utf-8") + b"\0"
    digests = b"".join(blake2b(prefix + term, digest_size=16).digest() for term in terms)
    return np.frombuffer(digests, dtype="<u8").reshape(-1, 2)


def decode_positions(fmt, values: list) -> tuple[np.ndarray, np.ndarray]:
    """Every posting's positions, flat, and where each posting's start (len + 1).

    A `Positions` value is a count and a pickle of the position deltas. Whoosh unpickles
    each alone (a phrase over a common word is hundreds of thousands of calls); here the
    pickles' bodies are joined into one pickle of a list of lists, unpickled at once, and
    the deltas summed by numpy. Other formats decode value by value, as Whoosh does."""
    if type(fmt) is Positions:
        bodies = [b"\x80\x02("]  # protocol 2, then a mark: the lists that follow
        for value in values:
            body = value[_INT_SIZE:]
            if body[:1] == b"\x80":  # the protocol header
                body = body[2:]
            if body[-1:] == b".":  # the stop
                body = body[:-1]
            bodies.append(body)
        bodies.append(b"l.")  # everything since the mark, as one list
        lists = pickle.loads(b"".join(bodies))
    else:
        lists = [_deltas(fmt.decode_positions(value)) for value in values]
    counts = np.array([len(deltas) for deltas in lists], dtype=np.int64)
    starts = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    summed = np.cumsum(
        np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(starts[-1]))
    )
    before = np.concatenate(([0], summed))[starts[:-1]]
    return summed - np.repeat(before, counts), starts


def _deltas(positions: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *positions], positions, strict=False)]


def write(folder: str | Path, segment_id: str, fields: dict[str, FieldCollector]) -> None:
    """Write a segment's arrays (one file, index/packed.py)."""
    found = {}
    for field, collector in fields.items():
        for name, values in collector.arrays().items():
            found[f"{field}.{name}"] = values
    packed.write(Path(folder) / FOLDER / f"{segment_id}.pack", found)


# Read a term at a time, each slice converted: through the page cache, not mapped
# (index/packed.py). The term offsets and starts, binary-searched, stay mapped; the term
# hashes are read once, by the build that writes the lexicon.
_UNMAPPED = ("ids", "weights", "position_starts", "positions", "hashes")


@dataclass(frozen=True)
class _Field:
    offsets: np.ndarray
    starts: np.ndarray
    ids: packed.Unmapped
    weights: packed.Unmapped
    position_starts: packed.Unmapped | None
    positions: packed.Unmapped | None
    hashes: packed.Unmapped | None  # the terms' (index/codec/lexicon.py), two halves each
    terms: np.ndarray | None  # WORD_FIELD's terms, UTF-8 one after another,
    term_ends: np.ndarray | None  # and where each ends


_open: OrderedDict[tuple[str, str], dict[str, _Field] | None] = OrderedDict()
_open_lock = threading.Lock()


def _segment(folder: str, segment_id: str) -> dict[str, _Field] | None:
    key = (folder, segment_id)
    with _open_lock:
        if key in _open:
            _open.move_to_end(key)
            return _open[key]
    fields: dict[str, _Field] | None
    try:
        path = Path(folder) / FOLDER / f"{segment_id}.pack"
        mapped, unmapped, _ = packed.read_parts(path, _UNMAPPED)
        by_field: dict[str, dict[str, Any]] = {}
        for key_name, values in chain(mapped.items(), unmapped.items()):
            field, name = key_name.rsplit(".", 1)
            by_field.setdefault(field, {})[name] = values
        fields = {
            field: _Field(
                found["offsets"],
                found["starts"],
                found["ids"],
                found["weights"],
                found.get("position_starts"),
                found.get("positions"),
                found.get("hashes"),
                found.get("terms"),
                found.get("term_ends"),
            )
            for field, found in by_field.items()
        }
    except (OSError, ValueError, KeyError):
        fields = None  # none written (a segment Whoosh wrote), or unreadable: decode blocks
    with _open_lock:
        _open[key] = fields
        while len(_open) > OPEN_SEGMENTS:
            _open.popitem(last=False)
    return fields


def _hashed_fields(folder: str | Path, segment_id: str) -> dict[str, _Field] | None:
    """The segment's fields, None unless each keeps its terms' hashes (arrays written
    before the lexicon was, or none: a segment Whoosh wrote)."""
    fields = _segment(str(folder), segment_id)
    if not fields or any(found.hashes is None for found in fields.values()):
        return None
    return fields


def has_term_hashes(folder: str | Path, segment_id: str) -> bool:
    return _hashed_fields(folder, segment_id) is not None


def hashed_terms(folder: str | Path, segment_id: str):
    """Per field of the segment: its name, its terms' hashes as (n, 2) halves, their
    document frequencies, where their postings start in Whoosh's file and where in the
    field's arrays; None without `has_term_hashes`."""
    fields = _hashed_fields(folder, segment_id)
    if fields is None:
        return None
    return [
        (
            field,
            found.hashes.take(0, len(found.hashes)).reshape(-1, 2),
            np.diff(found.starts),
            np.array(found.offsets),
            np.array(found.starts[:-1]),
        )
        for field, found in fields.items()
        if found.hashes is not None  # all are (_hashed_fields)
    ]


def field_postings(folder: str | Path, segment_id: str, field: str, positions: bool = False):
    """The field's whole arrays in the segment, read at once for the lexicon's pool
    (index/codec/lexicon.py): (ids, weights, position starts or None), and with
    `positions` the positions (or None) after them."""
    found = _field_arrays(folder, segment_id, field)
    every = [found.ids, found.weights, found.position_starts]
    if positions:
        every.append(found.positions)
    return tuple(None if a is None else a.take(0, len(a)) for a in every)


def field_position_starts(folder: str | Path, segment_id: str, field: str) -> np.ndarray | None:
    """`field_postings`' position starts alone (None for a field without positions)."""
    starts = _field_arrays(folder, segment_id, field).position_starts
    return None if starts is None else starts.take(0, len(starts))


def _field_arrays(folder: str | Path, segment_id: str, field: str) -> _Field:
    fields = _segment(str(folder), segment_id)
    if fields is None or field not in fields:
        raise ValueError(f"{segment_id}: no posting arrays for {field}")
    return fields[field]


def segment_words(folder: str | Path, segment_id: str) -> list[bytes] | None:
    """The terms of the segment's WORD_FIELD, sorted (as they were written); None when its
    arrays do not keep them."""
    fields = _segment(str(folder), segment_id)
    if fields is None:
        return None
    found = fields.get(WORD_FIELD)
    if found is None:  # no word in the segment
        return []
    if found.terms is None or found.term_ends is None:
        return None
    raw, bounds = found.terms.tobytes(), found.term_ends.tolist()
    return [raw[a:b] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]


def _rows(found: _Field, offset: int) -> tuple[int, int] | None:
    """Where the postings of the term whose postings start at `offset` (in Whoosh's
    postings file) lie in the field's arrays; None if no term's start there."""
    # Array methods and .item(): a term is looked up in every segment, and numpy's
    # function forms cost twice the search itself.
    offsets = found.offsets
    at = int(offsets.searchsorted(offset))
    if at >= len(offsets) or offsets.item(at) != offset:
        return None
    return found.starts.item(at), found.starts.item(at + 1)


def term_reads(
    folder: str,
    segment_id: str,
    field: str,
    offset: int,
    ids: np.ndarray,
    weights: np.ndarray,
    position_starts: np.ndarray | None = None,
) -> list[pread.Read] | None:
    """The reads (`pread.read_all`) that fill `ids` (uint32) and `weights` (float32) with
    the postings of the term whose postings start at `offset`, as stored, and
    `position_starts` (int64, one more) with where each posting's positions start in the
    field's positions (`positions_read`); None when this segment has no such arrays for
    it or its postings are not `len(ids)` long."""
    fields = _segment(folder, segment_id)
    found = fields.get(field) if fields else None
    if found is None:
        return None
    wanted: list[tuple[Any, np.ndarray]] = [(found.ids, ids), (found.weights, weights)]
    if position_starts is not None:
        wanted.append((found.position_starts, position_starts))
    if not all(isinstance(a, packed.Unmapped) and a.dtype == o.dtype for a, o in wanted):
        return None
    rows = _rows(found, offset)
    if rows is None or rows[1] - rows[0] != len(ids):
        return None
    return [stored.read_at(rows[0], out) for stored, out in wanted]


def positions_read(
    folder: str, segment_id: str, field: str, first: int, out: np.ndarray
) -> pread.Read:
    """The read that fills `out` (int32) with the field's positions from `first` (a
    position start that `term_reads` gave)."""
    fields = _segment(folder, segment_id)
    found = fields[field] if fields else None
    if found is None or not isinstance(found.positions, packed.Unmapped):
        raise ValueError(f"{segment_id}: no positions for {field}")
    return found.positions.read_at(first, out)


def read_term(folder: str, segment_id: str, field: str, offset: int, positions: bool):
    """(ids, weights, positions as (flat, starts) or None) of the term whose postings
    start at `offset`; None when this segment has no arrays for it."""
    fields = _segment(folder, segment_id)
    found = fields.get(field) if fields else None
    if found is None or (positions and found.positions is None):
        return None
    rows = _rows(found, offset)
    if rows is None:
        return None
    start, end = rows
    ids = found.ids.take(start, end).astype(np.int64)
    weights = found.weights.take(start, end).astype(np.float64)
    if not positions:
        return ids, weights, None
    assert found.position_starts is not None and found.positions is not None
    starts = found.position_starts.take(start, end + 1)
    flat = found.positions.take(int(starts[0]), int(starts[-1])).astype(np.int64)
    return ids, weights, (flat, starts - starts[0])
