"""Parallel ingest: extraction, analysis and segment writing in worker processes.

Done in one process, extracting, analysing and adding every document leaves the other
cores idle, and Whoosh's commit sorts every posting of the build and reads each
document's field length back from disk for every posting. So documents are read (and
their ids checked) in order by the caller and handed over in rounds: each round is cut
into one contiguous share per worker, and each worker extracts, analyses and writes its
share as a complete Whoosh segment of its own (index/codec/segments.py). The segments
are added to the caller's writer in round and share order, so document numbers follow
the input exactly as in a one-process build, and the writer's commit publishes them all
at once (Whoosh's multi-segment index; its merge policy leaves segments this large
alone).

Each round's workers are forked for it, once it is read, so they find their shares in
the memory they inherit instead of receiving them pickled. Small rounds (fewer than
PARALLEL_MIN_DOCUMENTS documents) are written in-process with the same segment builder:
forking workers costs more than it saves there.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from index.codec.segments import write_segment
from index.documents import Document, RawDocument
from index.extract import extract
from index.language import load_profiles
from index.stories import Entries, entries_for, permutations
from index.workers import default_workers, die_with_parent
from index.writer import index_fields

# Documents per worker and round: each worker holds its share's postings in memory
# (about 50 bytes each, some 160 postings per news article) before writing them as one
# segment, so a share of 30,000 keeps a worker near 1 GB, and a segment is never
# merged again (index/codec/merging.py): bigger shares mean fewer segments for every
# query to visit. Reuters-21578 is one round (2 segments on 2 workers), 50 times it 18.
SHARE_DOCUMENTS = 30_000
# Below this, one process: starting workers (fork, imports warm) costs about 0.1 s.
PARALLEL_MIN_DOCUMENTS = 2_000
# Story signatures are computed for this many documents at once (index/stories.py).
SIGNATURE_BATCH = 32

Progress = Callable[[int], None]


def _build_segment(folder: str, raws: list[RawDocument]):
    """Extract, analyse and write `raws` as one segment (in a worker, or in-process); the
    segment and the documents' story entries (their signatures are computed here, in
    parallel, leaving only the assignment to the reading process)."""
    entries, batch = [], []

    def fields():
        for raw in raws:
            doc = _extracted(raw)
            batch.append(doc)
            if len(batch) == SIGNATURE_BATCH:
                entries.extend(entries_for(batch))
                batch.clear()
            yield index_fields(doc)
        entries.extend(entries_for(batch))

    return write_segment(folder, fields()), entries


def _extracted(raw: RawDocument) -> Document:
    """One document's metadata; extraction never raises on any text (index/validate.py
    has run), so a failure is a bug: it is named, not a traceback from a worker."""
    try:
        return extract(raw)
    except Exception as exc:
        raise RuntimeError(f"{raw.origin or raw.id}: extraction failed: {exc!r}") from None


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
        self.entries = Entries()  # story entries of the documents added, in order
        self._pending: list[tuple[object, int]] = []  # (result, documents), oldest first
        self._pool = None  # the workers of the round being built, one round at a time

    def add(self, raw: RawDocument) -> None:
        self._round.append(raw)
        if len(self._round) >= SHARE_DOCUMENTS * self.workers:
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
        permutations()
        share = -(-len(raws) // self.workers)
        tasks = [(self.folder, i, min(i + share, len(raws))) for i in range(0, len(raws), share)]
        _ROUND = raws
        try:
            pool = multiprocessing.get_context("fork").Pool(len(tasks), initializer=die_with_parent)
        finally:
            _ROUND = []
        self._pool = pool
        result = pool.map_async(_build_share, tasks)
        pool.close()
        return result

    def _collect(self) -> None:
        while self._pending:
            result, count = self._pending.pop(0)
            built = result.get()
            self.writer.segments.extend(seg for seg, _ in built if seg.doc_count_all())
            for _, entries in built:
                self.entries.extend(entries)
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
    """A round built in this process, shaped like a pool's async result."""

    def __init__(self, built: list):
        self.built = built

    def get(self):
        return self.built
