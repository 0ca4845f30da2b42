"""Bylines: the author a header line credits ("Von Thomas Berger | 22.11.2020", "Par Marie
Dubois, le 12 octobre 2020", "Автор: Анна Смирнова") writes the story and is not one of
its actors, unless the story also names them outside the byline.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from index.documents import PERSON

if TYPE_CHECKING:
    from index.extract.actors import Mention
    from index.extract.lexicon import Lexicon

# Bylines sit among the first lines and are short.
MAX_BYLINE_LINE = 12
MAX_BYLINE_CHARS = 80
OPENING_WORD = re.compile(r"[ \t]*([^\W\d_]+)[ \t]*:?[ \t]+(?=[^\W\d_])")


def byline_spans(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """(start, end) of each byline line among the first lines of `text`."""
    spans = []
    start = 0
    for n, line in enumerate(text.split("\n", MAX_BYLINE_LINE)):
        if n == MAX_BYLINE_LINE:
            break
        m = OPENING_WORD.match(line)
        if (
            m
            and len(line) <= MAX_BYLINE_CHARS
            and m.group(1)[0].isupper()
            and m.group(1).casefold() in lex.bylines
        ):
            spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def without_authors(text: str, mentions: list[Mention], lex: Lexicon) -> list[Mention]:
    """`mentions` less the people named only in a byline."""
    spans = byline_spans(text, lex)
    if not spans:
        return mentions

    def in_byline(m: Mention) -> bool:
        return any(a <= m.start < b for a, b in spans)

    elsewhere = {m.canonical for m in mentions if m.type == PERSON and not in_byline(m)}
    return [
        m
        for m in mentions
        if not (m.type == PERSON and in_byline(m) and m.canonical not in elsewhere)
    ]
