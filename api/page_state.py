"""The search page's state as it lives in the URL, and the links that change one part of it.

Every view of the page (query, filters, sort, paging, expanded facets, timeline interval)
is a URL, so a view can be shared and the back button works. A link that changes one
thing keeps the rest; changing what matches goes back to page 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for

# URL parameters in the order links write them, so equal states get equal URLs.
ORDER = (
    "q",
    "source",
    "actor",
    "language",
    "year",
    "date_from",
    "date_to",
    "op",
    "sort",
    "per_page",
    "page",
    "more",
    "interval",
    "collapse",
)
LIST_PARAMS = ("source", "actor", "language", "year")
# Values a URL leaves out because they are what the page assumes anyway.
DEFAULTS = {
    "q": "",
    "op": "and",
    "sort": "relevance",
    "page": 1,
    "per_page": 10,
    "collapse": "story",
}
# What a change to these keeps: the page number (only paging and view switches do).
VIEW_PARAMS = ("page", "more", "interval", "per_page", "sort")


def _text(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@dataclass(frozen=True)
class PageState:
    args: dict  # validated schemas.PageArgs

    def params(self, **changes) -> list[tuple[str, str]]:
        """The state with `changes` applied, as (name, value) pairs; None removes."""
        merged = dict(self.args)
        if not set(changes) <= set(VIEW_PARAMS):
            merged["page"] = 1
        merged.update(changes)
        pairs: list[tuple[str, str]] = []
        for name in ORDER:
            value = merged.get(name)
            if value is None or value == DEFAULTS.get(name):
                continue
            if name in LIST_PARAMS:
                pairs.extend((name, _text(item)) for item in value)
            elif name == "more":
                if value:
                    pairs.append((name, ",".join(value)))
            else:
                pairs.append((name, _text(value)))
        return pairs

    def url(self, endpoint: str = "pages.search", values: dict | None = None, **changes) -> str:
        query = self.params(**changes)
        base = url_for(endpoint, **(values or {}))
        if not query:
            return base
        return base + "?" + urlencode(query)

    def here(self, endpoint: str = "pages.search", values: dict | None = None) -> str:
        """This exact state (page included), e.g. for a document's way back to its results."""
        return self.url(endpoint, values, page=self.args.get("page", 1))

    def selected(self, name: str, value: str) -> bool:
        return value in {_text(item) for item in self.args.get(name, ())}

    def toggle(self, name: str, value: str) -> str:
        """The state with `value` of list parameter `name` added or removed."""
        current = [_text(item) for item in self.args.get(name, ())]
        if value in current:
            current.remove(value)
        else:
            current.append(value)
        return self.url(**{name: current})

    def without(self, *names: str) -> str:
        return self.url(**dict.fromkeys(names))

    def filters_active(self) -> int:
        """How many filter values are chosen (for "Filters (2)" on a narrow screen)."""
        count = sum(len(self.args.get(name, ())) for name in LIST_PARAMS)
        return count + sum(1 for name in ("date_from", "date_to") if self.args.get(name))

    def hidden_fields(self, *skip: str) -> list[tuple[str, str]]:
        """The state as hidden form fields, for a form that sets only the other parameters."""
        skipped = {"page", *skip}
        return [(name, value) for name, value in self.params() if name not in skipped]

    def export_url(self, fmt: str, sort: str) -> str:
        """The export of every result in this state (query, filters) in `sort` order."""
        kept = {name for name in ORDER if name not in ("page", "per_page", "more", "interval")}
        query = [(name, value) for name, value in self.params(sort=sort) if name in kept]
        return url_for("search.export_results") + "?" + urlencode([("format", fmt), *query])
