"""Documents by id, similar documents, and the keyed writes (POST, DELETE)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from marshmallow import ValidationError

from api import document_fields, schemas
from api.errors import ApiError, flatten_errors, invalid
from api.limits import read_body
from api.metrics import DOCUMENTS_WRITTEN
from api.openapi import operation
from index.applier import delete_op, put_op
from index.readers import raw_document
from index.validate import InvalidJson, InvalidRecord, loads, validate_record

blueprint = Blueprint("documents", __name__, url_prefix="/api/v1/documents")


def handle():
    return current_app.config["SIFT_INDEX"]


def not_found(doc_id: str) -> ApiError:
    return ApiError(404, "not-found", "Not Found", f"No document with id {doc_id!r}.")


@blueprint.get("/<doc_id>")
@operation(
    summary="One document: cleaned text, metadata and where each field came from",
    args=schemas.DocumentArgs,
    response=schemas.DocumentOut,
    errors=(404, 503),
)
def get_document(doc_id: str):
    args = g.args
    view = handle().backend.document(
        doc_id, args["q"], text_offset=args["text_offset"], text_length=args["text_length"]
    )
    if view is None:
        raise not_found(doc_id)
    body = {
        **document_fields.record(view.document),
        "text_html": view.text_html,
        "story": view.story or None,
    }
    if view.partial:  # only then: a whole document's answer is as it always was
        body.update(
            text_truncated=True, text_offset=view.text_offset, text_full_length=view.text_length
        )
    return schemas.DocumentOut().dump(body)


@blueprint.get("/<doc_id>/similar")
@operation(
    summary="More like this: documents sharing the most distinctive terms",
    args=schemas.SimilarArgs,
    response=schemas.SimilarOut,
    errors=(404, 503),
)
def similar(doc_id: str):
    hits = handle().backend.similar(doc_id, g.args["limit"])
    if hits is None:
        raise not_found(doc_id)
    return schemas.SimilarOut().dump({"id": doc_id, "hits": hits})


@blueprint.post("")
@operation(
    summary="Add or replace documents by id (one object or a list)",
    body=schemas.DocumentIn,
    body_many=True,
    response=schemas.WriteOut,
    auth=True,
    errors=(413,),
    extra_statuses={202: "Durable; searchable within seconds"},
)
def post_documents():
    body = read_body()  # first: over the limit is a 413, chunked or not
    records = _records(_json_body(body))
    status, seq = handle().write([put_op(record) for record in records])
    DOCUMENTS_WRITTEN.labels("put").inc(len(records))
    body = schemas.WriteOut().dump(
        {"status": status, "ids": [r["id"] for r in records], "seq": seq}
    )
    return body, 200 if status == "applied" else 202


@blueprint.delete("/<doc_id>")
@operation(
    summary="Delete a document by id",
    response=schemas.WriteOut,
    auth=True,
    errors=(404, 503),
    extra_statuses={202: "Durable; gone from searches within seconds"},
)
def delete_document(doc_id: str):
    if handle().backend.document(doc_id) is None:
        raise not_found(doc_id)
    status, seq = handle().write([delete_op(doc_id)])
    DOCUMENTS_WRITTEN.labels("delete").inc()
    body = schemas.WriteOut().dump({"status": status, "ids": [doc_id], "seq": seq})
    return body, 200 if status == "applied" else 202


def _json_body(body: bytes) -> object:
    """The body parsed as strict JSON (index/validate.py): NaN, 1e999, a huge integer or
    nesting too deep to parse are a 400 naming the body, not a 500 or a stored NaN."""
    if not request.is_json:
        return None
    try:
        return loads(body)
    except InvalidJson as exc:
        raise invalid({"body": [str(exc)]}) from None


def _records(payload) -> list[dict]:
    """Validated input records from a JSON body: an object or a non-empty list."""
    if isinstance(payload, dict):
        items, many = [payload], False
    elif isinstance(payload, list) and payload:
        items, many = payload, True
    else:
        raise invalid({"body": ["Expected a JSON object or a non-empty list of objects."]})
    settings = current_app.config["SIFT"]
    limit = settings.max_batch_documents
    if len(items) > limit:
        raise invalid({"body": [f"At most {limit} documents per request."]})
    problems: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        where = f"[{index}]" if many else ""
        if not isinstance(item, dict):
            problems[where or "body"] = ["Expected a JSON object."]
            continue
        try:
            validate_record(item, settings.input_limits)
        except InvalidRecord as exc:
            name = f"{where}.{exc.field}" if where and exc.field else (exc.field or where)
            problems[name or "body"] = [exc.reason]
    if problems:
        raise invalid(problems)
    try:
        records = schemas.DocumentIn(many=True).load(items)
    except ValidationError as exc:
        messages = exc.messages
        if not many and isinstance(messages, dict):  # one object: its errors, not item 0's
            messages = messages.get(0, messages)
        raise invalid(flatten_errors(messages)) from None
    seen: set[str] = set()
    for index, record in enumerate(records):
        where = f"[{index}]" if many else "body"
        try:
            raw_document(record, limits=settings.input_limits)
        except ValueError as exc:
            problems[where] = [str(exc)]
        if record["id"] in seen:
            problems[f"{where}.id"] = ["Duplicate id in this request."]
        seen.add(record["id"])
    if problems:
        raise invalid(problems)
    return records
