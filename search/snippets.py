"""Snippets: the best passage of a hit's text, HTML-escaped, with matches in <mark>.

Matches are found by analysing the stored text the way it was indexed (same tokens, same
stems in the document's language), so `running` marks "runs", `Rub` marks "Rüb", a phrase
is marked only where its words are consecutive, and an actor found by alias marks the
alias the text actually uses ("IS" for a search on ISIL). Everything outside our own
<mark> pairs is escaped, quotes included, so a snippet can never carry markup of the
document's. Built per call: no state is shared between requests.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from functools import lru_cache
from itertools import accumulate

from index import aliases
from index.analysis import MAX_TOKEN_CHARS, STEMMED_LANGUAGES, WORD_RE, terms_of
from search import budget
from search.queries import Marks

SNIPPET_CHARS = 240
# A snippet's matches are looked for this many characters at a time (a whole news
# article at once: the same snippet as reading all of it), up to SCAN_LIMIT_CHARS
# (about 30 ms): a huge document gets a snippet from its first part with matches.
SCAN_CHARS = 50_000
SCAN_LIMIT_CHARS = 100_000
# Characters of context kept before the first match of the chosen passage.
LEAD_CHARS = 60
ELLIPSIS = "…"
_SPACE_RE = re.compile(r"\s+")
# Splitting on the word pattern (captured) gives gaps and words alternately.
_WORD_SPLIT_RE = re.compile(f"({WORD_RE.pattern})")
# For reading a whole document: runs of spaces become one, line breaks stay (at most a
# blank line between paragraphs), so a page can show the article's paragraphs.
_INLINE_SPACE_RE = re.compile(r"[^\S\n]+")
_BREAKS_RE = re.compile(r" ?\n(?: ?\n)+ ?")
_BREAK_RE = re.compile(r" ?\n ?")


def match_spans(text: str, language: str | None, marks: Marks) -> list[tuple[int, int, str]]:
    """(start, end, key) of each match in `text`, sorted, not overlapping.

    Each distinct word of the text is analysed once (through the shared term caches),
    and only the words that can match are looked at again: a news article repeats most
    of its words, and most of them match nothing.
    """
    lang = language if language in STEMMED_LANGUAGES else None
    # [gap, word, gap, word, ..., gap] in C; running sums of the lengths give every
    # word's offsets without a Python object per match.
    parts = _WORD_SPLIT_RE.split(text)
    ends = list(accumulate(map(len, parts)))
    found = parts[1::2]
    if max(map(len, found), default=0) <= MAX_TOKEN_CHARS:  # the usual case
        kept: list[int] | range = range(len(found))
        surface = found
    else:
        kept = [k for k, word in enumerate(found) if len(word) <= MAX_TOKEN_CHARS]
        surface = [found[k] for k in kept]  # the words `words(text)` yields
    distinct = set(surface)
    stem_of = dict(zip(distinct, terms_of(list(distinct), lang), strict=True))
    plain_of = (
        stem_of
        if lang is None
        else dict(zip(distinct, terms_of(list(distinct), None), strict=True))
    )
    terms = marks.terms.get(lang, set())
    wanted = marks.words
    prefixes = tuple(marks.prefixes)
    hits = {
        word
        for word in distinct
        if stem_of[word] in terms
        or plain_of[word] in wanted
        or (prefixes and plain_of[word].startswith(prefixes))
    }
    spans: list[tuple[int, int, str]] = []
    if hits:  # (no word over MAX_TOKEN_CHARS is in `hits`)
        spans = [
            (ends[2 * k], ends[2 * k + 1], stem_of[word])
            for k, word in enumerate(found)
            if word in hits
        ]
    phrase_sets = (
        (marks.phrases.get(lang, set()), stem_of),
        (marks.plain_phrases, plain_of),
    )
    for phrases, form_of in phrase_sets:
        if not phrases:
            continue
        forms = [form_of[word] for word in surface]
        for phrase in phrases:
            n = len(phrase)
            first = phrase[0]
            for i in range(len(surface) - n + 1):
                if forms[i] == first and tuple(forms[i : i + n]) == phrase:
                    start, end = ends[2 * kept[i]], ends[2 * kept[i + n - 1] + 1]
                    spans.append((start, end, " ".join(phrase)))
    for canonical in marks.actors:
        for found in _alias_re(canonical).finditer(text):
            spans.append((found.start(), found.end(), canonical))
    return _merge(spans)


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[tuple[int, int, str]] = []
    for start, end, key in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, key))
    return merged


@lru_cache(maxsize=1024)
def _alias_re(canonical: str) -> re.Pattern[str]:
    parts = []
    for form in sorted(aliases.variants(canonical), key=len, reverse=True):
        pattern = re.escape(form)
        parts.append(pattern if aliases.is_case_sensitive(form) else f"(?i:{pattern})")
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def render(
    text: str,
    spans: list[tuple[int, int, str]],
    start: int = 0,
    end: int | None = None,
    *,
    keep_lines: bool = False,
) -> str:
    """text[start:end] escaped, with `spans` wrapped in <mark>, whitespace collapsed.

    With `keep_lines`, line breaks survive (paragraphs separated by one blank line).
    """
    escape = _escape_lines if keep_lines else _escape
    end = len(text) if end is None else end
    out: list[str] = []
    cursor = start
    for span_start, span_end, _ in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        out.append(escape(text[cursor:span_start]))
        out.append("<mark>" + _escape(text[span_start:span_end]) + "</mark>")
        cursor = span_end
    out.append(escape(text[cursor:end]))
    return "".join(out)


def _escape(text: str) -> str:
    return html.escape(_SPACE_RE.sub(" ", text), quote=True)


def _escape_lines(text: str) -> str:
    text = _INLINE_SPACE_RE.sub(" ", text)
    text = _BREAK_RE.sub("\n", _BREAKS_RE.sub("\n\n", text))
    return html.escape(text, quote=True)


def snippet(text: str, language: str | None, marks: Marks, size: int = SNIPPET_CHARS) -> str:
    """The passage of about `size` characters with the most distinct matches, as HTML."""
    spans = _first_spans(text, language, marks)
    start, end = _best_window(text, spans, size)
    body = render(text, spans, start, end).strip()
    return (ELLIPSIS if start > 0 else "") + body + (ELLIPSIS if end < len(text) else "")


def _first_spans(text: str, language: str | None, marks: Marks) -> list[tuple[int, int, str]]:
    """The matches of the first part of `text` that has any, read SCAN_CHARS at a time.

    A news article is one part, read whole. A huge text is read only up to its first
    matches (and at most SCAN_LIMIT_CHARS), and each part is work the query's budget
    counts: once that is spent, the snippet is the text's start, unmarked.
    """
    if not _marks_anything(marks):
        return []
    start = 0
    while start < min(len(text), SCAN_LIMIT_CHARS):
        end = _word_end(text, start + SCAN_CHARS)
        spans = match_spans(text[start:end], language, marks)
        if spans:
            return [(a + start, b + start, key) for a, b, key in spans]
        if budget.spent():
            break
        start = end
    return []


def _marks_anything(marks: Marks) -> bool:
    return (
        any(marks.terms.values())
        or any(marks.phrases.values())
        or bool(marks.plain_phrases or marks.words or marks.prefixes or marks.actors)
    )


def _best_window(text: str, spans: list[tuple[int, int, str]], size: int) -> tuple[int, int]:
    if not spans:
        return 0, _word_end(text, min(len(text), size))
    best = (0, 0, 0)  # (distinct keys, matches, -start)
    best_start = 0
    inside: Counter[str] = Counter()  # keys of spans[first:last]
    last = 0
    for first, (span_start, _, key) in enumerate(spans):
        start = max(0, span_start - LEAD_CHARS)
        if last <= first:
            inside.clear()
            last = first
        while last < len(spans) and (last == first or spans[last][1] <= start + size):
            inside[spans[last][2]] += 1
            last += 1
        score = (len(inside), last - first, -start)
        if score > best:
            best, best_start = score, start
        inside[key] -= 1
        if not inside[key]:
            del inside[key]
    start = _word_start(text, best_start)
    return start, _word_end(text, min(len(text), start + size))


def _word_start(text: str, index: int) -> int:
    if index <= 0:
        return 0
    space = text.rfind(" ", 0, index)
    newline = text.rfind("\n", 0, index)
    return max(space, newline) + 1


def _word_end(text: str, index: int) -> int:
    if index >= len(text):
        return len(text)
    match = _SPACE_RE.search(text, index)
    return match.start() if match else len(text)
