"""The held-out queries bench-scale times (benchmarks/heldout.py): drawn from the corpus's
own words, never from the fixed mix, the same on every run."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from itertools import islice

import pytest

from benchmarks.heldout import HELD_OUT_QUERIES, held_out_queries
from benchmarks.queries import QUERIES
from index.analysis import stop_words
from tests.conftest import ROOT

REUTERS = os.environ.get(
    "SIFT_REUTERS", str(ROOT.parent / "shared" / "data" / "reuters21578.jsonl.gz")
)


@pytest.fixture(scope="module")
def records() -> list[dict]:
    with gzip.open(REUTERS, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in islice(f, 4000)]


def test_queries_are_distinct_repeatable_and_of_every_kind(records):
    first = held_out_queries(records, {"said"})
    again = held_out_queries(records, {"said"})
    assert [q.label for q in first] == [q.label for q in again]
    assert len({q.label for q in first}) == len(first) == HELD_OUT_QUERIES
    kinds = Counter(q.kind for q in first)
    assert set(kinds) == {"term", "and", "or", "phrase"}
    assert min(kinds.values()) >= 10
    other = held_out_queries(records, {"said"}, seed=18)
    assert [q.label for q in other] != [q.label for q in first]


def test_no_query_uses_a_word_of_the_fixed_mix_a_stop_word_or_an_excluded_one(records):
    fixed = {w for q in QUERIES for w in q.words}
    excluded = {"said", "mln", "dlrs"}
    words = {w for q in held_out_queries(records, excluded) for w in q.words}
    assert not words & (fixed | excluded | stop_words("en"))


def test_words_come_from_every_band_of_document_frequency(records):
    df: Counter[str] = Counter()
    for record in records:
        text = f"{record.get('title') or ''} {record.get('body') or record.get('text') or ''}"
        df.update(set(re.findall(r"[a-z]{3,}", text.lower())))
    found = [df[q.words[0]] for q in held_out_queries(records, set()) if q.kind == "term"]
    assert min(found) >= 5  # none rarer than a query's word would be
    assert min(found) < 20 and max(found) > 200  # rare words and common ones
