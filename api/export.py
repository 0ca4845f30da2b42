"""The result set as a file: every matching document as CSV rows or JSON lines, streamed.

Rows are produced as the engine yields documents, in chunks, so an export of the whole
archive never holds more than one chunk in memory and is not limited to a page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from api.output import dumps
from index.documents import Document

# Documents written per chunk handed to the WSGI server: big enough to amortise the
# write, small enough that the first bytes leave quickly.
CHUNK_DOCUMENTS = 100

CSV_COLUMNS = ("id", "title", "source", "site", "date", "language", "url", "actors", "places")
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection);
# such cells get a leading apostrophe, as OWASP recommends.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def record(doc: Document) -> dict:
    """A document as exported: the fields of GET /api/v1/documents/<id>, no HTML."""
    return {
        "id": doc.id,
        "title": doc.title,
        "source": doc.source,
        "site": doc.site,
        "date": doc.date.isoformat() if doc.date else None,
        "language": doc.language,
        "url": doc.url,
        "actors": [{"name": a.name, "type": a.type} for a in doc.actors],
        "places": list(doc.places),
        "fetched": doc.fetched,
        "provenance": dict(doc.provenance),
        "extra": dict(doc.extra),
        "text": doc.text,
    }


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_row(doc: Document) -> list[str]:
    data = record(doc)
    data["actors"] = LIST_SEPARATOR.join(a["name"] for a in data["actors"])
    data["places"] = LIST_SEPARATOR.join(data["places"])
    return [_cell(data[name]) for name in (*CSV_COLUMNS, "text")]


def _chunks(docs: Iterable[Document]) -> Iterator[list[Document]]:
    chunk: list[Document] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) == CHUNK_DOCUMENTS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def csv_lines(docs: Iterable[Document]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow((*CSV_COLUMNS, "text"))
    for chunk in _chunks(docs):
        writer.writerows(_csv_row(doc) for doc in chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def json_lines(docs: Iterable[Document]) -> Iterator[str]:
    for chunk in _chunks(docs):
        yield "".join(dumps(record(doc)) + "\n" for doc in chunk)


WRITERS = {"csv": csv_lines, "jsonl": json_lines}
