"""Dates and sources: from the header and explicit attribution only."""

import datetime as dt

import pytest

from index.extract import dates, sources
from index.extract.clean import clean
from index.extract.layout import layout


def page(text):
    return layout(clean(text).text)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("14 Nov. 2019 -", dt.date(2019, 11, 14)),
        ("Last updated: 14 Nov. 2019 16:27", dt.date(2019, 11, 14)),
        ("Published May 24, 2017", dt.date(2017, 5, 24)),
        ("2017-05-24T10:00:00Z", dt.date(2017, 5, 24)),
        ("15:01 08/10/2014", dt.date(2014, 10, 8)),  # day-first by default
        ("05/24/2017", dt.date(2017, 5, 24)),  # month-first where day-first is impossible
        ("8. Oktober 2014", dt.date(2014, 10, 8)),
        ("Updated 4:20 p.m. Moscow Time", None),
        ("0:00 0:01:21 0:00", None),
        ("31/02/2014", None),
    ],
)
def test_date_in_a_header_line(line, expected):
    assert dates.date_in_line(line) == expected


def test_the_dateline_month_decides_an_ambiguous_numeric_date():
    text = "Title\n15:01 10/08/2014\nMOSCOW, October 8 (RIA Novosti) – The ministry said it acts."
    assert dates.find_date(page(text)) == dt.date(2014, 10, 8)


def test_a_dateline_needs_a_crawl_date_for_its_year():
    text = "HEADLINE\nSALVADOR, Feb 26 - Showers continued throughout the week in the cocoa zone."
    assert dates.find_date(page(text)) is None
    assert dates.find_date(page(text), "1987-02-27T00:00:00") == dt.date(1987, 2, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Headline\nMOSCOW, October 8 (RIA Novosti) – The ministry said it would act soon.",
            "RIA Novosti",
        ),
        (
            "Headline\nLONDON (Reuters) - The bank said it would raise rates again next month.",
            "Reuters",
        ),
        (
            "Headline\nThe bank said it would raise its rates next month as expected.\nReuter",
            "Reuters",
        ),
        (
            "Diplomats from NATO nations have told RFE/RL that the alliance will join.",
            "RFE/RL",
        ),
        (
            "Officials told Reuters and AFP that the talks had failed, according to the statement.",
            None,
        ),
        ("The agency Reuters was mentioned in passing by the minister in his long speech.", None),
    ],
)
def test_source_from_explicit_attribution_only(text, expected):
    assert sources.find_source(page(text)) == expected


def test_site_from_footer_or_url():
    assert (
        sources.find_site(["Join the GlobalSecurity.org mailing list"], None)
        == "GlobalSecurity.org"
    )
    assert sources.find_site([], "https://www.rferl.org/a/nato/28507000.html") == "RFE/RL"
    assert sources.find_site([], "https://news.example.com/x") == "news.example.com"
    assert sources.find_site(["Share this article"], None) is None
