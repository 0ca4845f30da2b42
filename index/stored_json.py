"""Reading back the JSON Sift stored, whatever an older Sift let into it.

An index written before ingest checked its input can hold `NaN`, `Infinity` or `1e999`
(Python's json writes and reads them; they are not JSON) and fields nested hundreds of
levels deep, which Python's recursive json, marshmallow and Jinja cannot turn back into
a response once a request's own frames are on the stack. Stored metadata is read
through `loads` so that every reader (search hits, documents, pages, exports) gets finite
numbers and bounded nesting: non-finite numbers become null, and containers nested
deeper than MAX_DEPTH become null too.
"""

from __future__ import annotations

import json
import math
import re

# Deepest nesting kept (the stored metadata object is level 1, `extra` level 2). Deeper
# containers are read as null: far deeper than news metadata ever nests, far shallower
# than the recursion limit under a request's frames (1,000 in all).
MAX_DEPTH = 64
# A string literal (escapes included) or a bracket, for finding the depth of JSON text
# without parsing it. Unrolled so that a long string is one step, not one per character.
_TOKEN_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _finite_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def loads(text: str, max_depth: int = MAX_DEPTH):
    """`json.loads(text)` with non-finite numbers as None and containers nested deeper
    than `max_depth` as None."""
    if text.count("{") + text.count("[") > max_depth:  # else it cannot be too deep
        text = _prune(text, max_depth)
    return json.loads(text, parse_constant=lambda _: None, parse_float=_finite_float)


def _prune(text: str, max_depth: int) -> str:
    """`text` with every container that opens below `max_depth` levels replaced by null."""
    parts: list[str] = []
    depth = 0
    kept_from = 0  # text[kept_from:] is not yet copied to `parts`
    for token in _TOKEN_RE.finditer(text):
        bracket = token.group()
        if bracket[0] == '"':
            continue
        if bracket in "[{":
            depth += 1
            if depth == max_depth + 1:
                parts.append(text[kept_from : token.start()])
                parts.append("null")
        else:
            if depth == max_depth + 1:
                kept_from = token.end()
            depth -= 1
    if depth > max_depth:  # unbalanced: leave it for json.loads to refuse
        return text
    parts.append(text[kept_from:])
    return "".join(parts)
