"""A huge document costs a search what a news article costs: bounded work per hit.

The corpus is the hand-written one plus one 320 KB article (made of numbered paragraphs)
with one word early in it, one in its second scan window and one beyond its head. The
work is measured as text handed to the snippet matcher, not as time.
"""

from __future__ import annotations

import json

import pytest

from api import create_app
from index.reindex import reindex
from search import snippets, stored
from tests.conftest import API_KEY, DATA
from tests.helpers import assert_problem

PARAGRAPH = "In session {} the committee discussed the harbour budget and the rail line.\n\n"
REPEATS = 4_000  # about 80 characters each (ingest drops repeated paragraphs): 320 KB
SECOND_WINDOW_AT = 60_000  # past the first SCAN_CHARS
BEYOND_HEAD_AT = 250_000  # past HEAD_CHARS


def _huge_text() -> str:
    text = "".join(PARAGRAPH.format(n) for n in range(REPEATS))
    for at, word in ((BEYOND_HEAD_AT, "cormorant"), (SECOND_WINDOW_AT, "albatross")):
        at = text.index("\n\n", at) + 2
        text = text[:at] + f"A {word} was seen over the harbour.\n\n" + text[at:]
    return text


@pytest.fixture(scope="module")
def huge_client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("huge")
    source = folder / "input"
    source.mkdir()
    record = {"id": "huge", "title": "Minutes", "text": HUGE_TEXT, "language": "en"}
    (source / "huge.jsonl").write_text(json.dumps(record) + "\n")
    assert reindex(folder / "index", [DATA, source]).switched
    app = create_app({"index_dir": str(folder / "index"), "api_key": API_KEY})
    return app.test_client()


HUGE_TEXT = _huge_text()


@pytest.fixture
def scanned(monkeypatch):
    """The length of every part of the huge text the snippet matcher reads, in order."""
    lengths: list[int] = []
    real = snippets.match_spans

    def spy(text, language, marks):
        if len(text) > 1000 and text in HUGE_TEXT:
            lengths.append(len(text))
        return real(text, language, marks)

    monkeypatch.setattr(snippets, "match_spans", spy)
    return lengths


def _hit(client, q: str) -> dict:
    body = client.get(f"/api/v1/search?q={q}").get_json()
    return next(hit for hit in body["hits"] if hit["id"] == "huge")


def test_a_snippet_reads_up_to_the_first_matches_only(huge_client, scanned):
    hit = _hit(huge_client, "harbour")
    assert "<mark>harbour</mark>" in hit["snippet"]
    assert scanned == [pytest.approx(snippets.SCAN_CHARS, abs=100)]

    scanned.clear()
    hit = _hit(huge_client, "albatross")
    assert "<mark>albatross</mark>" in hit["snippet"]
    assert len(scanned) == 2 and max(scanned) <= snippets.SCAN_CHARS + 100


def test_a_match_beyond_the_scan_limit_still_finds_the_document(huge_client, scanned):
    hit = _hit(huge_client, "cormorant")
    assert hit["snippet"].startswith("In session 0 the") and "<mark>" not in hit["snippet"]
    assert sum(scanned) <= snippets.SCAN_LIMIT_CHARS + 100


def test_browsing_reads_no_text_for_snippets(huge_client, scanned):
    body = huge_client.get("/api/v1/search?q=&per_page=100").get_json()
    assert any(hit["id"] == "huge" for hit in body["hits"]) and scanned == []


def test_the_document_endpoint_pages_its_text(huge_client):
    whole = HUGE_TEXT.strip()  # as cleaned: no trailing blank line
    first = huge_client.get("/api/v1/documents/huge").get_json()
    assert first["text"] == whole[: stored.HEAD_CHARS]
    assert first["text_truncated"] is True and first["text_offset"] == 0
    assert first["text_full_length"] == len(whole)
    parts, offset = [first["text"]], stored.HEAD_CHARS
    while offset < len(whole):
        page = huge_client.get(f"/api/v1/documents/huge?text_offset={offset}").get_json()
        assert page["text_offset"] == offset and page["text_truncated"] is True
        parts.append(page["text"])
        offset += stored.HEAD_CHARS
    assert "".join(parts) == whole

    marked = huge_client.get(
        f"/api/v1/documents/huge?q=cormorant&text_offset={BEYOND_HEAD_AT}&text_length=1000"
    ).get_json()
    assert len(marked["text"]) == 1000 and "<mark>cormorant</mark>" in marked["text_html"]


def test_whole_documents_answer_as_before(huge_client):
    body = huge_client.get("/api/v1/documents/coalition_title?text_length=50").get_json()
    assert body["text_truncated"] and len(body["text"]) == 50
    body = huge_client.get("/api/v1/documents/coalition_title").get_json()
    assert not {"text_truncated", "text_offset", "text_full_length"} & set(body)
    for bad in ("text_offset=-1", f"text_length={stored.HEAD_CHARS + 1}", "text_length=0"):
        problem = assert_problem(huge_client.get(f"/api/v1/documents/huge?{bad}"), 400)
        assert bad.split("=")[0] in problem["errors"]


def test_the_page_shows_the_head_and_links_to_the_rest(huge_client):
    page = huge_client.get("/documents/huge").get_data(as_text=True)
    assert 'id="text-truncated"' in page and f"text_offset={stored.HEAD_CHARS}" in page
    assert len(page) < 2 * stored.HEAD_CHARS
    similar = huge_client.get("/api/v1/documents/huge/similar").get_json()
    assert similar["id"] == "huge"
