"""The HTTP API as the contract describes it, through Flask's test client."""

from __future__ import annotations

import pytest

from tests.conftest import API_KEY
from tests.helpers import assert_problem, assert_safe_snippet

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_search_response_shape(client):
    body = client.get("/api/v1/search?q=NATO").get_json()
    assert set(body) >= {"total", "page", "per_page", "took_ms", "hits", "facets", "suggestion"}
    assert body["total"] == len(body["hits"]) >= 3
    hit = body["hits"][0]
    assert set(hit) >= {"id", "score", "title", "source", "date", "language", "actors", "snippet"}
    assert set(body["facets"]) == {"source", "actor", "language", "year"}
    for value in body["facets"]["source"]:
        assert set(value) == {"value", "count", "selected"}
    assert_safe_snippet(hit["snippet"])


def test_repeated_filters_or_and_different_filters_and(client):
    one = client.get("/api/v1/search?source=Test+Wire").get_json()["total"]
    two = client.get("/api/v1/search?source=Test+Wire&source=Daily+Observer").get_json()
    assert two["total"] == one + 1
    both = client.get("/api/v1/search?source=Test+Wire&language=de").get_json()
    assert both["total"] == 0


def test_facets_parameter_and_null_source(client):
    body = client.get("/api/v1/search?q=Trump&facets=source,year").get_json()
    assert set(body["facets"]) == {"source", "year"}
    unknown = [hit for hit in body["hits"] if hit["id"] == "002_75796edd39bcd684"]
    assert unknown and unknown[0]["source"] is None
    assert client.get("/api/v1/search?facets=").get_json()["facets"] == {}


@pytest.mark.parametrize(
    "query, param",
    [
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=1.5", "page"),
        ("per_page=101", "per_page"),
        ("per_page=-1", "per_page"),
        ("page=2000&per_page=10", "page"),
        ("op=xor", "op"),
        ("expand=maybe", "expand"),
        ("sort=random", "sort"),
        ("facets=source,color", "facets"),
        ("date_from=2017-02-30", "date_from"),
        ("date_from=yesterday", "date_from"),
        ("date_from=2020-01-02&date_to=2020-01-01", "date_from"),
        ("q=a&q=b", "q"),
        ("limit=5", "limit"),
        ("q=" + "x" * 1001, "q"),
    ],
)
def test_invalid_parameters_are_400_naming_the_parameter(client, query, param):
    body = assert_problem(client.get("/api/v1/search?" + query), 400)
    assert param in body["errors"], body


@pytest.mark.parametrize(
    "q",
    [
        "(((",
        '"',
        "NOT",
        "a AND OR b",
        "title:",
        "*",
        "?",
        "*a*",
        "body:[a TO z]",
        "\x00",
        "%",
        "~~~",
        "a" * 300,
        "(" * 400 + "x",
        "-",
        "\\",
        "' OR 1=1 --",
    ],
)
def test_hostile_queries_never_fail(client, q):
    response = client.get("/api/v1/search", query_string={"q": q})
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert_problem(response, 400)


def test_expand_reorders_the_same_matches(client):
    plain = client.get("/api/v1/search?q=coalition+talks+parties&op=or&per_page=100").get_json()
    expanded = client.get(
        "/api/v1/search?q=coalition+talks+parties&op=or&per_page=100&expand=true"
    ).get_json()
    assert expanded["total"] == plain["total"] and expanded["facets"] == plain["facets"]
    assert {h["id"] for h in expanded["hits"]} == {h["id"] for h in plain["hits"]}


def test_document_by_id_and_404(client):
    body = client.get("/api/v1/documents/004_7af4038d53513d56").get_json()
    assert body["id"] == "004_7af4038d53513d56"
    assert body["source"] == "RIA Novosti" and body["date"] == "2014-10-08"
    assert set(body) >= {"title", "language", "url", "text", "actors", "places", "provenance"}
    assert body["provenance"]["source"] == "given"
    assert_problem(client.get("/api/v1/documents/nope"), 404)
    assert_problem(client.get("/api/v1/documents/nope/similar"), 404)
    assert_problem(client.get("/no/such/route"), 404)


def test_similar_suggest_timeline_stats(client):
    similar = client.get("/api/v1/documents/001_3dbdce3846ecd486/similar").get_json()
    assert similar["hits"][0]["id"] == "002_75796edd39bcd684"
    suggest = client.get("/api/v1/suggest?q=stolt").get_json()
    assert any(s["text"].lower().startswith("stoltenberg") for s in suggest["suggestions"])
    assert_problem(client.get("/api/v1/suggest"), 400)
    timeline = client.get("/api/v1/timeline?q=NATO&interval=year").get_json()
    assert {b["key"] for b in timeline["buckets"]} >= {"2017", "2019"}
    stats = client.get("/api/v1/stats").get_json()
    assert stats["documents"] >= 15


def test_did_you_mean(client):
    body = client.get("/api/v1/search?q=Stoltenbrg").get_json()
    assert body["suggestion"] == "stoltenberg"


def test_markup_in_documents_is_never_active(client):
    body = client.get("/api/v1/search?q=alert OR script OR onerror&op=or").get_json()
    assert body["hits"]
    for hit in body["hits"]:
        assert_safe_snippet(hit["snippet"])
    doc = client.get("/api/v1/documents/xss_markup").get_json()
    assert doc["title"].startswith("Markup <script>")  # plain JSON string, for the client to escape


def test_health_and_readiness(client, tmp_path):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    from api import create_app

    empty = create_app({"index_dir": str(tmp_path / "none")}).test_client()
    body = assert_problem(empty.get("/readyz"), 503)
    assert body["type"] == "/problems/index-unavailable"
    response = empty.get("/api/v1/search?q=x")
    assert_problem(response, 503)
    assert response.headers["Retry-After"]


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/search", "/api/v1/documents", "/api/v1/documents/{doc_id}"} <= set(
        spec["paths"]
    )
    params = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {
        "q",
        "source",
        "actor",
        "language",
        "date_from",
        "date_to",
        "op",
        "sort",
        "page",
        "per_page",
        "facets",
    } <= params
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.data
    with client.get("/api/v1/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200 and asset.mimetype == "text/javascript"


def test_writes_are_refused_without_the_key(client):
    doc = {"id": "w1", "text": "hello"}
    assert_problem(client.post("/api/v1/documents", json=doc), 401)
    assert_problem(
        client.post("/api/v1/documents", json=doc, headers={"Authorization": "Bearer wrong"}), 403
    )
    assert_problem(client.delete("/api/v1/documents/coalition_title"), 401)
    from api import create_app

    keyless = create_app({"index_dir": "/nonexistent"}).test_client()
    body = assert_problem(keyless.post("/api/v1/documents", json=doc, headers=AUTH), 403)
    assert "disabled" in body["detail"]


def test_write_search_delete(write_client):
    doc = {
        "id": "zebra-1",
        "title": "Zebras cross the river",
        "text": "A herd of zebras crossed the Mara river on Tuesday, park rangers said.",
        "source": "Wildlife Wire",
        "date": "2024-03-05",
        "section": "nature",
    }
    response = write_client.post("/api/v1/documents", json=doc, headers=AUTH)
    assert response.status_code in (200, 202), response.get_json()
    assert write_client.get("/api/v1/search?q=zebras").get_json()["total"] == 1
    stored = write_client.get("/api/v1/documents/zebra-1").get_json()
    assert stored["source"] == "Wildlife Wire" and stored["extra"] == {"section": "nature"}
    replaced = {**doc, "text": "The herd of zebras turned back.", "title": "Zebras turn back"}
    write_client.post("/api/v1/documents", json=[replaced], headers=AUTH)
    hits = write_client.get("/api/v1/search?q=zebras").get_json()["hits"]
    assert [h["title"] for h in hits] == ["Zebras turn back"]
    deleted = write_client.delete("/api/v1/documents/zebra-1", headers=AUTH)
    assert deleted.status_code in (200, 202)
    assert write_client.get("/api/v1/search?q=zebras").get_json()["total"] == 0
    assert_problem(write_client.get("/api/v1/documents/zebra-1"), 404)
    assert_problem(write_client.delete("/api/v1/documents/zebra-1", headers=AUTH), 404)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"text": "no id"}, "id"),
        ({"id": "x"}, "text"),
        ({"id": 5, "text": "x"}, "id"),
        ({"id": "a/b", "text": "x"}, "id"),
        ({"id": "x", "text": "x", "date": "yesterday"}, "body"),
        ({"id": "x", "text": "x", "actors": "Trump"}, "actors"),
        ([], "body"),
        ("just a string", "body"),
    ],
)
def test_invalid_documents_are_400(write_client, body, field):
    problem = assert_problem(write_client.post("/api/v1/documents", json=body, headers=AUTH), 400)
    assert any(key.endswith(field) or key == field for key in problem["errors"]), problem


def test_oversized_body_is_413(tmp_path):
    from api import create_app

    app = create_app({"index_dir": str(tmp_path), "api_key": API_KEY, "max_body_bytes": 1000})
    response = app.test_client().post(
        "/api/v1/documents", headers=AUTH, json={"id": "big", "text": "x" * 5000}
    )
    assert_problem(response, 413)


def test_wrong_method_is_405_problem(client):
    response = client.put("/api/v1/documents")
    assert_problem(response, 405)


def test_year_filter_is_repeatable_and_its_facet_disjunctive(client):
    one = client.get("/api/v1/search?year=2017").get_json()
    two = client.get("/api/v1/search?year=2017&year=2024").get_json()
    assert one["total"] and two["total"] > one["total"]
    assert all(hit["date"].startswith(("2017", "2024")) for hit in two["hits"])
    years = {f["value"]: f for f in two["facets"]["year"]}
    assert years["2017"]["selected"] and years["2024"]["selected"]
    # the year facet ignores its own filter: other years keep their counts
    unfiltered = {
        f["value"]: f["count"] for f in client.get("/api/v1/search").get_json()["facets"]["year"]
    }
    assert {value: f["count"] for value, f in years.items()} == unfiltered
    assert client.get("/api/v1/timeline?year=2017").get_json()["total"] == one["total"]
    assert_problem(client.get("/api/v1/search?year=1987a"), 400)
    assert_problem(client.get("/api/v1/search?year=0"), 400)
