"""Stories on the read side: document number -> story, collapsing, story summaries.

Ingest records each document's story (index/stories.py); a searcher turns that into
arrays once per index version, so collapsing a result list to one hit per story and
counting the stories matched are array operations, like facets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.analysis import fold
from index.columns import story_key, story_name
from search.results import FirstReport, StorySummary

# Sentences a member adds over the earliest report: listed at most.
MAX_ADDED_SENTENCES = 5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


class DocIds(Protocol):
    """Document number -> document id (search/tables.py reads them from the columns)."""

    def __getitem__(self, docnum: int) -> str: ...


class StoryNames:
    """Story code -> story id, formatted when asked (a million stories are not kept as a
    million strings)."""

    def __init__(self, keys: np.ndarray):
        self.keys = keys  # sorted story keys (index/columns.py `story_key`)

    def __getitem__(self, code: int) -> str:
        return story_name(int(self.keys[code]))

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class StoryTable:
    values: StoryNames  # story code -> story id
    codes: np.ndarray  # docnum -> story code (-1 for deleted documents)
    doc_ids: DocIds  # docnum -> document id
    alone: np.ndarray  # docnum -> the only member of its story (most are)

    def code_of(self, story: str) -> int | None:
        """The code of story id `story`; None if no live document belongs to it."""
        try:
            key = story_key(story)
        except ValueError:
            return None
        keys = self.values.keys
        at = int(np.searchsorted(keys, key))
        return at if at < len(keys) and keys[at] == key else None

    def members(self, code: int) -> np.ndarray:
        return np.flatnonzero(self.codes == code)

    def count(self, scope: np.ndarray) -> int:
        """Stories among the documents of `scope`, a mask or their numbers (marked, not
        sorted: it grows with the matches and the stories, not with the matches'
        logarithm)."""
        chosen = self.codes[scope]
        seen = np.zeros(len(self.values), dtype=bool)
        seen[chosen[chosen >= 0]] = True
        return int(np.count_nonzero(seen))

    def count_per(self, docs: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
        """Stories per group (0..size-1): document `docs[i]` is in group `groups[i]`
        (-1: none). A story of one member counts once per group it is in; only the
        (group, story) pairs of larger stories are sorted to count them once."""
        codes = self.codes[docs]
        keep = (groups >= 0) & (codes >= 0)
        alone = keep & self.alone[docs]
        counts = np.bincount(groups[alone], minlength=size)
        shared = keep & ~alone
        width = max(len(self.values), 1)
        pairs = np.unique(groups[shared].astype(np.int64) * width + codes[shared])
        return counts + np.bincount(pairs // width, minlength=size)


def build_story_table(doc_ids: DocIds, keys: np.ndarray, live: np.ndarray) -> StoryTable:
    """`keys`: each document's story key, from ingest (index/columns.py); deleted
    documents (not `live`) belong to none."""
    unique, codes = np.unique(keys[live], return_inverse=True)
    table = np.full(len(keys), -1, dtype=np.int32)  # int32: each worker holds a copy
    table[live] = codes
    sizes = np.bincount(codes, minlength=max(len(unique), 1))
    alone = np.zeros(len(keys), dtype=bool)
    alone[live] = sizes[codes] == 1
    return StoryTable(StoryNames(unique), table, doc_ids, alone)


def first_per_story(table: StoryTable, docnums: np.ndarray) -> np.ndarray:
    """Positions in `docnums` (ranked) of each story's best-ranked member, in rank order."""
    _, first = np.unique(table.codes[docnums], return_index=True)
    return np.sort(first)


def chronological(members: np.ndarray, dates: np.ndarray, doc_ids: DocIds) -> list[int]:
    """Members by date (yyyymmdd, 0 undated: last), ties by id."""
    return sorted(
        (int(d) for d in members),
        key=lambda d: (dates[d] == 0, int(dates[d]), doc_ids[d]),
    )


def as_date(value: int) -> dt.date | None:
    return dt.date(value // 10000, value // 100 % 100, value % 100) if value else None


def summary(table: StoryTable, code: int, dates: np.ndarray, source_of) -> StorySummary:
    """Size, sources (most members first) and first report of story `code`;
    `source_of(docnum)` gives a member's source."""
    members = chronological(table.members(code), dates, table.doc_ids)
    counts: dict[str, int] = {}
    for d in members:
        source = source_of(d)
        if source:
            counts[source] = counts.get(source, 0) + 1
    first = members[0]
    return StorySummary(
        id=table.values[code],
        size=len(members),
        sources=sorted(counts, key=lambda s: (-counts[s], s)),
        first=FirstReport(str(table.doc_ids[first]), source_of(first), as_date(int(dates[first]))),
    )


def sentences(text: str) -> list[str]:
    return [" ".join(s.split()) for s in _SENTENCE_END.split(text) if s.strip()]


def added_sentences(text: str, earliest: str) -> list[str]:
    """Sentences of `text` the earliest report lacks (compared folded, spacing ignored)."""
    known = {fold(s) for s in sentences(earliest)}
    added = [s for s in sentences(text) if fold(s) not in known]
    return added[:MAX_ADDED_SENTENCES]
