"""Publication date from the article's header or dateline, never from its body.

1. A date with a year on a header line ("14 Nov. 2019 -", "Last updated: 14 Nov. 2019",
   "15:01 08/10/2014", "2017-05-24T10:00"). Numeric dates are read day-first unless that
   is impossible, or unless the dateline's month says otherwise ("MOSCOW, October 8" makes
   08/10/2014 the 8th of October).
2. Else a dateline at the start of a header line or of the first paragraph ("SALVADOR,
   Feb 26 -"), with the year of the crawl (`fetched`), or the year before when the date
   would otherwise fall after the crawl. No crawl date, no year: no date.
Time-only strings ("Updated 4:20 p.m.") and dates inside the body ("in September 2014")
are never read: a missing date is better than an invented one.
"""

from __future__ import annotations

import datetime as dt
import re

from index.extract.layout import Layout, is_stamp
from index.extract.months import MONTHS

_MONTH = "(?i:" + "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True)) + ")"

YEAR = re.compile(r"\d{4}")
ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
NUMERIC = re.compile(r"(?<![\d./])(\d{1,2})([./])(\d{1,2})\2(\d{4})(?![\d./])")
DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er|º|°)?\.?\s+(?:de\s+)?({_MONTH})\.?,?\s+(?:de\s+)?(\d{{4}})(?!\d)"
)
MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)")
# A dateline's place: "MOSCOW", "RENO, Nev.", "FRANKFURT AM MAIN", "Санкт-Петербург", then
# a comma.
# Each word's hyphens are inside it ("Санкт-Петербург") and words are parted by one space,
# so no two parts of the pattern can match the same character: matching stays linear on
# any line (a hyphen both in words and between them made "A-A-A-..." backtrack).
_CAPITAL = "[A-ZÀ-ÞĀ-ſА-ЯЁ]"
_PLACE_WORD = rf"{_CAPITAL}[\w.'’]*(?:-[\w.'’]+)*"
_PLACE = (
    rf"{_PLACE_WORD}(?: (?:{_PLACE_WORD}|de|la|del|do|da|du|el|al|am)){{0,3}}"
    r"(?:,[ \t]*[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}){0,2},"
)
# "MOSCOW, October 8", "RENO, Nev., Mar 4", "VANCOUVER, British Columbia, March 2"
DATELINE = re.compile(
    rf"^{_PLACE}[ \t]+"
    rf"({_MONTH})\.?[ \t]+(\d{{1,2}})(?!\d)(?:,?[ \t]+(\d{{4}})(?!\d))?"
)

# The day first, as most of Europe writes it: "Berlin, 12. März 2021 –", "Bruxelles, le
# 19 janvier 2022", "Alicante, jueves 9 de febrero de 2023.", "МОСКВА, 3 марта. /ТАСС/.",
# "Brasília, 1º de janeiro de 2023"; a weekday or article may come between.
DAY_FIRST_DATELINE = re.compile(
    rf"^{_PLACE}[ \t]+(?:[^\W\d_]+,?[ \t]+)?(?:(?i:le|el)[ \t]+)?"
    rf"(\d{{1,2}})(?:\.|er|º|°)?[ \t]+(?:de[ \t]+)?({_MONTH})\.?(?![\w])"
    r"(?:,?[ \t]+(?:de[ \t]+)?(\d{4})(?!\d))?"
)
NUMERIC_DATELINE = re.compile(rf"^{_PLACE}[ \t]+(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}})(?![\d.])")

MIN_YEAR, MAX_YEAR = 1800, 2100
# A dateline up to this many days after the crawl is read as this year's (clock skew).
FUTURE_SLACK = dt.timedelta(days=2)


def _date(year: int, month: int, day: int) -> dt.date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def date_in_line(line: str, dateline_month: int | None = None) -> dt.date | None:
    """The first date with a year in `line` (day-first for numeric dates), else None."""
    if not YEAR.search(line):
        return None
    found: list[tuple[int, dt.date]] = []
    for m in ISO.finditer(line):
        d = _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            found.append((m.start(), d))
    for m in NUMERIC.finditer(line):
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        month_first = a <= 12 < b or (a <= 12 and b <= 12 and dateline_month == a != b)
        d = _date(year, a, b) if month_first else _date(year, b, a)
        if d:
            found.append((m.start(), d))
    for m in DAY_MONTH_YEAR.finditer(line):
        d = _date(int(m.group(3)), MONTHS[m.group(2).casefold()], int(m.group(1)))
        if d:
            found.append((m.start(), d))
    for m in MONTH_DAY_YEAR.finditer(line):
        d = _date(int(m.group(3)), MONTHS[m.group(1).casefold()], int(m.group(2)))
        if d:
            found.append((m.start(), d))
    return min(found)[1] if found else None


def _dateline(layout: Layout) -> tuple[int, int, int | None] | None:
    """(month, day, year or None) of the dateline opening a header line or the first
    paragraph, month first ("MOSCOW, October 8") or day first ("Paris, 4 septembre")."""
    for line in [*layout.header, layout.first_paragraph]:
        m = DATELINE.match(line)
        if m:
            return MONTHS[m.group(1).casefold()], int(m.group(2)), _year(m.group(3))
        m = DAY_FIRST_DATELINE.match(line)
        if m:
            return MONTHS[m.group(2).casefold()], int(m.group(1)), _year(m.group(3))
        m = NUMERIC_DATELINE.match(line)
        if m:  # "Berlin, 14.09.2022 –": day first
            return int(m.group(2)), int(m.group(1)), int(m.group(3))
    return None


def _year(digits: str | None) -> int | None:
    return int(digits) if digits else None


def _stamp_date(layout: Layout) -> dt.date | None:
    """The date of a short "updated"/"published" line closing the article."""
    line = layout.last_line
    return date_in_line(line) if is_stamp(line) else None


def crawl_date(fetched: str | None) -> dt.date | None:
    """The date part of an ISO `fetched` stamp, or None if absent or unreadable."""
    if not fetched:
        return None
    try:
        return dt.date.fromisoformat(fetched.strip()[:10])
    except ValueError:
        return None


def find_date(layout: Layout, fetched: str | None = None) -> dt.date | None:
    """The publication date the header, dateline or closing time stamp states, else None."""
    dateline = _dateline(layout)
    month = dateline[0] if dateline else None
    for line in layout.header:
        d = date_in_line(line, month)
        if d:
            return d
    if dateline is not None and dateline[2] is not None:
        return _date(dateline[2], month, dateline[1])
    stamped = _stamp_date(layout)
    if stamped or dateline is None:
        return stamped
    crawled = crawl_date(fetched)
    if crawled is None:
        return None
    day = dateline[1]
    d = _date(crawled.year, month, day)
    if d and d > crawled + FUTURE_SLACK:
        d = _date(crawled.year - 1, month, day)
    return d
