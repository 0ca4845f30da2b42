"""The index's words for prefix and fuzzy terms: the generation lexicon's, and those of
the segments it does not cover.

Whoosh expands `inter*` or `compny~` by walking the `words` field of every segment at
once (its MultiReader merges their term iterators), so the walk grows with the number
of segments, each holding most of the vocabulary: at a million articles (36 segments)
`compny~` read some 150,000 keys and spent the query's budget before it was evaluated.
The lexicon (index/codec/lexicon.py) holds a build's words once, sorted; segments
written since (API writes) are walked as Whoosh walks them, and the two merged, so the
words found are Whoosh's, in its order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from functools import cached_property

from whoosh.reading import IndexReader

from index.codec.arrays import WORD_FIELD
from index.codec.lexicon import Lexicon


class IndexWords:
    """The reader a query is compiled against (search/queries.py): Whoosh's own, but for
    `expand_prefix` and `terms_within` in the words field, which read the lexicon."""

    def __init__(self, reader, lexicon: Lexicon | None, covered: frozenset[int]):
        """`covered`: the leaves (by position) whose words the lexicon holds."""
        self._reader = reader
        self._lexicon = lexicon
        self._covered = covered

    @cached_property
    def _uncovered(self) -> list:
        """The segment readers whose words the lexicon lacks (asked only by an expansion)."""
        leaves = self._reader.leaf_readers()
        return [leaf for seg, (leaf, _) in enumerate(leaves) if seg not in self._covered]

    def __getattr__(self, name: str):
        return getattr(self._reader, name)

    def expand_prefix(self, fieldname: str, prefix: str) -> Iterator[bytes]:
        """The field's terms starting with `prefix`, in order (IndexReader.expand_prefix)."""
        if fieldname != WORD_FIELD or self._lexicon is None:
            yield from self._reader.expand_prefix(fieldname, prefix)
            return
        walks = [self._lexicon.words_from(prefix.encode("utf-8"))]
        walks += [leaf.expand_prefix(fieldname, prefix) for leaf in self._uncovered]
        last = None
        for word in heapq.merge(*walks):
            if word != last:
                yield word
                last = word

    # Whoosh's own, over `expand_prefix` above: the words within `maxdist` edits.
    terms_within = IndexReader.terms_within
