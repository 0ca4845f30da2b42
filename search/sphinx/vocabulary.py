"""The words of a cluster's documents with their document frequencies, kept by Sift.

Sphinx 2.2 has no fuzzy terms, no suggestions and no lexicon walk that Sift could use for
`prefix*`; `sift reindex` writes the unstemmed words (the embedded index's `words` field)
with their document counts beside cluster.toml, and this reader answers the few lexicon
questions search/queries.py and search/suggest.py ask a Whoosh reader.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class _Info:
    df: int

    def doc_frequency(self) -> int:
        return self.df


class Vocabulary:
    """A lexicon reader over one vocabulary file (the field name argument is ignored:
    only the `words` field is kept)."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        self.words = sorted(counts)

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        try:
            return cls(json.loads(path.read_text("utf-8")))
        except FileNotFoundError:
            return cls({})

    def doc_frequency(self, _field: str, word: str) -> int:
        return self.counts.get(word, 0)

    def expand_prefix(self, _field: str, prefix: str):
        start = bisect.bisect_left(self.words, prefix)
        for word in self.words[start:]:
            if not word.startswith(prefix):
                return
            yield word

    def iter_prefix(self, field: str, prefix: str):
        for word in self.expand_prefix(field, prefix):
            yield word.encode("utf-8"), _Info(self.counts[word])

    def terms_within(self, field: str, text: str, maxdist: int, prefix: int = 0):
        """Words within `maxdist` edits (insert, delete, substitute) sharing `prefix` letters."""
        for word in self.expand_prefix(field, text[:prefix]):
            if abs(len(word) - len(text)) <= maxdist and _distance(word, text, maxdist) <= maxdist:
                yield word


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of `a` and `b`, or limit + 1 once it must exceed `limit`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
