"""Held-out queries: drawn from the corpus's own words, none of them in the fixed mix.

The fixed mix (benchmarks/queries.py) is fifty queries that the timed passes repeat, so
after the first pass every word they need is in the workers' caches. Queries a user, or a
check outside the code, sends for the first time are not: each word is read from the
index for that query. These stand for them. Words are picked by document frequency,
spread evenly on a log scale from words in 5 articles to the most common, so that rare
and common words weigh alike; English stop words, the fixed mix's words and the broad
words are left out. Phrases are word pairs that follow each other in at least 20
articles. The same corpus and seed give the same queries.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import re
from collections import Counter
from collections.abc import Iterable

from benchmarks.queries import QUERIES, Query

HELD_OUT_QUERIES = 200
SEED = 17
MIN_DF = 5  # a word in fewer articles is a typo's lot, not a query's
MIN_PHRASE_DF = 20
NEAR = 1.25  # a word's document frequency within this factor of the one drawn
# Shares of each kind: single words, two-word ANDs, ORs, phrases, three-word ANDs.
KINDS = (("term", 0.35), ("and", 0.30), ("or", 0.10), ("phrase", 0.15), ("and3", 0.10))
_WORD = re.compile(r"[a-z]{3,}")


def held_out_queries(
    records: Iterable[dict], excluded: set[str], count: int = HELD_OUT_QUERIES, seed: int = SEED
) -> list[Query]:
    """`count` distinct queries from the words of `records` (dicts with title and body or
    text), none using a word of the fixed mix or of `excluded`."""
    from index.analysis import stop_words

    left_out = stop_words("en") | excluded | {w for q in QUERIES for w in q.words}
    df: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for record in records:
        text = f"{record.get('title') or ''} {record.get('body') or record.get('text') or ''}"
        words = _WORD.findall(text.lower())
        df.update(set(words))
        pairs.update(set(itertools.pairwise(words)))
    vocabulary = {w for w, n in df.items() if n >= MIN_DF and w not in left_out}
    phrases = sorted(p for p, n in pairs.items() if n >= MIN_PHRASE_DF and set(p) <= vocabulary)
    if not vocabulary or not phrases:
        raise ValueError("too small a corpus for held-out queries")
    rng = random.Random(seed)
    by_df = sorted(vocabulary, key=lambda w: (df[w], w))
    frequencies = [df[w] for w in by_df]
    low, high = math.log(MIN_DF), math.log(frequencies[-1])

    def word() -> str:
        # one of the words whose document frequency is near a log-uniform draw
        target = math.exp(rng.uniform(low, high))
        lo = bisect.bisect_left(frequencies, target / NEAR)
        hi = bisect.bisect_right(frequencies, target * NEAR)
        if lo >= hi:  # none that near: the nearest above
            return by_df[min(lo, len(by_df) - 1)]
        return by_df[rng.randrange(lo, hi)]

    out: dict[str, Query] = {}
    kinds, weights = zip(*KINDS, strict=True)
    while len(out) < count:
        kind = rng.choices(kinds, weights)[0]
        if kind == "term":
            query = Query("term", (word(),))
        elif kind == "phrase":
            query = Query("phrase", rng.choice(phrases))
        elif kind == "and3":
            query = Query("and", (word(), word(), word()))
        else:
            query = Query(kind, (word(), word()))
        if len(set(query.words)) == len(query.words):
            out.setdefault(query.label, query)
    return list(out.values())
