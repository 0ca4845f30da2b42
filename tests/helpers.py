"""Assertions and fixtures' helpers shared across tests."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from index import generations
from index.writer import index_fields

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status: int) -> dict:
    """`response` is an RFC 9457 problem+json with `status`, leaking no internals."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "/tmp/" not in text and "whoosh" not in text.lower()
    return body


MARK_RE = re.compile(r"</?mark>")


def assert_safe_snippet(snippet: str) -> None:
    """Only our own balanced <mark> pairs: no other markup can survive."""
    assert "<" not in MARK_RE.sub("", snippet), snippet
    opened = 0
    for tag in MARK_RE.findall(snippet):
        opened += 1 if tag == "<mark>" else -1
        assert opened in (0, 1), snippet
    assert opened == 0, snippet


def write_unchecked(root, docs) -> None:
    """Add `docs` to the live generation as they are, past every check ingest makes.

    In a thread of its own, as the applier writes: its stack starts empty, so json can
    still write the 950 levels that a request's deeper stack could not read back.
    """

    def write():
        ix = generations.open_generation(root, generations.current_generation(root))
        try:
            writer = ix.writer()
            try:
                for doc in docs:
                    writer.add_document(**index_fields(doc))
                writer.commit(merge=False)
            except BaseException:
                generations.cancel_writer(writer)
                raise
        finally:
            ix.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(write).result()
