"""One error shape: RFC 9457 problem+json, built in one place for every failure.

Engine failures are mapped, never leaked: clients see a type, a title and a detail we
wrote; tracebacks and engine messages (which can hold server paths) go to the log only.
People get the same error as a page: the HTML pages' own routes always, and any other
path outside the API when the client is a browser (it prefers text/html).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Flask, render_template, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from api.metrics import QUERY_REFUSALS
from api.output import Response, dumps
from search.errors import IndexUnavailable, NotSupported, QueryTimeout, QueryTooComplex

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
    "partial-results": "A cluster shard has no live replica and SIFT_CLUSTER_PARTIAL=fail.",
    "rate-limited": "Over SIFT_RATE_LIMIT or SIFT_WRITE_RATE_LIMIT; retry after `Retry-After`.",
    "insufficient-storage": "No disk space to record a write; nothing was stored.",
    "write-unavailable": "A write could not be recorded (I/O error); nothing was stored.",
    "not-supported": "This backend cannot answer the request (stories, actors and "
    "comparisons on a SphinxQL cluster).",
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
    response = Response(dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Paths that always answer problem+json, whatever the client prefers.
_MACHINE_PREFIXES = ("/api/", "/problems/", "/healthz", "/readyz")
PAGES_BLUEPRINT = "pages"


def wants_page() -> bool:
    """Whether this failure should be answered as an HTML page rather than problem+json."""
    if request.blueprint == PAGES_BLUEPRINT:
        return True
    if request.path.startswith(_MACHINE_PREFIXES):
        return False
    best = request.accept_mimetypes.best_match([PROBLEM_JSON, "application/json", "text/html"])
    return best == "text/html"


def respond(
    status: int,
    title: str,
    detail: str,
    slug: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict | None = None,
) -> Response:
    """The error as problem+json, or as the same content in a page for people."""
    if not wants_page():
        return problem(status, title, detail, slug, errors, headers)
    html = render_template(
        "error.html",
        status=status,
        title=title,
        detail=detail,
        errors=errors or {},
        retry=_retry_url(errors) if status == 400 else None,
    )
    response = Response(html, status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _retry_url(errors: dict[str, list[str]] | None) -> str | None:
    """This page without the parameters that were refused, if any others are left to keep."""
    if not errors or request.blueprint != PAGES_BLUEPRINT:
        return None
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in errors]
    return request.path + ("?" + urlencode(pairs) if pairs else "")


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
        return respond(exc.status, exc.title, exc.detail, exc.slug, exc.errors, exc.headers)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        error = invalid(flatten_errors(exc.messages))
        return respond(error.status, error.title, error.detail, error.slug, error.errors)

    @app.errorhandler(QueryTooComplex)
    def _too_complex(exc: QueryTooComplex):
        QUERY_REFUSALS.labels("budget" if isinstance(exc, QueryTimeout) else "cost-cap").inc()
        return respond(400, "Query too complex", str(exc), "query-too-complex", {"q": [str(exc)]})

    @app.errorhandler(IndexUnavailable)
    def _unavailable(exc: IndexUnavailable):
        log.warning("index unavailable: %s", exc.__cause__ or exc)
        return respond(
            503,
            "Index unavailable",
            "No index is being served yet.",
            "index-unavailable",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.errorhandler(NotSupported)
    def _not_supported(exc: NotSupported):
        return respond(501, "Not supported here", str(exc), "not-supported")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        detail = {
            404: "No such resource.",
            405: "This method is not allowed here.",
            413: "The request body is too large.",
        }.get(status, exc.description or exc.name)
        allowed = getattr(exc, "valid_methods", None)  # set on 405s only
        headers = {"Allow": ", ".join(allowed)} if allowed else None
        return respond(status, exc.name, detail, _SLUG_FOR_STATUS.get(status), headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return respond(
            500, "Internal Server Error", "An unexpected error occurred.", "internal-error"
        )
