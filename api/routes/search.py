"""GET /api/v1/search, /timeline, /suggest and /export."""

from __future__ import annotations

import itertools

from flask import Blueprint, current_app, g, stream_with_context

from api import export, schemas
from api.errors import RETRY_AFTER_S, ApiError
from api.openapi import operation
from api.output import Response
from search.request import Filters, SearchRequest

blueprint = Blueprint("search", __name__, url_prefix="/api/v1")


def backend():
    return current_app.config["SIFT_INDEX"].backend


def filters_from(args: dict) -> Filters:
    return Filters(
        sources=tuple(args["source"]),
        actors=tuple(args["actor"]),
        languages=tuple(args["language"]),
        date_from=args["date_from"],
        date_to=args["date_to"],
        years=tuple(args["year"]),
    )


def search_request(args: dict) -> SearchRequest:
    return SearchRequest(
        q=args["q"],
        filters=filters_from(args),
        op=args["op"],
        sort=args["sort"],
        page=args["page"],
        per_page=args["per_page"],
        facets=args["facets"],
        facet_size=args["facet_size"],
        expand=args["expand"],
    )


@blueprint.get("/search")
@operation(
    summary="Ranked search with snippets, facets and did-you-mean",
    args=schemas.SearchArgs,
    response=schemas.SearchOut,
    errors=(503,),
)
def search():
    results = backend().search(search_request(g.args))
    if results.partial and current_app.config["SIFT"].cluster_partial == "fail":
        raise ApiError(
            503,
            "partial-results",
            "Partial results",
            f"Shards {results.missing_shards} have no live replica; the answer would be partial.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return schemas.instance(schemas.SearchOut).dump(results)


@blueprint.get("/timeline")
@operation(
    summary="Matching documents per year, month or day, with an undated count",
    args=schemas.TimelineArgs,
    response=schemas.TimelineOut,
    errors=(503,),
)
def timeline():
    args = g.args
    result = backend().timeline(args["q"], filters_from(args), args["op"], args["interval"])
    return schemas.instance(schemas.TimelineOut).dump(result)


@blueprint.get("/suggest")
@operation(
    summary="Completions for the text typed so far (actors, then words)",
    args=schemas.SuggestArgs,
    response=schemas.SuggestOut,
    errors=(503,),
)
def suggest():
    found = backend().suggest(g.args["q"], g.args["limit"])
    return schemas.instance(schemas.SuggestOut).dump({"q": g.args["q"], "suggestions": found})


@blueprint.get("/export")
@operation(
    summary="Every matching document (not one page), streamed as CSV or JSON Lines",
    args=schemas.ExportArgs,
    response=schemas.ExportRecordOut,
    content_type=export.MEDIA_TYPES["jsonl"],
    text_types=(export.MEDIA_TYPES["csv"],),
    errors=(503,),
)
def export_results():
    args = g.args
    docs = backend().export(args["q"], filters_from(args), args["op"], args["sort"])
    # Take the first document now, so a missing index or an over-complex query is
    # answered as a problem before the streamed response starts.
    first = list(itertools.islice(docs, 1))
    fmt = args["format"]
    body = export.WRITERS[fmt](itertools.chain(first, docs))
    return Response(
        stream_with_context(body),
        mimetype=export.MEDIA_TYPES[fmt].split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="sift-export.{fmt}"'},
    )
