"""The per-process handle on the index: one Backend for reads, its store for writes.

Created by the app factory, so under gunicorn each worker opens its own after fork
(no preloaded app holding index files across fork). The applier thread that makes
journal entries searchable starts lazily in the process that serves requests.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from api.errors import RETRY_AFTER_S, ApiError
from index import generations
from index.backend import Applier
from search.backend import Backend

log = logging.getLogger(__name__)

# How often a write waiting to become searchable looks again while another thread or
# process holds the writer lock (it applies every pending entry, ours included): first
# after 10 ms, then twice as long each time up to 160 ms. Each look reads two files and
# tries the lock; looking every 10 ms through a 1,000-document batch took a tenth of the
# applying thread's time (one worker's GIL) at a million articles.
WRITE_POLL_S = 0.01
WRITE_POLL_MAX_S = 0.16


class IndexHandle:
    def __init__(self, backend: Backend, write_wait_s: float):
        self.backend = backend
        self.store = backend.store
        self.write_wait_s = write_wait_s
        self._applier: Applier | None = None
        self._applier_pid: int | None = None
        self._lock = threading.Lock()
        threading.Thread(target=self._warm_up, name="sift-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        """Open the index as the worker starts: its tables are what a first search waits
        for. Extraction's tables (some 160 MB a worker, a second and a half of CPU) are
        loaded by the first write instead: reads never need them, and loaded here they
        took a second of CPU from the first search."""
        try:
            self.backend.ready()
        except Exception:  # the first request reports it (a problem+json 503)
            log.exception("opening the index at start failed")

    def start_applier(self) -> None:
        """Start (once per process) the loop that applies journal entries."""
        with self._lock:
            if self._applier_pid == os.getpid() and self._applier and self._applier.is_alive():
                return
            self._applier = self.store.applier()
            self._applier.start()
            self._applier_pid = os.getpid()

    def stop_applier(self) -> None:
        if self._applier is not None:
            self._applier.stop()

    def pending_writes(self) -> int:
        """Journaled writes the served generation does not hold yet (the applier's backlog)."""
        return max(0, self.store.journaled() - (self.store.applied() or 0))

    def write(self, ops: list[dict]) -> tuple[str, int]:
        """Journal `ops` durably, then try to make them searchable before answering.

        Returns ("applied", seq) if they are searchable now, ("accepted", seq) if they are
        durable and the applier will make them searchable shortly. If the journal cannot
        take them (a full disk) nothing is acknowledged: a 507 or 503 problem.
        """
        self.start_applier()
        try:
            seq = self.store.append(ops)
        except OSError as exc:
            raise _not_journaled(exc) from None
        deadline = time.monotonic() + self.write_wait_s
        pause = WRITE_POLL_S
        while True:
            applied = self.store.applied()
            if applied is not None and applied >= seq:
                return "applied", seq
            if time.monotonic() >= deadline:
                break
            try:
                if self.store.apply_pending() is None:  # another is applying
                    time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
                    pause = min(pause * 2, WRITE_POLL_MAX_S)
                elif applied is None:
                    break  # no index to apply to yet: the next reindex replays it
            except Exception:  # durable in the journal already: the applier retries
                log.exception("applying journal entries failed; the applier will retry")
                break
        if self._applier is not None:
            self._applier.wake.set()
        return "accepted", seq


def _not_journaled(exc: OSError) -> ApiError:
    """The problem for a write the journal could not take (so nothing was acknowledged)."""
    log.error("journal append failed: %s", exc)
    if generations.is_disk_full(exc):
        return ApiError(
            507,
            "insufficient-storage",
            "Insufficient Storage",
            "The server has no room to record this write; nothing was stored. Retry later.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return ApiError(
        503,
        "write-unavailable",
        "Write unavailable",
        "The write could not be recorded; nothing was stored. Retry later.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
