"""The cluster's write side (index/backend.py's Store): bulk reindex and API writes.

`sift reindex` runs the same extraction as the embedded build, in worker processes,
fills the slot the front does not serve on every replica, replays the API writes the
journal holds, and only then re-points the front (one row of its `sift` index): a failed
or interrupted build leaves the old slot serving. API writes are journalled first (in the
cluster's state folder, beside cluster.toml), then sent to every replica of the shard the
id hashes to; each replica's progress is recorded apart, so a replica that was down gets
the writes it missed as soon as it answers again.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pymysql

from index import generations
from index.applier import DELETE, MAX_BATCH, document_of, last_per_id
from index.cluster.layout import SLOTS, Cluster
from index.cluster.rows import COLUMNS, doc_key, row, shard_of, words_of
from index.cluster.sql import ClusterDown, connect, live_slot, set_live_slot
from index.extract import extract
from index.journal import Journal, op_id
from index.readers import InputError, input_files, read_file
from index.reindex import ReindexFailed, ReindexReport
from index.storage import make_private_dir, write_atomically
from index.validate import DEFAULT_LIMITS, Limits
from index.workers import default_workers

log = logging.getLogger(__name__)

# Documents a worker extracts per task, and rows per REPLACE statement.
EXTRACT_CHUNK = 200
INSERT_ROWS = 100
VOCABULARY_FILE = "vocabulary-{slot}.json"


def vocabulary_path(cluster: Cluster, slot: str) -> Path:
    return cluster.state_dir / VOCABULARY_FILE.format(slot=slot)


class ClusterStore:
    """The Store of the cluster `cluster` describes."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.journal = Journal(cluster.state_dir / "journal")

    # -- state --------------------------------------------------------------------------

    def _state(self) -> Path:
        return make_private_dir(self.cluster.state_dir)

    def live_slot(self) -> str | None:
        """The serving slot; ClusterDown if the front does not answer."""
        try:
            front = connect(self.cluster.front)
        except pymysql.err.MySQLError as exc:
            front = self.cluster.front
            raise ClusterDown(f"the cluster's front {front} does not answer ({exc})") from None
        try:
            return live_slot(front)
        finally:
            front.close()

    def _writer_lock(self, wait_s: float = generations.WRITER_LOCK_WAIT_S):
        """The lock under which journal entries go to replicas (the appliers of every
        worker hold it for one round at most)."""
        return generations.file_lock(self._state() / "writer.lock", wait_s=wait_s)

    def _mark_path(self, slot: str, address: str) -> Path:
        return self._state() / f"applied-{slot}-{address.replace(':', '_')}"

    def _mark(self, slot: str, address: str) -> int:
        try:
            return int(self._mark_path(slot, address).read_text())
        except FileNotFoundError:
            return 0

    def _set_mark(self, slot: str, address: str, seq: int) -> None:
        write_atomically(self._mark_path(slot, address), str(seq).encode())

    # -- Store --------------------------------------------------------------------------

    def built(self) -> bool:
        return self.live_slot() is not None

    def append(self, ops: list[dict]) -> int:
        return self.journal.append(ops)

    def journaled(self) -> int:
        return self.journal.last_seq()

    def applied(self) -> int | None:
        slot = self.live_slot()
        if slot is None:
            return None
        return min(
            max(self._mark(slot, address) for address in replicas)
            for replicas in self.cluster.shards
        )

    def apply_pending(self) -> int | None:
        try:
            with self._writer_lock(wait_s=0):
                slot = self.live_slot()
                if slot is None:
                    return 0
                done = self._catch_up(slot)
                if self.journal.needs_compaction():  # superseded entries only: every
                    self.journal.compact()  # replica still finds each id's last write
                return done
        except generations.IndexBusy:
            return None

    def _catch_up(self, slot: str) -> int:
        """Send every replica the journal entries it lacks; how many entries were sent."""
        done = 0
        for shard, replicas in enumerate(self.cluster.shards):
            for address in replicas:
                try:
                    done = max(done, self._catch_up_replica(slot, shard, address))
                except pymysql.err.MySQLError as exc:  # down: it catches up when back
                    log.debug("replica %s not written: %s", address, exc)
        return done

    def catch_up(self, slot: str, shard: int, address: str) -> int:
        """Bring one replica up to the journal (under the writer lock); entries sent."""
        with self._writer_lock():
            return self._catch_up_replica(slot, shard, address)

    def _catch_up_replica(self, slot: str, shard: int, address: str) -> int:
        seq = self._mark(slot, address)
        entries = self.journal.read_batch(seq, MAX_BATCH)
        if not entries:
            return 0
        conn = connect(address)
        try:
            done = 0
            while entries:
                ops = [op for op in last_per_id(entries) if shard_of(op_id(op), self._n) == shard]
                write_ops(conn, slot, ops)
                done += len(entries)
                self._set_mark(slot, address, entries[-1][0])
                entries = self.journal.read_batch(entries[-1][0], MAX_BATCH)
            return done
        finally:
            conn.close()

    @property
    def _n(self) -> int:
        return len(self.cluster.shards)

    def applier(self) -> ClusterApplier:
        return ClusterApplier(self)

    # -- reindex ------------------------------------------------------------------------

    def reindex(
        self,
        paths: Iterable[str | Path],
        *,
        incremental: bool = False,  # a cluster always rebuilds in full
        progress: Callable[[int], None] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> ReindexReport:
        started = time.monotonic()
        with generations.file_lock(self._state() / "reindex.lock", wait_s=None):
            try:
                live = self.live_slot()
            except ClusterDown as exc:
                raise ReindexFailed(
                    f"reindex failed, previous index still serving: {exc}"
                ) from None
            slot = SLOTS[1] if live == SLOTS[0] else SLOTS[0]
            report = ReindexReport(generation=f"slot {slot}")
            try:
                conns = [[connect(a) for a in replicas] for replicas in self.cluster.shards]
            except pymysql.err.MySQLError as exc:
                raise ReindexFailed(
                    f"reindex failed, previous index still serving: a replica is down ({exc})"
                ) from None
            try:
                self._build(conns, slot, paths, report, progress, limits)
            except (pymysql.err.MySQLError, OSError) as exc:
                raise ReindexFailed(f"reindex failed, previous index still serving: {exc}") from exc
            finally:
                for shard in conns:
                    for conn in shard:
                        conn.close()
        report.seconds = time.monotonic() - started
        return report

    def _build(self, conns, slot: str, paths, report: ReindexReport, progress, limits) -> None:
        for shard in conns:
            for conn in shard:
                with conn.cursor() as cur:
                    cur.execute(f"TRUNCATE RTINDEX docs_{slot}")
        try:
            files = input_files(paths)
        except InputError as exc:
            report.errors.append(exc)
            return
        vocabulary: Counter[str] = Counter()
        seen: dict[str, str] = {}
        pending: list[list[dict]] = [[] for _ in conns]
        for built in _extracted(_raws(files, seen, report, limits)):
            for found, words in built:
                shard = found["id"] % len(conns)
                pending[shard].append(found)
                vocabulary.update(words)
                if len(pending[shard]) >= INSERT_ROWS:
                    _insert(conns[shard], slot, pending[shard])
                    pending[shard] = []
            report.documents += len(built)
            if progress:
                progress(len(built))
        for shard, rows in enumerate(pending):
            _insert(conns[shard], slot, rows)
        if report.errors:
            return
        write_atomically(
            vocabulary_path(self.cluster, slot),
            json.dumps(vocabulary, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        )
        with self._writer_lock():
            entries = list(self.journal.read_after(0))
            ops = last_per_id(entries)
            for shard, shard_conns in enumerate(conns):
                mine = [op for op in ops if shard_of(op_id(op), len(conns)) == shard]
                for conn in shard_conns:
                    write_ops(conn, slot, mine)
            report.api_writes_replayed = len(ops)
            last = entries[-1][0] if entries else 0
            for replicas in self.cluster.shards:
                for address in replicas:
                    self._set_mark(slot, address, last)
            front = connect(self.cluster.front)
            try:
                set_live_slot(front, slot)
            finally:
                front.close()
        report.switched = True


def _raws(files: list[Path], seen: dict[str, str], report: ReindexReport, limits: Limits):
    """Every document of `files` in order, duplicates of an id reported, not indexed."""
    for path in files:
        try:
            for raw in read_file(path, report.notes.append, limits):
                where = raw.origin or str(path)
                if raw.id in seen:
                    report.errors.append(
                        InputError(where, f"duplicate id {raw.id!r} (first seen in {seen[raw.id]})")
                    )
                    continue
                seen[raw.id] = where
                yield raw
        except InputError as exc:
            report.errors.append(exc)
        report.files_read += 1


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _extract_rows(raws) -> list[tuple[dict, set[str]]]:
    """In a worker: extract and analyse documents, as rows and their words."""
    docs = [extract(raw) for raw in raws]
    return [(row(doc), words_of(doc)) for doc in docs]


def _extracted(raws):
    """Rows of `raws`, extracted in worker processes (in order)."""
    workers = default_workers()
    if workers == 1:
        yield from map(_extract_rows, _chunks(raws, EXTRACT_CHUNK))
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_extract_rows, _chunks(raws, EXTRACT_CHUNK))


def _insert(conns, slot: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = ", ".join(COLUMNS)
    for conn in conns:
        with conn.cursor() as cur:
            values = ", ".join(
                cur.mogrify("(" + ", ".join(["%s"] * len(COLUMNS)) + ")", _values(r)) for r in rows
            )
            cur.execute(f"REPLACE INTO docs_{slot} ({columns}) VALUES {values}")


def _values(found: dict) -> tuple:
    return tuple(found[column] for column in COLUMNS)


def write_ops(conn, slot: str, ops: list[dict]) -> None:
    """Apply put and delete ops (already routed to this replica's shard)."""
    rows = []
    for op in ops:
        if op["op"] == DELETE:
            with conn.cursor() as cur:
                cur.execute(f"DELETE FROM docs_{slot} WHERE id = %s", (doc_key(op["id"]),))
        else:
            rows.append(row(document_of(op)))  # extracted before it was journaled
    _insert([conn], slot, rows)


class ClusterApplier(threading.Thread):
    """Background loop in each API worker: journal entries to every replica that lacks them."""

    def __init__(self, store: ClusterStore, interval_s: float = 0.2):
        super().__init__(name="sift-cluster-applier", daemon=True)
        self.store = store
        self.interval_s = interval_s
        self.wake = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.store.apply_pending()
            except Exception:
                log.exception("applying journal entries to the cluster failed; retrying")
            self.wake.wait(self.interval_s)
            self.wake.clear()

    def stop(self) -> None:
        self._stopping.set()
        self.wake.set()
