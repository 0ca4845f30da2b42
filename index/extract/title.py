"""Title: the first real headline line of the header, else the start of the text."""

from __future__ import annotations

import re

from index.extract import dates, sources
from index.extract.layout import Layout

# A headline has at least this many words; shorter header lines are section names
# ("Homeland Security") unless nothing better comes.
HEADLINE_MIN_WORDS = 4
MAX_TITLE_CHARS = 160
BYLINE = re.compile(
    r"^(?i:by|von|par|por|di|door)\s+[A-ZÀ-Þ][\w.'’-]*(?:\s+[A-ZÀ-Þ][\w.'’-]*){0,3}$"
)
# Possessive runs (`*+`): none can take a letter, so giving characters back never helps a
# match, and three adjacent backtracking runs were cubic on a line of punctuation.
TIME_ONLY = re.compile(
    r"^[\W\d_]*+(?:updated|published|posted|last updated)?[\W\d_]*+(?:[ap]\.?m\.?)?[\W\d_]*+$",
    re.I,
)


def _is_headline_candidate(line: str) -> bool:
    if sources.outlet(line) or BYLINE.match(line) or TIME_ONLY.match(line):
        return False
    words = line.split()
    return not (dates.date_in_line(line) and len(words) <= 8)


def shorten(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """`text` cut at a word boundary to at most `limit` characters, marked with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(",;:-–— ") + "…"


def find_title(layout: Layout) -> str:
    """The first header line that reads as a headline, else the text's first line, else ""."""
    candidates = [line for line in layout.header if _is_headline_candidate(line)]
    for line in candidates:
        if len(line.split()) >= HEADLINE_MIN_WORDS:
            return shorten(line)
    if candidates:
        return shorten(candidates[0])
    return shorten(layout.lines[0]) if layout.lines else ""
