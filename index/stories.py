"""Stories: which articles are copies, versions or reports of one event.

Every document gets a story id when it is indexed, decided from what is already known, so
a write joins an existing story (or starts one) without recomputing the others:

- a near-duplicate (wire copy republished trimmed, re-headlined, with boilerplate, re-dated)
  joins the story of its closest copy: MinHash over 3-word shingles of the body (datasketch),
  candidates from LSH bands, kept when the estimated Jaccard similarity or the containment
  of the shorter in the longer is high;
- otherwise a report of the same event joins when, within EVENT_DAYS, it shares enough
  rare keys (actors, places, headline words) weighted by how rare each is in the archive.

The state lives in one SQLite file per generation (`stories.sqlite3`): per document its
story, date, signature and keys, plus the LSH band and key tables that incremental writes
look candidates up in. A full build assigns in memory (per-row SQLite queries would cost
more than the rest of ingest) and writes the file once; both follow one rule (`_assign`).
It assigns documents in (date, id) order, so the same input always gives the same stories
and the first member is the earliest. A story's id is derived from the id of the document
that started it.
"""

from __future__ import annotations

import gc
import hashlib
import math
import sqlite3
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from itertools import chain
from pathlib import Path

import numpy as np

from index.analysis import fold, word_list
from index.documents import Document
from index.storage import STORIES_FILE

FILE = STORIES_FILE
# MinHash permutations; LSH cuts them into BANDS bands of ROWS: pairs with Jaccard 0.5 are
# candidates with probability 0.986, pairs at 0.2 with 0.23 (then rejected on the estimate).
NUM_PERM = 96
ROWS = 3
BANDS = NUM_PERM // ROWS
SHINGLE_WORDS = 3
# Shingles are hashed to 32 bits (from crc32s of their words), as datasketch's affine32
# scheme expects.
SCHEME = "affine32"
# Near-duplicate when the estimated Jaccard similarity of the shingle sets reaches
# NEAR_JACCARD, or the shorter's shingles lie in the longer's for CONTAINMENT of them
# (a trimmed copy); texts with fewer than MIN_SHINGLES shingles only join exact copies.
NEAR_JACCARD = 0.5
CONTAINMENT = 0.75
MIN_SHINGLES = 8
# Same-event joins: within EVENT_DAYS of each other, at least EVENT_MIN_SHARED shared keys
# carrying EVENT_OVERLAP of the lighter document's key weight (idf-weighted); keys held by
# more than EVENT_MAX_DF of the archive are ignored (too common to tell events apart).
EVENT_DAYS = 3
EVENT_MIN_SHARED = 8
EVENT_OVERLAP = 0.5
EVENT_MAX_DF = 0.05
# ... and sharing some wording (quotes, phrases: estimated shingle Jaccard): on
# Reuters-21578, shared names alone merged same-day market reports of different stories.
EVENT_MIN_JACCARD = 0.06
TITLE_WORD_MIN = 4

_MASK63 = np.uint64(0x7FFFFFFFFFFFFFFF)
# Odd multipliers mixing word hashes into shingle hashes and rows into band keys.
_MIX = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F], dtype=np.uint64)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY, story TEXT NOT NULL, day INTEGER, shingles INTEGER NOT NULL,
    sig BLOB NOT NULL, keys TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bands (key INTEGER NOT NULL, id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key TEXT NOT NULL, day INTEGER NOT NULL, id TEXT NOT NULL);
"""
# Created after a full build's rows are in: SQLite sorts once instead of inserting each
# row into B-trees in random order (a third of the clustering cost on Reuters-21578).
_INDEXES = """
CREATE INDEX IF NOT EXISTS docs_story ON docs(story);
CREATE INDEX IF NOT EXISTS bands_key ON bands(key, id);
CREATE INDEX IF NOT EXISTS keys_key ON keys(key, day, id);
"""
_NO_BANDS = np.zeros(0, dtype=np.uint64)
_UNDATED = 0  # the `day` of undated documents in the keys table (no date has ordinal 0)


def story_id(founder: str) -> str:
    """The id of the story `founder` started (also the story of a document not yet
    assigned one: alone in its own story)."""
    return "s" + hashlib.sha1(founder.encode("utf-8")).hexdigest()[:12]


# datasketch's MinHash with the affine32 scheme: each shingle hash h (32 bits) is mixed by
# the MurmurHash3 finalizer, then permuted as (a * h + b) mod 2^32 for each of its
# seeded (a, b) pairs, and the signature is the minimum per permutation. Computed here
# on all of a document's shingles at once (datasketch's update_batch converts them one
# by one in Python, a third of the signature's cost); tests check it equals datasketch's.
@cache
def permutations() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) pairs, from datasketch itself: imported when ingest first needs them, as
    datasketch imports SciPy (a third of a second every server and command paid to start)."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations


_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
_MIX32 = _MIX.astype(np.uint32)

# Word -> crc32, as the stems are cached (index/analysis.py): news vocabulary is Zipfian,
# so almost every word is a dictionary hit instead of an encode and a checksum.
_WORD_HASHES: dict[str, int] = {}


def _word_hashes(words: list[str]) -> np.ndarray:
    if not words:
        return np.zeros(1, dtype=np.uint32)
    known = _WORD_HASHES.get
    try:
        return np.fromiter(map(known, words), np.uint32, len(words))
    except TypeError:  # a word not seen before (None)
        for word in words:
            if word not in _WORD_HASHES:
                _WORD_HASHES[word] = zlib.crc32(word.encode("utf-8"))
        return np.fromiter(map(known, words), np.uint32, len(words))


def minhash(shingles: np.ndarray) -> np.ndarray:
    """The MinHash signature (uint64, as stored) of distinct 32-bit shingle hashes."""
    shift, m1, shift2, m2 = _FMIX
    h = shingles ^ (shingles >> shift)
    h = h * m1
    h = h ^ (h >> shift2)
    h = h * m2
    h = h ^ (h >> shift)
    perm_a, perm_b = permutations()
    return (h[:, None] * perm_a + perm_b).min(axis=0).astype(np.uint64)


def signature(doc: Document) -> tuple[np.ndarray, int]:
    """The MinHash of the document's body shingles (headline too when the body is short)
    and how many distinct shingles it has."""
    words = word_list(fold(doc.text))
    if len(words) < SHINGLE_WORDS + MIN_SHINGLES:
        words = word_list(fold(doc.title)) + words
    hashed = _word_hashes(words)
    if len(hashed) >= SHINGLE_WORDS:
        # (mod 2^32 throughout: the low 32 bits of the 64-bit mix the file was built with)
        end = len(hashed) - SHINGLE_WORDS + 1
        hashed = sum(hashed[i : end + i] * _MIX32[i] for i in range(SHINGLE_WORDS))
    shingles = np.unique(hashed)
    return minhash(shingles), len(shingles)


def event_keys(doc: Document) -> list[str]:
    """What tells one event from another: its actors, places and headline words."""
    keys = {"a:" + fold(actor.name) for actor in doc.actors}
    keys.update("p:" + fold(place) for place in doc.places)
    keys.update(
        "w:" + word
        for word in word_list(fold(doc.title))
        if len(word) >= TITLE_WORD_MIN and not word.isdigit()
    )
    return sorted(keys)


def band_keys(sig: np.ndarray) -> np.ndarray:
    rows = sig.reshape(BANDS, ROWS)
    mixed = sum(rows[:, i] * _MIX[i] for i in range(ROWS)) + np.arange(BANDS, dtype=np.uint64)
    return (mixed * _MIX[3]) & _MASK63


def _nears(sig: np.ndarray, count: int, others: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """How near a document is to each of `others` (0 when not near-duplicates): the
    estimated Jaccard, when it is high enough or when the smaller document is mostly
    contained in the larger (|A ∩ B| = J (|A| + |B|) / (1 + J)); short documents only
    when identical. All candidates at once: a republished article has every earlier copy
    as a candidate (fifty at 50x Reuters-21578), and one numpy pass replaces fifty calls."""
    jaccard = (others == sig).mean(axis=1)
    smaller = np.minimum(counts, count)
    contained = jaccard * (count + counts) / (1 + jaccard) / np.maximum(smaller, 1)
    large = np.where(
        jaccard >= NEAR_JACCARD, jaccard, np.where(contained >= CONTAINMENT, jaccard, 0.0)
    )
    exact = np.where((jaccard == 1.0) & (counts == count), 1.0, 0.0)
    return np.where(smaller < MIN_SHINGLES, exact, large)


@dataclass(frozen=True, slots=True)
class Entry:
    """What is recorded of one document (its story is decided when it is assigned)."""

    id: str
    day: int | None
    shingles: int
    sig: np.ndarray  # uint64, NUM_PERM values
    keys: list[str]
    bands: np.ndarray  # uint64, BANDS LSH keys

    def __reduce__(self):
        # Workers send entries to the reading process: one bytes object for both arrays
        # pickles several times faster than two numpy arrays and a dataclass.
        packed = np.concatenate([self.sig, self.bands]).tobytes()
        return _unpack, (self.id, self.day, self.shingles, packed, "\n".join(self.keys))


def _unpack(doc_id: str, day: int | None, shingles: int, packed: bytes, keys: str) -> Entry:
    values = np.frombuffer(packed, dtype=np.uint64)
    return Entry(
        doc_id,
        day,
        shingles,
        values[:NUM_PERM],
        keys.split("\n") if keys else [],
        values[NUM_PERM:],
    )


def entry_for(doc: Document) -> Entry:
    sig, count = signature(doc)
    day = doc.date.toordinal() if doc.date else None
    return Entry(doc.id, day, count, sig, event_keys(doc), band_keys(sig))


def _assign(state, entry: Entry) -> str:
    """The story `entry` joins: its nearest copy's, else a same-event report's, else new."""
    candidates = state.near_candidates(entry.bands.tolist())  # by id
    if candidates:
        near = _nears(
            entry.sig,
            entry.shingles,
            np.stack([other.sig for other in candidates]),
            np.array([other.shingles for other in candidates]),
        )
        best = float(near.max())
        if best > 0:  # the nearest, ties to the largest id: the last of them by id
            return state.story_of(candidates[int(np.flatnonzero(near == best)[-1])].id)
    return _event_story(state, entry) or story_id(entry.id)


def _event_story(state, entry: Entry) -> str | None:
    if entry.day is None:
        return None
    total = state.total() + 1
    limit = max(EVENT_MAX_DF * total, 2)

    def idf(df: int) -> float:
        return math.log((total + 1) / (df + 1))

    weights = {}
    for key in entry.keys:
        df = state.df(key)
        if df + 1 <= limit:
            weights[key] = idf(df)
    if len(weights) < EVENT_MIN_SHARED:
        return None
    # How many of these keys each report in the window holds (a document holds a key
    # once, and all its keys on its one day), counted in C rather than per holder.
    shared = Counter(
        chain.from_iterable(
            state.holders(key, entry.day - EVENT_DAYS, entry.day + EVENT_DAYS) for key in weights
        )
    )
    mine = sum(weights.values())
    best = None
    for doc_id in sorted(i for i, count in shared.items() if count >= EVENT_MIN_SHARED):
        if float(np.mean(entry.sig == state.sig_of(doc_id))) < EVENT_MIN_JACCARD:
            continue
        theirs_keys = state.keys_of(doc_id)  # sorted, as `weights` is: the same sum order
        theirs = sum(idf(df) for df in map(state.df, theirs_keys) if df <= limit)
        common = sum(weights[k] for k in theirs_keys if k in weights)
        overlap = common / max(min(mine, theirs), 1e-9)
        if overlap >= EVENT_OVERLAP and (best is None or overlap > best[0]):
            best = (overlap, doc_id)
    return state.story_of(best[1]) if best else None


class MemoryStories:
    """A full build's stories, assigned in memory, then written to the file at once."""

    def __init__(self):
        self.entries: dict[str, Entry] = {}
        self.stories: dict[str, str] = {}
        self.bands: dict[int, list[str]] = {}
        self.keys: dict[str, list[str]] = {}
        # per key, its dated holders' days (ascending: entries come in build order) and ids
        self.days: dict[str, list[int]] = {}
        self.dated: dict[str, list[str]] = {}

    def add(self, entry: Entry) -> str:
        """Assign `entry` (given in build order) its story and record it."""
        story = self.stories[entry.id] = self._copy_story(entry) or _assign(self, entry)
        self.entries[entry.id] = entry
        for band in entry.bands.tolist():
            self.bands.setdefault(band, []).append(entry.id)
        for key in entry.keys:
            self.keys.setdefault(key, []).append(entry.id)
            if entry.day is not None:
                self.days.setdefault(key, []).append(entry.day)
                self.dated.setdefault(key, []).append(entry.id)
        return story

    def _copy_story(self, entry: Entry) -> str | None:
        """What `_assign` answers when an earlier entry has the same signature, found
        without gathering every candidate: verbatim copies (wire copy republished) are
        common in news, and gathering fifty copies' candidates was most of the serial
        assignment of 50x Reuters-21578 (11.8 -> 4.9 s CPU at 10x, same stories). An identical
        signature is the only way to an estimated Jaccard of 1.0, the highest nearness,
        and `_assign` takes the largest id among those at the highest; every identical
        signature shares all the bands, so the shortest band holds them all."""
        lists = []
        for band in entry.bands.tolist():
            held = self.bands.get(band)
            if not held:
                return None  # no earlier entry shares this band: none is a copy
            lists.append(held)
        mine = entry.sig.tobytes()
        best = None
        for doc_id in min(lists, key=len):
            other = self.entries[doc_id]
            # `_nears` at Jaccard 1.0: near unless short texts of different lengths
            near = min(other.shingles, entry.shingles) >= MIN_SHINGLES or (
                other.shingles == entry.shingles
            )
            if near and (best is None or doc_id > best) and other.sig.tobytes() == mine:
                best = doc_id
        return None if best is None else self.stories[best]

    def near_candidates(self, bands: list[int]) -> list[Entry]:
        found = {doc_id for band in bands for doc_id in self.bands.get(band, ())}
        return [self.entries[doc_id] for doc_id in sorted(found)]

    def total(self) -> int:
        return len(self.entries)

    def df(self, key: str) -> int:
        return len(self.keys.get(key, ()))

    def holders(self, key: str, first: int, last: int) -> list[str]:
        days = self.days.get(key, [])
        return self.dated[key][bisect_left(days, first) : bisect_right(days, last)] if days else []

    def keys_of(self, doc_id: str) -> list[str]:
        return self.entries[doc_id].keys

    def sig_of(self, doc_id: str) -> np.ndarray:
        return self.entries[doc_id].sig

    def story_of(self, doc_id: str) -> str:
        return self.stories[doc_id]

    def write(self, folder: str | Path) -> None:
        with closing(sqlite3.connect(Path(folder) / FILE)) as db, db:
            db.executescript(_SCHEMA)
            db.executemany(
                "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
                (_row(entry, self.stories[entry.id]) for entry in self.entries.values()),
            )
            db.executemany(
                "INSERT INTO bands VALUES (?, ?)",
                ((band, i) for band, ids in self.bands.items() for i in ids),
            )
            db.executemany(
                "INSERT INTO keys VALUES (?, ?, ?)",
                (
                    (key, self.entries[i].day or _UNDATED, i)
                    for key, held in self.keys.items()
                    for i in held
                ),
            )
            db.executescript(_INDEXES)


def _row(entry: Entry, story: str) -> tuple:
    return (
        entry.id,
        story,
        entry.day,
        entry.shingles,
        entry.sig.tobytes(),
        "\n".join(entry.keys),
    )


class StoryIndex:
    """The stories of one generation, read and extended in its SQLite file (one
    transaction per `with` block): for API writes and incremental builds."""

    def __init__(self, folder: str | Path):
        self.db = sqlite3.connect(Path(folder) / FILE, isolation_level=None)
        self.db.executescript(_SCHEMA + _INDEXES)

    def __enter__(self) -> StoryIndex:
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
        self.db.close()

    def remove(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            found = self.db.execute("SELECT sig, keys FROM docs WHERE id = ?", (doc_id,)).fetchone()
            if found is None:
                continue
            sig = np.frombuffer(found[0], dtype=np.uint64)
            self.db.executemany(
                "DELETE FROM bands WHERE key = ? AND id = ?",
                [(b, doc_id) for b in band_keys(sig).tolist()],
            )
            self.db.executemany(
                "DELETE FROM keys WHERE key = ? AND id = ?",
                [(k, doc_id) for k in found[1].split("\n") if k],
            )
            self.db.execute("DELETE FROM docs WHERE id = ?", (doc_id,))

    def add(self, entry: Entry) -> str:
        """Assign `entry` a story (replacing what its document had) and record it."""
        self.remove([entry.id])
        story = _assign(self, entry)
        self.db.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", _row(entry, story))
        self.db.executemany(
            "INSERT INTO bands VALUES (?, ?)", [(b, entry.id) for b in entry.bands.tolist()]
        )
        day = entry.day or _UNDATED
        self.db.executemany(
            "INSERT INTO keys VALUES (?, ?, ?)", [(k, day, entry.id) for k in entry.keys]
        )
        return story

    def near_candidates(self, bands: list[int]) -> list[Entry]:
        marks = ",".join("?" * len(bands))
        rows = self.db.execute(
            "SELECT id, day, shingles, sig FROM docs WHERE id IN "
            f"(SELECT id FROM bands WHERE key IN ({marks})) ORDER BY id",
            bands,
        ).fetchall()
        return [
            Entry(i, day, count, np.frombuffer(sig, dtype=np.uint64), [], _NO_BANDS)
            for i, day, count, sig in rows
        ]

    def total(self) -> int:
        return self.db.execute("SELECT count(*) FROM docs").fetchone()[0]

    def df(self, key: str) -> int:
        return self.db.execute("SELECT count(*) FROM keys WHERE key = ?", (key,)).fetchone()[0]

    def holders(self, key: str, first: int, last: int) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM keys WHERE key = ? AND day BETWEEN ? AND ?", (key, first, last)
        )
        return [i for (i,) in rows]

    def keys_of(self, doc_id: str) -> list[str]:
        found = self.db.execute("SELECT keys FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return [k for k in found[0].split("\n") if k] if found else []

    def sig_of(self, doc_id: str) -> np.ndarray:
        found = self.db.execute("SELECT sig FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return np.frombuffer(found[0], dtype=np.uint64)

    def story_of(self, doc_id: str) -> str:
        return self.db.execute("SELECT story FROM docs WHERE id = ?", (doc_id,)).fetchone()[0]


def build_order(entry: Entry) -> tuple:
    """The order a build assigns documents in: by date, undated last, ties by id."""
    return (entry.day is None, entry.day or 0, entry.id)


def assign_all(folder: str | Path, entries: Iterable[Entry]) -> None:
    """Assign `entries` (a full build's, from `entry_for`) in build order and write the
    generation's file."""
    memory = MemoryStories()
    # Without the cyclic collector: assigning makes millions of lists and no cycles, and
    # its passes over them were half the assignment's time on Reuters-21578.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for entry in sorted(entries, key=build_order):
            memory.add(entry)
        memory.write(folder)
    finally:
        if was_enabled:
            gc.enable()


def read_stories(folder: str | Path) -> dict[str, str]:
    """Document id -> story id of the generation in `folder` ({} when it has none)."""
    path = Path(folder) / FILE
    if not path.exists():
        return {}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT id, story FROM docs"))
