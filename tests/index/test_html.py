"""HTML pages in: real article pages of the extraction benchmark, and pages that must be refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from benchmarks.html_eval import score
from index.documents import EXTRACTED, GIVEN, PAGE
from index.extract import extract
from index.html import MAX_PAGE_BYTES, canonical_url
from index.readers import InputError, input_files, read_file
from index.visible import visible_text

PAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "html-articles"
TRUTH = json.loads((PAGES / "ground-truth.json").read_text("utf-8"))
KEYS = sorted(TRUTH)[:6]


@pytest.mark.parametrize("key", KEYS)
def test_a_real_page_gives_its_article_and_metadata(key):
    path = PAGES / "pages" / f"{key}.html.gz"
    [raw] = read_file(path)
    doc = extract(raw)
    assert doc.id == key
    precision, recall = score(doc.text, TRUTH[key]["articleBody"])
    assert precision > 0.8 and recall > 0.8, (precision, recall)
    assert doc.provenance["title"] == PAGE and doc.title
    assert doc.date is not None and doc.provenance["date"] in (PAGE, EXTRACTED)
    assert doc.url.startswith("http")


def test_page_metadata_comes_before_guesses(tmp_path):
    page = tmp_path / "nato-summit.html"
    page.write_text(
        """<!doctype html><html lang="en"><head>
<title>Summit ends | Some Site</title>
<link rel="canonical" href="https://www.rferl.org/a/nato-summit/123.html">
<meta property="og:title" content="NATO leaders end their summit in Brussels">
<meta property="og:site_name" content="RadioFreeEurope/RadioLiberty">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "NATO leaders end their summit in Brussels", "datePublished": "2017-05-25T18:00:00Z",
 "author": {"@type": "Person", "name": "Rikard Jozwiak"}}</script>
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>NATO leaders end their summit in Brussels</h1>
<p>BRUSSELS -- Leaders of the 28 NATO member states ended a summit in Brussels on Thursday
with a pledge to do more against terrorism, Secretary-General Jens Stoltenberg said.</p>
<p>The alliance agreed to join the global coalition against the Islamic State group,
although it will not take part in combat operations, Stoltenberg told reporters.</p>
<p>U.S. President Donald Trump urged the allies to spend more on defence and said that
the members who do not meet the target of two percent owe massive amounts of money.</p>
</article><footer>Copyright 2017 RFE/RL. All rights reserved. Cookie settings</footer>
</body></html>""",
        "utf-8",
    )
    [raw] = read_file(page)
    doc = extract(raw)
    assert doc.id == "nato-summit"
    assert doc.title == "NATO leaders end their summit in Brussels"
    assert doc.source == "RFE/RL"  # the sources table names the outlet of rferl.org
    assert str(doc.date) == "2017-05-25"
    assert doc.url == "https://www.rferl.org/a/nato-summit/123.html"
    assert raw.extra["authors"] == ["Rikard Jozwiak"]
    assert {doc.provenance[f] for f in ("title", "source", "date")} == {PAGE}
    assert doc.provenance["actors"] == EXTRACTED
    assert "Jens Stoltenberg" in {a.name for a in doc.actors}
    assert "Home" not in doc.text and "Cookie" not in doc.text
    assert doc.text.startswith("BRUSSELS -- Leaders")


def test_given_metadata_stays_given(tmp_path):
    (tmp_path / "a.txt").write_text("Some text about the alliance and its summit.", "utf-8")
    (tmp_path / "a.meta.json").write_text('{"title": "T", "date": "2020-01-02"}', "utf-8")
    doc = extract(next(read_file(tmp_path / "a.txt")))
    assert doc.provenance["title"] == GIVEN and doc.provenance["date"] == GIVEN


def test_bad_pages_are_refused_naming_the_file(tmp_path):
    good = gzip.decompress((PAGES / "pages" / f"{KEYS[0]}.html.gz").read_bytes())
    truncated = tmp_path / "truncated.html.gz"
    truncated.write_bytes(gzip.compress(good)[:2000])
    binary = tmp_path / "picture.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    huge = tmp_path / "huge.html"
    huge.write_bytes(
        b"<html><body><p>" + b"word " * (MAX_PAGE_BYTES // 5 + 10) + b"</p></body></html>"
    )
    tags = tmp_path / "tags.html"
    tags.write_bytes(b"<html><body>" + b"<p>word word.</p>" * 60_000 + b"</body></html>")
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"<html><head><title>Nothing</title></head><body></body></html>")
    reasons = {}
    for path in (truncated, binary, huge, tags, empty):
        with pytest.raises(InputError) as caught:
            list(read_file(path))
        assert caught.value.where == str(path)
        reasons[path.name] = caught.value.reason
    assert "gzip" in reasons["truncated.html.gz"]
    assert "not an HTML page" in reasons["picture.html"]
    assert "larger than" in reasons["huge.html"]
    assert "no article text" in reasons["empty.html"]
    assert "tags, over the 100,000" in reasons["tags.html"]


def test_html_files_are_found_in_folders(tmp_path):
    for name in ("a.html", "b.htm", "c.html.gz", "d.css", "e.warc.gz", "f.rss", "g.atom", "h.xml"):
        (tmp_path / name).write_bytes(b"")
    found = {p.name for p in input_files([tmp_path])}
    assert found == {"a.html", "b.htm", "c.html.gz", "e.warc.gz", "f.rss", "g.atom", "h.xml"}


def test_canonical_url_and_visible_text():
    page = (
        b'<html><head><link href="/a/1.html" rel="canonical"><title>T</title>'
        b"<style>p{}</style></head><body><p>One <b>two</b></p><script>x()</script><p>three"
        b"</p></body></html>"
    )
    assert canonical_url(page, base="https://example.org/x?y") == "https://example.org/a/1.html"
    assert canonical_url(b"<html><head></head></html>") is None
    home = b'<html><head><meta property="og:url" content="https://example.org/"></head></html>'
    assert canonical_url(home, base="https://example.org/2021/story") is None
    assert canonical_url(home, base="https://example.org/") == "https://example.org/"
    assert visible_text(page) == "One two\nthree"
    assert visible_text("<div>Rüb – Пётр<p>x</p></div>") == "Rüb – Пётр\nx"
    latin = '<html><head><meta charset="windows-1252"></head><body><p>café</p></body></html>'
    assert visible_text(latin.encode("cp1252")) == "café"
