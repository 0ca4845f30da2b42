"""Parallel ingest: extraction, analysis and segment writing in worker processes.

Done in one process, extracting, analysing and adding every document leaves the other
cores idle, and Whoosh's commit sorts every posting of the build and reads each
document's field length back from disk for every posting. So documents are read (and
their ids checked) in order by the caller and handed over in rounds: each round is cut
into one contiguous share per worker, and each worker extracts, analyses and writes its
share as a complete Whoosh segment of its own (`SegmentBuilder`). The segments are added
to the caller's writer in round and share order, so document numbers follow the input
exactly as in a one-process build, and the writer's commit publishes them all at once
(Whoosh's multi-segment index; its merge policy leaves segments this large alone).

Each round's workers are forked for it, once it is read, so they find their shares in
the memory they inherit instead of receiving them pickled. Small rounds (fewer than
PARALLEL_MIN_DOCUMENTS documents) are written in-process with the same segment builder:
forking workers costs more than it saves there.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
import struct
import zlib
from array import array
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.formats import Existence, Frequency, Positions
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.util.numlists import delta_encode
from whoosh.writing import SegmentWriter

from index.documents import RawDocument
from index.extract import extract
from index.language import load_profiles
from index.storage import DurableFileStorage
from index.writer import index_fields

# Documents per round: each worker holds its share's postings in memory (about 50 bytes
# each, some 160 postings per news article), so a round of 24,000 on 2 workers keeps
# each under ~200 MB, and Reuters-21578 becomes 2 segments.
ROUND_DOCUMENTS = 24_000
# Below this, one process: starting workers (fork, imports warm) costs about 0.1 s.
PARALLEL_MIN_DOCUMENTS = 2_000
# Workers at most, whatever the machine: segments multiply with them.
MAX_WORKERS = 8

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

# linux/prctl.h: deliver a signal to this process when its parent dies.
_PR_SET_PDEATHSIG = 1

Progress = Callable[[int], None]


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


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
            _write_terms(
                writer,
                self._terms[name],
                self._field_lengths.get(name, {}),
                field.format,
                limit,
                level,
            )
            writer.finish_field()
        writer.close()
        self._terms.clear()

    def finish(self):
        """Write the segment's files; the Segment to list in the index's TOC."""
        segment = self._finalize_segment()
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
    fieldwriter, terms: dict, lengths: dict[int, int], fmt, limit: int, level: int
) -> None:
    """Write a field's terms, in byte order, as W3FieldWriter, W3PostingsWriter and the
    terms table's OrderedHashWriter would (the same files, but small blocks left
    uncompressed, MIN_COMPRESSED_BYTES, and blocks pickled with BLOCK_PICKLE_PROTOCOL),
    in one pass per term instead of a chain of calls, a term-info object and
    file-position queries per posting block."""
    postfile, table = fieldwriter._postfile, fieldwriter._tindex
    prefix = pack_ushort(fieldwriter._fieldid)
    fixed = fmt.fixed_value_size()
    offset, row_offset = postfile.tell(), table.dbfile.tell()
    rows, row_offsets, buckets, hashfn = [], table.index, table.buckets, table.hashfn
    for word in sorted(terms):  # code point order: the UTF-8 bytes' order
        docnums, weights, values = terms[word]
        tbytes = word.encode("utf-8")
        parts = [WHOOSH3_HEADER_MAGIC]
        total, minlength, maxlength, maxweight = 0, None, 0, 0
        count = len(docnums)
        for start in range(0, count, limit):
            ids = docnums[start : start + limit]
            raw_weights = weights[start : start + limit]
            # Whoosh buffers a block's weights as 32-bit floats; its maximum from the
            # weights as given.
            stored = array("f", raw_weights)
            block_max = max(0, *raw_weights)
            found = [n for n in map(lengths.get, ids) if n]
            block_min = min(found) if found else None
            block_maxlength = max(found) if found else 0
            total += sum(stored)
            if minlength is None:
                minlength = block_min
            elif block_min is not None:
                minlength = min(minlength, block_min)
            maxlength = max(maxlength, block_maxlength)
            maxweight = max(maxweight, block_max)
            data = pickle.dumps(
                (
                    tuple(delta_encode(ids)),
                    _mini_weights(stored),
                    _mini_values(values[start : start + limit], fixed),
                ),
                BLOCK_PICKLE_PROTOCOL,
            )
            comp = level if len(data) >= MIN_COMPRESSED_BYTES else 0
            if comp:
                data = zlib.compress(data, comp)
            info = pickle.dumps(
                (
                    len(ids),
                    ids[-1],
                    block_max,
                    comp,
                    length_to_byte(block_min),
                    length_to_byte(block_maxlength),
                ),
                BLOCK_PICKLE_PROTOCOL,
            )
            size = len(info) + len(data)
            parts += (pack_int(-size if start + limit >= count else size), info, data)
        block = b"".join(parts)
        postfile.write(block)
        key = prefix + tbytes
        value = _TERMINFO.pack(
            0,
            total,
            count,
            0 if minlength is None else length_to_byte(minlength),
            length_to_byte(maxlength),
            maxweight,
            docnums[0],
            docnums[-1],
        )
        value += pack_long(offset) + pack_int(len(block))
        offset += len(block)
        # OrderedHashWriter.add: the row's position, then key and value after their lengths
        row_offsets.append(row_offset)
        rows += (_ROW_LENGTHS.pack(len(key), len(value)), key, value)
        h = hashfn(key)
        buckets[h & 255].append((h, row_offset))
        row_offset += _ROW_LENGTHS.size + len(key) + len(value)
    if rows:
        table.dbfile.write(b"".join(rows))
        table.lastkey = key


def _mini_weights(weights: array):
    """W3PostingsWriter._mini_weights: None when all are 1.0, one value when all are
    equal, else all of them."""
    first = weights[0]
    if weights.count(first) == len(weights):
        return None if first == 1.0 else first
    return tuple(weights)


def _mini_values(values: list[bytes], fixed: int | None):
    """W3PostingsWriter._mini_values of a block's non-empty values: all of them for a
    variable-size format, nothing for a format without values, else joined."""
    present = [v for v in values if v]
    if fixed is None:
        return tuple(present)
    return None if fixed == 0 else b"".join(present)


def _build_segment(folder: str, raws: list[RawDocument]):
    """Extract, analyse and write `raws` as one segment (in a worker, or in-process)."""
    ix = DurableFileStorage(folder).open_index()
    builder = SegmentBuilder(ix)
    try:
        for raw in raws:
            builder.add_document(**index_fields(extract(raw)))
        return builder.finish()
    except BaseException:
        builder._close_segment()
        raise


# The round being handed to workers, set while they are forked: each reads its share
# from the memory it inherits instead of receiving it pickled (about half a second for
# Reuters-21578 in the reading process, and as much again in the workers).
_ROUND: list[RawDocument] = []


def _build_share(task: tuple[str, int, int]):
    """In a worker: one share of the round it was forked with."""
    # Without the cyclic collector: a share's postings are millions of arrays, lists and
    # tuples that each of its passes would walk again (about 5 % of a share's CPU), and
    # none of them is cyclic garbage; the few cycles a builder leaves go with the process.
    gc.disable()
    folder, start, end = task
    return _build_segment(folder, _ROUND[start:end])


def _die_with_parent() -> None:
    """In a worker: be killed when the reindex process dies (kill -9 included), instead
    of finishing a share nobody will collect (Linux; elsewhere the pool's own cleanup)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


@contextmanager
def collector_paused():
    """Pause the cyclic garbage collector while documents are read: reading makes
    hundreds of thousands of objects and no cycles, and collections walking them again
    were a fifth of reading Reuters-21578."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ParallelAdder:
    """Adds documents to an open Whoosh writer through worker-built segments, in order."""

    def __init__(
        self,
        writer,
        folder: str | Path,
        *,
        workers: int | None = None,
        progress: Progress | None = None,
    ):
        self.writer = writer
        self.folder = str(folder)
        self.workers = workers or default_workers()
        self.progress = progress
        self._round: list[RawDocument] = []
        self._pending: list[tuple[object, int]] = []  # (result, documents), oldest first
        self._pool = None  # the workers of the round being built, one round at a time

    def add(self, raw: RawDocument) -> None:
        self._round.append(raw)
        if len(self._round) >= ROUND_DOCUMENTS:
            self._dispatch()

    def close(self) -> None:
        """Build what is left and hand every segment to the writer, in input order."""
        try:
            if self._round:
                self._dispatch()
            self._collect()
        finally:
            self._shutdown()

    def cancel(self) -> None:
        self._shutdown(terminate=True)

    def _dispatch(self) -> None:
        raws, self._round = self._round, []
        if self.workers == 1 or len(raws) < PARALLEL_MIN_DOCUMENTS:
            self._pending.append((_Done([_build_segment(self.folder, raws)]), len(raws)))
            return
        # One round in workers at a time: its shares' postings are what bounds memory,
        # and the cores are busy with it anyway.
        self._collect()
        self._pending.append((self._fork_round(raws), len(raws)))

    def _fork_round(self, raws: list[RawDocument]):
        global _ROUND
        # Load extraction's word lists and tables and langdetect's profiles here, before
        # forking (once: later rounds find them loaded), rather than in every worker.
        extract(raws[0])
        load_profiles()
        share = -(-len(raws) // self.workers)
        tasks = [(self.folder, i, min(i + share, len(raws))) for i in range(0, len(raws), share)]
        _ROUND = raws
        try:
            pool = multiprocessing.get_context("fork").Pool(
                len(tasks), initializer=_die_with_parent
            )
        finally:
            _ROUND = []
        self._pool = pool
        result = pool.map_async(_build_share, tasks)
        pool.close()
        return result

    def _collect(self) -> None:
        while self._pending:
            result, count = self._pending.pop(0)
            segments = [segment for segment in result.get() if segment.doc_count_all()]
            self.writer.segments.extend(segments)
            if self.progress and count:
                self.progress(count)
        self._shutdown()

    def _shutdown(self, terminate: bool = False) -> None:
        if self._pool is not None:
            if terminate:
                self._pool.terminate()
            self._pool.join()
            self._pool = None


class _Done:
    """A round built in this process, shaped like a pool's async result: its segment."""

    def __init__(self, segments: list):
        self.segments = segments

    def get(self):
        return self.segments
