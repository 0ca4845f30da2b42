"""Did-you-mean and completions, from the unstemmed `words` field and the actor names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index import schema
from index.analysis import WORD_RE, fold
from search import budget
from search import parser as p
from search.errors import QueryTimeout

# Misspellings rarely touch the first letters; requiring them keeps the search small.
SHARED_PREFIX = 2
MAX_EDIT_DISTANCE = 2
MIN_CORRECTABLE_CHARS = 4
COMPLETION_SCAN = 5000  # lexicon entries read at most per completion


def did_you_mean(reader, query_text: str, node: p.Node) -> str | None:
    """The query with unknown words replaced by their likeliest indexed spelling, or None."""
    corrections: dict[str, str] = {}
    try:
        for leaf in _correctable(node):
            fixed = correct_word(reader, leaf.text)
            if fixed:
                corrections[leaf.text] = fixed
    except QueryTimeout:
        pass  # a suggestion is a courtesy: the results are answered without the rest
    if not corrections:
        return None

    def replace(match: re.Match[str]) -> str:
        return corrections.get(match.group(), match.group())

    return WORD_RE.sub(replace, query_text)


def checked_words(node: p.Node) -> list[str]:
    """The words `did_you_mean` asks the index about first (folded, as the `words` field
    holds them): for the caller to look them up with the query's own words, together."""
    folded = (_correctable_form(leaf.text) for leaf in _correctable(node))
    return [word for word in folded if word is not None]


def _correctable(node: p.Node) -> list[p.Word]:
    return [
        leaf
        for leaf in p.positive_leaves(node)
        if isinstance(leaf, p.Word) and leaf.field in (None, "title", "text")
    ]


def _correctable_form(word: str) -> str | None:
    """`word` as the `words` field holds it, None if too short to correct."""
    folded = fold(word)
    return folded if len(folded) >= MIN_CORRECTABLE_CHARS else None


def correct_word(reader, word: str) -> str | None:
    """The most frequent indexed word nearest to `word` if `word` itself is not indexed."""
    folded = _correctable_form(word)
    if folded is None or reader.doc_frequency(schema.WORDS, folded):
        return None
    for distance in range(1, MAX_EDIT_DISTANCE + 1):
        within = reader.terms_within(schema.WORDS, folded, distance, prefix=SHARED_PREFIX)
        candidates = list(budget.checked(within, every=16))
        candidates = [c.decode() if isinstance(c, bytes) else c for c in candidates if c != folded]
        if candidates:
            return max(candidates, key=lambda c: (reader.doc_frequency(schema.WORDS, c), c))
    return None


@dataclass(frozen=True)
class Completion:
    text: str  # the whole completed query text
    kind: str  # "actor" or "word"
    count: int  # documents


def completions(
    reader, actors: list[tuple[str, int]], text: str, limit: int = 10
) -> list[Completion]:
    """Completions of the last word of `text`: actor names (`actors`: each with its
    documents) first, then indexed words."""
    head, _, last = text.rpartition(" ")
    prefix = fold(last.strip())
    if not prefix:
        return []
    lead = (head.strip() + " ") if head.strip() else ""
    found: list[Completion] = []
    for name, count in actors:
        if count and any(fold(part).startswith(prefix) for part in re.split(r"[\s\-]+", name)):
            found.append(Completion(lead + name, "actor", count))
    found.sort(key=lambda c: (-c.count, c.text))
    found = found[: limit // 2 or 1]
    words = []
    prefixed = budget.checked(reader.iter_prefix(schema.WORDS, prefix))
    for scanned, (raw, info) in enumerate(prefixed):
        if scanned >= COMPLETION_SCAN:
            break
        words.append((info.doc_frequency(), raw.decode("utf-8")))
    words.sort(key=lambda pair: (-pair[0], pair[1]))
    for count, word in words[: limit - len(found)]:
        found.append(Completion(lead + word, "word", count))
    return found
