"""GET /api/v1/export: every matching document, streamed as CSV or JSON Lines."""

from __future__ import annotations

import csv
import io
import json

from api.export import CHUNK_DOCUMENTS
from tests.conftest import API_KEY
from tests.helpers import assert_problem

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def jsonl(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_export_has_every_match_in_the_search_order(client):
    total = client.get("/api/v1/search?per_page=1").get_json()["total"]
    response = client.get("/api/v1/export?format=jsonl&sort=newest")
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    records = jsonl(response)
    assert len(records) == total > 10  # not limited to one page
    search = client.get(f"/api/v1/search?sort=newest&per_page={total}").get_json()
    assert [r["id"] for r in records] == [hit["id"] for hit in search["hits"]]
    document = client.get(f"/api/v1/documents/{records[0]['id']}").get_json()
    for field in ("title", "source", "date", "language", "text", "actors", "provenance"):
        assert records[0][field] == document[field], field


def test_csv_export_with_filters(client):
    search = client.get("/api/v1/search?q=coalition&language=en&sort=oldest").get_json()
    response = client.get("/api/v1/export?format=csv&q=coalition&language=en&sort=oldest")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["id"] for row in rows] == [hit["id"] for hit in search["hits"]]
    assert set(rows[0]) == {
        "id",
        "title",
        "source",
        "site",
        "date",
        "language",
        "url",
        "actors",
        "places",
        "text",
    }


def test_empty_export_is_a_header_or_nothing(client):
    rows = client.get("/api/v1/export?format=csv&q=zzzqqqxxx").get_data(as_text=True)
    assert rows.splitlines() == ["id,title,source,site,date,language,url,actors,places,text"]
    assert client.get("/api/v1/export?q=zzzqqqxxx").get_data() == b""


def test_export_streams_in_chunks_and_guards_spreadsheet_formulas(write_client):
    docs = [
        {"id": f"bulk-{n:04d}", "title": f'=HYPERLINK("x") item {n}', "text": f"okapi {n}"}
        for n in range(CHUNK_DOCUMENTS + 5)
    ]
    assert write_client.post("/api/v1/documents", json=docs, headers=AUTH).status_code in (200, 202)
    response = write_client.get("/api/v1/export?format=csv&q=okapi")
    chunks = list(response.response)
    assert len(chunks) >= 2  # written as it goes, not built whole
    rows = list(
        csv.DictReader(
            io.StringIO("".join(c if isinstance(c, str) else c.decode() for c in chunks))
        )
    )
    assert len(rows) == len(docs)
    assert all(row["title"].startswith("'=HYPERLINK") for row in rows)
    records = jsonl(write_client.get("/api/v1/export?format=jsonl&q=okapi"))
    assert records[0]["title"].startswith("=HYPERLINK")  # JSON keeps the text as it is


def test_export_parameters_are_validated(client):
    assert_problem(client.get("/api/v1/export?format=xml"), 400)
    assert_problem(client.get("/api/v1/export?page=2"), 400)
    assert_problem(client.get("/api/v1/export?sort=random"), 400)


def test_export_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/export"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"application/x-ndjson", "text/csv; charset=utf-8"}
    names = {p.get("name") for p in operation["parameters"]}
    assert names >= {"format", "q", "source", "year", "sort"} or operation["parameters"]
