"""The single writer for API writes: applies journal entries to the live generation.

Every API worker runs `apply_pending` in a background loop, and a write request runs it
once itself; the writer lock makes sure one at a time applies, so Whoosh's one-writer
rule is never hit and no user ever sees a `LockError`. Whoever holds the lock applies
everything pending (group commit), so the others find their entries applied and answer.

Applying is idempotent (put = replace by id, delete = delete by id), so replaying
entries after a crash between the commit and the `applied` mark gives the same index;
`tests/durability/` kills writers at random moments to check it.

Extraction happens before the journal, in `put_op` (in the request, bounded by the
extraction budget), and the journal keeps the extracted document: the writer lock is
held only to analyse and add it. An entry that still fails is set aside after a few
attempts (index/deadletter.py), so the writes after it are never held up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from whoosh.index import LockError

from index import columns, deadletter, generations, schema, verify
from index.codec import merging
from index.codec.segments import NewSegment
from index.documents import Document, RawDocument, document_from_record, document_record
from index.extract import extract
from index.extract.lexicon import lexicon
from index.journal import op_id
from index.language import load_profiles
from index.readers import raw_document
from index.stories import Entry, StoryIndex, entry_for
from index.writer import index_fields

log = logging.getLogger(__name__)

PUT = "put"
DELETE = "delete"
# Entries applied per commit at most: bounds the time a batch holds the writer.
MAX_BATCH = 2000
# How long a Whoosh writer waits for Whoosh's own lock. Sift's writer lock is held
# already, so it is free unless a killed process's lock is being released by the kernel.
WHOOSH_LOCK_WAIT_S = 5.0
# Pauses of the background applier after a failure (a full disk, say), doubling up to
# the maximum so a persistent failure neither spins nor floods the log.
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0


_tables_lock = threading.Lock()


@cache
def _tables_loaded() -> bool:
    extract(RawDocument(id="warm-up", text="NATO said so in Brussels."))
    load_profiles()
    return True


def load_extraction_tables() -> None:
    """Load extraction's word lists and language profiles (about 1.5 s of CPU) once per
    process, and only once when several threads ask together (a server's first write
    pays for it; workers that only read never load them)."""
    with _tables_lock:
        _tables_loaded()


def put_op(record: dict, provenance: dict[str, str] | None = None) -> dict:
    """The journal entry for writing `record` (already validated): the record as given,
    `provenance` marking fields a web page declared (`sift follow`; kept beside the record
    so that no API body can claim it), and the document extracted from them, so that
    applying the entry is analysis only and never extraction under the writer lock."""
    op = {"op": PUT, "doc": record, **({"provenance": provenance} if provenance else {})}
    try:
        load_extraction_tables()
        op["document"] = document_record(extract(put_document(op)))
    except Exception:  # applying extracts again; an entry that keeps failing is set aside
        log.exception("extracting written document %r failed", record.get("id"))
    return op


def delete_op(doc_id: str) -> dict:
    return {"op": DELETE, "id": doc_id}


def last_per_id(entries: Iterable[tuple[int, dict]]) -> list[dict]:
    """The final op for each id, in order of their last appearance."""
    return [op for _, op in last_entry_per_id(entries)]


def last_entry_per_id(entries: Iterable[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """The final (seq, op) for each id, in order of their last appearance.

    Whoosh's `update_document` only replaces documents already committed, so two puts of
    one id in a batch would both be added; keeping the last op per id is equivalent.
    """
    final: dict[str, tuple[int, dict]] = {}
    for seq, op in entries:
        doc_id = op_id(op)
        final.pop(doc_id, None)
        final[doc_id] = (seq, op)
    return list(final.values())


def put_document(op: dict) -> RawDocument:
    """The document a put op writes, with the provenance `sift follow` journalled beside it;
    ValueError if the record is invalid."""
    raw = raw_document(op["doc"], origin="api")
    raw.provenance = dict(op.get("provenance") or {})
    return raw


def document_of(op: dict) -> Document:
    """The document a put writes: the journaled extraction, else (an entry from before
    extraction moved ahead of the journal, or whose extraction failed) extracted now."""
    if "document" in op:
        return document_from_record(op["document"])
    return extract(put_document(op))


class EntryFailed(RuntimeError):
    """Entry `seq` failed to apply; the caller cancels the writer and tries again (at
    once if the entry is now set aside, since the next try skips it)."""

    def __init__(self, seq: int, set_aside: bool):
        state = "set aside" if set_aside else "retried"
        super().__init__(f"journal entry {seq} failed to apply; it is {state}")
        self.seq = seq
        self.set_aside = set_aside


def _failed(root: Path, seq: int, op: dict, exc: Exception, replay: bool) -> bool:
    log.error("applying journal entry %d (id %r) failed: %r", seq, op_id(op), exc)
    return deadletter.record_failure(root, seq, op, exc, final=replay)


def apply_ops(
    root: Path,
    writer,
    entries: Iterable[tuple[int, dict]],
    folder: Path,
    *,
    replay: bool = False,
):
    """Apply (seq, op) entries to an open Whoosh writer (replace or delete by id) of the
    generation in `folder`, recording their stories first (a version never shows a
    story-less document); the entries applied. A failing entry is counted and, once set
    aside (index/deadletter.py), skipped; a `replay` (a reindex, which has no later try)
    sets it aside at once. EntryFailed when the writer must be cancelled and the batch
    tried again (the stories' transaction is then rolled back with it)."""
    skipped = deadletter.set_aside_seqs(root)
    entries = [(seq, op) for seq, op in entries if seq not in skipped]
    puts = [op_id(op) for _, op in entries if op["op"] == PUT]
    held = columns.ids_maybe_held(folder, writer.segments, puts)  # the others are new
    prepared = _prepared(entries)
    applied = []
    added = NewSegment(writer)
    with StoryIndex(folder) as story_index:
        try:
            story_entries = _story_entries(story_index, prepared)
            for seq, op in entries:
                found = prepared.get(seq)
                if isinstance(found, OSError):
                    raise found  # not the entry's fault (a full disk): retried as it is
                if isinstance(found, Exception):
                    if _failed(root, seq, op, found, replay):
                        continue  # nothing reached the writer
                    raise EntryFailed(seq, set_aside=False) from found
                try:
                    if found is None:
                        story_index.remove([op["id"]])
                        writer.delete_by_term(schema.ID, op["id"])
                    else:
                        doc, fields = found
                        entry, built = story_entries.get(seq) or (entry_for(doc), None)
                        story_index.add(entry, built)
                        if op_id(op) in held:  # a put replaces
                            writer.delete_by_term(schema.ID, op_id(op))
                        added.add(fields)
                except OSError:
                    raise
                except Exception as exc:  # the segment may hold part of it: start again
                    raise EntryFailed(seq, _failed(root, seq, op, exc, replay)) from exc
                applied.append((seq, op))
            added.finish()
        except BaseException:
            added.cancel()
            raise
    return applied


def _prepared(entries: list[tuple[int, dict]]) -> dict[int, tuple[Document, dict] | Exception]:
    """Each put's document and index fields, or what failed (dealt with at its turn)."""
    prepared: dict[int, tuple[Document, dict] | Exception] = {}
    for seq, op in entries:
        if op["op"] == PUT:
            try:
                doc = document_of(op)
                prepared[seq] = (doc, index_fields(doc))
            except Exception as exc:
                prepared[seq] = exc
    return prepared


def _story_entries(story_index: StoryIndex, prepared: dict) -> dict[int, tuple[Entry, list]]:
    """The puts' story entries and the build's holders of their bands, all at once (one
    at a time, their numpy calls cost more than their arithmetic); none if that fails,
    and each put makes its own, so that the one at fault is the one set aside."""
    docs = {seq: found[0] for seq, found in prepared.items() if isinstance(found, tuple)}
    try:
        made = story_index.entries_for(list(docs.values()))
    except OSError:
        raise
    except Exception:
        log.exception("story entries of a batch failed; making them one by one")
        return {}
    return dict(zip(docs, made, strict=True))


def commit_ops(
    root: Path, name: str, entries: list[tuple[int, dict]], *, replay: bool = False
) -> list[tuple[int, dict]]:
    """Apply (seq, op) entries to generation `name` in one commit (tiered merging); the
    entries applied. IndexBusy if another writer holds Whoosh's lock."""
    ix = generations.open_generation(root, name)
    try:
        try:
            writer = ix.writer(timeout=WHOOSH_LOCK_WAIT_S)
        except LockError:
            raise generations.IndexBusy(name) from None
        try:
            applied = apply_ops(
                root, writer, entries, generations.generation_path(root, name), replay=replay
            )
            writer.commit(mergetype=merging.tiered)
        except BaseException:
            generations.cancel_writer(writer)
            raise
    finally:
        ix.close()
    return applied


def apply_entries(root: Path, name: str, entries: list[tuple[int, dict]]) -> None:
    """Commit `entries` to generation `name` and mark them applied (caller holds the lock)."""
    commit_ops(root, name, last_entry_per_id(entries))
    columns.ensure(generations.generation_path(root, name))
    generations.write_applied(root, name, entries[-1][0])
    deadletter.forget_attempts(root, {seq for seq, _ in entries})


def apply_pending(root: Path, *, wait_s: float | None = 0.0) -> int | None:
    """Apply journal entries the live generation lacks; how many were applied.

    None if another process holds the writer lock (it applies ours too, or we retry).
    Afterwards, still under the lock, compacts the journal when it has grown enough.
    """
    journal = generations.journal(root)
    if journal.state() is None:
        return 0
    try:
        with generations.writer_lock(root, wait_s=wait_s):
            name = generations.current_generation(root)
            if name is None:
                return 0
            done = 0
            while True:
                entries = journal.read_batch(generations.read_applied(root, name), MAX_BATCH)
                if not entries:
                    break
                try:
                    apply_entries(root, name, entries)
                except EntryFailed as exc:
                    if exc.set_aside:
                        continue  # the next try skips it
                    raise
                done += len(entries)
            if journal.needs_compaction():
                dropped = journal.compact()
                log.info("journal compacted: %d superseded entries dropped", dropped)
            return done
    except generations.IndexBusy:
        return None


def clean_up(root: Path) -> None:
    """Remove what killed writers left in the live generation (if no one is writing)."""
    try:
        with generations.writer_lock(root, wait_s=0):
            name = generations.current_generation(root)
            if name is not None:
                removed = verify.clean_generation(root, name)
                if removed:
                    log.info("removed %d leftover files of interrupted commits", len(removed))
    except generations.IndexBusy:
        pass  # someone is writing; a later start cleans up
    except OSError:
        log.exception("cleaning up the live generation failed")


class ApplierThread(threading.Thread):
    """Background loop in each API worker: notice journal growth, apply it."""

    def __init__(self, root: Path, interval_s: float = 0.1):
        super().__init__(name="sift-applier", daemon=True)
        self.root = root
        self.interval_s = interval_s
        self.wake = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        clean_up(self.root)
        # Load extraction's word lists (about 0.7 s of CPU) now, not on the first write,
        # so that write becomes searchable within SIFT_WRITE_WAIT_S on a fresh worker.
        lexicon()
        journal = generations.journal(self.root)
        settled = None  # (journal state, generation) known to be fully applied
        pause = RETRY_FIRST_S
        while not self._stopping.is_set():
            state = (journal.state(), generations.current_generation(self.root))
            if state[0] is not None and state != settled:
                try:
                    if apply_pending(self.root) is not None:
                        settled = state
                    pause = RETRY_FIRST_S
                except Exception:
                    log.exception("applying journal entries failed; retrying in %.0fs", pause)
                    self._stopping.wait(pause)
                    pause = min(pause * 2, RETRY_MAX_S)
            self.wake.wait(self.interval_s)
            self.wake.clear()

    def stop(self) -> None:
        self._stopping.set()
        self.wake.set()
