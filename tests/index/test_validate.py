"""index/validate.py: what every input path refuses, and that real archives pass."""

from __future__ import annotations

import gzip
import itertools
import json

import pytest

from index.validate import (
    MAX_DEPTH,
    MAX_FIELDS,
    MAX_VALUES,
    InvalidJson,
    InvalidRecord,
    Limits,
    loads,
    validate_record,
)
from tests.conftest import ROOT

REUTERS = ROOT.parent / "shared" / "data" / "reuters21578.jsonl.gz"


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "record, field",
    [
        ({"id": "a", "text": "x", "title": "bad \ud800 title"}, "title"),
        ({"id": "a", "text": "lone \udfff low surrogate"}, "text"),
        ({"id": "a\ud800", "text": "x"}, "id"),
        ({"id": "a", "text": "x", "note": {"k": ["ok", "\ud83d"]}}, "note.k[1]"),
        ({"id": "a", "text": "x", "note": {"\ud800": 1}}, "note.\\ud800"),
        ({"id": "a", "text": "x", "\udc00": 1}, "\\udc00"),
        ({"id": "a", "text": "x", "score": float("nan")}, "score"),
        ({"id": "a", "text": "x", "score": float("inf")}, "score"),
        ({"id": "a", "text": "x", "big": 10**40}, "big"),
        ({"id": "a", "text": "x", "deep": _nested(MAX_DEPTH + 1)}, "deep" + "[0]" * MAX_DEPTH),
        ({"id": "a", "text": "x", "many": list(range(MAX_VALUES + 1))}, f"many[{MAX_VALUES - 2}]"),
        ({"id": "a", "text": "x", "long": "y" * 10_001}, "long"),
        ({"id": ".", "text": "x"}, "id"),
        ({"id": "..", "text": "x"}, "id"),
        ({"id": " a", "text": "x"}, "id"),
        ({"id": "a\t", "text": "x"}, "id"),
        ({"id": "a/b", "text": "x"}, "id"),
        ({"id": "a\u200bb", "text": "x"}, "id"),
        ({"id": "a\x00b", "text": "x"}, "id"),
        ({"id": "a" * 257, "text": "x"}, "id"),
        ({"id": "a", **{f"f{n}": n for n in range(MAX_FIELDS)}}, ""),
    ],
)
def test_refusals_name_the_field(record, field):
    with pytest.raises(InvalidRecord) as refused:
        validate_record(record)
    assert refused.value.field == field
    json.dumps(str(refused.value)).encode("utf-8")  # the message itself is valid Unicode


def test_text_size_is_capped_in_utf8_bytes():
    limits = Limits(max_document_bytes=1000)
    validate_record({"id": "a", "text": "x" * 1000}, limits)
    validate_record({"id": "a", "text": "é" * 500}, limits)
    with pytest.raises(InvalidRecord) as refused:
        validate_record({"id": "a", "text": "é" * 501}, limits)
    assert refused.value.field == "text"
    with pytest.raises(InvalidRecord):
        validate_record({"id": "a", "body": "x" * 1001}, limits)


def test_ordinary_records_pass():
    validate_record(
        {
            "id": "Ünïcode-id_1 (2)",
            "text": "Ordinary text.\n\nWith paragraphs and emoji 😀.",
            "title": "A title",
            "actors": ["NATO", {"name": "Jens Stoltenberg", "type": "person"}],
            "date": "2017-05-24",
            "tags": {"topics": ["a", "b"], "score": 0.5, "count": 3, "flag": None},
            "deep": _nested(MAX_DEPTH),
        }
    )


@pytest.mark.parametrize(
    "text, reason",
    [
        ("NaN", "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ("[-Infinity]", "-Infinity"),
        ("1e999", "out of range"),
        ("-1e999", "out of range"),
        ("9" * 5000, "5000 digits"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": 1', "invalid JSON"),
        (b'{"a": "\xff"}', "not UTF-8"),
    ],
)
def test_strict_json_refuses_with_a_reason(text, reason):
    with pytest.raises(InvalidJson, match=reason):
        loads(text)


def test_strict_json_reads_what_json_reads():
    text = '{"a": [1, -2, 3.5, 1e300, 9223372036854775807, "\\u00e9", true, null]}'
    assert loads(text) == json.loads(text)


def test_every_reuters_record_passes():
    with gzip.open(REUTERS, "rt", encoding="utf-8") as lines:
        for line in itertools.islice(lines, 3000):
            validate_record(loads(line))
