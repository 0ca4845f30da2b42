"""The embedded store: Whoosh generations in one folder, written through the journal."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from index import generations
from index.applier import ApplierThread, apply_pending
from index.reindex import ReindexReport, reindex
from index.validate import DEFAULT_LIMITS, Limits


class EmbeddedStore:
    """The Store (index/backend.py) of the index folder `root`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def reindex(
        self,
        paths: Iterable[str | Path],
        *,
        incremental: bool = False,
        progress: Callable[[int], None] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> ReindexReport:
        return reindex(self.root, paths, incremental=incremental, progress=progress, limits=limits)

    def built(self) -> bool:
        return generations.current_generation(self.root) is not None

    def append(self, ops: list[dict]) -> int:
        return generations.journal(self.root).append(ops)

    def journaled(self) -> int:
        return generations.journal(self.root).last_seq()

    def applied(self) -> int | None:
        name = generations.current_generation(self.root)
        return generations.read_applied(self.root, name) if name else None

    def apply_pending(self) -> int | None:
        return apply_pending(self.root)

    def applier(self) -> ApplierThread:
        return ApplierThread(self.root)
