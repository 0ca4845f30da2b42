"""WARC files -> RawDocument: every HTML page a crawler captured with status 200.

A WARC can hold gigabytes, so it is streamed record by record (warcio), never loaded whole,
and read twice: the first pass notes, for each page, its id (a stable hash of its canonical
URL, else of the record's target URI) and its latest capture (WARC-Date); the second
extracts only those captures, so a URL captured twice is one document, the latest. Memory
grows with the number of distinct pages, not with their size.

Revisits, non-HTML payloads, responses other than 200 and pages over the size limit are
skipped and counted; a broken record is reported with its offset and reading resumes at
the next record (the next gzip member, or the next `WARC/1.` header line).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from index.documents import RawDocument
from index.html import MAX_PAGE_BYTES, canonical_url, page_document, url_id
from index.readers import InputError, Notice

WARC_SUFFIXES = (".warc.gz", ".warc")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_GZIP_MEMBER = b"\x1f\x8b\x08"
_WARC_HEADER = b"WARC/1."
_SCAN_CHUNK = 1 << 20


@dataclass
class Capture:
    """One HTML page captured with status 200."""

    number: int  # its place among the file's captures (the same in both passes)
    target: str  # WARC-Target-URI
    date: str  # WARC-Date
    payload: bytes | None  # None when over MAX_PAGE_BYTES


def read_warc(path: Path, notice: Notice) -> Iterator[RawDocument]:
    """The latest capture of every HTML page in one WARC file."""
    latest: dict[str, tuple[str, int]] = {}  # id -> (WARC-Date, capture number)
    skipped: Counter[str] = Counter()
    for capture in captures(path, skipped, notice):
        if capture.payload is None:
            continue
        doc_id = _id(capture)
        if doc_id not in latest or capture.date >= latest[doc_id][0]:
            if doc_id in latest:
                skipped["older captures"] += 1
            latest[doc_id] = (capture.date, capture.number)
        else:
            skipped["older captures"] += 1
    wanted = {number for _, number in latest.values()}
    documents = 0
    for capture in captures(path, Counter(), lambda message: None):
        if capture.number not in wanted or capture.payload is None:
            continue
        where = f"{path} (record for {capture.target})"
        try:
            yield page_document(
                capture.payload,
                doc_id=_id(capture),
                origin=where,
                url=capture.target,
                fetched=capture.date,
            )
            documents += 1
        except InputError as exc:
            notice(f"{exc.where}: {exc.reason}; skipped")
            skipped["pages refused (reasons above)"] += 1
    counted = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
    notice(f"{path}: {documents} pages read" + (f"; skipped {counted}" if counted else ""))


def _id(capture: Capture) -> str:
    return url_id(canonical_url(capture.payload or b"", base=capture.target) or capture.target)


def captures(path: Path, skipped: Counter, notice: Notice) -> Iterator[Capture]:
    """Every status-200 HTML response in `path`, in order; other records counted in
    `skipped`; a broken record reported and stepped over."""
    number = 0
    try:
        with path.open("rb") as stream:
            start: int | None = 0
            while start is not None:
                stream.seek(start)
                records = ArchiveIterator(stream)
                broken_at = start  # where the record being read starts
                try:
                    for record in records:
                        capture = _capture(record, number, skipped)
                        broken_at = records.get_record_offset() + records.get_record_length()
                        if capture is not None:
                            yield capture
                            number += 1
                    start = None
                except Exception as exc:  # any damage to a record: report it, go on
                    if isinstance(exc, OSError) and exc.errno is not None:
                        raise
                    skipped["broken records"] += 1
                    notice(
                        f"{path}: broken record at byte {broken_at}: {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())[:160]}; reading on from the next record"
                    )
                    start = _next_record_start(stream, broken_at + 1)
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None


def _capture(record, number: int, skipped: Counter) -> Capture | None:
    if record.rec_type == "revisit":
        skipped["revisits"] += 1
        return None
    if record.rec_type != "response":
        return None
    if record.http_headers is None:
        skipped["non-HTTP responses"] += 1
        return None
    status = record.http_headers.get_statuscode()
    if status != "200":
        skipped["error or redirect responses"] += 1
        return None
    content_type = (record.http_headers.get_header("Content-Type") or "").lower()
    if content_type and not content_type.startswith(HTML_TYPES):
        skipped["non-HTML payloads"] += 1
        return None
    target = record.rec_headers.get_header("WARC-Target-URI") or ""
    if not target:
        skipped["responses without a target URI"] += 1
        return None
    payload = record.content_stream().read(MAX_PAGE_BYTES + 1)
    if len(payload) <= MAX_PAGE_BYTES and getattr(record.raw_stream, "limit", 0) > 0:
        raise EOFError(f"record cut short: {record.raw_stream.limit:,} bytes missing")
    if len(payload) > MAX_PAGE_BYTES:
        skipped[f"pages over {MAX_PAGE_BYTES:,} bytes"] += 1
        payload = None
    return Capture(
        number=number,
        target=target,
        date=record.rec_headers.get_header("WARC-Date") or "",
        payload=payload,
    )


def _next_record_start(stream, after: int) -> int | None:
    """The offset of the first gzip member or WARC header at or after `after`, or None."""
    stream.seek(0)
    compressed = stream.read(3) == _GZIP_MEMBER
    marker = _GZIP_MEMBER if compressed else b"\n" + _WARC_HEADER
    position = after
    while True:
        stream.seek(position)
        chunk = stream.read(_SCAN_CHUNK + len(marker))
        if len(chunk) < len(marker):
            return None
        found = chunk.find(marker)
        if found >= 0:
            return position + found + (0 if compressed else 1)
        position += _SCAN_CHUNK
