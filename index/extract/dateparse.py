"""The slow path for publication dates beyond English: dateparser, in the article's language,
on the header only, when dates.py's own patterns found nothing.

dates.py reads the usual datelines and time stamps of every language Sift stems in about
0.06 ms an article; dateparser knows many more written forms ("19-08-2022", "2 mai
2023 à 19h47") but costs 6-16 ms an article and, run first, was less accurate on the
labelled set (docs/benchmarks.md). So it only sees what the fast path left: header
lines, the dateline opening the first paragraph and a closing time stamp, never the body;
English keeps the fast path alone (its CoNLL and Reuters figures are held to it). Only
dates with day, month and year count: a year is never guessed.
"""

from __future__ import annotations

import datetime as dt
import re

from index.extract.dates import crawl_date
from index.extract.layout import Layout, is_stamp

# Languages dateparser is asked to read (those Sift stems, English excluded: see above).
LANGUAGES = frozenset({"de", "fr", "es", "it", "pt", "nl", "pl", "ru", "uk"})
# The dateline at the start of the first paragraph: up to the first dash, at most this long.
DATELINE_CHARS = 60
DATELINE_END = re.compile(r"\s[–—-]\s|\.-|\(")
SETTINGS = {"REQUIRE_PARTS": ["day", "month", "year"], "DATE_ORDER": "DMY"}


def header_zone(layout: Layout) -> list[str]:
    """The lines a publication date may be read from: header, dateline, closing stamp."""
    zone = list(layout.header)
    opening = layout.first_paragraph[:DATELINE_CHARS]
    end = DATELINE_END.search(opening)
    if end:
        zone.append(opening[: end.start()])
    last = layout.last_line
    if is_stamp(last):
        zone.append(last)
    return zone


def parsed_date(layout: Layout, language: str | None, fetched: str | None) -> dt.date | None:
    """The first full date dateparser reads in the header zone, in `language`, else None.
    A date after the crawl (`fetched`, with two days' slack) is not a publication date."""
    if language not in LANGUAGES:
        return None
    zone = header_zone(layout)
    if not zone:
        return None
    from dateparser.search import search_dates  # 0.1 s to import: only when needed

    latest = crawl_date(fetched)
    for line in zone:
        for _, found in search_dates(line, languages=[language], settings=SETTINGS) or ():
            day = found.date()
            if latest is None or day <= latest + dt.timedelta(days=2):
                return day
    return None
