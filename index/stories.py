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
more than the rest of ingest) and writes the file once, its LSH bands as sorted arrays
beside it (`BuildBands`); both follow one rule (`_joined`).
It assigns documents in (date, id) order, so the same input always gives the same stories
and the first member is the earliest. A story's id is derived from the id of the document
that started it.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import math
import sqlite3
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from index import packed
from index.analysis import fold, word_list
from index.documents import Document
from index.storage import STORIES_FILE, STORY_BANDS_FILE, fsync_dir, fsync_file
from index.workers import meanwhile

FILE = STORIES_FILE
BANDS_FILE = STORY_BANDS_FILE
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

# The band and key tables are their own index (WITHOUT ROWID, keyed by what is looked up):
# half the bytes of a table plus an index, and a full build inserts keys in key order,
# appending instead of sorting. Files written before keep their rowid tables and indexes;
# the same statements read both.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY, story TEXT NOT NULL, day INTEGER, shingles INTEGER NOT NULL,
    sig BLOB NOT NULL, keys TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bands (
    key INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (key, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (
    key TEXT NOT NULL, day INTEGER NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (key, day, id)) WITHOUT ROWID;
"""
# Created after a full build's rows are in: SQLite sorts once instead of inserting each
# row into the B-tree in random order.
_INDEXES = "CREATE INDEX IF NOT EXISTS docs_story ON docs(story);"
_WRITE_CACHE_KIB = 131_072  # SQLite's page cache while a full build writes the file
# ... and while API writes and incremental builds add to it: each document reads and
# inserts rows all over a million-row file, and with SQLite's default 2 MB each batch
# read the same inner pages again and again.
_APPLY_CACHE_KIB = 65_536
_HOLDERS_AT_ONCE = 1000  # entries whose build holders are asked for together
_ROWS_AT_ONCE = 1 << 20  # rows made into Python objects at a time while writing
_SIGNATURES_AT_ONCE = 1 << 16  # signatures made into blobs at a time (25 MB)
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
PERMUTATION_SEED = 1


@cache
def permutations() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) pairs, drawn as datasketch draws them (`MinHash._init_permutations`:
    odd multipliers, then offsets, from one seeded generator); tests check they are
    datasketch's own. Not imported from it: datasketch imports SciPy, half a second and
    40 MB in every process that writes (a server's first write paid it in each worker)."""
    draw = np.random.RandomState(PERMUTATION_SEED)
    a = draw.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = draw.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
_MIX32 = _MIX.astype(np.uint32)

# Word -> crc32, as the stems are cached (index/analysis.py): news vocabulary is Zipfian,
# so almost every word is a dictionary hit instead of an encode and a checksum.
_WORD_HASHES: dict[str, int] = {}


def _word_hashes(words: list[str]) -> np.ndarray:
    # array.fromlist then a view: a third faster than np.fromiter over the map
    hashes = array("I")
    try:
        hashes.fromlist(list(map(_WORD_HASHES.__getitem__, words)))
    except KeyError:  # a word not seen before
        for word in words:
            if word not in _WORD_HASHES:
                _WORD_HASHES[word] = zlib.crc32(word.encode("utf-8"))
        hashes.fromlist(list(map(_WORD_HASHES.__getitem__, words)))
    return np.frombuffer(hashes, dtype=np.uint32)


def minhashes(shingles: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The MinHash signatures (uint64, as stored) of several sets of distinct 32-bit
    shingle hashes, laid end to end in `shingles`, each (non-empty) from its start."""
    shift, m1, shift2, m2 = _FMIX
    h = shingles ^ (shingles >> shift)
    h = h * m1
    h = h ^ (h >> shift2)
    h = h * m2
    h = h ^ (h >> shift)
    perm_a, perm_b = permutations()
    # One row per permutation: reduceat then takes each set's minimum along a contiguous
    # row (twice as fast as down the columns of the shingles-by-permutations matrix).
    permuted = np.multiply.outer(perm_a, h)
    permuted += perm_b[:, None]
    return np.minimum.reduceat(permuted, starts, axis=1).T.astype(np.uint64, order="C")


def _words(doc: Document, folded: list[str] | None = None) -> list[str]:
    """The words shingled: the body's (the headline's too when the body is short).
    `folded`: the headline's and body's words as the writer's WORDS field has them
    (index/writer.py), which in ASCII text are these words: not scanned for again."""
    if folded is not None and doc.title.isascii() and doc.text.isascii():
        words = folded[len(word_list(doc.title)) :]
        return words if len(words) >= SHINGLE_WORDS + MIN_SHINGLES else folded
    words = word_list(fold(doc.text))
    if len(words) < SHINGLE_WORDS + MIN_SHINGLES:
        words = word_list(fold(doc.title)) + words
    return words


def signatures(
    docs: list[Document], folded: list[list[str]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The MinHash signatures of the documents' word shingles (a text shorter than a
    shingle: its words; without words: one hash 0) and how many distinct shingles each
    has. All documents at once: per document, the dozen numpy calls on arrays of a few
    hundred values cost more than their arithmetic."""
    lengths = []
    words: list[str] = []
    for i, doc in enumerate(docs):
        mine = _words(doc, folded[i] if folded else None)
        lengths.append(len(mine))
        words += mine
    hashed = _word_hashes(words)
    counts = np.array(lengths, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    owner = np.repeat(np.arange(len(docs)), counts)
    shingled = counts[owner] >= SHINGLE_WORDS
    # (mod 2^32 throughout: the low 32 bits of the 64-bit mix the file was built with)
    mixed = np.zeros_like(hashed)
    end = max(len(hashed) - SHINGLE_WORDS + 1, 0)
    for i in range(SHINGLE_WORDS):
        mixed[:end] += hashed[i : end + i] * _MIX32[i]
    # a shingled document's shingles start at each of its words but its last two
    kept = ~shingled | (np.arange(len(hashed)) - starts[owner] <= counts[owner] - SHINGLE_WORDS)
    values = np.where(shingled, mixed, hashed)[kept].astype(np.uint64)
    holders = owner[kept].astype(np.uint64)
    none = np.flatnonzero(counts == 0).astype(np.uint64)
    codes = _distinct(np.concatenate([(holders << np.uint64(32)) | values, none << np.uint64(32)]))
    holders = (codes >> np.uint64(32)).astype(np.int64)
    distinct = np.bincount(holders, minlength=len(docs))
    firsts = np.cumsum(distinct) - distinct
    return minhashes((codes & np.uint64(0xFFFFFFFF)).astype(np.uint32), firsts), distinct


def _distinct(values: np.ndarray) -> np.ndarray:
    """`np.unique(values)`, by one sort: numpy 2's unique hashes, then sorts what it
    found, three times slower on the few hundred to few thousand values here."""
    values = np.sort(values)
    first = np.empty(len(values), dtype=bool)  # each value's first occurrence
    first[:1] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return values[first]


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
    """The BANDS LSH keys of a signature (uint64), or of each row of a matrix of them."""
    rows = sig.reshape(*sig.shape[:-1], BANDS, ROWS)
    mixed = sum(rows[..., i] * _MIX[i] for i in range(ROWS)) + np.arange(BANDS, dtype=np.uint64)
    return (mixed * _MIX[3]) & _MASK63


def _holding(keys: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """Which rows of `keys` (a row of band keys per document) hold any of `bands`: the
    bands sorted once and searched (np.isin sorts both, every call)."""
    ordered = np.sort(bands)
    at = np.searchsorted(ordered, keys).clip(max=len(ordered) - 1)
    return (ordered[at] == keys).any(axis=1)


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
    sig: np.ndarray  # NUM_PERM uint64 values below 2^32 (datasketch's affine32)
    keys: list[str]

    @property
    def bands(self) -> np.ndarray:
        """Its BANDS LSH keys (uint64)."""
        return band_keys(self.sig)

    def __reduce__(self):
        # Workers send entries to the reading process: one bytes object for the array
        # pickles several times faster than a numpy array and a dataclass.
        return _unpack, (
            self.id,
            self.day,
            self.shingles,
            _sig_blob(self.sig),
            "\n".join(self.keys),
        )


def _unpack(doc_id: str, day: int | None, shingles: int, sig: bytes, keys: str) -> Entry:
    return Entry(doc_id, day, shingles, _sig(sig), keys.split("\n") if keys else [])


def entries_for(docs: list[Document], folded: list[list[str]] | None = None) -> list[Entry]:
    """The documents' entries; `folded`: their WORDS fields, if made (`_words`)."""
    sigs, counts = signatures(docs, folded)
    return [
        Entry(doc.id, doc.date.toordinal() if doc.date else None, count, sig, event_keys(doc))
        for doc, count, sig in zip(docs, counts.tolist(), sigs, strict=True)
    ]


def entry_for(doc: Document) -> Entry:
    return entries_for([doc])[0]


def _joined(state, entry: Entry, built: list[str] | None = None) -> str | None:
    """The document whose story `entry` joins: its nearest copy, else a same-event report;
    None when it starts a story of its own. `state` holds what was recorded before it
    (`built`: a StoryIndex's build holders of the entry's bands, if asked already)."""
    ids, sigs, counts = state.near_candidates(entry, built)  # ids ascending, their rows
    if ids:
        near = _nears(entry.sig, entry.shingles, sigs, counts)
        best = float(near.max())
        if best > 0:  # the nearest, ties to the largest id: the last of them by id
            return ids[int(np.flatnonzero(near == best)[-1])]
    return _event_report(state, entry)


def _event_report(state, entry: Entry) -> str | None:
    if entry.day is None:
        return None
    total = state.total() + 1
    limit = max(EVENT_MAX_DF * total, 2)

    def idf(df: int) -> float:
        return math.log((total + 1) / (df + 1))

    weights = {}
    for key, df in zip(entry.keys, state.dfs(entry.keys), strict=True):
        if df + 1 <= limit:
            weights[key] = idf(df)
    if len(weights) < EVENT_MIN_SHARED:
        return None
    # How many of these keys each report in the window holds (a document holds a key
    # once, and all its keys on its one day), counted in C rather than per holder.
    shared = Counter(state.holders(list(weights), entry.day - EVENT_DAYS, entry.day + EVENT_DAYS))
    mine = sum(weights.values())
    best = None
    for doc_id in sorted(i for i, count in shared.items() if count >= EVENT_MIN_SHARED):
        if float(np.mean(entry.sig == state.sig_of(doc_id))) < EVENT_MIN_JACCARD:
            continue
        theirs_keys = state.keys_of(doc_id)  # sorted, as `weights` is: the same sum order
        theirs = sum(idf(df) for df in state.dfs(theirs_keys) if df <= limit)
        common = sum(weights[k] for k in theirs_keys if k in weights)
        overlap = common / max(min(mine, theirs), 1e-9)
        if overlap >= EVENT_OVERLAP and (best is None or overlap > best[0]):
            best = (overlap, doc_id)
    return best[1] if best else None


NO_DAY = -1  # an undated entry's day in columns (no date has a negative ordinal)


class Entries:
    """A full build's story entries, gathered as columns while workers hand them over: a
    million Entry objects (arrays, key lists, strings) held about 5 GB in the reindex
    process at 50x Reuters-21578; as columns, with keys numbered, under a gigabyte."""

    def __init__(self):
        self.ids: list[str] = []
        self.vocabulary: dict[str, int] = {}  # key -> its number
        self._chunks: list[tuple[np.ndarray, ...]] = []

    def __len__(self) -> int:
        return len(self.ids)

    def extend(self, entries: list[Entry]) -> None:
        if not entries:
            return
        number = self.vocabulary.setdefault
        self.ids.extend(entry.id for entry in entries)
        self._chunks.append(
            (
                np.array([NO_DAY if e.day is None else e.day for e in entries], np.int64),
                np.array([e.shingles for e in entries], np.int64),
                # signatures are 32-bit values (affine32): half the memory of the file's uint64
                np.array([e.sig for e in entries], np.uint64).astype(np.uint32),
                np.array([len(e.keys) for e in entries], np.int64),
                np.array(
                    [number(key, len(self.vocabulary)) for e in entries for key in e.keys],
                    np.int32,
                ),
            )
        )

    def merge(self, other: Entries) -> None:
        """Append `other`'s entries: a worker's, gathered as columns with its own key
        numbers (so that it sends five arrays and two lists, not an object an entry).
        Keys new here are numbered in the order `other` first saw them, as `extend`
        would have numbered them entry by entry."""
        if not other.ids:
            return
        number = self.vocabulary.setdefault
        renumbered = np.array(
            [number(key, len(self.vocabulary)) for key in other.vocabulary], np.int32
        )
        days, shingles, sigs, counts, numbers = other.columns()
        self.ids.extend(other.ids)
        self._chunks.append((days, shingles, sigs, counts, renumbered[numbers]))

    def columns(self) -> tuple[np.ndarray, ...]:
        """Days, shingle counts, signatures, key counts and key numbers, in input order."""
        empty = (
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, NUM_PERM), np.uint32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int32),
        )
        if self._chunks:
            parts = zip(*self._chunks, strict=True)
            self._chunks = [tuple(np.concatenate(column) for column in parts)]
        return self._chunks[0] if self._chunks else empty

    def give_up_columns(self) -> None:
        """Drop the columns, keeping the ids: a full build's stories hold copies in build
        order (`MemoryStories`), and two copies were 480 MB of its peak at 50x
        Reuters-21578."""
        self._chunks = []

    def in_build_order(self) -> list[Entry]:
        """The entries as Entry objects, in build order (for an incremental build)."""
        days, shingles, sigs, counts, numbers = self.columns()
        names = list(self.vocabulary)
        starts = np.concatenate([[0], np.cumsum(counts)]).tolist()
        entries = [
            Entry(
                doc_id,
                None if day == NO_DAY else day,
                count,
                sig.astype(np.uint64),
                [names[k] for k in numbers[starts[i] : starts[i + 1]].tolist()],
            )
            for i, (doc_id, day, count, sig) in enumerate(
                zip(self.ids, days.tolist(), shingles.tolist(), sigs, strict=True)
            )
        ]
        return sorted(entries, key=build_order)


# An entry whose verbatim copies `MemoryStories._copies` cannot tell (its signature's
# hash is shared by another signature): `_copy_of` looks for them.
_UNSURE = object()


def _signature_hashes(sigs: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each signature (row), a slice of rows at a time (uint64 copies of
    a million signatures would take 800 MB)."""
    found = np.empty(len(sigs), dtype=np.uint64)
    step = 65_536
    for at in range(0, len(sigs), step):
        h = np.zeros(len(sigs[at : at + step]), dtype=np.uint64)
        for column in sigs[at : at + step].T.astype(np.uint64):
            h = h * _HASH_MULTIPLIER + column  # modulo 2^64
        found[at : at + step] = h
    return found


_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd: each step a bijection


class MemoryStories:
    """A full build's stories, assigned in memory in build order, then written to the
    file at once. An entry may join only what was recorded before it, so instead of
    growing tables entry by entry, the band and key holders are sorted once (by value,
    then build position) and an entry's candidates are the holders ranked before it."""

    def __init__(self, entries: Entries):
        days, shingles, sigs, counts, numbers = entries.columns()
        ids = entries.ids
        # Build order: by day, the undated last, then by id. The ids are sorted once (a
        # million strings): by day is a stable numpy sort of them, and their order is
        # kept (`by_id`) for the copies' ranks and the docs table.
        by_id = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
        day_key = np.where(days == NO_DAY, np.iinfo(np.int64).max, np.maximum(days, 0))
        order = by_id[np.argsort(day_key[by_id], kind="stable")]
        built_at = np.empty(len(ids), dtype=np.int64)
        built_at[order] = np.arange(len(ids))
        self.by_id = built_at[by_id]  # build positions, in id order
        del by_id, day_key, built_at
        self.ids = [ids[i] for i in order.tolist()]
        self.position = {doc_id: p for p, doc_id in enumerate(self.ids)}
        self.days = days[order]
        self.shingles = shingles[order]
        self.sigs = sigs[order]
        self.names = list(entries.vocabulary)
        self.vocabulary = entries.vocabulary
        # each entry's key numbers, moved from input order to build order
        sources = np.concatenate([[0], np.cumsum(counts)])[order]
        counts = counts[order]
        self.key_starts = np.concatenate([[0], np.cumsum(counts)])
        shift = np.repeat(sources - self.key_starts[:-1], counts)
        self.keys = numbers[shift + np.arange(len(shift))]
        self._index_keys()
        self._index_bands()
        self.founders = np.arange(len(self.ids), dtype=np.int64)  # who started each story
        self.p = 0  # the entry being assigned: what is recorded is everything before it

    def _index_keys(self) -> None:
        holders = np.repeat(np.arange(len(self.ids)), np.diff(self.key_starts))
        order = np.argsort(self.keys, kind="stable")
        self.key_holders = holders[order]  # by key, then build position
        # The same order as codes, (key << 32) + position and (key << 32) + day (holders
        # come in build order: dated ones by day, then the undated): one search finds,
        # for several keys at once, the holders before a position or within some days.
        keys = self.keys[order].astype(np.int64) << 32
        days = self.days[self.key_holders]
        self.key_positions = keys + self.key_holders
        self.key_days = keys + np.where(days == NO_DAY, (1 << 32) - 1, days)

    def _index_bands(self) -> None:
        """Band holders sorted by band key, then build position (a stable sort); per
        entry and band, its rank in that order and how many earlier entries hold the same
        key (its run of equal keys begins that many ranks before). The largest arrays a
        build holds (34.5M bands at 50x Reuters-21578): positions are int32 where they
        fit, and each temporary is dropped as soon as it is used."""
        values = np.concatenate([keys.ravel() for _, keys in self._bands()] or [_NO_BANDS])
        count = len(values)
        index = np.int32 if count < 2**31 else np.int64
        order = np.argsort(values, kind="stable")
        ranked = values[order]
        del values
        first = np.ones(count, dtype=bool)  # where a run of equal keys begins
        np.not_equal(ranked[1:], ranked[:-1], out=first[1:])
        del ranked
        positions = np.arange(count, dtype=index)
        begins = np.maximum.accumulate(np.where(first, positions, 0))
        del first
        rank = np.empty(count, dtype=index)
        rank[order] = positions
        del positions
        self.band_holders = (order // BANDS).astype(np.int32)
        del order
        self.band_rank = rank.reshape(-1, BANDS)
        self.band_before = (rank - begins[rank]).reshape(-1, BANDS)

    def _bands(self) -> Iterator[tuple[int, np.ndarray]]:
        """Every entry's band keys, in build order, a slice of entries at a time (with
        its first position): a whole uint64 copy of a million signatures would double
        their memory."""
        step = 65_536
        for start in range(0, len(self.ids), step):
            yield start, band_keys(self.sigs[start : start + step].astype(np.uint64))

    def assign(self) -> None:
        """Assign every entry (in build order) its story."""
        for p, copy in enumerate(self._copies()):
            self.p = p
            joined = self._copy_of(p) if copy is _UNSURE else copy
            if joined is None:
                joined = _joined(self, self._entry(p))
            if joined is not None:
                self.founders[p] = self.founders[self.position[joined]]

    def _copies(self) -> list:
        """What `_copy_of` answers for each entry, for all of them at once: entries one at
        a time were most of a build's serial assignment (at 50x Reuters-21578, 50 copies
        of each article). Entries are grouped by signature, split by what `_copy_of` lets
        match (at least MIN_SHINGLES shingles each, or as many), and each gets the largest
        id of its group before it in build order. Groups are found by a 64-bit hash of the
        signature (sorting the signatures themselves would copy them all); a group where
        it joins different signatures is left to `_copy_of` (_UNSURE)."""
        n = len(self.ids)
        hashes = _signature_hashes(self.sigs)
        kinds = np.where(self.shingles >= MIN_SHINGLES, -1, self.shingles)
        order = np.lexsort((np.arange(n), kinds, hashes))
        hashes, kinds = hashes[order], kinds[order]
        first = np.ones(n, dtype=bool)  # where a group begins, in `order`
        first[1:] = (hashes[1:] != hashes[:-1]) | (kinds[1:] != kinds[:-1])
        group = np.cumsum(first) - 1
        starts = np.flatnonzero(first)
        mixed = np.zeros(len(starts), dtype=bool)
        step = 65_536
        for at in range(0, n, step):  # each entry against its group's first, a slice at a time
            members = order[at : at + step]
            leaders = order[starts[group[at : at + step]]]
            differs = (self.sigs[members] != self.sigs[leaders]).any(axis=1)
            mixed[group[at : at + step][differs]] = True
        # ids by rank (code point order, as `max` compares them): the largest before each
        # entry in its group is a running maximum of group * n + rank
        by_rank = self.by_id.tolist()
        rank = np.empty(n, dtype=np.int64)
        rank[self.by_id] = np.arange(n)
        running = np.maximum.accumulate(group * n + rank[order])
        copies: list = [None] * n
        ids = self.ids
        for i in np.flatnonzero(~first & ~mixed[group]).tolist():
            copies[order[i]] = ids[by_rank[running[i - 1] % n]]
        for i in np.flatnonzero(mixed[group]).tolist():
            copies[order[i]] = _UNSURE
        return copies

    def _entry(self, p: int) -> Entry:
        day = int(self.days[p])
        return Entry(
            self.ids[p],
            None if day == NO_DAY else day,
            int(self.shingles[p]),
            self.sigs[p],
            self.keys_at(p),
        )

    def keys_at(self, p: int) -> list[str]:
        names = self.names
        return [names[k] for k in self.keys[self.key_starts[p] : self.key_starts[p + 1]].tolist()]

    def _copy_of(self, p: int) -> str | None:
        """What `_joined` answers when an earlier entry has the same signature, found
        without gathering every candidate: verbatim copies (wire copy republished) are
        common in news, and gathering fifty copies' candidates was most of the serial
        assignment of 50x Reuters-21578. An identical signature is the only way to an
        estimated Jaccard of 1.0, the highest nearness, and `_joined` takes the largest
        id among those at the highest; every identical signature shares all the bands,
        so the band with the fewest holders before this entry holds them all."""
        before = self.band_before[p]
        shortest = int(before.argmin())
        if before[shortest] == 0:
            return None  # no earlier entry shares this band: none is a copy
        rank = int(self.band_rank[p, shortest])
        held = self.band_holders[rank - int(before[shortest]) : rank]
        same = (self.sigs[held] == self.sigs[p]).all(axis=1)
        count, counts = self.shingles[p], self.shingles[held]
        # `_nears` at Jaccard 1.0: near unless short texts of different lengths
        same &= (np.minimum(counts, count) >= MIN_SHINGLES) | (counts == count)
        if not same.any():
            return None
        return max(self.ids[q] for q in held[same].tolist())

    def near_candidates(
        self, entry: Entry, built: list[str] | None = None
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        p = self.p  # (a full build's bands are all here: no `built`)
        before = self.band_before[p]
        if not before.any():
            return [], self.sigs[:0], self.shingles[:0]
        ranks = self.band_rank[p]
        found = _distinct(
            np.concatenate(
                [
                    self.band_holders[r - b : r]
                    for r, b in zip(ranks.tolist(), before.tolist(), strict=True)
                    if b
                ]
            )
        )
        by_id = sorted(found.tolist(), key=self.ids.__getitem__)
        return [self.ids[q] for q in by_id], self.sigs[by_id], self.shingles[by_id]

    def total(self) -> int:
        return self.p

    def _codes(self, keys: list[str]) -> np.ndarray:
        """The keys' numbers, shifted as the codes are (unknown keys: one no code has)."""
        unknown = len(self.names)
        number = self.vocabulary.get
        return np.array([number(key, unknown) for key in keys], np.int64) << 32

    def dfs(self, keys: list[str]) -> list[int]:
        """How many entries before the current one hold each of `keys`."""
        codes = self._codes(keys)
        before = np.searchsorted(self.key_positions, codes + self.p)
        return (before - np.searchsorted(self.key_positions, codes)).tolist()

    def holders(self, keys: list[str], first: int, last: int) -> list[str]:
        """The entries before the current one holding any of `keys` (once per key held),
        dated within [first, last]."""
        codes = self._codes(keys)
        lows = np.searchsorted(self.key_days, codes + first)
        highs = np.minimum(
            np.searchsorted(self.key_days, codes + last, side="right"),
            np.searchsorted(self.key_positions, codes + self.p),
        )
        ids, held = self.ids, self.key_holders
        return [
            ids[q]
            for low, high in zip(lows.tolist(), highs.tolist(), strict=True)
            for q in held[low:high].tolist()
        ]

    def keys_of(self, doc_id: str) -> list[str]:
        return self.keys_at(self.position[doc_id])

    def sig_of(self, doc_id: str) -> np.ndarray:
        return self.sigs[self.position[doc_id]]

    def stories(self) -> list[str]:
        """Each entry's story id, in build order."""
        founders = self.founders.tolist()
        return [story_id(self.ids[f]) for f in founders]

    def write_keys(self, folder: str | Path) -> None:
        """Create the file and write its keys table, in key order. It needs no story, so
        a full build writes it in a forked process while assigning (`assign_all`): the
        most rows of the file, 9 million at 50x Reuters-21578."""
        with closing(sqlite3.connect(Path(folder) / FILE)) as db, db:
            db.execute(f"PRAGMA cache_size = -{_WRITE_CACHE_KIB}")
            db.executescript(_SCHEMA)
            db.executemany("INSERT INTO keys VALUES (?, ?, ?)", self._key_rows())

    def write_bands(self, folder: str | Path) -> None:
        """Write the build's bands file (`BuildBands`), once every entry is assigned, then
        drop the band arrays, which nothing after assigning reads (414 MB at 50x
        Reuters-21578): written while the keys table is, which takes longer (18.5 s to
        assigning's 10.4 there)."""
        ranked = np.empty(self.band_rank.size, dtype=np.uint64)  # every band key, sorted
        for start, bands in self._bands():
            ranked[self.band_rank[start : start + len(bands)].ravel()] = bands.ravel()
        BuildBands.write(folder, ranked, self.band_holders, self.ids)
        del self.band_rank, self.band_before, self.band_holders

    def write(self, folder: str | Path) -> None:
        """Write the docs table (in id order) to the file `write_keys` made."""
        with closing(sqlite3.connect(Path(folder) / FILE)) as db, db:
            db.execute(f"PRAGMA cache_size = -{_WRITE_CACHE_KIB}")
            db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", self._doc_rows())
            db.executescript(_INDEXES)

    def _doc_rows(self) -> Iterator[tuple]:
        """Rows in id order; the signatures' blobs (`_sig_blob`) cut from one array's bytes
        a slice of rows at a time, not made row by row by numpy."""
        ids, days, names, keys = self.ids, self.days.tolist(), self.names, self.keys.tolist()
        starts, stories, shingles = self.key_starts.tolist(), self.stories(), self.shingles.tolist()
        width = 4 * NUM_PERM
        by_id = self.by_id.tolist()
        for at in range(0, len(by_id), _SIGNATURES_AT_ONCE):
            chunk = by_id[at : at + _SIGNATURES_AT_ONCE]
            blobs = self.sigs[chunk].astype(np.uint32, copy=False).tobytes()
            for n, p in enumerate(chunk):
                yield (
                    ids[p],
                    stories[p],
                    None if days[p] == NO_DAY else days[p],
                    shingles[p],
                    blobs[n * width : (n + 1) * width],
                    "\n".join(map(names.__getitem__, keys[starts[p] : starts[p + 1]])),
                )

    def _key_rows(self) -> Iterator[tuple[str, int, str]]:
        """(key, day, id) in that order: by key name and day, then build position, which
        is by id within a day."""
        names = self.names
        name_rank = np.empty(len(names), dtype=np.int64)
        name_rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        # 32-bit columns, each put in order as soon as the order is known: a build's keys
        # are its most rows (9 million at 50x Reuters-21578), written in a forked process
        # while the main one assigns, so what this holds adds to the phase's peak.
        numbers = (self.key_positions >> 32).astype(np.int32)
        days = self.days[self.key_holders]
        days = np.where(days == NO_DAY, _UNDATED, days).astype(np.int32)
        order = np.argsort((name_rank[numbers] << 32) + days, kind="stable")
        numbers, days = numbers[order], days[order]
        holders = self.key_holders[order].astype(np.int32)
        del order
        return _rows(self.ids, names, numbers, days, holders)


def _rows(ids: list[str], names: list[str], numbers, days, holders) -> Iterator[tuple]:
    """(name, day, id) rows of the columns, numbers as `names`, holders as `ids`: a slice
    at a time, since tens of millions of Python ints would outweigh the arrays, and the
    rows made and handed on in C (zip, chain): a Python step per row was a quarter of
    the keys table's write."""
    cuts = [slice(start, start + _ROWS_AT_ONCE) for start in range(0, len(holders), _ROWS_AT_ONCE)]
    return itertools.chain.from_iterable(
        zip(
            list(map(names.__getitem__, numbers[cut].tolist())),
            days[cut].tolist(),
            list(map(ids.__getitem__, holders[cut].tolist())),
            strict=True,
        )
        for cut in cuts
    )


def _row(entry: Entry, story: str) -> tuple:
    return (entry.id, story, entry.day, entry.shingles, _sig_blob(entry.sig), "\n".join(entry.keys))


def _sig_blob(sig: np.ndarray) -> bytes:
    """A signature as stored: 32-bit values (files written before hold them as 64-bit)."""
    return sig.astype(np.uint32).tobytes()


def _sig(blob: bytes) -> np.ndarray:
    wide = len(blob) == 8 * NUM_PERM
    return np.frombuffer(blob, dtype=np.uint64 if wide else np.uint32).astype(np.uint64)


def _sigs(blobs: list[bytes]) -> np.ndarray:
    """Stored signatures as rows of one array: those of 32-bit values decoded at once."""
    if all(len(blob) == 4 * NUM_PERM for blob in blobs):
        joined = np.frombuffer(b"".join(blobs), np.uint32).reshape(len(blobs), NUM_PERM)
        return joined.astype(np.uint64)
    return np.array([_sig(blob) for blob in blobs], np.uint64).reshape(len(blobs), NUM_PERM)


class BuildBands:
    """The LSH bands of the full build a generation descends from, as sorted arrays in
    one file (index/packed.py, memory-mapped when read): as 34.5 million table rows at 50x
    Reuters-21578 they took SQLite 53 s to insert, a third of the build's one-core tail.
    Written once and never rewritten (later generations link it); writes after the build
    record their bands in the SQLite file's table. A holder may since have been deleted
    or rewritten, so whoever reads them checks the holder's current signature
    (`StoryIndex.near_candidates`)."""

    def __init__(self, folder: str | Path):
        path = Path(folder) / BANDS_FILE
        # a generation written before the file: every band is in the table
        self.arrays = packed.read(path)[0] if path.exists() else None

    @staticmethod
    def write(folder: str | Path, keys: np.ndarray, holders: np.ndarray, ids: list[str]):
        """`keys` sorted, `holders` (positions in `ids`) in the same order."""
        id_bytes, id_ends = packed.pack_strings(ids)
        path = Path(folder) / BANDS_FILE
        arrays = {"keys": keys, "holders": holders, "id_bytes": id_bytes, "id_ends": id_ends}
        packed.write(path, arrays)
        fsync_file(path)  # not a cache: a generation without it would miss candidates
        fsync_dir(folder)

    def holders(self, bands: np.ndarray) -> list[list[str]]:
        """The ids of the build's documents holding any of each row's `bands` (a row per
        document): every row's runs found in the same two searches, as a batch of API
        writes asks for a thousand documents' at once."""
        if self.arrays is None:
            return [[] for _ in range(len(bands))]
        keys, holders = self.arrays["keys"], self.arrays["holders"]
        # searched in ascending order (each search starts where the last one ended: a
        # third of the time), the runs put back in the bands' order
        flat = bands.ravel()
        order = np.argsort(flat)
        lows, counts = np.empty((2, len(flat)), dtype=np.int64)
        lows[order] = np.searchsorted(keys, flat[order])
        counts[order] = np.searchsorted(keys, flat[order], side="right")
        counts -= lows
        # every row of every band's run: each run's start, then a count up from it
        runs_before = np.cumsum(counts) - counts
        rows = np.repeat(lows - runs_before, counts) + np.arange(counts.sum())
        asking = np.repeat(np.repeat(np.arange(len(bands)), bands.shape[1]), counts)
        # each asking row's holders once, ascending: (row, holder) pairs made unique
        ends = self.arrays["id_ends"]
        pairs = np.unique(asking * len(ends) + holders[rows].astype(np.int64))
        asking, found = np.divmod(pairs, len(ends))
        text = self.arrays["id_bytes"].data
        starts = np.where(found > 0, ends[found - 1], 0).tolist()
        ids = [str(text[a:b], "utf-8") for a, b in zip(starts, ends[found].tolist(), strict=True)]
        cuts = np.searchsorted(asking, np.arange(len(bands) + 1)).tolist()
        return [ids[a:b] for a, b in itertools.pairwise(cuts)]


class StoryIndex:
    """The stories of one generation, read and extended in its SQLite file (one
    transaction per `with` block): for API writes and incremental builds."""

    def __init__(self, folder: str | Path):
        self.db = sqlite3.connect(Path(folder) / FILE, isolation_level=None)
        self.db.execute(f"PRAGMA cache_size = -{_APPLY_CACHE_KIB}")
        self.db.executescript(_SCHEMA + _INDEXES)
        self.built = BuildBands(folder)

    def __enter__(self) -> StoryIndex:
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
        self.db.close()

    def remove(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            found = self.db.execute(
                "SELECT sig, keys, day FROM docs WHERE id = ?", (doc_id,)
            ).fetchone()
            if found is None:
                continue
            sig = _sig(found[0])
            self.db.executemany(
                "DELETE FROM bands WHERE key = ? AND id = ?",
                [(b, doc_id) for b in band_keys(sig).tolist()],
            )
            # The whole primary key: by key and id alone, SQLite reads every holder of
            # the key ("p:united states": 200,000 rows at 50x Reuters-21578).
            day = found[2] or _UNDATED
            self.db.executemany(
                "DELETE FROM keys WHERE key = ? AND day = ? AND id = ?",
                [(k, day, doc_id) for k in found[1].split("\n") if k],
            )
            self.db.execute("DELETE FROM docs WHERE id = ?", (doc_id,))

    def entries_for(self, docs: list[Document]) -> list[tuple[Entry, list[str]]]:
        """The documents' entries, each with the build's holders of its bands (for `add`)."""
        entries = entries_for(docs)
        return list(zip(entries, self._built_holders(entries), strict=True))

    def add_all(self, entries: list[Entry]) -> list[str]:
        """`add` each entry in turn, the build's holders asked for a batch at a time."""
        stories = []
        for start in range(0, len(entries), _HOLDERS_AT_ONCE):
            batch = entries[start : start + _HOLDERS_AT_ONCE]
            built = self._built_holders(batch)
            stories += [self.add(e, b) for e, b in zip(batch, built, strict=True)]
        return stories

    def _built_holders(self, entries: list[Entry]) -> list[list[str]]:
        if not entries:
            return []
        return self.built.holders(np.stack([entry.bands for entry in entries]))

    def add(self, entry: Entry, built: list[str] | None = None) -> str:
        """Assign `entry` a story (replacing what its document had) and record it.
        `built`: the build's holders of its bands, if asked already (`BuildBands.holders`)."""
        self.remove([entry.id])
        joined = _joined(self, entry, built)
        story = self.story_of(joined) if joined else story_id(entry.id)
        self.db.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", _row(entry, story))
        self.db.executemany(
            "INSERT OR IGNORE INTO bands VALUES (?, ?)",
            [(b, entry.id) for b in entry.bands.tolist()],
        )
        day = entry.day or _UNDATED
        self.db.executemany(
            "INSERT INTO keys VALUES (?, ?, ?)", [(k, day, entry.id) for k in entry.keys]
        )
        return story

    def near_candidates(
        self, entry: Entry, built: list[str] | None = None
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        bands = entry.bands
        if built is None:
            built = self.built.holders(bands[None])[0]
        marks = ",".join("?" * len(bands))
        rows = self.db.execute(
            "SELECT id, shingles, sig FROM docs WHERE id IN "
            f"(SELECT id FROM bands WHERE key IN ({marks}) "
            "UNION SELECT value FROM json_each(?)) ORDER BY id",
            [*bands.tolist(), json.dumps(built)],
        ).fetchall()
        sigs = _sigs([sig for _, _, sig in rows])
        # the build's holders as they are now: one rewritten since may hold other bands
        holds = np.flatnonzero(_holding(band_keys(sigs), bands))
        kept = [rows[i] for i in holds.tolist()]
        return (
            [i for i, _, _ in kept],
            sigs[holds],
            np.array([count for _, count, _ in kept], dtype=np.int64),
        )

    def total(self) -> int:
        return self.db.execute("SELECT count(*) FROM docs").fetchone()[0]

    def dfs(self, keys: list[str]) -> list[int]:
        count = "SELECT count(*) FROM keys WHERE key = ?"
        return [self.db.execute(count, (key,)).fetchone()[0] for key in keys]

    def holders(self, keys: list[str], first: int, last: int) -> list[str]:
        query = "SELECT id FROM keys WHERE key = ? AND day BETWEEN ? AND ?"
        return [i for key in keys for (i,) in self.db.execute(query, (key, first, last))]

    def keys_of(self, doc_id: str) -> list[str]:
        found = self.db.execute("SELECT keys FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return [k for k in found[0].split("\n") if k] if found else []

    def sig_of(self, doc_id: str) -> np.ndarray:
        found = self.db.execute("SELECT sig FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return _sig(found[0])

    def story_of(self, doc_id: str) -> str:
        return self.db.execute("SELECT story FROM docs WHERE id = ?", (doc_id,)).fetchone()[0]


def build_order(entry: Entry) -> tuple:
    """The order a build assigns documents in: by date, undated last, ties by id."""
    return (entry.day is None, entry.day or 0, entry.id)


def assign_all(folder: str | Path, entries: Entries) -> None:
    """Assign `entries` (a full build's) their stories and write the generation's file;
    the entries give up their columns (`Entries.give_up_columns`)."""
    # Without the cyclic collector: assigning makes millions of objects and no cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        memory = MemoryStories(entries)
        entries.give_up_columns()
        with meanwhile(lambda: memory.write_keys(folder)):
            memory.assign()
            memory.write_bands(folder)  # the keys take longer than assigning
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
