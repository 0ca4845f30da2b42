"""The search page's timeline: matches per year, month or day as bars that filter on click.

The interval follows the span of the matches unless the URL names one: years for an
archive, months once the matches fit in two years, days once they fit in two months.
So clicking a year's bar (a date range) shows that year's months, and so on down.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from api.page_state import PageState
from api.routes.search import filters_from

# Zoom in when the matches span at most this many years (then months).
MONTHS_WITHIN_YEARS = 2
MONTHS_WITHIN_MONTHS = 2
# More bars than this are too thin to read or click: fall back to the next coarser interval.
MAX_BARS = 160
# Axis labels shown at most (every n-th bar is labelled beyond that).
MAX_LABELS = 12
# A bar with any matches stays visible however tall the tallest is (percent).
MIN_BAR_PERCENT = 3
_COARSER = {"day": "month", "month": "year"}


@dataclass(frozen=True)
class Bar:
    key: str
    count: int
    percent: int
    label: str  # short axis text ("" when this bar is not labelled)
    minor: bool  # a label that narrow screens leave out (every other one)
    name: str  # full name for people and screen readers ("May 2017")
    href: str
    current: bool


@dataclass(frozen=True)
class TimelineView:
    interval: str
    bars: list[Bar]
    undated: int
    total: int
    auto: bool
    intervals: list[tuple[str, str, bool]]  # (interval, href, current)
    zoom_out: str | None  # link clearing the date range, when one is set


def timeline_view(engine, args: dict, state: PageState) -> TimelineView:
    filters = filters_from(args)
    interval = args["interval"]
    auto = interval is None
    timeline = engine.timeline(args["q"], filters, args["op"], interval or "year")
    if auto:
        for finer, within in (("month", MONTHS_WITHIN_YEARS), ("day", MONTHS_WITHIN_MONTHS)):
            keys = [b.key for b in timeline.buckets]
            if not keys or _span(keys[0], keys[-1]) > within:
                break
            timeline = engine.timeline(args["q"], filters, args["op"], finer)
    buckets = _filled(timeline.interval, {b.key: b.count for b in timeline.buckets})
    while len(buckets) > MAX_BARS and timeline.interval in _COARSER:
        timeline = engine.timeline(args["q"], filters, args["op"], _COARSER[timeline.interval])
        buckets = _filled(timeline.interval, {b.key: b.count for b in timeline.buckets})
    peak = max((count for _, count in buckets), default=0)
    every = max(1, -(-len(buckets) // MAX_LABELS))
    bars = []
    for index, (key, count) in enumerate(buckets):
        start, end = _range(key)
        percent = 0 if not count else max(MIN_BAR_PERCENT, round(100 * count / peak))
        bars.append(
            Bar(
                key=key,
                count=count,
                percent=percent,
                label=_short(key, index == 0) if index % every == 0 else "",
                minor=index % (2 * every) != 0,
                name=_name(key),
                href=state.url(date_from=start, date_to=end, interval=None),
                current=(args["date_from"], args["date_to"]) == (start, end),
            )
        )
    intervals = [
        (name, state.url(interval=name), name == timeline.interval)
        for name in ("year", "month", "day")
    ]
    ranged = args["date_from"] or args["date_to"]
    return TimelineView(
        interval=timeline.interval,
        bars=bars,
        undated=timeline.undated,
        total=timeline.total,
        auto=auto,
        intervals=intervals,
        zoom_out=state.without("date_from", "date_to", "interval") if ranged else None,
    )


def _months(key: str) -> int:
    """A bucket key as a month number (years count their first month)."""
    year, month = int(key[:4]), int(key[5:7]) if len(key) > 4 else 1
    return year * 12 + month - 1


def _span(first: str, last: str) -> int:
    """How many years (year keys) or months (month keys) the buckets cover."""
    if len(first) == 4:
        return int(last) - int(first) + 1
    return _months(last) - _months(first) + 1


def _filled(interval: str, counts: dict[str, int]) -> list[tuple[str, int]]:
    """Every bucket from the first to the last, empty ones at 0, so time reads evenly."""
    if not counts:
        return []
    keys = sorted(counts)
    first, last = keys[0], keys[-1]
    if interval == "year":
        names = [f"{year:04d}" for year in range(int(first), int(last) + 1)]
    elif interval == "month":
        months = range(_months(first), _months(last) + 1)
        names = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months]
    else:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        if (end - day).days > MAX_BARS:
            return sorted(counts.items())
        names = []
        while day <= end:
            names.append(day.isoformat())
            day += dt.timedelta(days=1)
    return [(name, counts.get(name, 0)) for name in names]


def _range(key: str) -> tuple[dt.date, dt.date]:
    """The first and last day a bucket covers."""
    parts = [int(part) for part in key.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)
    if len(parts) == 2:
        last_day = calendar.monthrange(parts[0], parts[1])[1]
        return dt.date(parts[0], parts[1], 1), dt.date(parts[0], parts[1], last_day)
    day = dt.date(*parts)
    return day, day


def _name(key: str) -> str:
    start, _ = _range(key)
    if len(key) == 4:
        return key
    if len(key) == 7:
        return f"{calendar.month_name[start.month]} {start.year}"
    return f"{start.day} {calendar.month_name[start.month]} {start.year}"


def _short(key: str, first: bool) -> str:
    """Axis text: years in full; months and days abbreviated, with the year where it turns."""
    start, _ = _range(key)
    if len(key) == 4:
        return key
    if len(key) == 7:
        month = calendar.month_abbr[start.month]
        return f"{month} {start.year}" if first or start.month == 1 else month
    return (
        f"{start.day} {calendar.month_abbr[start.month]}"
        if first or start.day == 1
        else str(start.day)
    )
