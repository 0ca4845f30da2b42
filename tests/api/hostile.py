"""Hypothesis strategies for hostile documents, and the check every endpoint must pass.

Documents are written straight into the index (tests.helpers.write_unchecked), past
every check ingest makes, as an older Sift or an unchecked path would have stored them:
lone surrogates, control and bidirectional characters, markup, NaN and infinities,
deep nesting, huge and repetitive texts, dot ids. Shared by the fast property test
(tests/api/test_hostile_properties.py) and its longer run under `make stress`.
"""

from __future__ import annotations

import json
import re
import time
from itertools import count
from urllib.parse import quote

from hypothesis import strategies as st

from index.documents import Actor, Document

# Characters of every category, lone surrogates (Cs) included.
ANY_CHAR = st.characters(exclude_categories=())
MARKUP = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<!--",
        "</mark>",
        "<mark>",
        '" onerror="x',
        "&amp;&#0;",
        "\u202e",
        "\x00",
        "\ufeff",
        "\ud800",
        "\udfff",
        "\U0001f600",
        "Mr. ",
        "e\u0301",
        "\r\n",
    ]
)
PIECES = st.one_of(st.text(ANY_CHAR, max_size=40), MARKUP)
TEXT = st.lists(PIECES, max_size=12).map("".join)
# Keyword fields (source, actors, places): Whoosh itself cannot index a lone surrogate
# in them, so no index ever held one there.
KEYWORD = TEXT.map(lambda text: "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF))
# Long and repetitive texts: one hostile piece repeated.
REPEATED = st.tuples(MARKUP | st.text(ANY_CHAR, min_size=1, max_size=5), st.integers(1, 5000))
NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**30), 10**30)
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(ANY_CHAR, max_size=20)
EXTRA_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)
# Suffixes of ids (after a unique word): the dot ids themselves are in test_hostile_stored.
IDS = st.sampled_from([" padded ", "a b", "ü-ñ", "%2E", ".", "..", "x" * 300]) | st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="/"),
    min_size=1,
    max_size=20,
)

_serial = count()


@st.composite
def hostile_documents(draw, max_repeats: int = 5000) -> Document:
    """A document with hostile fields and a unique id prefix, so tests can find it."""
    piece, times = draw(REPEATED)
    repeated = piece * min(times, max_repeats)
    word = f"hostileword{next(_serial)}"
    depth = draw(st.integers(0, 300))
    nested: object = draw(EXTRA_VALUES)
    for _ in range(depth):
        nested = {"a": nested}
    return Document(
        id=f"{word}~{draw(IDS)}",
        title=draw(TEXT),
        text=f"{draw(TEXT)} {word} {repeated} {draw(TEXT)}",
        language=draw(st.sampled_from(["en", "de", "ar", "und", "zz", ""])),
        source=draw(st.none() | KEYWORD),
        actors=[Actor(name, "person") for name in draw(st.lists(KEYWORD, max_size=3)) if name],
        places=draw(st.lists(KEYWORD, max_size=3)),
        extra={"value": draw(EXTRA_VALUES), "nested": nested, draw(TEXT): draw(NUMBERS)},
    )


def _strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def doc_path(doc_id: str) -> str:
    return {".": "%2E", "..": "%2E%2E"}.get(doc_id) or quote(doc_id, safe="")


def word_of(doc: Document) -> str:
    return re.match(r"hostileword\d+", doc.id).group()


def paths_for(doc: Document) -> list[str]:
    word, path = word_of(doc), doc_path(doc.id)
    return [
        f"/api/v1/search?q={word}",
        "/api/v1/search?q=&per_page=20",
        f"/?q={word}",
        f"/api/v1/documents/{path}",
        f"/api/v1/documents/{path}?q={word}",
        f"/api/v1/documents/{path}/similar",
        f"/documents/{path}",
        f"/api/v1/export?q={word}",
        f"/api/v1/export?q={word}&format=csv",
    ]


def check_served(get, doc: Document, max_seconds: float) -> float:
    """Every endpoint that returns `doc` answers 200 with valid UTF-8 and strict JSON in
    under `max_seconds`, and finds it; `get(path)` -> (status, content type, bytes).
    Returns the slowest answer's seconds."""
    slowest = 0.0
    for path in paths_for(doc):
        started = time.monotonic()
        status, content_type, body = get(path)
        slowest = max(slowest, time.monotonic() - started)
        assert status == 200, (path, body[:300])
        text = body.decode("utf-8")  # valid UTF-8, or this raises
        if content_type.startswith("application/json"):
            data = _strict_json(text)
            if "/search?q=hostileword" in path:
                assert [hit["id"] for hit in data["hits"]] == [doc.id], path
        elif content_type.startswith("application/x-ndjson"):
            assert [_strict_json(line)["id"] for line in text.splitlines()] == [doc.id]
    assert slowest < max_seconds, f"{slowest:.2f} s"
    return slowest


def check_others(get, total: int) -> None:
    """The rest of the archive is still served: the hand-written corpus's fixed search."""
    status, _, body = get("/api/v1/search?q=coalition")
    assert status == 200 and _strict_json(body.decode())["total"] == total
    assert get("/api/v1/documents/coalition_title")[0] == 200
