"""Reading Whoosh's postings, length columns and terms tables in bulk, as numpy arrays.

Whoosh reads one posting at a time through matcher objects; search/postings.py and
search/tables.py need whole lists at once. These readers decode W3 blocks directly (the
block layout, the per-document length column, the terms table), and fall back to
Whoosh's public matcher API for any other reader.
"""

from __future__ import annotations

import io
import pickle
import zlib
from itertools import accumulate

import numpy as np
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3LeafMatcher,
    W3PerDocReader,
    W3TermsReader,
    _lenfield,
)
from whoosh.matching import FilterMatcher
from whoosh.system import _INT_SIZE, unpack_int
from whoosh.util.numeric import byte_to_length

from index.codec.arrays import decode_positions

_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def field_b(weighting, field: str) -> float:
    """A BM25F model's length normalisation (B) for `field`."""
    return weighting._field_B.get(field, weighting.B)


def read_term(reader, field: str, btext: bytes, positions: bool):
    """(ids, weights, positions as (flat, starts) or None) of a term in one segment,
    deleted documents included, decoded from Whoosh's blocks: for a segment without
    posting arrays (index/codec/arrays.py), or a term it has none for."""
    ids, weights, values = read_postings(reader, field, btext, positions)
    flat = decode_positions(reader.schema[field].format, values) if positions else None
    return ids, weights, flat


def term_start(info) -> int | None:
    """Where a term's postings start in Whoosh's postings file, from its term info (what
    the arrays are keyed by); None when they are inlined in the terms table."""
    return None if info.is_inlined() else info.extent()[0]


def read_postings(reader, field, btext, positions):
    """(ids, weights, encoded values or None) of a term in one segment, deleted included."""
    matcher = reader.postings(field, btext)
    if isinstance(matcher, FilterMatcher):  # the deletion filter: live is applied later
        matcher = matcher.child
    ids: list = []
    weights: list = []
    values: list | None = [] if positions else None
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        return _decode_blocks(matcher, positions)
    if isinstance(matcher, W3LeafMatcher):
        # Block by block: each block's ids and weights decode in one call.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            if values is not None:
                matcher._read_values()
                values.extend(matcher._values)
            if matcher._lastblock:
                break
            matcher._goto(matcher._nextoffset)
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            if values is not None:
                values.append(matcher.value())
            matcher.next()
    return (
        np.array(ids, dtype=np.int64),
        np.array(weights, dtype=np.float64),
        values,
    )


def _decode_blocks(matcher, positions: bool):
    """A W3 posting list decoded block by block straight from the file, as the matcher's
    `_read_ids` / `_read_weights` / `_read_values` decode it, without its per-block
    seeks, reads and header unpickling through a file object (a cold search of a common
    word reads thousands of blocks), and with the ids' deltas summed by numpy."""
    postfile = matcher._postfile
    fixed = matcher._fixedsize
    pos = matcher._baseoffset
    deltas: list = []
    counts: list[int] = []
    weights: list[np.ndarray] = []
    values: list | None = [] if positions else None
    while True:
        (length,) = unpack_int(postfile.get(pos, _INT_SIZE))
        pos += _INT_SIZE
        block = postfile.get(pos, abs(length))
        pos += abs(length)
        stream = io.BytesIO(block)
        count, _, _, compression, _, _ = pickle.load(stream)
        data = block[stream.tell() :]
        if compression:
            data = zlib.decompress(data)
        ids, block_weights, block_values = pickle.loads(data)
        deltas.extend(ids)
        counts.append(count)
        if block_weights is None:
            weights.append(np.ones(count))
        elif isinstance(block_weights, float):
            weights.append(np.full(count, block_weights))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float64))
        if values is not None:
            if fixed is None or fixed < 0:
                values.extend(block_values)
            elif fixed == 0:
                values.extend([None] * count)
            else:
                cut = range(0, len(block_values), fixed)
                values.extend(block_values[i : i + fixed] for i in cut)
        if length < 0:  # the last block
            break
    summed = np.cumsum(np.array(deltas, dtype=np.int64))
    # Each block's deltas start again from zero: take off the sum of the blocks before.
    ends = np.cumsum(counts)
    before = np.concatenate(([0], summed[ends[:-1] - 1]))
    ids = summed - np.repeat(before, counts)
    return ids, np.concatenate(weights), values


def matcher_ids(matcher) -> np.ndarray:
    """Every id of one segment's postings matcher (deleted documents included), read a
    block at a time where it is Whoosh's own block reader."""
    if not isinstance(matcher, W3LeafMatcher):
        return np.fromiter(matcher.all_ids(), dtype=np.int64)
    ids: list = []
    while matcher.is_active():
        matcher._read_ids()
        ids.extend(matcher._ids)
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    return np.array(ids, dtype=np.int64)


class FieldLengths:
    """Every document's length in one field of one segment, as Whoosh's scorer sees it:
    kept as Whoosh stores it, a byte per document (a float64 each was 8 MB a field per
    million articles in every worker), and turned into lengths for the documents asked."""

    def __init__(self, codes: np.ndarray | None = None, lengths: np.ndarray | None = None):
        self._codes = codes
        self._lengths = lengths

    @property
    def codes(self) -> np.ndarray | None:
        """The length code (a byte) of every document, None where lengths are kept as
        numbers."""
        return self._codes

    def __getitem__(self, docnums: np.ndarray) -> np.ndarray:
        if self._codes is not None:
            return _LENGTH_OF_BYTE[self._codes[docnums]]
        assert self._lengths is not None
        return self._lengths[docnums]


def read_lengths(reader, field: str) -> FieldLengths:
    """Every document's length in `field` (byte-quantised, as Whoosh's scorer sees it)."""
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    if isinstance(perdoc, W3PerDocReader):
        column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        codes = np.zeros(count, dtype=np.uint8)
        if column is not None:
            raw = column._dbfile.get(column._basepos, column._count)
            codes[: column._count] = np.frombuffer(raw, dtype=np.uint8)
        return FieldLengths(codes=codes)
    lengths = [reader.doc_field_length(d, field) or 0 for d in range(count)]
    return FieldLengths(lengths=np.array(lengths, dtype=np.float64))


def segment_term_ids(leaf, field: str) -> tuple[list[bytes], list[np.ndarray]]:
    """Every term of `field` in one segment, in lexicon order, with its document numbers
    (deleted ones included)."""
    values: list[bytes] = []
    docs: list[np.ndarray] = []
    terms = getattr(leaf, "_terms", None)
    fmt = leaf.schema[field].format
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
            values.append(btext)
            docs.append(ids)
    else:
        for btext in leaf.lexicon(field):
            values.append(btext)
            docs.append(np.fromiter(leaf.postings(field, btext).all_ids(), dtype=np.int64))
    return values, docs


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
