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

from index.extract.layout import Layout

_MONTH_NAMES = {
    1: "january jan janvier janv januar jänner enero ene gennaio gen januari janeiro",
    2: "february feb febr février fevrier févr fevr februar febrero febbraio februari "
    "fevereiro fev",
    3: "march mar mars märz maerz marzo maart março marco",
    4: "april apr avril avr abril aprile",
    5: "may mai mayo maggio mei maio",
    6: "june jun juin juni junio giugno junho",
    7: "july jul juillet juil juli julio luglio julho",
    8: "august aug août aout agosto augustus ago",
    9: "september sep sept septembre septiembre settembre setembro set",
    10: "october oct octobre oktober octubre ottobre oktober outubro okt ott out",
    11: "november nov novembre noviembre novembro",
    12: "december dec décembre decembre dezember diciembre dicembre dezembro dez dic",
}
MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH = "(?i:" + "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True)) + ")"

YEAR = re.compile(r"\d{4}")
ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
NUMERIC = re.compile(r"(?<![\d./])(\d{1,2})([./])(\d{1,2})\2(\d{4})(?![\d./])")
DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:de\s+)?({_MONTH})\.?,?\s+(?:de\s+)?(\d{{4}})(?!\d)"
)
MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)")
# "MOSCOW, October 8", "RENO, Nev., Mar 4", "VANCOUVER, British Columbia, March 2"
# The words are possessive (`*+`): a word never gives back a hyphen to the separator, which
# could only split it into more words; trying every split of "A-A-A-..." took minutes.
DATELINE = re.compile(
    r"^[A-ZÀ-Þ][\w.'’-]*+(?:[ -](?:[A-ZÀ-Þ][\w.'’-]*+|de|la|del|do|da|du|el|al)){0,3}"
    r"(?:,[ \t]*[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}){0,2},[ \t]+"
    rf"({_MONTH})\.?[ \t]+(\d{{1,2}})(?!\d)(?:,?[ \t]+(\d{{4}})(?!\d))?"
)

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


def _dateline(layout: Layout) -> re.Match | None:
    for line in [*layout.header, layout.first_paragraph]:
        m = DATELINE.match(line)
        if m:
            return m
    return None


def crawl_date(fetched: str | None) -> dt.date | None:
    """The date part of an ISO `fetched` stamp, or None if absent or unreadable."""
    if not fetched:
        return None
    try:
        return dt.date.fromisoformat(fetched.strip()[:10])
    except ValueError:
        return None


def find_date(layout: Layout, fetched: str | None = None) -> dt.date | None:
    """The publication date the header or dateline states, else None."""
    dateline = _dateline(layout)
    month = MONTHS[dateline.group(1).casefold()] if dateline else None
    for line in layout.header:
        d = date_in_line(line, month)
        if d:
            return d
    if dateline is None:
        return None
    day = int(dateline.group(2))
    if dateline.group(3):
        return _date(int(dateline.group(3)), month, day)
    crawled = crawl_date(fetched)
    if crawled is None:
        return None
    d = _date(crawled.year, month, day)
    if d and d > crawled + FUTURE_SLACK:
        d = _date(crawled.year - 1, month, day)
    return d
