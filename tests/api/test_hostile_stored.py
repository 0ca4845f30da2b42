"""Documents no check let through, already in the index, served by real gunicorn.

An index written by an older Sift (or reached by a path that did not validate) can hold
a title with a lone UTF-16 surrogate, NaN and infinities in its metadata, an extra field
nested 950 levels deep and an id `.`. They are written here straight into the live
generation, as ingest wrote them before it checked. Every endpoint that can return
them must answer 200 with valid UTF-8 and strict JSON, and never log a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from index import generations, stored_json
from index.documents import Document
from index.reindex import reindex
from index.writer import index_fields
from tests.conftest import API_KEY, DATA
from tests.servers import gunicorn

HOSTILE_WORD = "zebrafinch"


def _deep(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


HOSTILE = [
    Document(
        id="surrogate",
        title="Lone \ud800 surrogate",
        text=f"{HOSTILE_WORD} text with a lone \udfff low surrogate and an emoji \U0001f600.",
        language="en",
        extra={"note\udc80": "key and \ud83d value"},
    ),
    Document(
        id="deep",
        title="Deeply nested",
        text=f"{HOSTILE_WORD} document whose extra field nests 950 levels deep.",
        language="en",
        extra={"nested": _deep(950)},
    ),
    Document(
        id="nonfinite",
        title="Not numbers",
        text=f"{HOSTILE_WORD} document holding NaN and infinities.",
        language="en",
        extra={"nan": float("nan"), "inf": float("inf"), "ninf": [float("-inf"), 1.5]},
    ),
    Document(id=".", title="Dot", text=f"{HOSTILE_WORD} document with the id dot.", language="en"),
]


def write_unchecked(root, docs) -> None:
    """Add `docs` to the live generation as they are, past every check ingest makes.

    In a thread of its own, as the applier writes: its stack starts empty, so json can
    still write the 950 levels that a request's deeper stack could not read back.
    """

    def write():
        ix = generations.open_generation(root, generations.current_generation(root))
        try:
            writer = ix.writer()
            for doc in docs:
                writer.add_document(**index_fields(doc))
            writer.commit(merge=False)
        finally:
            ix.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(write).result()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "index"
    assert reindex(root, [DATA]).switched
    write_unchecked(root, HOSTILE)
    with gunicorn(root, root.parent, workers=1, rate_limit="off") as server:
        yield server


def _strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def raw(server, request: bytes, *, half_close: bool = False) -> tuple[int, dict, bytes]:
    """(status, lower-cased headers, body) of one request sent as bytes over a socket."""
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return int(lines[0].split()[1]), headers, body


def get(server, path: str, host: str = "x") -> tuple[int, str, str]:
    """(status, content type, body as text) for a GET; the body must be valid UTF-8."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    status, headers, body = raw(server, request.encode())
    return status, headers.get("content-type", ""), body.decode("utf-8")


def _dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size, _, rest = body.partition(b"\r\n")
        size = int(size, 16)
        if not size:
            return out
        out += rest[:size]
        body = rest[size + 2 :]


PATHS = [
    f"/api/v1/search?q={HOSTILE_WORD}",
    f"/api/v1/search?q={HOSTILE_WORD}&sort=newest&per_page=100",
    "/api/v1/search?q=&per_page=100",
    "/api/v1/search?q=&sort=oldest&per_page=100",
    "/api/v1/search?q=surrogate",
    f"/?q={HOSTILE_WORD}",
    "/?per_page=50",
    "/?sort=oldest&per_page=50",
    f"/api/v1/export?q={HOSTILE_WORD}",
    f"/api/v1/export?q={HOSTILE_WORD}&format=csv",
    "/api/v1/export",
    *(f"/api/v1/documents/{doc_id}" for doc_id in ("surrogate", "deep", "nonfinite", "%2E")),
    *(f"/api/v1/documents/{doc_id}?q=surrogate" for doc_id in ("surrogate", "deep")),
    *(f"/api/v1/documents/{doc_id}/similar" for doc_id in ("surrogate", "deep", "nonfinite")),
    *(f"/documents/{doc_id}" for doc_id in ("surrogate", "deep", "nonfinite", "%2E")),
    "/documents/surrogate?q=surrogate",
]


@pytest.mark.parametrize("path", PATHS)
def test_every_endpoint_serves_hostile_documents(hostile_server, path):
    status, content_type, body = get(hostile_server, path)
    assert status == 200, body[:500]
    if content_type.startswith("application/json"):
        _strict_json(body)
    elif content_type.startswith("application/x-ndjson"):
        records = [_strict_json(line) for line in body.splitlines()]
        assert len(records) >= (len(HOSTILE) if "q=" in path else 10)
    elif content_type.startswith("text/csv"):
        assert len(list(csv.reader(io.StringIO(body)))) > len(HOSTILE)
    assert "Traceback" not in hostile_server.log()


def test_hostile_values_are_served_repaired(hostile_server):
    _, _, body = get(hostile_server, "/api/v1/documents/surrogate")
    doc = _strict_json(body)
    assert doc["title"] == "Lone \ufffd surrogate"
    assert "lone \ufffd low" in doc["text"] and "\U0001f600" in doc["text"]
    assert doc["extra"] == {"note\ufffd": "key and \ufffd value"}

    doc = _strict_json(get(hostile_server, "/api/v1/documents/nonfinite")[2])
    assert doc["extra"] == {"nan": None, "inf": None, "ninf": [None, 1.5]}

    doc = _strict_json(get(hostile_server, "/api/v1/documents/deep")[2])
    depth, value = 3, doc["extra"]["nested"]  # meta is level 1, extra 2, nested 3
    while isinstance(value, dict):
        value, depth = value["a"], depth + 1
    assert value is None and depth == stored_json.MAX_DEPTH + 1

    _, _, page = get(hostile_server, f"/?q={HOSTILE_WORD}")
    assert 'href="/documents/%2E?' in page and "Lone \ufffd surrogate" in page


def test_stored_json_bounds_depth_and_numbers():
    text = json.dumps({"a": [1, {"b": _deep(200)}], "s": '[[{{ not brackets " }', "n": 1e308})
    loaded = stored_json.loads(text.replace("1e+308", "1e999"), max_depth=5)
    assert loaded["s"] == '[[{{ not brackets " }' and loaded["n"] is None
    assert loaded["a"][1]["b"]["a"] == {"a": None}  # levels 4, 5; 6 is cut
    shallow = {"x": [[[1.5]]], "y": {"z": "w"}}
    assert stored_json.loads(json.dumps(shallow), max_depth=5) == shallow
    assert stored_json.loads("[NaN, Infinity, -Infinity, 2]") == [None, None, None, 2]


WRITE = (
    b"POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
)
BAD_BODIES = {
    "chunk size zz": b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "chunk without terminator": b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
    "content-length abc": b"Content-Length: abc\r\n\r\n{}",
    "negative content-length": b"Content-Length: -5\r\n\r\n{}",
    "two content-lengths": b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "body shorter than its length": b"Content-Length: 100\r\n\r\n{}",
}


@pytest.mark.parametrize("name", BAD_BODIES)
def test_malformed_bodies_are_400_problems(hostile_server, name):
    status, headers, body = raw(hostile_server, WRITE + BAD_BODIES[name], half_close=True)
    assert status == 400, body
    assert (
        headers["content-type"] == "application/problem+json" and json.loads(body)["status"] == 400
    )
    assert "Traceback" not in hostile_server.log()
    assert get(hostile_server, "/api/v1/search?q=")[0] == 200


def test_redirects_never_name_the_requested_host(hostile_server):
    for path in ("/api/v1//search?q=zebrafinch", "//documents//deep"):
        request = f"GET {path} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        status, headers, _ = raw(hostile_server, request.encode())
        assert status == 308 and headers["location"] in (
            "/api/v1/search?q=zebrafinch",
            "/documents/deep",
        )
