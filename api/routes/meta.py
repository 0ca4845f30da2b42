"""Health, readiness, stats, the OpenAPI document and its interactive docs page."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, current_app, jsonify, render_template, send_from_directory

from api import schemas
from api.errors import PROBLEM_TYPES, RETRY_AFTER_S, ApiError
from api.metrics import exposition
from api.openapi import build_spec, operation

blueprint = Blueprint("meta", __name__)

SWAGGER_UI = Path(swagger_ui_bundle.swagger_ui_path)


@blueprint.get("/healthz")
@operation(summary="The process is alive", response=schemas.HealthOut)
def healthz():
    return {"status": "ok"}


@blueprint.get("/readyz")
@operation(summary="An index is open and answering", response=schemas.HealthOut, errors=(503,))
def readyz():
    if not current_app.config["SIFT_INDEX"].backend.ready():
        raise ApiError(
            503,
            "index-unavailable",
            "Index unavailable",
            "No index is being served yet.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return {"status": "ready"}


@blueprint.get("/metrics")
def metrics():
    """Prometheus text format (api/metrics.py); not part of the versioned JSON API."""
    return exposition(current_app.config["SIFT_INDEX"])


@blueprint.get("/api/v1/stats")
@operation(
    summary="Documents, index size, last reindex, counts per source and language",
    response=schemas.StatsOut,
    errors=(503,),
)
def stats():
    return schemas.StatsOut().dump(current_app.config["SIFT_INDEX"].backend.stats())


@blueprint.get("/api/v1/openapi.json")
def openapi():
    spec = current_app.config.get("SIFT_OPENAPI")
    if spec is None:
        spec = current_app.config["SIFT_OPENAPI"] = build_spec(current_app)
    return jsonify(spec)


@blueprint.get("/api/v1/docs")
def docs():
    return render_template("api_docs.html")


@blueprint.get("/api/v1/docs/assets/<path:name>")
def docs_assets(name: str):
    return send_from_directory(SWAGGER_UI, name, max_age=3600)


@blueprint.get("/problems/<slug>")
def problem_type(slug: str):
    if slug not in PROBLEM_TYPES:
        raise ApiError(404, "not-found", "Not Found", f"No problem type {slug!r}.")
    return {"type": f"/problems/{slug}", "description": PROBLEM_TYPES[slug]}
