"""When a commit merges segments: small ones together, large ones never.

Whoosh's default policy (MERGE_SMALL) sorts segments by size and merges every one up to
the first point where their total falls under a Fibonacci number. With the equal-sized
segments a parallel build writes, that point is reached only after some twenty of them:
building 50x Reuters-21578 (1.08 million articles, 90 segments) ended in one twelve-
minute, single-threaded merge of 276,000 articles, and each later API write could start
another. Merging in Whoosh runs at a few hundred articles a second, one core; searching
many segments costs far less. So segments are grouped in tiers by size (a tier per power
of MERGE_FACTOR), a tier holding MERGE_FACTOR segments is merged into the next commit's,
and segments of MAX_MERGED_DOCUMENTS or more are never merged: a build's own segments
(thousands of articles each) stay as written, and API writes' one-document segments are
gathered into ever fewer, bounded merges, as Lucene's tiered policy does.
"""

from __future__ import annotations

from whoosh.reading import SegmentReader

# Segments a tier holds before they are merged into one (Lucene's mergeFactor).
MERGE_FACTOR = 10
# Segments this large are left as they are: merging MERGE_FACTOR segments just under it
# (about 10,000 articles) takes Whoosh some twenty seconds under the writer lock.
MAX_MERGED_DOCUMENTS = 1_000


def tier(documents: int) -> int:
    """A segment's tier: how many times MERGE_FACTOR divides its size."""
    level = 0
    while documents >= MERGE_FACTOR:
        documents //= MERGE_FACTOR
        level += 1
    return level


def tiered(writer, segments: list) -> list:
    """Whoosh merge policy: the segments kept as they are; merged ones go to `writer`."""
    tiers: dict[int, list] = {}
    for segment in segments:
        documents = segment.doc_count()  # live ones: a merge drops the deleted
        if segment.doc_count_all() < MAX_MERGED_DOCUMENTS:
            tiers.setdefault(tier(documents), []).append(segment)
    merged = set()
    for level in sorted(tiers):
        group = tiers[level]
        if len(group) >= MERGE_FACTOR:
            for segment in group:
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)
                reader.close()
                merged.add(id(segment))
    return [segment for segment in segments if id(segment) not in merged]
