"""Parallel ingest: extraction, analysis and segment writing in worker processes.

`sift reindex` used to extract, analyse and add every document in one process, and
Whoosh's commit then sorted every posting of the build and read each document's field
length back from disk for every posting. Here documents are read (and their ids checked)
in order by the caller and handed over in rounds: each round is cut into one contiguous
share per worker, and each worker extracts, analyses and writes its share as a complete
Whoosh segment of its own (`SegmentBuilder`). The segments are added to the caller's
writer in round and share order, so document numbers follow the input exactly as in a
one-process build, and the writer's commit publishes them all at once (Whoosh's
multi-segment index; its merge policy leaves segments this large alone).

Small inputs (fewer than PARALLEL_MIN_DOCUMENTS) are written in-process with the same
segment builder: forking workers costs more than it saves there.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from array import array
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint
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
# the line after its `len(databytes) < 20` check overwrites the decision). A block of a
# few postings barely shrinks, or grows by zlib's header, and compressing those was about
# a third of writing a segment: blocks of fewer postings than this are stored plain.
# Each block records its own compression, so every reader handles both. Measured on
# 4,000 Reuters articles: the same index size (+0.5 %), segment writing 15-25 % faster.
MIN_COMPRESSED_POSTINGS = 4

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
    uncompressed: MIN_COMPRESSED_POSTINGS).
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, _lk=False, **kwargs)
        # field -> term bytes -> (docnums, weights, encoded values)
        self._terms: dict[str, dict[bytes, tuple[array, array, list]]] = {}
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
        for name in sorted(self._terms):
            writer.start_field(name, self.schema[name])
            lengths = self._field_lengths.get(name, {})
            terms = self._terms[name]
            for tbytes in sorted(terms):
                writer.start_term(tbytes)
                _add_postings(writer._postwriter, *terms[tbytes], lengths, level)
                writer.finish_term()
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
        found = positions.get(word)
        if found is None:
            positions[word] = [pos]
        else:
            found.append(pos)
    one, encode, field_boost = _ONE_POSITION, fmt.encode, fmt.field_boost
    for word, found in positions.items():
        tbytes = word.encode("utf-8")
        entry = terms.get(tbytes)
        if entry is None:
            entry = terms[tbytes] = (array("I"), array("d"), [])
        entry[0].append(docnum)
        entry[1].append(float(len(found)) * field_boost * boost)
        vbytes = one.get(found[0]) if len(found) == 1 else None
        if vbytes is None:
            vbytes = encode(found)
            if len(found) == 1 and found[0] < _ONE_POSITION_LIMIT:
                one[found[0]] = vbytes
        entry[2].append(vbytes)


def _add_items(terms: dict, docnum: int, items, boost: float) -> int:
    """Add (term bytes, frequency, weight, value) items; the sum of their frequencies."""
    length = 0
    for tbytes, freq, weight, vbytes in items:
        length += freq
        entry = terms.get(tbytes)
        if entry is None:
            entry = terms[tbytes] = (array("I"), array("d"), [])
        entry[0].append(docnum)
        entry[1].append(weight * boost)
        entry[2].append(vbytes)
    return length


def _index_items(field, value):
    """`field.index(value)`, and for Sift's pre-analysed term lists in a frequency field
    the same items without Whoosh's per-token Token objects."""
    fmt = field.format
    if type(fmt) is not Frequency or not isinstance(value, list | tuple):
        return field.index(value)
    boost = fmt.field_boost
    counts = Counter(value)
    return [(word.encode("utf-8"), n, float(n) * boost, pack_uint(n)) for word, n in counts.items()]


def _add_postings(
    postwriter, docnums, weights, values, lengths: dict[int, int], level: int
) -> None:
    """W3PostingsWriter.add_posting for a whole term, a block at a time: the same block
    contents and statistics as one call per posting, without the per-posting overhead;
    small blocks uncompressed (MIN_COMPRESSED_POSTINGS)."""
    limit = postwriter._blocklimit
    for start in range(0, len(docnums), limit):
        if start:
            postwriter._write_block()
        ids = docnums[start : start + limit]
        postwriter._compression = level if len(ids) >= MIN_COMPRESSED_POSTINGS else 0
        block_weights = weights[start : start + limit]
        postwriter._ids.extend(ids)
        postwriter._weights.fromlist(block_weights.tolist())
        postwriter._maxweight = max(0, *block_weights)
        postwriter._values.extend(v for v in values[start : start + limit] if v)
        found = [n for n in map(lengths.get, ids) if n]
        if found:
            postwriter._minlength = min(found)
            postwriter._maxlength = max(found)


def _build_segment(task: tuple[str, list[RawDocument]]):
    """In a worker: extract, analyse and write one share of a round as a segment."""
    folder, raws = task
    ix = DurableFileStorage(folder).open_index()
    builder = SegmentBuilder(ix)
    try:
        for raw in raws:
            builder.add_document(**index_fields(extract(raw)))
        return builder.finish()
    except BaseException:
        builder._close_segment()
        raise


def _die_with_parent() -> None:
    """In a worker: be killed when the reindex process dies (kill -9 included), instead
    of finishing a share nobody will collect (Linux; elsewhere the pool's own cleanup)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


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
        self._pool = None
        self._pending: list = []  # async results of earlier rounds, oldest first

    def add(self, raw: RawDocument) -> None:
        self._round.append(raw)
        if len(self._round) >= ROUND_DOCUMENTS:
            self._dispatch()

    def close(self) -> None:
        """Build what is left and hand every segment to the writer, in input order."""
        try:
            if self._round:
                small = self._pool is None and len(self._round) < PARALLEL_MIN_DOCUMENTS
                self._dispatch(workers=1 if small else self.workers)
            self._collect(wait_all=True)
        finally:
            self._shutdown()

    def cancel(self) -> None:
        self._shutdown(terminate=True)

    def _dispatch(self, workers: int | None = None) -> None:
        workers = workers or self.workers
        if self._pool is None and workers > 1:
            # Load extraction's word lists and tables and langdetect's profiles here,
            # once, before forking: the workers then share them instead of each loading
            # its own (about a second).
            extract(self._round[0])
            load_profiles()
            self._pool = multiprocessing.get_context("fork").Pool(
                workers, initializer=_die_with_parent
            )
        raws, self._round = self._round, []
        share = -(-len(raws) // workers)
        tasks = [(self.folder, raws[i : i + share]) for i in range(0, len(raws), share)]
        if workers == 1:
            self._pending.append(_Done([_build_segment(task) for task in tasks]))
        else:
            self._pending.append(self._pool.map_async(_build_segment, tasks))
        self._pending[-1].size = len(raws)
        self._collect(wait_all=False)

    def _collect(self, *, wait_all: bool) -> None:
        while self._pending and (wait_all or len(self._pending) > 1):
            result = self._pending.pop(0)
            segments = [segment for segment in result.get() if segment.doc_count_all()]
            self.writer.segments.extend(segments)
            self._report(getattr(result, "size", 0))

    def _report(self, count: int) -> None:
        if self.progress and count:
            self.progress(count)

    def _shutdown(self, terminate: bool = False) -> None:
        if self._pool is not None:
            if terminate:
                self._pool.terminate()
            else:
                self._pool.close()
            self._pool.join()
            self._pool = None


class _Done:
    """A round built in this process, shaped like a pool's async result."""

    def __init__(self, segments: list):
        self.segments = segments

    def get(self):
        return self.segments
