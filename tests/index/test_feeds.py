"""Feed files in: RSS and Atom items as documents, and files that are not feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import PAGE
from index.extract import extract
from index.html import url_id
from index.readers import InputError, read_file

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>RadioFreeEurope/RadioLiberty</title><link>https://www.rferl.org/</link>
<item>
  <title>NATO Joins Coalition Against Islamic State</title>
  <link>https://www.rferl.org/a/nato-coalition/28507.html</link>
  <guid isPermaLink="false">rferl-28507</guid>
  <pubDate>Thu, 25 May 2017 18:04:00 GMT</pubDate>
  <dc:creator>Rikard Jozwiak</dc:creator>
  <description>Short summary.</description>
  <content:encoded><![CDATA[<p>NATO leaders agreed on Thursday to join the coalition
  against the Islamic State group, Secretary-General Jens Stoltenberg said.</p>
  <p>The alliance will not take part in combat.</p>]]></content:encoded>
</item>
<item>
  <title>Trump Urges Allies To Pay More</title>
  <link>https://www.rferl.org/a/trump-allies/28508.html</link>
  <pubDate>Thu, 25 May 2017 19:00:00 GMT</pubDate>
  <description>&lt;p&gt;U.S. President Donald Trump told NATO allies in Brussels to pay
  their share.&lt;/p&gt;</description>
</item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>NATO News</title>
<link href="https://www.nato.int/"/><updated>2019-11-20T10:00:00Z</updated>
<id>urn:nato:news</id>
<entry><title>Foreign ministers meet in Brussels</title>
<link href="https://www.nato.int/cps/en/natohq/news_171234.htm"/>
<id>urn:nato:news:171234</id><updated>2019-11-20T09:00:00Z</updated>
<summary>Foreign ministers of NATO countries met in Brussels on Wednesday to prepare the
December meeting of leaders in London.</summary></entry>
</feed>
"""


def test_rss_items_with_content_or_summary(tmp_path):
    path = tmp_path / "rferl.rss"
    path.write_text(RSS, "utf-8")
    first, second = [extract(raw) for raw in read_file(path)]
    assert first.id == url_id("rferl-28507")  # the GUID
    assert second.id == url_id("https://www.rferl.org/a/trump-allies/28508.html")  # the link
    assert first.title == "NATO Joins Coalition Against Islamic State"
    assert first.source == second.source == "RFE/RL"
    assert str(first.date) == "2017-05-25"
    assert first.url == "https://www.rferl.org/a/nato-coalition/28507.html"
    assert first.extra == {"feed_text": "content", "authors": ["Rikard Jozwiak"]}
    assert second.extra["feed_text"] == "summary"
    assert first.text.startswith("NATO leaders agreed") and "<p>" not in first.text
    assert "combat" in first.text and "Short summary" not in first.text
    assert "Donald Trump" in {a.name for a in second.actors}
    assert {first.provenance[f] for f in ("title", "date", "source")} == {PAGE}


def test_atom_in_an_xml_file(tmp_path):
    path = tmp_path / "nato.xml"
    path.write_text(ATOM, "utf-8")
    [doc] = [extract(raw) for raw in read_file(path)]
    assert doc.source == "NATO" and str(doc.date) == "2019-11-20"
    assert doc.id == url_id("urn:nato:news:171234")


def test_not_a_feed(tmp_path):
    bad = tmp_path / "broken.rss"
    bad.write_text("this is not XML at all {", "utf-8")
    with pytest.raises(InputError) as caught:
        list(read_file(bad))
    assert caught.value.where == str(bad) and "not an RSS or Atom feed" in caught.value.reason
    other = tmp_path / "sitemap.xml"
    other.write_text('<?xml version="1.0"?><urlset><url><loc>x</loc></url></urlset>', "utf-8")
    notes: list[str] = []
    assert list(read_file(other, notes.append)) == []
    assert len(notes) == 1 and notes[0].startswith(f"{other}: not an RSS or Atom feed")


def test_feed_files_index_with_pages(tmp_path: Path):
    from index.reindex import reindex

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "rferl.rss").write_text(RSS, "utf-8")
    (folder / "nato.atom").write_text(ATOM, "utf-8")
    report = reindex(tmp_path / "index", [folder])
    assert report.switched and report.documents == 3
