"""The single writer for API writes: applies journal entries to the live generation.

Every API worker runs `apply_pending` in a background loop; the writer lock makes sure
one at a time applies, so Whoosh's one-writer rule is never hit and no user ever sees a
`LockError`. Applying is idempotent (put = replace by id, delete = delete by id), so
replaying an entry after a crash between the commit and the `applied` mark is harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from index import generations, schema
from index.extract import extract
from index.readers import raw_document
from index.writer import index_fields

log = logging.getLogger(__name__)

PUT = "put"
DELETE = "delete"
# Entries applied per commit at most: bounds the time a batch holds the writer.
MAX_BATCH = 2000


def put_op(record: dict) -> dict:
    return {"op": PUT, "doc": record}


def delete_op(doc_id: str) -> dict:
    return {"op": DELETE, "id": doc_id}


def op_id(op: dict) -> str:
    return op["doc"]["id"] if op["op"] == PUT else op["id"]


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


def apply_ops(writer, ops: Iterable[dict]) -> None:
    """Apply ops to an open Whoosh writer (replace or delete by id)."""
    for op in ops:
        if op["op"] == PUT:
            raw = raw_document(op["doc"], origin="api")
            writer.update_document(**index_fields(extract(raw)))
        else:
            writer.delete_by_term(schema.ID, op["id"])


def apply_entries(root: Path, name: str, entries: list[tuple[int, dict]]) -> None:
    """Commit `entries` to generation `name` and mark them applied (caller holds the lock)."""
    ix = generations.open_generation(root, name)
    try:
        writer = ix.writer()
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
    """
    journal = generations.journal(root)
    if journal.size() == 0:
        return 0
    try:
        with generations.writer_lock(root, wait_s=wait_s):
            name = generations.current_generation(root)
            if name is None:
                return 0
            done = 0
            while True:
                applied = generations.read_applied(root, name)
                entries = []
                for entry in journal.read_after(applied):
                    entries.append(entry)
                    if len(entries) >= MAX_BATCH:
                        break
                if not entries:
                    return done
                apply_entries(root, name, entries)
                done += len(entries)
    except generations.IndexBusy:
        return None


class ApplierThread(threading.Thread):
    """Background loop in each API worker: notice journal growth, apply it."""

    def __init__(self, root: Path, interval_s: float = 0.1):
        super().__init__(name="sift-applier", daemon=True)
        self.root = root
        self.interval_s = interval_s
        self.wake = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        journal = generations.journal(self.root)
        settled = None  # (journal size, generation) known to be fully applied
        while not self._stopping.is_set():
            state = (journal.size(), generations.current_generation(self.root))
            if state[0] and state != settled:
                try:
                    if apply_pending(self.root) is not None:
                        settled = state
                except Exception:
                    log.exception("applying journal entries failed; will retry")
                    self._stopping.wait(1.0)
            self.wake.wait(self.interval_s)
            self.wake.clear()

    def stop(self) -> None:
        self._stopping.set()
        self.wake.set()
