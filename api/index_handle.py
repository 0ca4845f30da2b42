"""The per-process handle on the index: one Engine for reads, the journal for writes.

Created by the app factory, so under gunicorn each worker opens its own after fork
(no preloaded app holding index files across fork). The applier thread that makes
journal entries searchable starts lazily in the process that serves requests.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from index import generations
from index.applier import ApplierThread, apply_pending
from search.engine import Engine


class IndexHandle:
    def __init__(self, root: Path, write_wait_s: float):
        self.root = Path(root)
        self.engine = Engine(self.root)
        self.write_wait_s = write_wait_s
        self._applier: ApplierThread | None = None
        self._applier_pid: int | None = None
        self._lock = threading.Lock()

    def start_applier(self) -> None:
        """Start (once per process) the loop that applies journal entries."""
        with self._lock:
            if self._applier_pid == os.getpid() and self._applier and self._applier.is_alive():
                return
            self._applier = ApplierThread(self.root)
            self._applier.start()
            self._applier_pid = os.getpid()

    def stop_applier(self) -> None:
        if self._applier is not None:
            self._applier.stop()

    def write(self, ops: list[dict]) -> tuple[str, int]:
        """Journal `ops` durably, then try to make them searchable before answering.

        Returns ("applied", seq) if they are searchable now, ("accepted", seq) if they are
        durable and the applier will make them searchable shortly.
        """
        self.start_applier()
        seq = generations.journal(self.root).append(ops)
        try:
            done = apply_pending(self.root, wait_s=self.write_wait_s)
        except OSError:
            done = None  # durable in the journal; the applier retries
        name = generations.current_generation(self.root)
        if done is not None and name and generations.read_applied(self.root, name) >= seq:
            return "applied", seq
        if self._applier is not None:
            self._applier.wake.set()
        return "accepted", seq
