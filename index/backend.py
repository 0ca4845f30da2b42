"""The write side of a backend: what the API's writes and `sift reindex` need.

Extraction and the journal are backend-free (index/extract, index/journal.py); a Store
is where extracted documents end up: the embedded Whoosh generations (index/embedded.py)
or a SphinxQL cluster (index/cluster/). API writes are journalled first, then applied,
so nothing acknowledged is lost whichever store serves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from index.reindex import ReindexReport
from index.validate import DEFAULT_LIMITS, Limits


class Applier(Protocol):
    """The background loop that makes journalled writes searchable."""

    wake: threading.Event

    def start(self) -> None: ...
    def is_alive(self) -> bool: ...
    def stop(self) -> None: ...


class Store(Protocol):
    def reindex(
        self,
        paths: Iterable[str | Path],
        *,
        incremental: bool = False,
        progress: Callable[[int], None] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> ReindexReport:
        """Build a complete new index from `paths` and switch to it only once complete;
        records over `limits` (index/validate.py) are reported like unreadable files."""

    def built(self) -> bool:
        """Whether an index has been built (and switched in) yet."""

    def append(self, ops: list[dict]) -> int:
        """Journal `ops` durably (OSError if it cannot); their sequence number."""

    def journaled(self) -> int:
        """The last journal sequence number written (0 when nothing was)."""

    def applied(self) -> int | None:
        """The last journal sequence number searchable; None when nothing is built."""

    def apply_pending(self) -> int | None:
        """Apply what is journalled but not applied; None if another process is at it."""

    def applier(self) -> Applier:
        """A new background applier for this process."""
