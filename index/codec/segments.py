"""Writing a Whoosh segment directly: the postings of each term as they arrive, no pool.

Whoosh's own segment writer sends every posting through a pool that sorts the whole build
and reads each document's field length back from disk for every posting. SegmentBuilder
keeps postings per field and term in document order and writes them in Whoosh's W3 format
itself; tests/index/test_pipeline.py checks the files read back as Whoosh's own writer's.
"""

from __future__ import annotations

import pickle
import struct
from array import array
from collections.abc import Iterable

import numpy as np
from isal import isal_zlib
from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.formats import Existence, Positions
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

# Posting blocks and stored fields are deflated by ISA-L (isal_zlib) instead of zlib: the
# same format, which readers inflate with zlib, in well under half the CPU time. zlib at
# Whoosh's level 3 was about 8 % of building a segment; ISA-L's level 1 deflates Reuters
# articles to within 1 % of its size. A block's header records this level as its
# compression (any level but 0 means deflated).
COMPRESSION_LEVEL = 1

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

    Each field's terms are kept as its documents give them, as term numbers one after
    another (`_Tokens`), with each document's field length beside them; when the segment
    is written, numpy sorts them into postings, term by term in the order Whoosh's pool
    would have produced, which are written in the codec's own format (small blocks left
    uncompressed: MIN_COMPRESSED_BYTES; blocks pickled with BLOCK_PICKLE_PROTOCOL).
    Only Sift's pre-analysed fields are taken (index/writer.py): term lists for
    positional and existence fields, whole values for ID fields.
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, _lk=False, **kwargs)
        # Whoosh's stored-fields column: each document's pickle, then CompressedBytesColumn's
        # zlib, given ISA-L's instead.
        stored = self.perdocwriter._colwriters["_stored"]._child
        stored._compress, stored._level = isal_zlib.compress, COMPRESSION_LEVEL
        self._tokens: dict[str, _Tokens] = {}
        self._plans: dict[str, _FieldPlan] = {}
        self._field_lengths: dict[str, dict[int, int]] = {}
        self._arrays: dict[str, arrays.FieldCollector] = {}  # index/codec/arrays.py

    def add_document(self, **fields):
        self._check_state()
        perdoc = self.perdocwriter
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        plans = self._plans
        names = sorted(name for name in fields if not name.startswith("_"))
        chosen = [plans.get(name) or self._plan(name) for name in names]
        # Every value's terms first: a value refused leaves nothing of the document behind.
        given = {
            plan: plan.terms(fields[plan.name])
            for plan in chosen
            if plan.indexed and fields[plan.name] is not None
        }
        lengths = {plan.name: plan.length(words) for plan, words in given.items()}
        perdoc.start_doc(docnum)
        try:
            for plan in chosen:
                value = fields[plan.name]
                if value is None:
                    continue
                stored = fields.get(plan.stored_key, value)
                length = lengths.get(plan.name, 0)
                perdoc.add_field(plan.name, plan.field, stored if plan.stored else None, length)
                if plan.column and stored is not None:
                    perdoc.add_column_value(
                        plan.name, plan.column, plan.field.to_column_value(stored)
                    )
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        for plan, words in given.items():
            tokens = self._tokens.get(plan.name)
            if tokens is None:
                tokens = self._tokens[plan.name] = _Tokens()
            if words:
                # Whoosh's _field_boost: the field's own boost if given, else the document's
                boost = float(fields[plan.boost_key]) if plan.boost_key in fields else docboost
                tokens.add(docnum, words, boost)
            if lengths[plan.name]:
                self._field_lengths.setdefault(plan.name, {})[docnum] = lengths[plan.name]
        self._added = True
        self.docnum += 1

    def _plan(self, name: str) -> _FieldPlan:
        """What adding a value of field `name` needs, looked up once per segment instead of
        once per document (a dozen fields each, Whoosh's schema look-ups and checks)."""
        self._check_fields(self.schema, [name])
        plan = self._plans[name] = _FieldPlan(name, self.schema[name])
        return plan

    def _flush_segment(self):
        self.perdocwriter.close()
        writer = self.fieldwriter
        limit = self.codec._blocklimit
        for name in sorted(self._tokens):
            field = self.schema[name]
            writer.start_field(name, field)
            self._arrays[name] = _write_terms(
                writer,
                _postings(name, field.format, self._tokens.pop(name)),
                self._field_lengths.get(name, {}),
                field.format,
                limit,
            )
            writer.finish_field()
        writer.close()

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


class _FieldPlan:
    """One field of the schema as adding a document uses it (`SegmentBuilder._plan`)."""

    def __init__(self, name: str, field):
        self.name = name
        self.field = field
        self.indexed = field.indexed
        self.stored = field.stored
        self.column = field.column_type
        self.stored_key = "_stored_" + name
        self.boost_key = f"_{name}_boost"
        self.format = type(field.format)
        # What Whoosh records as the document's length: its number of terms in a
        # positional field, of distinct terms otherwise (each counted once); 0 if unscored.
        self.length = (
            (len if self.format is Positions else _distinct_count) if field.scorable else _no_length
        )
        self.refused = self.indexed and (field.separate_spelling() or bool(field.vector))
        self.whole = self.format is Existence and type(field.analyzer) is IDTokenizer

    def terms(self, value) -> list | tuple:
        """A value's terms, in order: a positional or existence field's term list as
        given, an ID field's value whole (IDTokenizer's one token). Anything Whoosh would
        analyse itself is not Sift's and is refused, as are spelling words and vectors."""
        if self.refused:
            raise NotImplementedError(f"field {self.name!r}: spelling or vectors")
        if self.format in (Positions, Existence) and isinstance(value, list | tuple):
            return value
        if self.whole and isinstance(value, str):
            return (value,)
        raise NotImplementedError(
            f"field {self.name!r}: {type(value).__name__} for {self.format.__name__}"
        )


def _distinct_count(words) -> int:
    return len(set(words))


def _no_length(words) -> int:
    return 0


class _Numbers(dict):
    """A field's terms in a segment -> their numbers, given in the order first seen."""

    def __missing__(self, term: str) -> int:
        number = self[term] = len(self)
        return number


class _Tokens:
    """One field's terms as a segment's documents give them: the term numbers of each
    document, one document after another, and each document's number, term count and
    boost. Keeping postings per term instead cost a dictionary lookup and three appends
    per distinct term of every document, most of adding one; numpy turns these into
    postings once, for the whole segment (`_postings`)."""

    def __init__(self):
        self.numbers = _Numbers()
        self.terms = array("I")
        self.docs = array("I")
        self.counts = array("I")
        self.boosts = array("d")

    def add(self, docnum: int, words, boost: float) -> None:
        self.terms.fromlist(list(map(self.numbers.__getitem__, words)))
        self.docs.append(docnum)
        self.counts.append(len(words))
        self.boosts.append(boost)


def _postings(field: str, fmt, tokens: _Tokens) -> arrays.FieldCollector:
    """A field's postings from its tokens, term by term in byte order, each term's in
    document order: what Whoosh's writer makes of the same documents. A posting's weight
    is its term's count times the boosts in a positional field (Whoosh's
    `Positions.word_values`), the boosts in an existence field; its value, in a
    positional field, Whoosh's encoding of its positions."""
    words = list(tokens.numbers)  # by number
    by_text = sorted(range(len(words)), key=words.__getitem__)  # code point = byte order
    # 32-bit numbers throughout (a segment's tokens number far fewer than 2^31): this is
    # a worker's peak memory, at its biggest field, with that field's postings' values.
    rank = np.empty(len(words), dtype=np.int32)
    rank[by_text] = np.arange(len(words), dtype=np.int32)
    counts = np.frombuffer(tokens.counts, dtype=np.uint32)
    total = int(counts.sum())
    # Sorted by term; within a term, tokens stay in document and position order: one
    # sort of distinct keys (the term, then the token's number), which numpy sorts with
    # SIMD instructions, four times faster than a stable argsort of the terms.
    keys = rank[np.frombuffer(tokens.terms, dtype=np.uint32)].astype(np.uint64)
    keys <<= np.uint64(32)
    keys |= np.arange(total, dtype=np.uint64)
    keys.sort()
    order = (keys & np.uint64(0xFFFFFFFF)).astype(np.intp)
    term = (keys >> np.uint64(32)).astype(np.int32)
    del keys
    owner = np.repeat(np.arange(len(counts), dtype=np.int32), counts)[order]  # its document
    # each posting's first token: where the term or the document changes
    first = np.flatnonzero(np.diff(term, prepend=-1) | np.diff(owner, prepend=-1))
    per_posting = np.diff(np.append(first, total))
    documents = owner[first]
    del owner
    boosts = np.frombuffer(tokens.boosts, dtype=np.float64)[documents]
    positional = type(fmt) is Positions
    collector = arrays.FieldCollector(
        field,
        fmt,
        [words[n].encode("utf-8") for n in by_text],
        np.searchsorted(term[first], np.arange(len(words) + 1)),  # each term's first posting
        np.frombuffer(tokens.docs, dtype=np.uint32)[documents],
        per_posting.astype(np.float64) * fmt.field_boost * boosts
        if positional
        else boosts * fmt.field_boost,
        [],
    )
    del term
    if positional:
        starts = np.cumsum(counts, dtype=np.int32)
        starts -= counts.astype(np.int32)  # each document's first token
        within = np.arange(total, dtype=np.int32) - np.repeat(starts, counts)  # its position
        positions = within[order]
        del within, order
        collector.values = _encoded_positions(fmt, positions, first, per_posting)
        collector.positions = positions
        collector.position_starts = np.append(first, total)
    return collector


def _encoded_positions(fmt: Positions, positions: np.ndarray, first, per_posting) -> list:
    """`fmt.encode` of each posting's positions (`first` its first, `per_posting` how
    many). Three in four of an article's words occur once: theirs come from a table
    (`_ONE_POSITION`) instead of a pickle each. The others are Whoosh's encoding written
    out (`Positions.encode`: the count, then a protocol 2 pickle of the list of gaps
    from the previous position, the first from 0), with the gaps of all of them taken
    at once by numpy instead of a Python loop per posting."""
    values = [_ONE_POSITION.get(p) or _one_position(fmt, p) for p in positions[first].tolist()]
    many = per_posting > 1
    several = np.flatnonzero(many)
    gaps = np.diff(positions, prepend=positions.dtype.type(0))
    gaps[first] = positions[first]
    gaps = gaps[np.repeat(many, per_posting)]  # theirs, one after another
    counts = per_posting[several]
    ends = np.cumsum(counts)
    for at in range(0, len(several), _GAPS_AT_ONCE):
        cut = slice(at, at + _GAPS_AT_ONCE)
        low = int(ends[at] - counts[at])
        some = gaps[low : int(ends[cut][-1])].tolist()
        starts = (ends[cut] - counts[cut] - low).tolist()
        for i, start, n in zip(several[cut].tolist(), starts, counts[cut].tolist(), strict=True):
            values[i] = pack_uint(n) + pickle.dumps(some[start : start + n], 2)
    return values


# Postings whose positions' gaps are made Python ints at a time (a bound on memory: the
# biggest field's are millions).
_GAPS_AT_ONCE = 1 << 16


# Positions.encode([p]), by p. Positions past this are encoded each time (a bound on the
# table whatever the documents' length).
_ONE_POSITION_LIMIT = 1 << 16
_ONE_POSITION: dict[int, bytes] = {}


def _one_position(fmt: Positions, p: int) -> bytes:
    encoded = fmt.encode([p])
    if p < _ONE_POSITION_LIMIT:
        _ONE_POSITION[p] = encoded
    return encoded


def _write_terms(
    fieldwriter,
    collector: arrays.FieldCollector,
    lengths: dict[int, int],
    fmt,
    limit: int,
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
    if not collector.terms:
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
            comp = COMPRESSION_LEVEL if len(data) >= MIN_COMPRESSED_BYTES else 0
            if comp:
                data = isal_zlib.compress(data, comp)
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
