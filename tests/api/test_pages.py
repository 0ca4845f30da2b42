"""The HTML pages through Flask's test client: what works with no script at all.

The browser tests (tests/browser) use the pages as people do; these check the HTML
contract underneath: status codes, escaping, security headers, links that keep the
state, and the friendly error pages.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import API_KEY
from tests.helpers import assert_problem

AUTH = {"Authorization": f"Bearer {API_KEY}"}


class Elements(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **wanted) -> list[dict]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(k.rstrip("_")) == v for k, v in wanted.items())
        ]


def page(client, url: str, status: int = 200):
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "text/html"
    return response, Elements(response.get_data(as_text=True))


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def test_search_page_lists_hits_facets_and_headers(client):
    response, html = page(client, "/?q=NATO")
    text = response.get_data(as_text=True)
    counts = client.get("/api/v1/search?q=NATO").get_json()
    total = counts["total"]
    assert f"{total} results for" in text
    # one result per story by default; every article with collapse=none
    assert counts["stories"] < total
    assert len(html.find("li", class_="hit")) == min(counts["stories"], 10)
    _, every = page(client, "/?q=NATO&collapse=none")
    assert len(every.find("li", class_="hit")) == min(total, 10)
    assert "<mark>" in text
    boxes = html.find("input", type="checkbox")
    assert {box["name"] for box in boxes} >= {"source", "language", "year"}
    assert all(box["form"] == "search-form" for box in boxes)
    headers = response.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]
    # CSP-clean: scripts come from files, no inline styles or handlers
    assert all(script.get("src", "").startswith("/static/") for script in html.find("script"))
    assert not re.search(r"\sstyle=|\son[a-z]+=", text)


def test_every_asset_is_served_by_sift(client):
    _, html = page(client, "/")
    assets = [a["href"] for a in html.find("link")] + [s["src"] for s in html.find("script")]
    assert assets
    for url in assets:
        assert url.startswith("/"), url
        with client.get(url) as response:
            assert response.status_code == 200, url


def test_facet_links_toggle_one_value_and_keep_the_rest(client):
    _, html = page(client, "/?q=coalition&language=en&page=2&per_page=1")
    source_box = html.find("input", name="source")[0]
    href = source_box["data-href"]
    query = query_of(href)
    assert query["q"] == ["coalition"] and query["language"] == ["en"]
    assert query["source"] == [source_box["value"]]
    assert "page" not in query  # a new filter starts at page 1
    _, ticked = page(client, href)
    checked = [box for box in ticked.find("input", name="source") if "checked" in box]
    assert [box["value"] for box in checked] == [source_box["value"]]
    untick = query_of(checked[0]["data-href"])
    assert "source" not in untick and untick["language"] == ["en"]


def test_page_results_match_the_api(client):
    # the page folds stories by default, as the API's collapse=story does
    for page_collapse, api_collapse in (("", "&collapse=story"), ("&collapse=none", "")):
        query = "q=coalition&sort=oldest&per_page=2&page=2"
        api = client.get(f"/api/v1/search?{query}{api_collapse}").get_json()
        response, _ = page(client, f"/?{query}{page_collapse}")
        shown = re.findall(
            r'class="hit-title"><a href="/documents/([^"?]+)', response.get_data(True)
        )
        assert shown == [hit["id"] for hit in api["hits"]]


def test_empty_query_browses_newest_first(client):
    api = client.get("/api/v1/search?sort=newest&per_page=3").get_json()
    response, _ = page(client, "/?per_page=3")
    text = response.get_data(as_text=True)
    assert f"All {api['total']} documents" in text
    positions = [text.index(f"/documents/{hit['id']}") for hit in api["hits"]]
    assert positions == sorted(positions)


def test_empty_form_fields_are_dropped_by_one_redirect(client):
    response = client.get("/?q=NATO&date_from=&date_to=&source=")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?q=NATO"


def test_query_text_is_escaped_everywhere(client):
    nasty = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response, _ = page(client, "/?q=" + nasty)
    text = response.get_data(as_text=True)
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)" in text


def test_bad_parameters_are_a_friendly_400_page_and_the_api_stays_problem_json(client):
    response, html = page(client, "/?q=NATO&page=abc&sort=random", status=400)
    text = response.get_data(as_text=True)
    assert "page" in text and "sort" in text and "Traceback" not in text
    retry = [a["href"] for a in html.find("a", class_="button")]
    assert retry == ["/?q=NATO"]
    page(client, "/?q=NATO&colour=red", status=400)
    page(client, "/documents/001_3dbdce3846ecd486?per_page=0", status=400)
    page(client, "/help?x=1", status=400)
    assert_problem(client.get("/api/v1/search?page=abc", headers={"Accept": "text/html"}), 400)


def test_not_found_is_a_page_for_browsers_and_a_problem_for_programs(client):
    page(client, "/documents/no-such-id", status=404)
    page(client, "/no/such/page", status=404)
    assert_problem(client.get("/no/such/page"), 404)
    assert_problem(client.get("/api/v1/nothing", headers={"Accept": "text/html"}), 404)


def test_document_page_shows_text_metadata_provenance_and_similar(client, engine):
    doc_id = "001_3dbdce3846ecd486"
    response, html = page(client, f"/documents/{doc_id}?q=NATO&source=RFE/RL")
    text = response.get_data(as_text=True)
    doc = engine.document(doc_id).document
    assert doc.title in text
    marks = re.findall(r'<mark id="m(\d+)">', text)
    assert marks == [str(n) for n in range(1, len(marks) + 1)] and len(marks) > 3
    assert f"<strong>{len(marks)}</strong> matches" in text
    for field, how in doc.provenance.items():
        if field in ("source", "date", "language", "title", "actors", "places"):
            assert f'class="prov prov-{how}"' in text, field
    back = html.find("a", class_="back")[0]["href"]
    assert query_of(back) == {"q": ["NATO"], "source": ["RFE/RL"]}
    similar = [hit.id for hit in engine.similar(doc_id, 6)]
    assert similar and all(f"/documents/{other}?" in text for other in similar)
    # paragraphs are kept for reading
    body = text.split('id="doc-text">', 1)[1].split("</div>", 1)[0]
    assert "\n\n" in body


def test_document_urls_other_than_http_are_not_links(write_client):
    doc = {"id": "js-url", "text": "Plain text about okapis.", "url": "javascript:alert(1)"}
    assert write_client.post("/api/v1/documents", json=doc, headers=AUTH).status_code in (200, 202)
    response, html = page(write_client, "/documents/js-url")
    assert not [a for a in html.find("a") if a.get("href", "").startswith("javascript:")]
    assert "Original article" not in response.get_data(as_text=True)


def test_timeline_bars_filter_by_their_dates_and_zoom_in(client):
    _, html = page(client, "/")
    bars = html.find("a", class_="bar")
    assert bars
    query = query_of(bars[0]["href"])
    year = query["date_from"][0][:4]
    assert query["date_from"] == [f"{year}-01-01"] and query["date_to"] == [f"{year}-12-31"]
    response, zoomed = page(client, bars[0]["href"])
    assert "Matches per year" not in response.get_data(as_text=True)
    assert zoomed.find("a", class_="zoom-out")


@pytest.mark.parametrize("interval", ["year", "month", "day"])
def test_timeline_interval_can_be_chosen(client, interval):
    response, _ = page(client, f"/?q=coalition&interval={interval}")
    assert f"Matches per {interval}" in response.get_data(as_text=True)


def test_export_links_carry_the_query_filters_and_sort(client):
    _, html = page(client, "/?q=coalition&language=en&sort=oldest&page=2&per_page=1")
    hrefs = [a["href"] for a in html.find("a") if a.get("href", "").startswith("/api/v1/export")]
    assert len(hrefs) == 2
    for href in hrefs:
        query = query_of(href)
        assert query["q"] == ["coalition"] and query["language"] == ["en"]
        assert query["sort"] == ["oldest"] and "page" not in query and "per_page" not in query
        assert client.get(href).status_code == 200


def test_help_page(client):
    response, _ = page(client, "/help")
    assert "phrase" in response.get_data(as_text=True)


def test_no_index_yet_is_a_503_page_with_retry_after(tmp_path):
    from api import create_app

    client = create_app({"index_dir": str(tmp_path / "empty")}).test_client()
    response, _ = page(client, "/?q=NATO", status=503)
    assert response.headers["Retry-After"]
    assert "not ready" in response.get_data(as_text=True)
    assert_problem(client.get("/api/v1/search?q=NATO"), 503)
