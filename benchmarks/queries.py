"""The fixed query mix, and how each engine spells it.

Fifty queries, the same for every engine: single words from every document-frequency
band of Reuters-21578 (from "said", in most articles, to words in a handful), ANDs of
two or three words, ORs, phrases, and queries filtered by language and/or a date range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MARCH = (dt.date(1987, 3, 1), dt.date(1987, 3, 31))
APRIL = (dt.date(1987, 4, 1), dt.date(1987, 4, 30))


@dataclass(frozen=True)
class Query:
    kind: str  # "term", "and", "or", "phrase"
    words: tuple[str, ...]
    language: str | None = None
    dates: tuple[dt.date, dt.date] | None = None

    @property
    def label(self) -> str:
        text = self.sift_text()
        if self.language:
            text += f" [language={self.language}]"
        if self.dates:
            text += f" [{self.dates[0]}..{self.dates[1]}]"
        return text

    @property
    def filtered(self) -> bool:
        return bool(self.language or self.dates)

    def sift_text(self) -> str:
        if self.kind == "or":
            return " OR ".join(self.words)
        if self.kind == "phrase":
            return '"' + " ".join(self.words) + '"'
        return " ".join(self.words)

    def fts5_text(self) -> str:
        if self.kind == "or":
            return " OR ".join(self.words)
        if self.kind == "phrase":
            return '"' + " ".join(self.words) + '"'
        return " AND ".join(self.words)

    def tantivy_text(self) -> str:
        if self.kind == "or":
            return " OR ".join(self.words)
        if self.kind == "phrase":
            return '"' + " ".join(self.words) + '"'
        return " AND ".join(self.words)


def _q(kind: str, text: str, **kwargs) -> Query:
    words = tuple(text.replace(" OR ", " ").split())
    return Query(kind, words, **kwargs)


QUERIES: list[Query] = [
    # single words, from the most frequent band (>10,000 articles) to the rarest (<10)
    *(
        _q("term", word)
        for word in (
            "said",
            "company",
            "year",
            "sales",
            "capital",
            "subsidiary",
            "higher",
            "commodity",
            "debentures",
            "package",
            "rising",
            "nasdaq",
            "customer",
            "hutton",
            "ireland",
            "biotechnology",
            "briefing",
            "queensland",
            "monopoly",
            "khomeini",
        )
    ),
    # AND
    *(
        _q("and", text)
        for text in (
            "oil prices",
            "trade deficit",
            "interest rates bank",
            "wheat exports",
            "coffee quota",
            "dollar yen",
            "gold mine",
            "merger talks",
            "crude oil output",
            "stock split",
        )
    ),
    # OR
    *(
        _q("or", text)
        for text in (
            "coffee OR cocoa",
            "wheat OR corn OR grain",
            "gold OR silver",
            "takeover OR merger",
            "iran OR iraq",
            "yen OR sterling OR franc",
        )
    ),
    # phrases
    *(
        _q("phrase", text)
        for text in (
            "interest rates",
            "trade deficit",
            "crude oil",
            "stock exchange",
            "federal reserve",
            "net profit",
        )
    ),
    # filtered
    _q("term", "oil", language="en"),
    _q("term", "bank", dates=MARCH),
    _q("term", "trade", language="en", dates=APRIL),
    _q("term", "dividend", dates=MARCH),
    _q("or", "coffee OR cocoa", language="en"),
    _q("phrase", "interest rates", dates=APRIL),
    _q("and", "japan exports", language="en"),
    _q("term", "opec", language="en", dates=MARCH),
]
assert len(QUERIES) == 50
