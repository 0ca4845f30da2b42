"""The OpenAPI 3 document, generated from the routes' own schemas.

Each API view is declared with `@operation(...)`: its parameter, body and response
schemas and the error statuses it can return. The same declaration loads and validates
the request, enforces the write key, and documents the route, so code and documentation
cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, g, request
from marshmallow import Schema

from api import schemas
from api.auth import require_write_key
from api.errors import PROBLEM_JSON

TITLE = "Sift"
VERSION = "1.0.0"


@dataclass(frozen=True)
class Operation:
    summary: str
    args: type[Schema] | None = None
    body: type[Schema] | None = None
    body_many: bool = False
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    auth: bool = False
    content_type: str = "application/json"
    # Other media types the same response may take (documented as text).
    text_types: tuple[str, ...] = ()
    extra_statuses: dict[int, str] = field(default_factory=dict)


def operation(**kwargs):
    """Declare a view: validated `g.args`, write-key check if `auth`, OpenAPI entry."""
    op = Operation(**kwargs)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **view_kwargs):
            if op.auth:
                require_write_key()
            if op.args is not None:
                g.args = schemas.load_args(schemas.instance(op.args), request.args)
            elif request.args:
                raise_unknown(list(request.args))
            return view(*args, **view_kwargs)

        wrapper.sift_operation = op  # type: ignore[attr-defined]  # read by build_spec
        return wrapper

    return decorate


def raise_unknown(names: list[str]) -> None:
    from marshmallow import ValidationError

    raise ValidationError({name: ["Unknown parameter."] for name in names})


_STATUS_TEXT = {
    400: "Invalid parameters or query",
    401: "Missing write key",
    403: "Wrong write key or writes disabled",
    404: "Not found",
    413: "Body too large",
    429: "Over a rate limit; see Retry-After",
    501: "Not supported by this backend (stories and actors on a cluster)",
    503: "No index is being served yet, or a write could not be recorded",
    507: "No disk space to record the write",
}


def build_spec(app: Flask) -> dict:
    """The OpenAPI document for every declared view of `app`."""
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Full-text search over news archives."},
    )
    spec.components.schema("Problem", schema=schemas.ProblemOut)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        op: Operation | None = getattr(view, "sift_operation", None)
        if op is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation_doc(rule, op)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation_doc(rule, op: Operation) -> dict:
    doc: dict = {
        "summary": op.summary,
        "operationId": rule.endpoint.replace(".", "_"),
        "responses": {},
    }
    parameters: list = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in sorted(rule.arguments)
    ]
    if op.args is not None:
        parameters.append({"in": "query", "schema": op.args})
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        body_schema = (
            {"oneOf": [op.body, {"type": "array", "items": op.body}]} if op.body_many else op.body
        )
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schema}},
        }
    ok: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        ok["content"] = {op.content_type: {"schema": op.response}}
    for media_type in op.text_types:
        ok.setdefault("content", {})[media_type] = {"schema": {"type": "string"}}
    doc["responses"][str(op.status)] = ok
    for status, text in op.extra_statuses.items():
        doc["responses"][str(status)] = {
            "description": text,
            "content": {op.content_type: {"schema": op.response}} if op.response else {},
        }
    errors = set(op.errors) | {429, 500}
    if op.args is not None or op.body is not None:
        errors.add(400)
    if op.auth:
        errors |= {401, 403, 503, 507}
    for status in sorted(errors):
        doc["responses"][str(status)] = {
            "description": _STATUS_TEXT.get(status, "Unexpected error"),
            "content": {PROBLEM_JSON: {"schema": "Problem"}},
        }
    if op.auth:
        doc["security"] = [{"bearer": []}]
    return doc
