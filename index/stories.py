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
story, date, signature and keys, plus the LSH band table. A full build assigns documents in
(date, id) order, so the same input always gives the same stories and the first member is
the earliest. A story's id is derived from the id of the document that started it.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import zlib
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

import numpy as np
from datasketch import MinHash

from index.analysis import fold, word_list
from index.documents import Document

FILE = "stories.sqlite3"
# MinHash permutations; LSH cuts them into BANDS bands of ROWS: pairs with Jaccard 0.5 are
# candidates with probability 0.996, pairs at 0.2 with 0.28 (then rejected on the estimate).
NUM_PERM = 126
ROWS = 3
BANDS = NUM_PERM // ROWS
SHINGLE_WORDS = 3
# 32-bit hashes (crc32 of each shingle), as datasketch's affine32 scheme expects.
SCHEME = "affine32"
# Near-duplicate when the estimated Jaccard similarity of the shingle sets reaches
# NEAR_JACCARD, or the shorter's shingles lie in the longer's for CONTAINMENT of them
# (a trimmed copy); texts with fewer than MIN_SHINGLES shingles only join exact copies.
NEAR_JACCARD = 0.5
CONTAINMENT = 0.75
MIN_SHINGLES = 8
# Same-event joins: within EVENT_DAYS of each other, at least EVENT_MIN_SHARED shared keys
# carrying EVENT_OVERLAP of the lighter document's key weight (idf-weighted), keys held by
# more than EVENT_MAX_DF of the archive ignored (too common to tell events apart).
EVENT_DAYS = 3
EVENT_MIN_SHARED = 4
EVENT_OVERLAP = 0.5
EVENT_MAX_DF = 0.05
TITLE_WORD_MIN = 4

_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY, story TEXT NOT NULL, day INTEGER, shingles INTEGER NOT NULL,
    sig BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_story ON docs(story);
CREATE TABLE IF NOT EXISTS bands (key INTEGER NOT NULL, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bands_key ON bands(key);
CREATE TABLE IF NOT EXISTS keys (key TEXT NOT NULL, day INTEGER, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS keys_key ON keys(key, day);
"""


def story_id(founder: str) -> str:
    """The id of the story `founder` started (also the story of a document not yet
    assigned one: alone in its own story)."""
    return "s" + hashlib.sha1(founder.encode("utf-8")).hexdigest()[:12]


def _crc(data: bytes) -> int:
    return zlib.crc32(data)


def signature(doc: Document) -> tuple[np.ndarray, int]:
    """The MinHash of the document's body shingles (headline too when the body is short)
    and how many distinct shingles it has."""
    words = [fold(w) for w in word_list(doc.text)]
    if len(words) < SHINGLE_WORDS + MIN_SHINGLES:
        words = [fold(w) for w in word_list(doc.title)] + words
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8")
        for i in range(max(1, len(words) - SHINGLE_WORDS + 1))
    }
    minhash = MinHash(num_perm=NUM_PERM, hashfunc=_crc, permutations=_PERMUTATIONS, scheme=SCHEME)
    minhash.update_batch(list(shingles))
    return minhash.hashvalues.astype(np.uint64), len(shingles)


def event_keys(doc: Document) -> set[str]:
    """What tells one event from another: its actors, places and headline words."""
    keys = {"a:" + fold(actor.name) for actor in doc.actors}
    keys.update("p:" + fold(place) for place in doc.places)
    keys.update(
        "w:" + fold(word)
        for word in word_list(doc.title)
        if len(word) >= TITLE_WORD_MIN and not word.isdigit()
    )
    return keys


def _day(doc: Document) -> int | None:
    return doc.date.toordinal() if doc.date else None


def _band_keys(sig: np.ndarray) -> list[int]:
    keys = []
    for band in range(BANDS):
        chunk = sig[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(chunk, digest_size=7, person=band.to_bytes(2, "big"))
        keys.append(int.from_bytes(digest.digest(), "big"))
    return keys


def _near(sig: np.ndarray, count: int, other: np.ndarray, other_count: int) -> float:
    """How near two documents are (0 when not near-duplicates): the estimated Jaccard."""
    jaccard = float(np.mean(sig == other))
    if min(count, other_count) < MIN_SHINGLES:
        return 1.0 if jaccard == 1.0 and count == other_count else 0.0
    if jaccard >= NEAR_JACCARD:
        return jaccard
    # |A ∩ B| = J (|A| + |B|) / (1 + J); the share of the smaller set it covers.
    contained = jaccard * (count + other_count) / (1 + jaccard) / min(count, other_count)
    return jaccard if contained >= CONTAINMENT else 0.0


class StoryIndex:
    """The stories of one generation, read and extended through its SQLite file."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / FILE
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> StoryIndex:
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
        self.close()

    def remove(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            for table in ("docs", "bands", "keys"):
                self.db.execute(f"DELETE FROM {table} WHERE id = ?", (doc_id,))

    def add(self, doc: Document) -> str:
        """Assign `doc` a story (replacing what it had) and record it; the story id."""
        self.remove([doc.id])
        sig, count = signature(doc)
        bands = _band_keys(sig)
        day = _day(doc)
        keys = sorted(event_keys(doc))
        story = self._near_story(sig, count, bands) or self._event_story(keys, day)
        story = story or story_id(doc.id)
        self.db.execute(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?)", (doc.id, story, day, count, sig.tobytes())
        )
        self.db.executemany("INSERT INTO bands VALUES (?, ?)", [(k, doc.id) for k in bands])
        self.db.executemany("INSERT INTO keys VALUES (?, ?, ?)", [(k, day, doc.id) for k in keys])
        return story

    def _near_story(self, sig: np.ndarray, count: int, bands: list[int]) -> str | None:
        marks = ",".join("?" * len(bands))
        rows = self.db.execute(
            "SELECT id, story, shingles, sig FROM docs WHERE id IN "
            f"(SELECT DISTINCT id FROM bands WHERE key IN ({marks}))",
            bands,
        ).fetchall()
        best = None
        for doc_id, story, other_count, blob in rows:
            near = _near(sig, count, np.frombuffer(blob, dtype=np.uint64), other_count)
            if near and (best is None or (near, doc_id) > (best[0], best[1])):
                best = (near, doc_id, story)
        return best[2] if best else None

    def _event_story(self, keys: list[str], day: int | None) -> str | None:
        if day is None or not keys:
            return None
        total = self.db.execute("SELECT count(*) FROM docs").fetchone()[0] + 1
        weights = {}
        for key in keys:
            df = self.db.execute("SELECT count(*) FROM keys WHERE key = ?", (key,)).fetchone()[0]
            if df + 1 <= max(EVENT_MAX_DF * total, 2):
                weights[key] = math.log((total + 1) / (df + 1))
        if len(weights) < EVENT_MIN_SHARED:
            return None
        marks = ",".join("?" * len(weights))
        rows = self.db.execute(
            f"SELECT id, key FROM keys WHERE key IN ({marks}) AND day BETWEEN ? AND ?",
            [*weights, day - EVENT_DAYS, day + EVENT_DAYS],
        ).fetchall()
        shared: dict[str, list[str]] = {}
        for doc_id, key in rows:
            shared.setdefault(doc_id, []).append(key)
        mine = sum(weights.values())
        best = None
        for doc_id, common in shared.items():
            if len(common) < EVENT_MIN_SHARED:
                continue
            theirs = self._key_weight(doc_id, total)
            overlap = sum(weights[k] for k in common) / max(min(mine, theirs), 1e-9)
            if overlap >= EVENT_OVERLAP and (best is None or (overlap, doc_id) > best[:2]):
                best = (overlap, doc_id)
        if best is None:
            return None
        return self.db.execute("SELECT story FROM docs WHERE id = ?", (best[1],)).fetchone()[0]

    def _key_weight(self, doc_id: str, total: int) -> float:
        rows = self.db.execute(
            "SELECT count(*) FROM keys WHERE key IN (SELECT key FROM keys WHERE id = ?) "
            "GROUP BY key",
            (doc_id,),
        ).fetchall()
        return sum(
            math.log((total + 1) / (df + 1)) for (df,) in rows if df <= max(EVENT_MAX_DF * total, 2)
        )

    def stories(self) -> dict[str, str]:
        """Document id -> story id, for every document recorded."""
        return dict(self.db.execute("SELECT id, story FROM docs"))


def build_order(doc: Document) -> tuple:
    """The order a build assigns documents in: by date, undated last, ties by id."""
    return (doc.date is None, doc.date.toordinal() if doc.date else 0, doc.id)


def assign_all(folder: str | Path, docs: Iterable[Document]) -> None:
    """Record `docs` (a full build) in build order."""
    ordered = sorted(docs, key=build_order)
    with StoryIndex(folder) as index:
        for doc in ordered:
            index.add(doc)


def read_stories(folder: str | Path) -> dict[str, str]:
    """Document id -> story id of the generation in `folder` ({} when it has none)."""
    path = Path(folder) / FILE
    if not path.exists():
        return {}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT id, story FROM docs"))
