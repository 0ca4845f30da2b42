"""Writing a Whoosh segment directly: the postings of each term as they arrive, no pool.

Whoosh's own segment writer sends every posting through a pool that sorts the whole build
and reads each document's field length back from disk for every posting. SegmentBuilder
keeps postings per field and term in document order and writes them in Whoosh's W3 format
itself; tests/index/test_pipeline.py checks the files read back as Whoosh's own writer's.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable

import numpy as np
from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.formats import Existence, Frequency, Positions
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from index.codec import arrays
from index.codec.storage import DurableFileStorage

# Whoosh zlib-compresses every postings block (its writer means to skip small ones, but
# the line after its `len(databytes) < 20` check overwrites the decision). A short
# pickle does not shrink (zlib's header and checksum are 6 bytes), and each compression
# call also pays zlib's set-up: pickles shorter than this are stored plain. Each block
# records its own compression, so every reader handles both. Measured on 8,019 articles:
# the blocks under 128 bytes (half of them) compress to the same total as stored plain,
# and compressing them was over a quarter of the compression time.
MIN_COMPRESSED_BYTES = 128

# Whoosh pickles posting blocks with protocol 2 (for Python 2), which has no opcode for
# bytes: each position list becomes a call to `_codecs.encode` with its text. Protocol 3
# stores bytes as bytes; readers unpickle either (pickle.loads reads the protocol), to
# the same values. Measured on 8,019 articles: postings file 29 % smaller, segment
# writing about a quarter cheaper (less to pickle and to compress).
BLOCK_PICKLE_PROTOCOL = 3

# W3TermInfo's fixed part: flags, total weight, document frequency, min and max length
# bytes, max weight, first and last document.
_TERMINFO = W3TermInfo._struct
# A terms table row's key and value lengths (whoosh.filedb.filetables).
_ROW_LENGTHS = struct.Struct("!ii")


class SegmentBuilder(SegmentWriter):
    """A Whoosh segment writer without the posting pool's global sort.

    Postings are kept per field and term as they arrive (already in document order) with
    each document's field length beside them, then written term by term in the order
    Whoosh's pool would have produced, in the codec's own format (small blocks left
    uncompressed: MIN_COMPRESSED_BYTES; blocks pickled with BLOCK_PICKLE_PROTOCOL).
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, _lk=False, **kwargs)
        # field -> term -> (docnums, weights, encoded values)
        self._terms: dict[str, dict[str, tuple[array, array, list]]] = {}
        self._field_lengths: dict[str, dict[int, int]] = {}
        self._arrays: dict[str, arrays.FieldCollector] = {}  # index/codec/arrays.py

    def add_document(self, **fields):
        self._check_state()
        perdoc = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields.get(name)
                if value is None:
                    continue
                field = schema[name]
                if field.separate_spelling() or field.vector:
                    raise NotImplementedError(f"field {name!r}: spelling or vectors")
                length = 0
                if field.indexed:
                    terms = self._terms.setdefault(name, {})
                    boost = self._field_boost(fields, name, docboost)
                    if type(field.format) is Positions and isinstance(value, list | tuple):
                        _add_positions(terms, docnum, value, field.format, boost)
                        length = len(value)
                    else:
                        length = _add_items(terms, docnum, _index_items(field, value), boost)
                    if not field.scorable:
                        length = 0
                    elif length:
                        self._field_lengths.setdefault(name, {})[docnum] = length
                stored = fields.get("_stored_" + name, value)
                perdoc.add_field(name, field, stored if field.stored else None, length)
                column = field.column_type
                if column and stored is not None:
                    perdoc.add_column_value(name, column, field.to_column_value(stored))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self):
        self.perdocwriter.close()
        writer = self.fieldwriter
        level = self.codec._compression
        limit = self.codec._blocklimit
        for name in sorted(self._terms):
            field = self.schema[name]
            writer.start_field(name, field)
            self._arrays[name] = _write_terms(
                writer,
                self._terms.pop(name),
                self._field_lengths.get(name, {}),
                field.format,
                limit,
                level,
                name,
            )
            writer.finish_field()
        writer.close()
        self._terms.clear()

    def finish(self, with_arrays: bool = True):
        """Write the segment's files; the Segment to list in the index's TOC.
        `with_arrays`: and its posting arrays (index/codec/arrays.py), which speed up
        cold reads of a segment that is kept, not of a small one merged soon."""
        segment = self._finalize_segment()
        if with_arrays:
            arrays.write(self.storage.folder, segment.segment_id(), self._arrays)
        # The temporary folder is shared with the parent writer, which removes it.
        self.is_closed = True
        return segment


# Positions.encode([p]), by p: three in four of an article's words occur once, and each
# would otherwise cost a pickle. Positions past this are encoded each time (a bound on
# the table whatever the documents' length).
_ONE_POSITION_LIMIT = 1 << 16
_ONE_POSITION: dict[int, bytes] = {}


def _add_positions(terms: dict, docnum: int, words, fmt: Positions, boost: float) -> None:
    """One document's postings for a positional field, from its pre-analysed term list:
    what Whoosh's `Positions.word_values` gives (a term's weight is its count times the
    boosts, its value the encoded positions), without a Token per word."""
    positions: dict[str, list[int]] = {}
    for pos, word in enumerate(words):
        if word in positions:
            positions[word].append(pos)
        else:
            positions[word] = [pos]
    one, encode, field_boost = _ONE_POSITION, fmt.encode, fmt.field_boost
    once = 1.0 * field_boost * boost
    for word, found in positions.items():
        entry = terms.get(word)
        if entry is None:
            entry = terms[word] = (array("I"), array("d"), [])
        entry[0].append(docnum)
        if len(found) == 1:
            entry[1].append(once)
            vbytes = one.get(found[0])
            if vbytes is None:
                vbytes = encode(found)
                if found[0] < _ONE_POSITION_LIMIT:
                    one[found[0]] = vbytes
        else:
            entry[1].append(len(found) * field_boost * boost)
            vbytes = encode(found)
        entry[2].append(vbytes)


def _add_items(terms: dict, docnum: int, items, boost: float) -> int:
    """Add (term, frequency, weight, value) items; the sum of their frequencies."""
    length = 0
    for word, freq, weight, vbytes in items:
        length += freq
        entry = terms.get(word)
        if entry is None:
            entry = terms[word] = (array("I"), array("d"), [])
        entry[0].append(docnum)
        entry[1].append(weight * boost)
        entry[2].append(vbytes)
    return length


def _index_items(field, value) -> list[tuple[str, int, float, bytes]]:
    """The (term, frequency, weight, value) items of `field.index(value)`, terms as text.
    Sift's pre-analysed term lists and exact values (ID fields) in non-positional fields
    are turned into items directly, without Whoosh's Token per word."""
    fmt = field.format
    boost = fmt.field_boost
    if type(fmt) is Existence and (
        isinstance(value, list | tuple) or type(field.analyzer) is IDTokenizer
    ):
        # Whoosh never analyses a list's items; IDTokenizer takes a string whole.
        values = set(value) if isinstance(value, list | tuple) else {value}
        return [(word, 1, boost, b"") for word in values]
    if type(fmt) is Frequency and isinstance(value, list | tuple):
        counts = Counter(value)
        return [(word, n, float(n) * boost, pack_uint(n)) for word, n in counts.items()]
    return [
        (tbytes.decode("utf-8"), freq, weight, vbytes)
        for tbytes, freq, weight, vbytes in field.index(value)
    ]


def _write_terms(
    fieldwriter,
    terms: dict,
    lengths: dict[int, int],
    fmt,
    limit: int,
    level: int,
    field: str,
) -> arrays.FieldCollector:
    """Write a field's terms, in byte order, as W3FieldWriter, W3PostingsWriter and the
    terms table's OrderedHashWriter would (the same files, but small blocks left
    uncompressed, MIN_COMPRESSED_BYTES, and blocks pickled with BLOCK_PICKLE_PROTOCOL),
    in one pass per term instead of a chain of calls, a term-info object and
    file-position queries per posting block; the field's postings as arrays.

    What Whoosh computes posting by posting (each block's deltas, its weights as 32-bit
    floats, whether they are all equal, its lowest and highest weight and field length)
    is computed here for the whole field at once, with numpy: a segment holds millions of
    postings, and those Python steps per posting were most of writing them. Only what
    goes into the files stays per block, from the same values: the pickles, their
    compression and each block's sum of weights (Python's own sum, in order)."""
    collector = arrays.FieldCollector.of(field, fmt, terms)
    if not terms:
        return collector
    flat = _Blocks(collector, lengths, limit)
    postfile, table = fieldwriter._postfile, fieldwriter._tindex
    prefix = pack_ushort(fieldwriter._fieldid)
    fixed = fmt.fixed_value_size()
    ids, values, deltas, weights = collector.ids, collector.values, flat.deltas, flat.weights
    starts, ends, same = flat.starts.tolist(), flat.ends.tolist(), flat.same.tolist()
    last_ids, block_max = flat.last_ids.tolist(), flat.max_weight.tolist()
    min_bytes, max_bytes = flat.min_length_bytes.tolist(), flat.max_length_bytes.tolist()
    term_blocks = flat.term_blocks.tolist()
    term_min, term_max = flat.term_min_bytes.tolist(), flat.term_max_bytes.tolist()
    term_weight = flat.term_max_weight.tolist()
    term_starts = collector.starts.tolist()
    offset, row_offset = postfile.tell(), table.dbfile.tell()
    rows, row_offsets, buckets, hashfn = [], table.index, table.buckets, table.hashfn
    offsets = collector.offsets
    for t, tbytes in enumerate(collector.terms):
        parts = [WHOOSH3_HEADER_MAGIC]
        total = 0
        last_block = term_blocks[t + 1] - 1
        for b in range(term_blocks[t], last_block + 1):
            start, end = starts[b], ends[b]
            stored = weights[start:end].tolist()
            total += sum(stored)
            data = pickle.dumps(
                (
                    tuple(deltas[start:end].tolist()),
                    _mini_weights(stored, same[b]),
                    _mini_values(values[start:end], fixed),
                ),
                BLOCK_PICKLE_PROTOCOL,
            )
            comp = level if len(data) >= MIN_COMPRESSED_BYTES else 0
            if comp:
                data = zlib.compress(data, comp)
            highest = block_max[b]
            info = pickle.dumps(
                (
                    end - start,
                    last_ids[b],
                    highest if highest > 0 else 0,  # max(0, *weights), as Whoosh
                    comp,
                    min_bytes[b],
                    max_bytes[b],
                ),
                BLOCK_PICKLE_PROTOCOL,
            )
            size = len(info) + len(data)
            parts += (pack_int(-size if b == last_block else size), info, data)
        block = b"".join(parts)
        postfile.write(block)
        offsets[t] = offset
        key = prefix + tbytes
        first, last = term_starts[t], term_starts[t + 1]
        value = _TERMINFO.pack(
            0,
            total,
            last - first,
            term_min[t],
            term_max[t],
            term_weight[t],
            int(ids[first]),
            int(ids[last - 1]),
        )
        value += pack_long(offset) + pack_int(len(block))
        offset += len(block)
        # OrderedHashWriter.add: the row's position, then key and value after their lengths
        row_offsets.append(row_offset)
        rows += (_ROW_LENGTHS.pack(len(key), len(value)), key, value)
        h = hashfn(key)
        buckets[h & 255].append((h, row_offset))
        row_offset += _ROW_LENGTHS.size + len(key) + len(value)
    table.dbfile.write(b"".join(rows))
    table.lastkey = key
    return collector


class _Blocks:
    """A field's posting blocks (`limit` postings of a term each, its last one fewer), and
    what each block's and term's header holds, computed over all postings at once."""

    def __init__(self, postings: arrays.FieldCollector, lengths: dict[int, int], limit: int):
        term_starts, ids = postings.starts, postings.ids
        counts = np.diff(term_starts)
        per_term = (counts + limit - 1) // limit
        self.term_blocks = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(per_term, out=self.term_blocks[1:])
        owner = np.repeat(np.arange(len(counts)), per_term)
        within = np.arange(len(owner)) - self.term_blocks[owner]
        self.starts = term_starts[owner] + within * limit
        self.ends = np.minimum(self.starts + limit, term_starts[owner + 1])
        self.last_ids = ids[self.ends - 1]
        # delta_encode of each block: from 0 at its start, then from the previous id
        self.deltas = ids.astype(np.int64)
        self.deltas[1:] -= ids[:-1]
        self.deltas[self.starts] = ids[self.starts]
        # Whoosh buffers a block's weights as 32-bit floats; its maximum from the weights
        # as given.
        self.weights = postings.stored_weights
        firsts = np.repeat(self.weights[self.starts], self.ends - self.starts)
        self.same = np.logical_and.reduceat(self.weights == firsts, self.starts)
        self.max_weight = np.maximum.reduceat(postings.weights, self.starts)
        # max(0, *weights) over the term's blocks, as Whoosh starts from 0
        self.term_max_weight = np.maximum(
            np.maximum.reduceat(self.max_weight, self.term_blocks[:-1]), 0
        )
        # Field lengths of the postings' documents. Whoosh takes the lowest of those it
        # finds; a posting's document always has one in a scorable field, and an
        # unscorable field has none (Whoosh's None: byte 0, as for length 0).
        by_doc = np.zeros(max(max(lengths, default=0), int(ids.max())) + 1, dtype=np.int64)
        if lengths:
            by_doc[np.fromiter(lengths, np.int64, len(lengths))] = np.fromiter(
                lengths.values(), np.int64, len(lengths)
            )
        found = by_doc[ids]
        highest = np.maximum.reduceat(found, self.starts)
        lowest = np.minimum.reduceat(found, self.starts)
        self.max_length_bytes = _length_bytes(highest)
        self.min_length_bytes = _length_bytes(lowest)
        self.term_max_bytes = _length_bytes(np.maximum.reduceat(highest, self.term_blocks[:-1]))
        self.term_min_bytes = _length_bytes(np.minimum.reduceat(lowest, self.term_blocks[:-1]))


def _length_bytes(lengths: np.ndarray) -> np.ndarray:
    """`length_to_byte` of each length, asked once per distinct length."""
    distinct, where = np.unique(lengths, return_inverse=True)
    found = [length_to_byte(n) for n in distinct.tolist()]
    return np.array(found, dtype=np.int64)[where]


def _mini_weights(weights: list[float], same: bool):
    """W3PostingsWriter._mini_weights of a block's weights (`same`: all equal): None when
    all are 1.0, one value when all are equal, else all of them."""
    if same:
        return None if weights[0] == 1.0 else weights[0]
    return tuple(weights)


def _mini_values(values: list[bytes], fixed: int | None):
    """W3PostingsWriter._mini_values of a block's non-empty values: all of them for a
    variable-size format, nothing for a format without values, else joined."""
    if fixed is None:
        return tuple(filter(None, values))
    return None if fixed == 0 else b"".join(filter(None, values))


class NewSegment:
    """Documents written as one new segment and handed to an open Whoosh writer of the same
    index on `finish` (its own writer would pool, sort and read every length back: twice
    the time of an API batch). Deletions stay the writer's; the segment is listed in the
    writer's commit, or dropped with it (its files are then leftovers for
    verify.clean_generation)."""

    def __init__(self, writer):
        self.writer = writer
        self._builder: SegmentBuilder | None = None

    def add(self, fields: dict) -> None:
        if self._builder is None:
            self._builder = SegmentBuilder(
                DurableFileStorage(self.writer.storage.folder).open_index()
            )
        self._builder.add_document(**fields)

    def finish(self) -> None:
        if self._builder is not None:
            self.writer.segments.append(self._builder.finish(with_arrays=False))
            self._builder = None

    def cancel(self) -> None:
        if self._builder is not None:
            self._builder._close_segment()
            self._builder = None


def write_segment(folder: str, documents: Iterable[dict]):
    """Write `documents` (fields as for `add_document`) as one segment of the index in
    `folder`; the Segment to add to a writer (its files are removed on failure)."""
    ix = DurableFileStorage(folder).open_index()
    builder = SegmentBuilder(ix)
    try:
        for fields in documents:
            builder.add_document(**fields)
        return builder.finish()
    except BaseException:
        builder._close_segment()
        raise
