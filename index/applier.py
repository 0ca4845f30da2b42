"""The single writer for API writes: applies journal entries to the live generation.

Every API worker runs `apply_pending` in a background loop, and a write request runs it
once itself; the writer lock makes sure one at a time applies, so Whoosh's one-writer
rule is never hit and no user ever sees a `LockError`. Whoever holds the lock applies
everything pending (group commit), so the others find their entries applied and answer.

Applying is idempotent (put = replace by id, delete = delete by id), so replaying
entries after a crash between the commit and the `applied` mark gives the same index;
`tests/durability/` kills writers at random moments to check it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from whoosh.index import LockError

from index import generations, schema, verify
from index.documents import RawDocument
from index.extract import extract
from index.journal import op_id
from index.readers import raw_document
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


def put_op(record: dict, provenance: dict[str, str] | None = None) -> dict:
    """A put of `record`; `provenance` marks fields a web page declared (`sift follow`),
    kept beside the record so that no API body can claim it."""
    return {"op": PUT, "doc": record, **({"provenance": provenance} if provenance else {})}


def delete_op(doc_id: str) -> dict:
    return {"op": DELETE, "id": doc_id}


def last_per_id(entries: Iterable[tuple[int, dict]]) -> list[dict]:
    """The final op for each id, in order of their last appearance.

    Whoosh's `update_document` only replaces documents already committed, so two puts of
    one id in a batch would both be added; keeping the last op per id is equivalent.
    """
    final: dict[str, dict] = {}
    for _, op in entries:
        doc_id = op_id(op)
        final.pop(doc_id, None)
        final[doc_id] = op
    return list(final.values())


def put_document(op: dict) -> RawDocument:
    """The document a put op writes, with the provenance `sift follow` journalled beside it;
    ValueError if the record is invalid."""
    raw = raw_document(op["doc"], origin="api")
    raw.provenance = dict(op.get("provenance") or {})
    return raw


def apply_ops(writer, ops: Iterable[dict]) -> None:
    """Apply ops to an open Whoosh writer (replace or delete by id)."""
    for op in ops:
        if op["op"] == PUT:
            writer.update_document(**index_fields(extract(put_document(op))))
        else:
            writer.delete_by_term(schema.ID, op["id"])


def apply_entries(root: Path, name: str, entries: list[tuple[int, dict]]) -> None:
    """Commit `entries` to generation `name` and mark them applied (caller holds the lock)."""
    ix = generations.open_generation(root, name)
    try:
        try:
            writer = ix.writer(timeout=WHOOSH_LOCK_WAIT_S)
        except LockError:
            raise generations.IndexBusy(name) from None
        try:
            apply_ops(writer, last_per_id(entries))
            writer.commit()
        except BaseException:
            generations.cancel_writer(writer)
            raise
    finally:
        ix.close()
    generations.write_applied(root, name, entries[-1][0])


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
                apply_entries(root, name, entries)
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
