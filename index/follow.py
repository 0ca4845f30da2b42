"""`sift follow`: poll feeds, fetch each new item's page, add it through the journal.

Each new item's page is fetched (index/fetch.py: politely), read as a web page
(index/html.py; the feed's title and date fill what the page leaves out), and appended
to the write-ahead journal, fsync'd, exactly as an API write is; then the applier makes
it searchable. The state lives beside the index (`follow/`): `seen.log`, the items
done (one key a line, appended and fsync'd after the item's journal entry), and
`feeds.json`, each feed's ETag and Last-Modified for conditional GET (replaced
atomically, and only once every item of that feed fetched is done or failed for good).

So a crash at any point loses nothing and duplicates nothing: an item journaled but not
yet marked seen is fetched again and put again under the same id (a put replaces by id);
a feed whose items were not all done is fetched again in full. A dead feed or page is
reported and the others go on; a page that failed for good (404, not HTML, no article
text) is marked seen so it is not fetched every round, one that may come back is not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from index import generations
from index.applier import put_op
from index.backend import Store
from index.documents import PAGE, RawDocument
from index.feeds import item_key, item_metadata, parse_feed
from index.fetch import FetchError, PoliteFetcher
from index.html import page_document, url_id
from index.readers import InputError
from index.storage import fsync_dir, make_private_dir

STATE_DIR = "follow"
SEEN_LOG = "seen.log"
FEEDS_STATE = "feeds.json"
LOCK_FILE = "follow.lock"

Report = Callable[[str], None]


def read_feed_list(path: Path) -> list[str]:
    """The feed URLs of a file, one a line; blank lines and `#` comments skipped;
    ValueError naming the line for anything that is not an http(s) URL."""
    urls: list[str] = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        url = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{path}:{number}: not an http(s) URL: {url[:100]!r}")
        if url not in urls:
            urls.append(url)
    return urls


class FollowState:
    """What `sift follow` has done, kept beside the index so a restart resumes."""

    def __init__(self, folder: Path):
        self.folder = make_private_dir(folder)
        self.seen: set[str] = set()
        seen_path = self.folder / SEEN_LOG
        if seen_path.exists():
            data = seen_path.read_bytes()
            complete = data[: data.rfind(b"\n") + 1]
            if len(complete) < len(data):  # a torn last line: that item was never marked
                os.truncate(seen_path, len(complete))
            self.seen = {json.loads(line) for line in complete.splitlines() if line.strip()}
        feeds_path = self.folder / FEEDS_STATE
        self.feeds: dict[str, dict[str, str]] = (
            json.loads(feeds_path.read_text("utf-8")) if feeds_path.exists() else {}
        )

    def mark_seen(self, key: str) -> None:
        line = json.dumps(key, ensure_ascii=False) + "\n"
        fd = os.open(self.folder / SEEN_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.seen.add(key)

    def save_validators(self, feed: str, validators: dict[str, str]) -> None:
        self.feeds[feed] = validators
        path = self.folder / FEEDS_STATE
        temporary = path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(self.feeds, out, ensure_ascii=False, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        fsync_dir(self.folder)


@dataclass
class RoundReport:
    feeds: int = 0
    not_modified: int = 0
    added: int = 0
    problems: list[str] = field(default_factory=list)


class Follower:
    """Rounds of polling that write through `store` (index/backend.py: the embedded index
    or a cluster) and keep their state in `state_dir`."""

    def __init__(self, store: Store, state_dir: Path, fetcher: PoliteFetcher, report: Report):
        self.store = store
        self.fetcher = fetcher
        self.report = report
        self.state = FollowState(state_dir)

    def run_round(self, feeds: list[str]) -> RoundReport:
        """Poll every feed once; add every new item's page."""
        result = RoundReport()
        self._make_searchable()  # entries a killed run journaled but did not apply
        for feed in feeds:
            result.feeds += 1
            self._follow_feed(feed, result)
            self._make_searchable()
        return result

    def _problem(self, result: RoundReport, message: str) -> None:
        result.problems.append(message)
        self.report(message)

    def _follow_feed(self, feed: str, result: RoundReport) -> None:
        known = self.state.feeds.get(feed, {})
        headers = {}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        try:
            response = self.fetcher.get(feed, headers)
        except FetchError as exc:
            self._problem(result, f"feed {exc.url}: {exc.reason}")
            return
        if response.status == 304:
            result.not_modified += 1
            return
        try:
            parsed = parse_feed(response.body, feed)
        except InputError as exc:
            self._problem(result, f"feed {exc.where}: {exc.reason}")
            return
        complete = True
        for entry in parsed.entries:
            key = item_key(entry)
            if key is None or key in self.state.seen:
                continue
            complete &= self._follow_item(key, entry, parsed.feed.get("title"), result)
        if complete:
            lower = {name.lower(): value for name, value in response.headers.items()}
            validators = {
                name: lower[header]
                for name, header in (("etag", "etag"), ("last_modified", "last-modified"))
                if lower.get(header)
            }
            self.state.save_validators(feed, validators)

    def _follow_item(self, key: str, entry, feed_title: str | None, result) -> bool:
        """Add one item's page; False if it failed in a way a later round may mend."""
        link = entry.get("link")
        if not link:
            self._problem(result, f"item {key}: no link to fetch; skipped")
            self.state.mark_seen(key)
            return True
        try:
            response = self.fetcher.get(link)
            fetched = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            raw = page_document(
                response.body, doc_id=url_id(key), origin=link, url=response.url, fetched=fetched
            )
        except FetchError as exc:
            self._problem(result, f"page {exc.url}: {exc.reason}")
            if not exc.permanent:
                return False
            self.state.mark_seen(key)
            return True
        except InputError as exc:
            self._problem(result, f"page {exc.where}: {exc.reason}")
            self.state.mark_seen(key)
            return True
        _fill_from_item(raw, item_metadata(entry, feed_title))
        self.store.append([put_op(_record(raw), raw.provenance)])
        self.state.mark_seen(key)
        result.added += 1
        return True

    def _make_searchable(self) -> None:
        """Apply journaled entries; the first time, build an (empty) index to apply them to."""
        if self.store.built():
            self.store.apply_pending()
            return
        # A fresh index gets the journal replayed; a reindex running already replays it.
        with contextlib.suppress(generations.IndexBusy):
            self.store.reindex([])


def _fill_from_item(raw: RawDocument, item: dict) -> None:
    """The feed item's title and date where the page declared none."""
    for name in ("title", "date"):
        if not getattr(raw, name) and item.get(name):
            setattr(raw, name, item[name])
            raw.provenance[name] = PAGE


def _record(raw: RawDocument) -> dict:
    """The journal record of a page: the input fields, as an API write gives them."""
    record = {
        name: getattr(raw, name)
        for name in ("id", "text", "title", "source", "date", "url", "fetched")
        if getattr(raw, name) is not None
    }
    return {**raw.extra, **record}


def lock(state_dir: Path):
    """One `sift follow` per index at a time (IndexBusy otherwise)."""
    return generations.file_lock(make_private_dir(state_dir) / LOCK_FILE, wait_s=None)
