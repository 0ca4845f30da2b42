"""The timeline's buckets: continuous time, the dates a bar stands for, and its names."""

from __future__ import annotations

import datetime as dt

from api.timeline_view import _filled, _name, _range, _span


def test_buckets_are_filled_across_gaps_and_year_ends():
    assert _filled("year", {"2015": 2, "2018": 1}) == [
        ("2015", 2),
        ("2016", 0),
        ("2017", 0),
        ("2018", 1),
    ]
    months = _filled("month", {"2016-11": 1, "2017-02": 3})
    assert months == [("2016-11", 1), ("2016-12", 0), ("2017-01", 0), ("2017-02", 3)]
    days = _filled("day", {"2020-02-28": 1, "2020-03-01": 1})
    assert [key for key, _ in days] == ["2020-02-28", "2020-02-29", "2020-03-01"]
    assert _filled("year", {}) == []


def test_a_bar_covers_its_whole_year_month_or_day():
    assert _range("2017") == (dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    assert _range("2020-02") == (dt.date(2020, 2, 1), dt.date(2020, 2, 29))
    assert _range("2021-02-03") == (dt.date(2021, 2, 3), dt.date(2021, 2, 3))


def test_spans_and_names():
    assert _span("2016", "2017") == 2
    assert _span("2016-12", "2017-01") == 2
    assert _name("2017-05") == "May 2017"
    assert _name("2017-05-24") == "24 May 2017"
