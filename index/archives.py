"""Web archives in: which reader takes a page, a WARC file or a feed, by its extension."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from index import feeds, html, warc
from index.documents import RawDocument
from index.readers import Notice


def read_archive(path: Path, notice: Notice) -> Iterator[RawDocument]:
    name = path.name
    if name.endswith(html.HTML_SUFFIXES):
        yield html.read_html_file(path)
    elif name.endswith(warc.WARC_SUFFIXES):
        yield from warc.read_warc(path, notice)
    else:
        yield from feeds.read_feed_file(path, notice)
