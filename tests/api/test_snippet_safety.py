"""Snippets never carry markup of the document's: a Hypothesis property, end to end.

Documents whose text mixes `<script>`, `onerror=`, `</mark>`, entities and quotes with
random text are written over HTTP and searched for; every snippet (and the document's
`text_html`) may hold only our own balanced `<mark>` pairs, and with the marks removed and
entities decoded it is a piece of the stored text.
"""

from __future__ import annotations

import html
import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import create_app
from index.reindex import reindex
from tests.conftest import API_KEY, DATA
from tests.helpers import MARK_RE, assert_safe_snippet

AUTH = {"Authorization": f"Bearer {API_KEY}"}
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</mark>",
    "<mark>",
    "&lt;mark&gt;",
    "&amp;",
    "'",
    '"',
    "<",
    ">",
    "javascript:alert(1)",
    "<a href='x' onclick=\"y\">",
]
MARKER = "okapi"  # the word searched for, put inside tags and attributes too
fragments = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from([MARKER, f"<b>{MARKER}</b>", f"<i title='{MARKER}'>", f"{MARKER}=1"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
)
texts = st.lists(fragments, min_size=1, max_size=40).map(" ".join)
_ids = itertools.count()


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def assert_from_text(fragment_html: str, stored: str) -> None:
    plain = html.unescape(MARK_RE.sub("", fragment_html)).strip("…").strip()
    assert collapse(plain) in collapse(stored), (fragment_html, stored)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("snippets")
    assert reindex(root, [DATA]).switched
    settings = {"rate_limit": "off", "write_rate_limit": "off"}
    app = create_app({"index_dir": str(root), "api_key": API_KEY, **settings})
    yield app.test_client()
    app.config["SIFT_INDEX"].stop_applier()


def check(client, text: str, title: str) -> None:
    doc_id = f"xss-{next(_ids)}"
    document = {"id": doc_id, "title": title, "text": f"{MARKER} {text} {MARKER}"}
    response = client.post("/api/v1/documents", json=document, headers=AUTH)
    assert response.status_code in (200, 202), response.get_json()
    stored = client.get(f"/api/v1/documents/{doc_id}?q={MARKER}").get_json()
    assert_safe_snippet(stored["text_html"])
    assert stored["title"] == title  # a plain JSON string, as given: the client escapes it
    body = client.get(f"/api/v1/search?q={MARKER}&per_page=100").get_json()
    hits = [hit for hit in body["hits"] if hit["id"] == doc_id]
    assert hits, f"{doc_id} not found"
    assert_safe_snippet(hits[0]["snippet"])
    assert "<mark>" in hits[0]["snippet"]
    assert_from_text(hits[0]["snippet"], stored["text"])
    client.delete(f"/api/v1/documents/{doc_id}", headers=AUTH)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=texts, title=st.sampled_from(HOSTILE))
def test_snippets_are_safe(client, text, title):
    check(client, text, title)


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=texts, title=st.sampled_from(HOSTILE))
def test_snippets_are_safe_many(client, text, title):
    check(client, text, title)
