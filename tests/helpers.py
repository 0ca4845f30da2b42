"""Assertions shared across tests."""

from __future__ import annotations

import re

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
