"""Logs as one JSON object a line on stderr: gunicorn's access log, its own messages and
Sift's application events, each request's lines carrying its request id.

Log aggregators read JSON without a parsing rule per format. What is logged is chosen
here, field by field: request bodies, document text and headers (so keys) never are.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import traceback
import uuid
from contextvars import ContextVar

from flask import Flask, Response, request

REQUEST_ID_HEADER = "X-Request-ID"
# An id a client or proxy sends is kept if it looks like one (a UUID, a trace id), so a
# request can be followed through the proxy's logs and ours; anything else is replaced.
_SANE_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
# The id of the request this thread is serving, for every line logged while it runs.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def _time(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds")


def _access_fields(atoms) -> dict:
    """gunicorn's access atoms (its `record.args`) as named fields: no headers but the id."""
    rid = atoms["{x-request-id}o"]
    return {
        "event": "access",
        "request_id": None if rid == "-" else rid,
        "client": atoms["h"],
        "method": atoms["m"],
        "path": atoms["U"],
        "query": atoms["q"] or None,
        "status": int(atoms["s"]),
        "bytes": atoms["B"],
        "duration_ms": round(atoms["D"] / 1000, 3),
        "user_agent": atoms["a"],
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message or access fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": _time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            data.update(_access_fields(record.args))
        else:
            data["message"] = record.getMessage()
            rid = request_id.get()
            if rid:
                data["request_id"] = rid
        if record.exc_info:
            data["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(data, ensure_ascii=False, default=str)


def logging_config(level: str = "INFO") -> dict:
    """A `logging.config.dictConfig` mapping: every logger, gunicorn's too, as JSON on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }


def install_request_ids(app: Flask) -> None:
    """Give each request an id (the client's if sane) and send it back in the response."""

    @app.before_request
    def _take_id() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id.set(given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex)

    @app.after_request
    def _echo_id(response: Response) -> Response:
        rid = request_id.get()
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
        return response

    @app.teardown_request
    def _forget_id(_exc: BaseException | None) -> None:
        request_id.set(None)
