"""marshmallow schemas for every parameter, body and response of the HTTP API.

Validation happens here, at the edge, and never coerces silently: `page=abc` is a 400
naming `page`, unknown parameters are refused, and a value given twice where one is
expected is an error rather than a guess. The same schemas generate the OpenAPI document.
"""

from __future__ import annotations

import re
import threading

from marshmallow import (
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    post_load,
    validate,
    validates_schema,
)
from werkzeug.datastructures import MultiDict

from api import document_fields
from search.parser import MAX_QUERY_CHARS
from search.request import (
    COLLAPSES,
    FACETS,
    INTERVALS,
    MAX_FACET_SIZE,
    MAX_PER_PAGE,
    MAX_RESULT_WINDOW,
    OPS,
    SORTS,
)
from search.stored import HEAD_CHARS

MAX_FILTER_VALUES = 50
EXPORT_FORMATS = ("csv", "jsonl")
PAGE_COLLAPSES = (*COLLAPSES, "none")
# Sources one comparison reads samples of (each up to search/analysis.py's TERM_SAMPLE).
MAX_COMPARED_SOURCES = 10
MAX_VALUE_CHARS = 200


class StrictInteger(fields.Integer):
    """An integer written with ASCII digits only ("5", not "5.0", " 5" or "٥")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,9}", value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class CommaList(fields.Field):
    """A comma-separated list of choices (`facets=source,year`); empty means none."""

    def __init__(self, choices: tuple[str, ...], **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Must be a comma-separated string.")
        items = [item.strip() for item in value.split(",") if item.strip()]
        unknown = [item for item in items if item not in self.choices]
        if unknown:
            raise ValidationError(
                f"Unknown value(s) {unknown[:5]}; choose from {list(self.choices)}."
            )
        return tuple(dict.fromkeys(items))

    def _serialize(self, value, attr, obj, **kwargs):
        return ",".join(value) if value is not None else None


def _text(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=MAX_VALUE_CHARS), **kwargs)


def _values(description: str):
    return fields.List(
        _text(),
        validate=validate.Length(max=MAX_FILTER_VALUES),
        load_default=list,
        metadata={"description": description},
    )


class FilterArgs(Schema):
    """Filters shared by search, timeline and export."""

    class Meta:
        unknown = RAISE

    q = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_QUERY_CHARS),
        metadata={"description": "Query text; empty = all documents."},
    )
    source = _values("Only these sources (repeat for OR).")
    actor = _values("Only documents naming these actors (repeat for OR; aliases resolve).")
    language = _values("Only these languages (ISO 639-1, or `und`).")
    date_from = fields.Date(
        format="%Y-%m-%d", load_default=None, metadata={"description": "Inclusive, YYYY-MM-DD."}
    )
    date_to = fields.Date(
        format="%Y-%m-%d", load_default=None, metadata={"description": "Inclusive, YYYY-MM-DD."}
    )
    year = fields.List(
        StrictInteger(validate=validate.Range(min=1, max=9999)),
        validate=validate.Length(max=MAX_FILTER_VALUES),
        load_default=list,
        metadata={"description": "Only documents dated in these years (repeat for OR)."},
    )
    op = fields.String(
        load_default="and",
        validate=validate.OneOf(OPS),
        metadata={"description": "How plain words combine."},
    )

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("must not be after date_to", field_name="date_from")


class SearchArgs(FilterArgs):
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))
    page = StrictInteger(
        load_default=1,
        validate=validate.Range(min=1),
        metadata={"description": "1-based page number."},
    )
    per_page = StrictInteger(load_default=10, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    facets = CommaList(
        FACETS,
        load_default=FACETS,
        metadata={
            "description": "Comma list of source,actor,language,year.",
            "pattern": r"^[\s,]*(?:(?:" + "|".join(FACETS) + r")\s*(?:,[\s,]*|$))*$",
        },
    )
    facet_size = StrictInteger(
        load_default=10,
        validate=validate.Range(min=1, max=MAX_FACET_SIZE),
        metadata={"description": "Values listed per facet at most."},
    )
    expand = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Reorder the matches using words their best hits share "
            "(pseudo-relevance feedback); the matches and counts do not change."
        },
    )
    collapse = fields.String(
        load_default=None,
        validate=validate.OneOf(COLLAPSES),
        metadata={
            "description": "`story`: one hit per story (its best-ranked member), each with "
            "the story's size, sources and first report."
        },
    )

    @validates_schema
    def _within_window(self, data, **kwargs):
        if data.get("page", 1) * data.get("per_page", 10) > MAX_RESULT_WINDOW:
            raise ValidationError(
                f"page * per_page must be at most {MAX_RESULT_WINDOW}; narrow the query or "
                "use the export",
                field_name="page",
            )


class TimelineArgs(FilterArgs):
    interval = fields.String(load_default="year", validate=validate.OneOf(INTERVALS))


class ActorArgs(FilterArgs):
    interval = fields.String(load_default="year", validate=validate.OneOf(INTERVALS))


class CompareArgs(ActorArgs):
    @validates_schema
    def _sources_given(self, data, **kwargs):
        if not data.get("source"):
            raise ValidationError("give the sources to compare (repeat `source`)", "source")
        if len(data["source"]) > MAX_COMPARED_SOURCES:
            raise ValidationError(
                f"compare at most {MAX_COMPARED_SOURCES} sources at once", "source"
            )


class ExportArgs(FilterArgs):
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))
    format = fields.String(
        load_default="jsonl",
        validate=validate.OneOf(EXPORT_FORMATS),
        metadata={"description": "`csv` or `jsonl` (one JSON document per line)."},
    )


class PageArgs(SearchArgs):
    """The search page's URL: search's parameters (facets are the page's own) and view state."""

    class Meta:
        exclude = ("facets", "facet_size")

    more = CommaList(
        FACETS,
        load_default=(),
        metadata={"description": "Facets listed in full rather than their top values."},
    )
    interval = fields.String(
        load_default=None,
        validate=validate.OneOf(INTERVALS),
        metadata={"description": "Timeline bars per year, month or day (default: by span)."},
    )
    collapse = fields.String(
        load_default="story",
        validate=validate.OneOf(PAGE_COLLAPSES),
        metadata={"description": "`story` (default): one result per story; `none`: every article."},
    )


class SuggestArgs(Schema):
    class Meta:
        unknown = RAISE

    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_VALUE_CHARS),
        metadata={"description": "The text typed so far."},
    )
    limit = StrictInteger(load_default=10, validate=validate.Range(min=1, max=50))


class SimilarArgs(Schema):
    class Meta:
        unknown = RAISE

    limit = StrictInteger(load_default=10, validate=validate.Range(min=1, max=50))


class DocumentArgs(Schema):
    class Meta:
        unknown = RAISE

    q = fields.String(
        load_default=None,
        validate=validate.Length(max=MAX_QUERY_CHARS),
        metadata={"description": "Mark this query's matches in `text_html`."},
    )
    text_offset = StrictInteger(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "The text from this character on (for texts over `text_length`)."},
    )
    text_length = StrictInteger(
        load_default=HEAD_CHARS,
        validate=validate.Range(min=1, max=HEAD_CHARS),
        metadata={"description": f"At most this many characters of the text (≤ {HEAD_CHARS:,})."},
    )


class ActorIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_VALUE_CHARS))
    type = fields.String(load_default=None, validate=validate.OneOf(["person", "organisation"]))


class ActorField(fields.Field):
    """An actor given as a plain name or as {name, type}."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and 0 < len(value.strip()) <= MAX_VALUE_CHARS:
            return value.strip()
        if isinstance(value, dict):
            return ActorIn().load(value)
        raise ValidationError("An actor is a name or an object {name, type}.")


class DocumentIn(Schema):
    """A document written through the API (fields as in JSON input files)."""

    class Meta:
        unknown = INCLUDE  # unknown fields are kept, not indexed (as in input files)

    id = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=256),
            validate.Regexp(
                r"^[^/\x00-\x1f]+$", error="must not contain '/' or control characters"
            ),
        ],
    )
    text = fields.String(load_default=None)
    body = fields.String(load_default=None)
    title = fields.String(load_default=None, validate=validate.Length(max=1000))
    source = fields.String(load_default=None, validate=validate.Length(max=MAX_VALUE_CHARS))
    date = fields.String(load_default=None, metadata={"description": "ISO 8601 date."})
    url = fields.String(load_default=None, validate=validate.Length(max=2000))
    language = fields.String(load_default=None, validate=validate.Length(max=12))
    fetched = fields.String(load_default=None, metadata={"description": "ISO 8601 date-time."})
    actors = fields.List(ActorField(), load_default=None, validate=validate.Length(max=500))

    @validates_schema
    def _has_text(self, data, **kwargs):
        if data.get("text") is None and data.get("body") is None:
            raise ValidationError("'text' (or 'body') is required", field_name="text")

    @post_load
    def _drop_unset(self, data, **kwargs):
        return {key: value for key, value in data.items() if value is not None}


_instances = threading.local()


def instance(cls: type[Schema]) -> Schema:
    """One reusable instance per schema class and thread: building a marshmallow schema
    (copying its fields, nested schemas on first use) cost about as much as dumping a
    whole search response, on every request."""
    cache = getattr(_instances, "by_class", None)
    if cache is None:
        cache = _instances.by_class = {}
    found = cache.get(cls)
    if found is None:
        found = cache[cls] = cls()
    return found


def load_args(schema: Schema, args: MultiDict) -> dict:
    """Load query parameters: list fields take every value, others exactly one."""
    data: dict[str, object] = {}
    errors: dict[str, list[str]] = {}
    for name in args:
        values = args.getlist(name)
        field = schema.fields.get(name)
        if isinstance(field, fields.List):
            data[name] = values
        elif len(values) > 1:
            errors[name] = ["Given more than once; expected a single value."]
        else:
            data[name] = values[0]
    if errors:
        raise ValidationError(errors)
    return schema.load(data)


# -- responses ---------------------------------------------------------------------------


class FacetValueOut(Schema):
    value = fields.String()
    count = fields.Integer(metadata={"description": "Articles."})
    selected = fields.Boolean()
    stories = fields.Integer(
        allow_none=True,
        metadata={"description": "With `collapse=story`: stories among those articles."},
    )

    @post_dump
    def _stories_only_when_collapsed(self, data, **kwargs):
        if data.get("stories") is None:
            data.pop("stories", None)
        return data


class FirstReportOut(Schema):
    id = fields.String()
    source = fields.String(allow_none=True)
    date = fields.Date(allow_none=True)


class StorySummaryOut(Schema):
    id = fields.String()
    size = fields.Integer()
    sources = fields.List(fields.String())
    first = fields.Nested(FirstReportOut)


class HitOut(Schema):
    id = fields.String()
    score = fields.Float()
    title = fields.String()
    source = fields.String(allow_none=True)
    date = fields.Date(allow_none=True)
    language = fields.String()
    actors = fields.List(fields.String())
    snippet = fields.String(metadata={"description": "HTML: escaped text, matches in <mark>."})
    story = fields.Method(
        "_story",
        metadata={
            "description": "The story id; with `collapse=story`, the story: "
            "{id, size, sources, first: {id, source, date}}."
        },
    )

    def _story(self, hit):
        if hit.story_summary is not None:
            return StorySummaryOut().dump(hit.story_summary)
        return hit.story or None


class FacetsOut(Schema):
    source = fields.List(fields.Nested(FacetValueOut))
    actor = fields.List(fields.Nested(FacetValueOut))
    language = fields.List(fields.Nested(FacetValueOut))
    year = fields.List(fields.Nested(FacetValueOut))


class SearchOut(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    took_ms = fields.Float()
    hits = fields.List(fields.Nested(HitOut))
    facets = fields.Nested(FacetsOut)
    suggestion = fields.String(allow_none=True)
    version = fields.String(metadata={"description": "The index version that answered."})
    # Shadows Schema.partial (load's option) on the class only: instances set their own.
    partial = fields.Boolean(  # type: ignore[assignment]
        metadata={"description": "Present (true) only when a cluster shard had no live replica."}
    )
    missing_shards = fields.List(
        fields.Integer(), metadata={"description": "With `partial`: the shards not searched."}
    )
    stories = fields.Integer(
        allow_none=True,
        metadata={"description": "Stories matched (`total` counts articles)."},
    )

    @post_dump
    def _complete_answers_say_nothing(self, data, **kwargs):
        if not data.get("partial"):
            data.pop("partial", None)
            data.pop("missing_shards", None)
        if data.get("stories") is None:
            data.pop("stories", None)
        return data


class StoryMemberOut(Schema):
    id = fields.String()
    title = fields.String()
    source = fields.String(allow_none=True)
    date = fields.Date(allow_none=True)
    adds = fields.List(
        fields.String(),
        metadata={"description": "Its sentences the earliest member does not have."},
    )


class StoryOut(Schema):
    id = fields.String()
    size = fields.Integer()
    sources = fields.List(fields.String())
    members = fields.List(fields.Nested(StoryMemberOut))


class CountOut(Schema):
    value = fields.String()
    count = fields.Integer()


class RelatedActorOut(Schema):
    name = fields.String()
    type = fields.String(allow_none=True)
    count = fields.Integer(metadata={"description": "Articles naming both."})
    score = fields.Float(metadata={"description": "JLH significance (Elasticsearch's)."})
    search = fields.String(metadata={"description": "The search listing those articles."})


class ActorViewOut(Schema):
    name = fields.String()
    type = fields.String(allow_none=True)
    total = fields.Integer()
    timeline = fields.List(
        fields.Nested("BucketOut"), attribute="timeline.buckets", data_key="timeline"
    )
    undated = fields.Integer(attribute="timeline.undated")
    sources = fields.List(fields.Nested(CountOut))
    related = fields.List(fields.Nested(RelatedActorOut))


class TermOut(Schema):
    term = fields.String()
    count = fields.Integer()
    score = fields.Float()


class SourceProfileOut(Schema):
    source = fields.String()
    total = fields.Integer()
    timeline = fields.List(
        fields.Nested("BucketOut"), attribute="timeline.buckets", data_key="timeline"
    )
    undated = fields.Integer(attribute="timeline.undated")
    actors = fields.List(fields.Nested(CountOut))
    terms = fields.List(fields.Nested(TermOut))


class ComparisonOut(Schema):
    sources = fields.List(fields.Nested(SourceProfileOut))


DocumentOut = Schema.from_dict(
    {
        **document_fields.schema_fields(),
        "text_html": fields.String(
            metadata={"description": "Escaped text with `q`'s matches marked."}
        ),
        "text_truncated": fields.Boolean(
            metadata={"description": "Present (true) only when `text` is part of the text."}
        ),
        "text_offset": fields.Integer(
            metadata={
                "description": "Where `text` starts in the whole text (with `text_truncated`)."
            }
        ),
        "text_full_length": fields.Integer(
            metadata={"description": "Characters in the whole text (with `text_truncated`)."}
        ),
        "story": fields.String(
            allow_none=True, metadata={"description": "The story it belongs to (/stories/<id>)."}
        ),
    },
    name="DocumentOut",
)
# One line of a JSON Lines export (CSV has the same columns, lists joined by "; ").
ExportRecordOut = Schema.from_dict(document_fields.schema_fields(), name="ExportRecordOut")


class SimilarOut(Schema):
    id = fields.String()
    hits = fields.List(fields.Nested(HitOut))


class CompletionOut(Schema):
    text = fields.String()
    kind = fields.String()
    count = fields.Integer()


class SuggestOut(Schema):
    q = fields.String()
    suggestions = fields.List(fields.Nested(CompletionOut))


class BucketOut(Schema):
    key = fields.String()
    count = fields.Integer()


class TimelineOut(Schema):
    interval = fields.String()
    buckets = fields.List(fields.Nested(BucketOut))
    undated = fields.Integer()
    total = fields.Integer()


class StatsOut(Schema):
    documents = fields.Integer()
    index_bytes = fields.Integer()
    generation = fields.String()
    last_reindex = fields.String(allow_none=True)
    sources = fields.List(fields.Nested(FacetValueOut))
    languages = fields.List(fields.Nested(FacetValueOut))
    undated = fields.Integer()


class WriteOut(Schema):
    status = fields.String(
        metadata={
            "description": "`applied` (searchable now) or `accepted` "
            "(durable, searchable within seconds)."
        }
    )
    ids = fields.List(fields.String())
    seq = fields.Integer(metadata={"description": "Journal sequence number of the write."})


class HealthOut(Schema):
    status = fields.String()


class ProblemOut(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
