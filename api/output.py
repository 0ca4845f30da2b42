"""Everything Sift sends is valid UTF-8, and its JSON is JSON, whatever the index holds.

Stored text can hold what no response may carry: a lone UTF-16 surrogate (`"\\ud800"`
in a JSON input is valid Python text, invalid UTF-8) or a non-finite number, from an
index an older Sift wrote or an input path that did not check. Both are fixed where a
response leaves: every body (JSON, pages, streamed exports) is encoded by `Response`,
which writes U+FFFD for a lone surrogate instead of failing, and every JSON document
is written by `dumps`, which writes null for NaN and infinities. Both cost nothing for
clean data: the fixes run only when the fast path refuses.
"""

from __future__ import annotations

import codecs
import json
import math

from flask import Flask
from flask import Response as FlaskResponse
from flask.json.provider import DefaultJSONProvider

REPLACE_SURROGATES = "sift-replace-surrogates"


def _replace(error: UnicodeError) -> tuple[bytes, int]:
    # Bytes, not "\ufffd": CPython's UTF-8 encoder takes only ASCII text from a handler.
    if isinstance(error, UnicodeEncodeError):
        return "\ufffd".encode() * (error.end - error.start), error.end
    raise error


codecs.register_error(REPLACE_SURROGATES, _replace)


def encode(text: str) -> bytes:
    """`text` as UTF-8, a lone surrogate as U+FFFD."""
    return text.encode("utf-8", REPLACE_SURROGATES)


class Response(FlaskResponse):
    """Flask's response, encoding text with `encode` (whole bodies and streamed parts)."""

    def set_data(self, value: bytes | str) -> None:
        super().set_data(encode(value) if isinstance(value, str) else value)

    def iter_encoded(self):
        return (encode(part) if isinstance(part, str) else part for part in self.response)


def _finite(value):
    """`value` with every non-finite float as None (containers copied, others as is)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def dumps(value, **options) -> str:
    """JSON text of `value`, with null for NaN and infinities (never `NaN`, not JSON)."""
    options.setdefault("ensure_ascii", False)
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False, **options)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, writing through `dumps`."""

    sort_keys = False
    ensure_ascii = False

    def dumps(self, obj, **kwargs) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return dumps(obj, **kwargs)


def install_output(app: Flask) -> None:
    app.response_class = Response
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
