"""GET /api/v1/search, /timeline and /suggest."""

from __future__ import annotations

from flask import Blueprint, current_app, g

from api import schemas
from api.openapi import operation
from search.request import Filters, SearchRequest

blueprint = Blueprint("search", __name__, url_prefix="/api/v1")


def engine():
    return current_app.config["SIFT_INDEX"].engine


def filters_from(args: dict) -> Filters:
    return Filters(
        sources=tuple(args["source"]),
        actors=tuple(args["actor"]),
        languages=tuple(args["language"]),
        date_from=args["date_from"],
        date_to=args["date_to"],
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
    )


@blueprint.get("/search")
@operation(
    summary="Ranked search with snippets, facets and did-you-mean",
    args=schemas.SearchArgs,
    response=schemas.SearchOut,
    errors=(503,),
)
def search():
    results = engine().search(search_request(g.args))
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
    result = engine().timeline(args["q"], filters_from(args), args["op"], args["interval"])
    return schemas.instance(schemas.TimelineOut).dump(result)


@blueprint.get("/suggest")
@operation(
    summary="Completions for the text typed so far (actors, then words)",
    args=schemas.SuggestArgs,
    response=schemas.SuggestOut,
    errors=(503,),
)
def suggest():
    found = engine().suggest(g.args["q"], g.args["limit"])
    return schemas.instance(schemas.SuggestOut).dump({"q": g.args["q"], "suggestions": found})
