"""The seam between Sift and the engine that holds its index: one Protocol, one factory.

The API, the pages and the CLI see only `Backend` and the plain dataclasses of
search/request.py and search/results.py; which engine answers (the embedded Whoosh
index, search/engine.py, or a SphinxQL cluster, search/sphinx/) is decided once, here,
from the settings the caller passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from index.backend import Store
from index.documents import Document
from search.request import Filters, SearchRequest
from search.results import (
    ActorView,
    Comparison,
    DocumentView,
    Hit,
    SearchResults,
    Stats,
    StoryView,
    Timeline,
)
from search.stored import HEAD_CHARS
from search.suggest import Completion


class Backend(Protocol):
    """Reads (typed requests in, plain results out) and, through `store`, writes."""

    @property
    def store(self) -> Store:
        """Its write side (read-only here, so a backend may hold a narrower Store type)."""

    def search(self, request: SearchRequest) -> SearchResults: ...

    def ranking(self, request: SearchRequest, depth: int) -> list[tuple[str, float]]:
        """(id, score) of the first `depth` hits (for measuring ranking quality)."""

    def export(
        self, q: str, filters: Filters, op: str = "and", sort: str = "relevance"
    ) -> Iterator[Document]: ...

    def document(
        self,
        doc_id: str,
        q: str | None = None,
        *,
        keep_lines: bool = False,
        text_offset: int = 0,
        text_length: int = HEAD_CHARS,
    ) -> DocumentView | None:
        """The document with `text_length` characters of its text from `text_offset`."""

    def similar(self, doc_id: str, limit: int = 10) -> list[Hit] | None: ...

    def suggest(self, text: str, limit: int = 10) -> list[Completion]: ...

    def timeline(
        self, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> Timeline: ...

    def stats(self) -> Stats: ...

    def story(self, story: str) -> StoryView | None:
        """A story's members in date order; None if unknown (NotSupported: no stories)."""

    def actor(
        self, name: str, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> ActorView | None:
        """An actor within the matches of `q` and `filters`; None if nothing names them."""

    def compare(
        self, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> Comparison:
        """Each source of `filters.sources` on the matches of `q` and the other filters."""

    def ready(self) -> bool:
        """Whether every search would be answered completely now."""

    def version(self) -> str: ...

    def close(self) -> None: ...


def open_backend(
    index_dir: str | Path, *, cluster: str | Path | None = None, budget_s: float | None = None
) -> Backend:
    """The cluster the `cluster` file describes if given, else the index in `index_dir`."""
    if cluster is not None:
        from search.sphinx.backend import SphinxBackend

        return SphinxBackend(cluster)
    from search.engine import Engine

    return Engine(index_dir, budget_s=budget_s)
