"""RSS and Atom feeds -> RawDocument: one document per item (feedparser).

An item's id is a stable hash of its GUID, else of its link (index/html.py's `url_id`, as
for WARC pages, so an item followed live and its page are one document). Its text is its
full content when the feed carries it, else its summary; `extra["feed_text"]` says which.
Title, date, link and authors come from the feed (`page` in provenance), the source from
the sources table by the link's domain, else the feed's own title.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import feedparser

from index.documents import PAGE, RawDocument
from index.extract.sources import page_outlet
from index.html import MAX_PAGE_BYTES, url_id
from index.readers import InputError, Notice
from index.visible import visible_text

FEED_SUFFIXES = (".rss", ".atom")  # `.xml` too, when it parses as a feed


def read_feed_file(path: Path, notice: Notice) -> Iterator[RawDocument]:
    """The items of one feed file; an `.xml` file that is no feed is noted and skipped."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_PAGE_BYTES + 1)
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        if len(data) > MAX_PAGE_BYTES:
            raise InputError(str(path), f"feed larger than {MAX_PAGE_BYTES:,} bytes; not read")
        parsed = parse_feed(data, str(path))
    except InputError as exc:
        if path.name.endswith(FEED_SUFFIXES):
            raise
        notice(f"{path}: {exc.reason}; skipped (an .xml file is read only if it is a feed)")
        return
    yield from feed_documents(parsed, str(path), notice)


def parse_feed(data: bytes, where: str) -> feedparser.FeedParserDict:
    """The parsed feed; InputError when `data` is not RSS or Atom."""
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") or (parsed.get("bozo") and not parsed.entries):
        problem = parsed.get("bozo_exception")
        reason = f" ({' '.join(str(problem).split())[:160]})" if problem else ""
        raise InputError(where, f"not an RSS or Atom feed{reason}")
    return parsed


def item_key(entry) -> str | None:
    """What identifies an item for good: its GUID, else its link."""
    return (entry.get("id") or entry.get("link") or "").strip() or None


def item_date(entry) -> str | None:
    """The item's publication (else update) date, ISO 8601, or None."""
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not stamp:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(stamp), dt.UTC).date().isoformat()
    except (OverflowError, ValueError, OSError):
        return None


def feed_documents(parsed, where: str, notice: Notice) -> Iterator[RawDocument]:
    feed_title = parsed.feed.get("title")
    empty = 0
    for number, entry in enumerate(parsed.entries, 1):
        key = item_key(entry)
        if key is None:
            raise InputError(f"{where} item {number}", "an item with neither GUID nor link")
        content = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
        kind = "content" if content else "summary"
        body = "\n\n".join(content) if content else entry.get("summary", "")
        text = _text(body)
        if not text.strip():
            empty += 1
            continue
        yield RawDocument(
            id=url_id(key),
            text=text,
            **item_metadata(entry, feed_title),
            extra={"feed_text": kind, **_authors(entry)},
            origin=f"{where} item {number}",
            provenance={"title": PAGE, "date": PAGE, "source": PAGE},
        )
    if empty:
        notice(f"{where}: {empty} items without content or summary skipped")


def item_metadata(entry, feed_title: str | None) -> dict:
    """Title, date, source and url of a feed item, as RawDocument fields."""
    link = entry.get("link") or None
    return {
        "title": " ".join((entry.get("title") or "").split()) or None,
        "date": item_date(entry),
        "source": page_outlet(link, feed_title),
        "url": link,
    }


def _authors(entry) -> dict:
    names = [a.get("name", "").strip() for a in entry.get("authors", []) if a.get("name")]
    return {"authors": names} if names else {}


def _text(body: str) -> str:
    """An item's HTML (or plain) text as text, one block a line."""
    if "<" not in body:
        return body
    return visible_text(f"<div>{body}</div>")
