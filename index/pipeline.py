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

Each share's worker is forked for it once its round is read, so it finds its share in
the memory it inherits instead of receiving it pickled; it is forked as soon as one of
the last round's workers ends (at most one worker a core), not once all of them have,
so a core is not left idle while the round's slowest share finishes. Small rounds
(fewer than PARALLEL_MIN_DOCUMENTS documents) are written in-process with the same
segment builder: forking workers costs more than it saves there.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import contextmanager
from multiprocessing.connection import wait
from pathlib import Path

from index import schema
from index.codec.segments import write_segment
from index.documents import Document, RawDocument
from index.extract import extract
from index.language import load_profiles
from index.stories import Entries, entries_for, permutations
from index.workers import Forked, default_workers
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
    parallel, leaving only the assignment to the reading process), as columns."""
    entries = Entries()
    batch: list[Document] = []
    folded: list[list[str]] = []

    def fields():
        for raw in raws:
            doc = _extracted(raw)
            made = index_fields(doc)
            batch.append(doc)
            folded.append(made[schema.WORDS])  # the words shingled, mostly (stories._words)
            if len(batch) == SIGNATURE_BATCH:
                entries.extend(entries_for(batch, folded))
                batch.clear()
                folded.clear()
            yield made
        entries.extend(entries_for(batch, folded))

    segment = write_segment(folder, fields())
    entries.columns()  # one chunk of columns to send back, not one a batch
    return segment, entries


def _extracted(raw: RawDocument) -> Document:
    """One document's metadata; extraction never raises on any text (index/validate.py
    has run), so a failure is a bug: it is named, not a traceback from a worker."""
    try:
        return extract(raw)
    except Exception as exc:
        raise RuntimeError(f"{raw.origin or raw.id}: extraction failed: {exc!r}") from None


def _build_share(folder: str, raws: list[RawDocument]):
    """In a worker: one share of a round."""
    # Without the cyclic collector: a share's postings are millions of arrays, lists and
    # tuples that each of its passes would walk again (about 5 % of a share's CPU), and
    # none of them is cyclic garbage; the few cycles a builder leaves go with the process.
    gc.disable()
    return _build_segment(folder, raws)


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
        # each share's worker (or what it built, once in), oldest first
        self._pending: list[_Share] = []
        self._loaded = False

    def add(self, raw: RawDocument) -> None:
        self._round.append(raw)
        if len(self._round) >= SHARE_DOCUMENTS * self.workers:
            self._dispatch()

    def close(self) -> None:
        """Build what is left and hand every segment to the writer, in input order."""
        try:
            if self._round:
                self._dispatch()
            for share in self._pending:
                share.wait()
            self._hand_over()
        finally:
            self._stop()

    def cancel(self) -> None:
        self._stop()

    def _dispatch(self) -> None:
        raws, self._round = self._round, []
        if self.workers == 1 or len(raws) < PARALLEL_MIN_DOCUMENTS:
            self._pending.append(_Share(len(raws), built=_build_segment(self.folder, raws)))
            return
        if not self._loaded:
            # Load extraction's word lists and tables and langdetect's profiles here,
            # before forking, rather than in every worker.
            extract(raws[0])
            load_profiles()
            permutations()
            self._loaded = True
        size = -(-len(raws) // self.workers)
        for start in range(0, len(raws), size):
            # One share a worker: a worker holds its share's postings, which is what bounds
            # memory. A share starts as soon as one of the last round's ends, not once all
            # of them have (the round's other share may take a few seconds longer).
            self._wait_for_worker()
            share = raws[start : start + size]
            self._pending.append(_Share(len(share), Forked(_build_share, self.folder, share)))

    def _wait_for_worker(self) -> None:
        """Until fewer than `workers` shares are being built."""
        while True:
            building = [share for share in self._pending if share.built is None]
            if len(building) < self.workers:
                return
            ready = wait([share.worker.answers for share in building if share.worker])
            for share in building:
                if share.worker and share.worker.answers in ready:
                    share.wait()
            self._hand_over()

    def _hand_over(self) -> None:
        """Hand the built shares to the writer, oldest first, up to the first still building."""
        while self._pending and self._pending[0].built is not None:
            share = self._pending.pop(0)
            segment, entries = share.built
            if segment.doc_count_all():
                self.writer.segments.append(segment)
            self.entries.merge(entries)
            if self.progress and share.documents:
                self.progress(share.documents)

    def _stop(self) -> None:
        for share in self._pending:
            if share.worker:
                share.worker.stop()


class _Share:
    """A share of a round: its worker, or what it built (a segment and its entries)."""

    def __init__(self, documents: int, worker: Forked | None = None, built=None):
        self.documents = documents
        self.worker = worker
        self.built = built

    def wait(self) -> None:
        if self.built is None and self.worker is not None:
            self.built = self.worker.result()
