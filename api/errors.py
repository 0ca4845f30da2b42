"""One error shape: RFC 9457 problem+json, built in one place for every failure.

Engine failures are mapped, never leaked: clients see a type, a title and a detail we
wrote; tracebacks and engine messages (which can hold server paths) go to the log only.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, json
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from search.errors import IndexUnavailable, QueryTooComplex

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# Problem types Sift defines (`type` is "/problems/<slug>"), with what they mean.
PROBLEM_TYPES = {
    "invalid-parameters": "A query parameter or body field is invalid; see `errors`.",
    "query-too-complex": "The query is over a cost cap (length, terms, prefix breadth, "
    "fuzzy terms) or needed more than its time budget (SIFT_QUERY_BUDGET_MS).",
    "unauthorized": "A write needs `Authorization: Bearer <SIFT_API_KEY>`.",
    "forbidden": "The key is wrong, or writes are disabled (SIFT_API_KEY unset).",
    "not-found": "No such route or document.",
    "payload-too-large": "The request body is over SIFT_MAX_BODY_BYTES.",
    "index-unavailable": "No index is being served yet; retry after `Retry-After` seconds.",
    "rate-limited": "Over SIFT_RATE_LIMIT or SIFT_WRITE_RATE_LIMIT; retry after `Retry-After`.",
    "insufficient-storage": "No disk space to record a write; nothing was stored.",
    "write-unavailable": "A write could not be recorded (I/O error); nothing was stored.",
    "internal-error": "An unexpected failure; the details are in the server log.",
}
# How long clients should wait before retrying when no index is being served.
RETRY_AFTER_S = 5

_SLUG_FOR_STATUS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    413: "payload-too-large",
}


class ApiError(Exception):
    """An error raised by a route, already in problem terms."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.errors = errors
        self.headers = headers or {}


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict | None = None,
) -> Response:
    """The one builder of error responses."""
    body = {
        "type": f"/problems/{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"param": ["message", ...]}."""
    if isinstance(messages, list):
        return {prefix or "_": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = (
            f"{prefix}.{key}"
            if prefix and not isinstance(key, int)
            else (f"{prefix}[{key}]" if isinstance(key, int) else str(key))
        )
        if isinstance(value, dict | list) and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            flat.update(flatten_errors(value, name))
        else:
            flat[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return flat


def invalid(errors: dict[str, list[str]]) -> ApiError:
    names = ", ".join(sorted(errors))
    return ApiError(
        400,
        "invalid-parameters",
        "Invalid parameters",
        f"Invalid value for: {names}.",
        errors=errors,
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return problem(exc.status, exc.title, exc.detail, exc.slug, exc.errors, exc.headers)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        error = invalid(flatten_errors(exc.messages))
        return problem(error.status, error.title, error.detail, error.slug, error.errors)

    @app.errorhandler(QueryTooComplex)
    def _too_complex(exc: QueryTooComplex):
        return problem(400, "Query too complex", str(exc), "query-too-complex", {"q": [str(exc)]})

    @app.errorhandler(IndexUnavailable)
    def _unavailable(exc: IndexUnavailable):
        log.warning("index unavailable: %s", exc.__cause__ or exc)
        return problem(
            503,
            "Index unavailable",
            "No index is being served yet.",
            "index-unavailable",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        detail = {
            404: "No such resource.",
            405: "This method is not allowed here.",
            413: "The request body is too large.",
        }.get(status, exc.description or exc.name)
        headers = (
            {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
        )
        return problem(status, exc.name, detail, _SLUG_FOR_STATUS.get(status), headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem(
            500, "Internal Server Error", "An unexpected error occurred.", "internal-error"
        )
