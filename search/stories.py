"""Stories on the read side: document number -> story, collapsing, story summaries.

Ingest records each document's story (index/stories.py); a searcher turns that into
arrays once per index version, so collapsing a result list to one hit per story and
counting the stories matched are array operations, like facets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from index.analysis import fold
from index.stories import story_id
from search.results import FirstReport, StorySummary

# Sentences a member adds over the earliest report: listed at most.
MAX_ADDED_SENTENCES = 5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


@dataclass(frozen=True)
class StoryTable:
    values: list[str]  # story code -> story id
    codes: np.ndarray  # docnum -> story code (-1 for deleted documents)
    doc_ids: list[str | None]  # docnum -> document id
    index: dict[str, int]  # story id -> code
    alone: np.ndarray  # docnum -> the only member of its story (most are)

    def members(self, code: int) -> np.ndarray:
        return np.flatnonzero(self.codes == code)

    def count(self, mask: np.ndarray) -> int:
        """Stories among the documents of `mask`."""
        chosen = self.codes[mask]
        return int(np.unique(chosen[chosen >= 0]).size)

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


def build_story_table(doc_ids: list[str | None], story_of: dict[str, str]) -> StoryTable:
    """`doc_ids`: docnum -> id (None for deleted); `story_of`: id -> story from ingest.
    A document ingest has not recorded (none should be) stands alone in its own story."""
    stories = [
        (story_of.get(doc_id) or story_id(doc_id)) if doc_id is not None else ""
        for doc_id in doc_ids
    ]
    values, codes = np.unique(np.array([*stories, ""], dtype=object), return_inverse=True)
    codes = codes[:-1].astype(np.int64)
    values = values.tolist()
    if values and values[0] == "":  # "" sorts first: deleted documents
        codes -= 1
        values = values[1:]
    sizes = np.bincount(codes[codes >= 0], minlength=max(len(values), 1))
    alone = (codes >= 0) & (sizes[np.maximum(codes, 0)] == 1)
    return StoryTable(values, codes, doc_ids, {v: i for i, v in enumerate(values)}, alone)


def first_per_story(table: StoryTable, docnums: np.ndarray) -> np.ndarray:
    """Positions in `docnums` (ranked) of each story's best-ranked member, in rank order."""
    _, first = np.unique(table.codes[docnums], return_index=True)
    return np.sort(first)


def chronological(members: np.ndarray, dates: np.ndarray, doc_ids: list) -> list[int]:
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
