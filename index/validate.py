"""What every input record must satisfy before it reaches the journal or an index.

One function, `validate_record`, over the record as parsed (a plain mapping), used by
every input path: the file readers, the write API, and any reader added later. What it
refuses would break something downstream: a lone surrogate cannot be encoded as UTF-8
(every search returning the document failed), NaN and Infinity are not JSON, a value
nested hundreds of levels deep overflows the serialisers' recursion, and an id such as
`.` or ` a ` cannot be linked to or looked up again. Sizes are capped so that one record
cannot take the memory or time of a whole run.

`loads` parses JSON the same strict way everywhere: Python's `json` accepts NaN,
Infinity and 1e999, raises ValueError on an integer of 5,000 digits and RecursionError
on deep nesting; here each of these is an `InvalidJson` with a reason.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

# Defaults of the two limits an operator may change (SIFT_MAX_DOCUMENT_BYTES,
# SIFT_MAX_INFLATED_BYTES): the largest document text in UTF-8 bytes (a long report is
# a few hundred KB; 64 MiB leaves room for whole books), and the most a compressed
# input file may inflate to (it is read as a stream; this bounds the time it takes).
MAX_DOCUMENT_BYTES = 64 << 20
MAX_INFLATED_BYTES = 4 << 30
# A JSON line may hold this much besides the text (metadata, escapes).
LINE_OVERHEAD_BYTES = 1 << 20
MAX_ID_CHARS = 256
# Any string but the text: a title, a source, an actor's name, an extra value.
MAX_FIELD_CHARS = 10_000
# Top-level fields of one record, and levels of nesting below the record
# (`actors: [{"name": ...}]` is two).
MAX_FIELDS = 100
MAX_DEPTH = 8
MAX_KEY_CHARS = 200
# Strings, numbers, lists and objects in one record, counted together: bounds the work
# of checking and storing a record with a huge list in an extra field.
MAX_VALUES = 10_000
# Integers as JSON writers and readers agree on them (64 bits).
MAX_INT_BITS = 64
MAX_INT_DIGITS = 19
# Ids: no path separator, no control, format or separator characters, not `.` or `..`.
_ID_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """The operator-tunable caps (the rest are the constants above)."""

    max_document_bytes: int = MAX_DOCUMENT_BYTES
    max_inflated_bytes: int = MAX_INFLATED_BYTES

    @property
    def max_line_bytes(self) -> int:
        """The longest JSON line read: one document and its metadata."""
        return self.max_document_bytes + LINE_OVERHEAD_BYTES


DEFAULT_LIMITS = Limits()


class InvalidRecord(ValueError):
    """A record refused: which field (a path such as `extra.a[2]`) and why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field!s}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class InvalidJson(ValueError):
    """Text that is not strict JSON (or is nested or sized beyond what we read)."""


def _refuse_constant(name: str):
    raise InvalidJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJson(f"number {text[:40]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidJson(f"integer of {len(text)} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def loads(text: str | bytes) -> object:
    """Strict JSON: finite numbers, integers of at most MAX_INT_DIGITS digits, nesting
    Python can parse; InvalidJson (with the reason) otherwise."""
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"invalid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise InvalidJson("invalid JSON: nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"not UTF-8 (byte {exc.start})") from None


def _has_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate; an ASCII string (`isascii` is a flag of the
    string, read without a scan) cannot, and most keys and values are ASCII."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def printable(name: str) -> str:
    """`name` safe to show in a message: surrogates and controls escaped, cut short."""
    if len(name) > MAX_KEY_CHARS:
        name = name[:MAX_KEY_CHARS] + "…"
    if name.isprintable() and not _has_surrogate(name):
        return name
    return "".join(
        ch if ch.isprintable() and not _SURROGATE.match(ch) else f"\\u{ord(ch):04x}" for ch in name
    )


def validate_record(record: Mapping, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a record (InvalidRecord naming the field) that the index cannot hold."""
    if len(record) > MAX_FIELDS:
        raise InvalidRecord("", f"{len(record)} fields; at most {MAX_FIELDS}")
    counter = [0]
    for key, value in record.items():
        name = _key_name(key, "")
        if key in ("text", "body") and isinstance(value, str):
            _check_text(name, value, limits)
            continue
        _check_value(name, value, 1, counter)
    _check_id(record.get("id"))


def _key_name(key: object, parent: str) -> str:
    if not isinstance(key, str):
        raise InvalidRecord(parent, "object keys must be strings")
    name = f"{parent}.{printable(key)}" if parent else printable(key)
    if _has_surrogate(key):
        raise InvalidRecord(name, "field name is not valid Unicode (a lone surrogate)")
    if len(key) > MAX_KEY_CHARS:
        raise InvalidRecord(name, f"field name longer than {MAX_KEY_CHARS} characters")
    return name


def _check_text(name: str, text: str, limits: Limits) -> None:
    found = None if text.isascii() else _SURROGATE.search(text)
    if found:
        raise InvalidRecord(
            name, f"not valid Unicode: a lone surrogate at character {found.start()}"
        )
    limit = limits.max_document_bytes
    if len(text) > limit or (len(text) * 4 > limit and len(text.encode("utf-8")) > limit):
        raise InvalidRecord(name, f"the text is larger than {limit} bytes")


def _check_value(name: str, value: object, depth: int, counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > MAX_VALUES:
        raise InvalidRecord(name, f"more than {MAX_VALUES} values in one record")
    if isinstance(value, str):
        if _has_surrogate(value):
            raise InvalidRecord(name, "not valid Unicode (a lone surrogate)")
        if len(value) > MAX_FIELD_CHARS:
            raise InvalidRecord(name, f"longer than {MAX_FIELD_CHARS} characters")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise InvalidRecord(name, f"integer beyond {MAX_INT_BITS} bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRecord(name, "numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, list | tuple | Mapping):
        if depth > MAX_DEPTH:
            raise InvalidRecord(name, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, Mapping):
            for key, item in value.items():
                _check_value(_key_name(key, name), item, depth + 1, counter)
        else:
            for index, item in enumerate(value):
                _check_value(f"{name}[{index}]", item, depth + 1, counter)
    else:
        raise InvalidRecord(name, f"unsupported value type {type(value).__name__}")


def _check_id(doc_id: object) -> None:
    """An id must be usable as it is given: in a URL, a file name, a lookup."""
    if not isinstance(doc_id, str):
        return  # type and presence are the reader's to report
    if len(doc_id) > MAX_ID_CHARS:
        raise InvalidRecord("id", f"longer than {MAX_ID_CHARS} characters")
    if doc_id.strip() != doc_id:
        raise InvalidRecord("id", "must not start or end with white space")
    if doc_id in (".", ".."):
        raise InvalidRecord("id", "'.' and '..' are not ids")
    if "/" in doc_id or any(unicodedata.category(ch) in _ID_REFUSED_CATEGORIES for ch in doc_id):
        raise InvalidRecord("id", "must not contain '/' or control characters")
