"""Web pages, WARC captures and feed items through the API and page: provenance `page`,
authors, and a user's sources file naming outlets alike for every input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from api import create_app
from api.cli import main
from index.extract.sources import use_sources_file
from index.html import url_id
from index.reindex import reindex

PAGE = """<!doctype html><html><head><title>Harbour opens | Example Gazette</title>
<link rel="canonical" href="https://news.example.org/2021/harbour">
<meta property="og:title" content="The new harbour opens in Rostock">
<meta property="og:site_name" content="The Example Gazette">
<meta property="article:published_time" content="2021-06-03T08:00:00+00:00">
<meta name="author" content="Anna Berg">
</head><body><header><a href="/">Home</a> Subscribe now</header><main><article>
<p>ROSTOCK -- The new container harbour of Rostock opened on Thursday after six years of
work, the port authority said, and the first ship is due on Monday.</p>
<p>The city expects two thousand new jobs within five years, mayor Claus Ruhe Madsen said
at the opening ceremony, which hundreds of residents attended.</p>
</article></main><footer>Related: Ten things to do in Rostock</footer></body></html>"""

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Gazette feed</title>
<item><title>Ferry line resumes</title><link>https://news.example.org/2021/ferry</link>
<pubDate>Fri, 04 Jun 2021 08:00:00 GMT</pubDate>
<description>The ferry line between Rostock and Gedser resumed service on Friday.</description>
</item></channel></rss>"""


@pytest.fixture
def sources_file(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text('[outlets."Example Gazette"]\ndomains = ["example.org"]\n', "utf-8")
    yield path
    use_sources_file(None)


def test_pages_and_feeds_share_the_users_outlet_name(tmp_path, sources_file):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "harbour.html").write_text(PAGE, "utf-8")
    (folder / "gazette.rss").write_text(FEED, "utf-8")
    app = create_app({"index_dir": str(tmp_path / "index"), "sources_file": str(sources_file)})
    assert reindex(tmp_path / "index", [folder]).switched
    client = app.test_client()
    page = client.get("/api/v1/documents/harbour").get_json()
    assert page["source"] == "Example Gazette"
    assert page["title"] == "The new harbour opens in Rostock"
    assert page["date"] == "2021-06-03"
    assert page["url"] == "https://news.example.org/2021/harbour"
    assert page["extra"]["authors"] == ["Anna Berg"]
    assert page["provenance"]["title"] == page["provenance"]["source"] == "page"
    assert page["provenance"]["date"] == "page"
    assert "Subscribe" not in page["text"] and "Ten things" not in page["text"]
    item = client.get(f"/api/v1/documents/{url_id('https://news.example.org/2021/ferry')}")
    assert item.get_json()["source"] == "Example Gazette"
    facets = client.get("/api/v1/search?facets=source").get_json()["facets"]["source"]
    assert facets == [{"value": "Example Gazette", "count": 2, "selected": False}]
    html = client.get("/documents/harbour").get_data(as_text=True)
    assert 'class="prov prov-page"' in html and "Anna Berg" in html


def test_sift_extract_reads_a_page_with_the_sources_file(tmp_path, sources_file, monkeypatch):
    page = tmp_path / "harbour.html"
    page.write_text(PAGE, "utf-8")
    monkeypatch.setenv("SIFT_SOURCES_FILE", str(sources_file))
    result = CliRunner().invoke(main, ["extract", str(page), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["source"] == "Example Gazette" and data["provenance"]["source"] == "page"


def test_a_broken_sources_file_is_named(tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text("[outlets.\n", "utf-8")
    monkeypatch.setenv("SIFT_SOURCES_FILE", str(bad))
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code != 0 and str(bad) in result.output
    use_sources_file(None)
