"""The search page and the document page: HTML for people, over the same engine calls.

Rendered on the server with Jinja, so everything works with plain links and forms; the
script (static/app.js) only makes it quicker. Parameters are validated by the same
schemas as the JSON API; a bad one gets a friendly error page (api/errors.py) with 400.
"""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request

from api import document_fields, schemas
from api.errors import PAGES_BLUEPRINT, ApiError
from api.openapi import raise_unknown
from api.page_state import PageState
from api.routes.search import filters_from, refuse_if_partial, search_request
from api.timeline_view import timeline_view
from search.errors import NotSupported
from search.request import FACETS, MAX_FACET_SIZE

blueprint = Blueprint(PAGES_BLUEPRINT, __name__)

# Values a facet lists before "Show more".
FACET_LIMIT = 8
PER_PAGE_CHOICES = (10, 25, 50)
# Actors named under each hit; the document page lists them all.
HIT_ACTORS = 5
SIMILAR_LIMIT = 6

_MARK_RE = re.compile(r"<mark>")


def backend():
    return current_app.config["SIFT_INDEX"].backend


def page_args() -> dict:
    """The validated page parameters (raises ValidationError, shown as a 400 page)."""
    return schemas.load_args(schemas.PageArgs(), request.args)


def _without_empty_fields():
    """A plain form submits its empty fields (`date_from=`): drop them with one redirect."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if v.strip()]
    if len(pairs) == len(list(request.args.items(multi=True))):
        return None
    target = request.path + ("?" + urlencode(pairs) if pairs else "")
    return redirect(target, code=302)


@blueprint.get("/")
def search():
    cleaned = _without_empty_fields()
    if cleaned is not None:
        return cleaned
    args = page_args()
    state = PageState(args)
    more = set(args["more"])
    # Without a query every document is equally relevant: browse the archive newest first.
    sort = "newest" if not args["q"].strip() and args["sort"] == "relevance" else args["sort"]
    collapse = None if args["collapse"] == "none" else args["collapse"]
    try:
        results = _page_search(args, sort, collapse)
    except NotSupported:
        if "collapse" in request.args:
            raise
        # The page's default on a backend that keeps no stories (a cluster): every article.
        collapse = None
        results = _page_search(args, sort, collapse)
    listed = results.stories if collapse and results.stories is not None else results.total
    facets = {
        name: _facet_view(name, values, expanded=name in more)
        for name, values in results.facets.items()
    }
    return render_template(
        "search.html",
        state=state,
        args=args,
        sort=sort,
        results=results,
        facets=facets,
        timeline=timeline_view(backend(), args, state),
        first=(args["page"] - 1) * args["per_page"] + 1,
        last_page=max(1, -(-listed // args["per_page"])),
        per_page_choices=PER_PAGE_CHOICES,
        hit_actors=HIT_ACTORS,
    )


def _page_search(args: dict, sort: str, collapse: str | None):
    request = search_request(
        {**args, "sort": sort, "facets": FACETS, "facet_size": MAX_FACET_SIZE, "collapse": collapse}
    )
    return refuse_if_partial(backend().search(request))


def _facet_view(name: str, values, *, expanded: bool) -> dict:
    """What a facet panel shows: its top values (the newest years) plus every selected one.

    The engine is asked for up to MAX_FACET_SIZE values (counting costs the same), so the
    panel knows whether there are more to show.
    """
    if expanded:
        return {"values": values, "more": False, "expanded": True}
    unselected = [v for v in values if not v.selected]
    if name == "year":
        ranked = sorted(unselected, key=lambda v: v.value, reverse=True)
    else:
        ranked = sorted(unselected, key=lambda v: -v.count)
    top = {id(v) for v in ranked[:FACET_LIMIT]}
    shown = [v for v in values if v.selected or id(v) in top]
    return {"values": shown, "more": len(unselected) > FACET_LIMIT, "expanded": False}


@blueprint.get("/documents/<doc_id>")
def document(doc_id: str):
    args = page_args()
    state = PageState(args)
    view = backend().document(doc_id, args["q"] or None, keep_lines=True)
    if view is None:
        raise ApiError(404, "not-found", "Document not found", f"No document with id {doc_id!r}.")
    text_html, matches = _numbered_marks(view.text_html.strip())
    data = document_fields.record(view.document)
    return render_template(
        "document.html",
        state=state,
        args=args,
        doc=view.document,
        details=[(label, data[name]) for name, label in document_fields.PAGE_DETAILS if data[name]],
        view=view,
        text_html=text_html,
        matches=matches,
        similar=backend().similar(doc_id, SIMILAR_LIMIT) or [],
    )


def _numbered_marks(text_html: str) -> tuple[str, int]:
    """Give each <mark> an id (m1, m2, ...) so a link can jump to a match; and count them.

    `text_html` is the engine's escaped text, whose only tags are its own <mark>s.
    """
    numbers = itertools.count(1)
    marked = _MARK_RE.sub(lambda _: f'<mark id="m{next(numbers)}">', text_html)
    return marked, next(numbers) - 1


@blueprint.get("/help")
def help_page():
    if request.args:
        raise_unknown(list(request.args))
    return render_template("help.html")


@blueprint.get("/stories/<story_id>")
def story(story_id: str):
    if request.args:
        raise_unknown(list(request.args))
    view = backend().story(story_id)
    if view is None:
        raise ApiError(404, "not-found", "Story not found", f"No story with id {story_id!r}.")
    return render_template("story.html", story=view)


@blueprint.get("/actors/<name>")
def actor(name: str):
    args = schemas.load_args(schemas.ActorArgs(), request.args)
    view = backend().actor(name, args["q"], filters_from(args), args["op"], args["interval"])
    if view is None:
        raise ApiError(404, "not-found", "Actor not found", f"No document names {name!r}.")
    return render_template("actor.html", actor=view, args=args)


@blueprint.get("/compare")
def compare():
    args = schemas.load_args(schemas.CompareArgs(), request.args)
    result = backend().compare(args["q"], filters_from(args), args["op"], args["interval"])
    return render_template("compare.html", comparison=result, args=args)
