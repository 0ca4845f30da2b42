"""The result set as a file: every matching document as CSV rows or JSON lines, streamed.

Rows are produced as the engine yields documents, in chunks, so an export of the whole
archive never holds more than one chunk in memory and is not limited to a page. What a
record holds, and which of it makes the CSV columns, is api/document_fields.py's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from api.document_fields import CSV_COLUMNS, csv_row, record
from api.output import dumps
from index.documents import Document

# Documents written per chunk handed to the WSGI server: big enough to amortise the
# write, small enough that the first bytes leave quickly.
CHUNK_DOCUMENTS = 100

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection);
# such cells get a leading apostrophe, as OWASP recommends.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_row(doc: Document) -> list[str]:
    return [_cell(cell) for cell in csv_row(record(doc))]


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
    writer.writerow(CSV_COLUMNS)
    for chunk in _chunks(docs):
        writer.writerows(_csv_row(doc) for doc in chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


# Line breaks to Unicode (and so to str.splitlines and many JSON Lines readers) that
# JSON leaves raw inside strings: escaped, so each record is one line to every reader.
_LINE_BREAKS = (("\x85", "\\u0085"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def _one_line(text: str) -> str:
    for raw, escaped in _LINE_BREAKS:
        text = text.replace(raw, escaped)
    return text


def json_lines(docs: Iterable[Document]) -> Iterator[str]:
    for chunk in _chunks(docs):
        yield "".join(_one_line(dumps(record(doc))) + "\n" for doc in chunk)


WRITERS = {"csv": csv_lines, "jsonl": json_lines}
