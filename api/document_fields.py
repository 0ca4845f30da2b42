"""A document's fields as Sift shows them, in one list: GET /api/v1/documents/<id>, the
export (JSON Lines and CSV), their OpenAPI schemas and the document page's details all
come from `FIELDS`. A new field is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields

from index.documents import Document

# How lists read in a CSV cell.
LIST_SEPARATOR = "; "


class ActorOut(Schema):
    name = fields.String()
    type = fields.String()


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _joined(values: list) -> str:
    return LIST_SEPARATOR.join(v["name"] if isinstance(v, dict) else str(v) for v in values)


@dataclass(frozen=True)
class DocumentField:
    name: str
    value: Callable[[Document], Any]  # JSON-ready: what the API and the export write
    schema: Callable[[], fields.Field]  # its type in the OpenAPI document
    csv: Callable[[Any], str] | None = _plain  # its CSV cell; None: not a CSV column
    # Its line in the document page's details, for fields shown as they are (the page
    # lays out the others itself: source, date, language, actors, places, text).
    label: str | None = None


def _text(allow_none: bool = False, **metadata) -> Callable[[], fields.Field]:
    return lambda: fields.String(allow_none=allow_none, metadata=metadata)


FIELDS: tuple[DocumentField, ...] = (
    DocumentField("id", lambda d: d.id, _text()),
    DocumentField("title", lambda d: d.title, _text()),
    DocumentField("source", lambda d: d.source, _text(allow_none=True)),
    DocumentField("site", lambda d: d.site, _text(allow_none=True), label="Published on"),
    DocumentField(
        "date",
        lambda d: d.date.isoformat() if d.date else None,
        _text(allow_none=True, format="date", description="YYYY-MM-DD"),
    ),
    DocumentField("language", lambda d: d.language, _text()),
    DocumentField("url", lambda d: d.url, _text(allow_none=True)),
    DocumentField(
        "actors",
        lambda d: [{"name": a.name, "type": a.type} for a in d.actors],
        lambda: fields.List(fields.Nested(ActorOut)),
        csv=_joined,
    ),
    DocumentField(
        "places", lambda d: list(d.places), lambda: fields.List(fields.String()), csv=_joined
    ),
    DocumentField("fetched", lambda d: d.fetched, _text(allow_none=True), None, "Fetched"),
    DocumentField(
        "provenance",
        lambda d: dict(d.provenance),
        lambda: fields.Dict(
            keys=fields.String(),
            values=fields.String(),
            metadata={
                "description": "Where each field came from: given (with the document), page "
                "(declared by the web page or feed), extracted (from the text) or unknown."
            },
        ),
        csv=None,
    ),
    DocumentField(
        "extra",
        lambda d: dict(d.extra),
        lambda: fields.Dict(metadata={"description": "Input fields Sift keeps, not indexed."}),
        csv=None,
    ),
    DocumentField("text", lambda d: d.text, _text(description="The cleaned text.")),
)
CSV_COLUMNS = tuple(f.name for f in FIELDS if f.csv is not None)
PAGE_DETAILS = tuple((f.name, f.label) for f in FIELDS if f.label)


def record(doc: Document) -> dict[str, Any]:
    """The document as the API and the export give it."""
    return {f.name: f.value(doc) for f in FIELDS}


def csv_row(data: dict[str, Any]) -> list[str]:
    """A `record` as CSV cells, in CSV_COLUMNS order."""
    return [f.csv(data[f.name]) for f in FIELDS if f.csv is not None]


def schema_fields() -> dict[str, fields.Field]:
    """Fresh marshmallow fields for a response schema (a field belongs to one schema)."""
    return {f.name: f.schema() for f in FIELDS}
