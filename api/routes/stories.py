"""Stories (one event, many reports), actors (who appears with whom), source comparison."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, g

from api import schemas
from api.errors import ApiError
from api.openapi import operation
from api.routes.search import filters_from

blueprint = Blueprint("stories", __name__, url_prefix="/api/v1")


def backend():
    return current_app.config["SIFT_INDEX"].backend


@blueprint.get("/stories/<story_id>")
@operation(
    summary="One story: its members in date order, with what each adds to the first",
    response=schemas.StoryOut,
    errors=(404, 501, 503),
)
def get_story(story_id: str):
    view = backend().story(story_id)
    if view is None:
        raise ApiError(404, "not-found", "Not Found", f"No story with id {story_id!r}.")
    return schemas.StoryOut().dump(view)


@blueprint.get("/actors/<name>")
@operation(
    summary="An actor: mentions over time, sources, and who appears with them more than chance",
    args=schemas.ActorArgs,
    response=schemas.ActorViewOut,
    errors=(404, 501, 503),
)
def get_actor(name: str):
    args = g.args
    view = backend().actor(name, args["q"], filters_from(args), args["op"], args["interval"])
    if view is None:
        raise ApiError(404, "not-found", "Not Found", f"No document names {name!r}.")
    return schemas.ActorViewOut().dump(_with_searches(view, args))


@blueprint.get("/compare")
@operation(
    summary="How sources cover the matches: per source, over time, actors, distinctive words",
    args=schemas.CompareArgs,
    response=schemas.ComparisonOut,
    errors=(501, 503),
)
def compare():
    args = g.args
    result = backend().compare(args["q"], filters_from(args), args["op"], args["interval"])
    return schemas.ComparisonOut().dump(result)


def _with_searches(view, args: dict) -> dict:
    """The view with, for each related actor, the search that shows their articles together."""
    related = []
    for actor in view.related:
        query = {**_search_params(args), "actor": [*args["actor"], view.name]}
        query["q"] = f'{args["q"]} actor:"{actor.name}"'.strip()
        related.append({**actor.__dict__, "search": "/api/v1/search?" + urlencode(query, True)})
    return {**view.__dict__, "related": related}


def _search_params(args: dict) -> dict:
    params = {key: args[key] for key in ("source", "language", "year") if args[key]}
    for key in ("date_from", "date_to"):
        if args[key]:
            params[key] = args[key].isoformat()
    if args["op"] != "and":
        params["op"] = args["op"]
    return params
