"""One list of a document's fields (api/document_fields.py) behind every place that shows
one: the API, both export formats, the OpenAPI schemas and the document page."""

from __future__ import annotations

import csv
import io
import json

from api.document_fields import CSV_COLUMNS, FIELDS, PAGE_DETAILS

NAMES = [f.name for f in FIELDS]
DOC_ID = "de_fluechtlinge"  # has a `site` (example.org), shown on the page


def test_the_api_the_export_and_their_schemas_show_the_same_fields(client):
    document = client.get(f"/api/v1/documents/{DOC_ID}").get_json()
    # Then what the index adds to the document: its marked text and its story.
    assert list(document) == [*NAMES, "text_html", "story"]
    exported = client.get("/api/v1/export?format=jsonl").get_data(as_text=True)
    lines = [json.loads(line) for line in exported.splitlines()]
    assert lines and all(list(line) == NAMES for line in lines)
    found = next(line for line in lines if line["id"] == DOC_ID)
    assert found == {k: v for k, v in document.items() if k not in ("text_html", "story")}
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    # Then what only a part of a long text adds (text_truncated, ...).
    assert list(schemas["DocumentOut"]["properties"])[: len(NAMES) + 1] == [*NAMES, "text_html"]
    assert list(schemas["ExportRecordOut"]["properties"]) == NAMES
    assert schemas["DocumentOut"]["properties"]["date"]["format"] == "date"


def test_csv_columns_are_the_fields_with_a_cell(client):
    text = client.get("/api/v1/export?format=csv").get_data(as_text=True)
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == CSV_COLUMNS and CSV_COLUMNS[-1] == "text"
    assert {"provenance", "extra"}.isdisjoint(CSV_COLUMNS)
    row = dict(zip(header, next(r for r in rows if r[0] == DOC_ID), strict=True))
    document = client.get(f"/api/v1/documents/{DOC_ID}").get_json()
    assert row["actors"] == "; ".join(a["name"] for a in document["actors"])
    assert row["date"] == (document["date"] or "")


def test_the_page_lists_the_labelled_fields(client):
    document = client.get(f"/api/v1/documents/{DOC_ID}").get_json()
    page = client.get(f"/documents/{DOC_ID}").get_data(as_text=True)
    assert "<dt>Published on</dt><dd>example.org</dd>" in page
    for name, label in PAGE_DETAILS:
        assert (f"<dt>{label}</dt><dd>{document[name]}</dd>" in page) == bool(document[name])
