"""Hostile writes over real HTTP (gunicorn): refused with a 400 naming the field, and a
write that is costly to extract never holds up the writes after it."""

from __future__ import annotations

import time

import pytest

from index.reindex import reindex
from tests.conftest import DATA
from tests.servers import API_KEY, call, gunicorn

HOSTILE_HTML = "<p>" + "<!--" * (1 << 18) + "</p>"  # 1 MiB of unclosed comments


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real gunicorn for the module: every case here also checks it keeps writing."""
    folder = tmp_path_factory.mktemp("hostile-writes")
    assert reindex(folder / "index", [DATA]).switched
    with gunicorn(folder / "index", folder) as running:
        yield running.base


def post(base: str, body) -> tuple[int, object]:
    status, headers, payload = call(base, "/api/v1/documents", "POST", body, key=API_KEY)
    if status >= 400:
        assert headers["Content-Type"] == "application/problem+json", (status, payload)
    return status, payload


@pytest.mark.parametrize(
    "body, field",
    [
        (b'{"id": "a", "text": "x", "title": "\\ud800"}', "title"),
        (b'{"id": "a", "text": "x", "meta": {"k": ["\\udfff"]}}', "meta.k[0]"),
        (b'{"id": "a", "text": "x", "meta": {"\\ud800": 1}}', "meta.\\ud800"),
        (b'{"id": "\\ud800", "text": "x"}', "id"),
        (b'[{"id": "a", "text": "x"}, {"id": "b", "text": "\\ud800"}]', "[1].text"),
        (b'{"id": "a", "text": "x", "n": NaN}', "body"),
        (b'{"id": "a", "text": "x", "n": Infinity}', "body"),
        (b'{"id": "a", "text": "x", "n": 1e999}', "body"),
        (b'{"id": "a", "text": "x", "n": ' + b"9" * 5000 + b"}", "body"),
        (b"[" * 100_000 + b"]" * 100_000, "body"),
        (b'{"id": "a", "text": "x", "deep": ' + b"[" * 950 + b"]" * 950 + b"}", "deep"),
        (b'{"id": ".", "text": "x"}', "id"),
        (b'{"id": "..", "text": "x"}', "id"),
        (b'{"id": " a ", "text": "x"}', "id"),
    ],
)
def test_hostile_write_bodies_are_400_naming_the_field(server, body, field):
    status, problem = post(server, body)
    assert status == 400, problem
    assert any(name == field or name.startswith(field + "[") for name in problem["errors"]), problem
    status, _ = post(server, {"id": "after-refusal", "text": "Zebras again."})
    assert status in (200, 202)


def test_a_costly_write_never_holds_up_the_next_one(server):
    started = time.monotonic()
    status, answer = post(server, {"id": "hostile-html", "text": HOSTILE_HTML})
    hostile_s = time.monotonic() - started
    assert status in (200, 202), answer
    status, answer = post(server, {"id": "zebra-after", "text": "Okapis at dawn."})
    assert status in (200, 202), answer
    deadline = time.monotonic() + 30
    found = 0
    while time.monotonic() < deadline and not found:
        found = call(server, "/api/v1/search?q=okapis")[2]["total"]
        time.sleep(0.2)
    assert found == 1
    status, _, stored = call(server, "/api/v1/documents/hostile-html")
    assert status == 200 and stored["id"] == "hostile-html"
    print(f"1 MiB of unclosed comments written in {hostile_s:.2f} s")


def test_a_text_over_the_document_cap_is_refused_naming_it(tmp_path):
    from api import create_app

    app = create_app({"index_dir": str(tmp_path), "api_key": API_KEY, "max_document_bytes": 100})
    response = app.test_client().post(
        "/api/v1/documents",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json=[{"id": "small", "text": "é" * 50}, {"id": "big", "text": "é" * 51}],
    )
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["[1].text"]
