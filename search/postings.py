"""The match and top-k passes with numpy: postings read in bulk, BM25F scored as arrays.

Whoosh matches and scores one posting at a time through trees of Python matcher objects,
twice per search (once for the match mask, once more for the scored top k). Here a query
is evaluated once into (document numbers, scores) arrays, per run of neighbouring
segments in which Whoosh would build the same matcher trees (`_runs`): each term's
postings are read block by block and turned into BM25F scores once per index version
(they depend only on the term, the document and the version's statistics), then cached.

The answers are Whoosh's own, to the last bit: the same formula evaluated in the same
order (IEEE operations are exactly rounded, so numpy and Python agree), sums formed in the
same trees Whoosh builds (`make_weighted_tree` / `make_binary_tree`, per segment, with the
same size estimates), `Not` scoring 1.0 as Whoosh's `InverseMatcher` does, and ties broken
by document number as Whoosh's collector does. Query shapes or weighting models this module
does not know return None, and the engine asks Whoosh instead; `tests/search/
test_postings.py` compares both paths on every kind of query.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.query.compound import Or

from index import pread
from index.codec.arrays import positions_read, term_reads
from index.codec.lexicon import Found, concatenated_ranges, open_lexicon, run_starts
from index.codec.postings import FieldLengths, field_b, read_lengths, read_term
from index.codec.terms import term_location, term_locations
from search import budget
from search.ranking import FieldedTerm, LanguageBM25, field_idf
from search.words import IndexWords

# Bytes of decoded postings kept per index version (32-bit ids and 64-bit scores, 12 bytes
# a posting, and a phrase's 32-bit positions), least recently used dropped first: a
# worker's largest private memory, paid again by every worker. The benchmark's 50 queries
# hold about 90 MB at 50x Reuters-21578 (5.4 million postings: a word like "said" is 1.5
# million on its own); at 64 MB each pass dropped every term before it came round again
# and the engine spent a third of its time reading them back (bench-scale).
CACHE_BYTES = 128_000_000
# Terms' (document frequency, postings start) kept per index version, a segment each
# (about 150 bytes an entry): forgotten all at once past this many, so that a worker
# answering new words for days does not grow without bound.
CACHE_LOCATIONS = 200_000
# Postings of a FieldedTerm read and scored at once (`_fielded_run`): its temporaries,
# some 40 bytes a posting, stay a few MB however common the word.
RUN_POSTINGS = 1 << 17
# Lexicon entries of pooled terms kept per index version (some 600 bytes each): forgotten
# all at once past this many.
CACHE_POOLED = 20_000
# Terms asked for within some documents (an And's), remembered so that the second time
# one is read whole and cached (`PostingsCache._once`): forgotten all at once past this
# many (some 150 bytes each, in each worker).
CACHE_ASKED = 20_000
# Whoosh's own thresholds for choosing an Or matcher (whoosh.query.compound.Or).
_OR_ARRAY_DOC_LIMIT = 5000

_evaluations = itertools.count()  # numbers each query evaluation (`_Leaves`)

_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)
_NO_POSITIONS = np.zeros(0, dtype=np.intp)


class Unsupported(Exception):
    """A query shape the fast path does not evaluate: Whoosh answers it instead."""


@dataclass(frozen=True)
class Scored:
    """Matching document numbers (ascending, live only) and their scores."""

    ids: np.ndarray  # int64
    scores: np.ndarray  # float64

    def top(self, allowed: np.ndarray | None, limit: int) -> list[tuple[int, float]]:
        """The best `limit` (docnum, score) among `allowed`, Whoosh's order (ties by docnum)."""
        ids, scores = self.ids, self.scores
        if allowed is not None:
            keep = allowed[ids]
            ids, scores = ids[keep], scores[keep]
        if limit <= 0 or not len(ids):
            return []
        if len(ids) > limit:
            cut = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= cut
            ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))[:limit]
        return list(zip(ids[order].tolist(), scores[order].tolist(), strict=True))

    def scores_of(self, docnums) -> dict[int, float]:
        docnums = np.asarray(docnums, dtype=np.int64)
        at = np.searchsorted(self.ids, docnums)
        at = np.minimum(at, max(len(self.ids) - 1, 0))
        found = (self.ids[at] == docnums) if len(self.ids) else np.zeros(len(docnums), bool)
        return {
            int(d): float(s) for d, s, f in zip(docnums, self.scores[at], found, strict=True) if f
        }


class _Read(NamedTuple):
    """A term's postings as read from several segments (PostingsCache._read_all)."""

    ids: np.ndarray  # in the whole index, deleted documents included
    weights: np.ndarray
    lengths: np.ndarray | None  # each posting's field length, where scored by it
    positions: tuple[np.ndarray, np.ndarray] | None  # (flat, starts), where asked for


@dataclass
class _Term:
    ids: np.ndarray  # docnums, live only: a segment's own while read, the index's once cached
    scores: np.ndarray  # unboosted score of each posting
    # Positions (read only for phrases): posting i's are positions[starts[i]:starts[i + 1]]
    positions: np.ndarray | None = None
    starts: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        """What the cache counts it as (CACHE_BYTES)."""
        parts = (self.ids, self.scores, self.positions, self.starts)
        return sum(a.nbytes for a in parts if a is not None)


class _Within:
    """Documents a query node is evaluated within (`_Run`): sorted live document numbers
    of the index, looked up through a mask of the whole index."""

    def __init__(self, ids: np.ndarray, bounds: np.ndarray, query: int):
        """`bounds`: each segment's first document and the index's size after them
        (`PostingsCache.bounds`); `query`: the evaluation's number (`_Leaves.number`)."""
        self.ids = ids
        self.query = query
        self._bounds = bounds
        self._mask: np.ndarray | None = None

    @property
    def mask(self) -> np.ndarray:
        if self._mask is None:
            self._mask = np.zeros(int(self._bounds[-1]), dtype=bool)
            self._mask[self.ids] = True
        return self._mask

    def cut(self, ids: np.ndarray, *others: np.ndarray):
        """`ids` (and arrays alongside them) where `ids` is one of these documents."""
        keep = self.mask[ids]
        return (ids[keep], *(other[keep] for other in others))

    def segments(self, segs: list[int]) -> list[int]:
        """Those of `segs` holding any of these documents: no other is read."""
        if not len(self.ids) or not segs:
            return []
        at = np.asarray(segs)
        lo = self.ids.searchsorted(self._bounds[at])
        hi = self.ids.searchsorted(self._bounds[at + 1])
        return at[hi > lo].tolist()


# A term's postings as read from its segments, one segment after another: ids in each
# segment, weights, and positions (flat, and where each posting's start; one more).
_Segments = tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]


class PostingsCache:
    """Scored postings of one index version, shared by the threads that search it."""

    def __init__(self, searcher, live: np.ndarray, folder: str):
        """`folder`: the generation's, where segments' posting arrays are read from."""
        weighting = searcher.weighting
        # Only Whoosh's BM25F and Sift's LanguageBM25 (search/ranking.py) are reproduced;
        # any other model goes through Whoosh.
        self.supported = (
            type(weighting) in (scoring.BM25F, LanguageBM25) and not weighting.use_final
        )
        self.weighting = weighting
        self.live = live
        self.folder = folder
        # Document numbers of the whole index, as cached postings hold them.
        self.id_dtype = np.int32 if len(live) < 2**31 else np.int64
        self._lock = threading.Lock()
        # ("term", seg, field, btext) -> _Term; ("fielded", seg, fields, text) -> (ids, tf)
        self._decoded: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._held = 0  # bytes
        self._lengths: dict[tuple[int, str], FieldLengths] = {}
        # field -> every document's length code across the index (None: not kept as codes)
        self._index_lengths: dict[str, FieldLengths | None] = {}
        self._stats: dict[tuple[str, bytes], tuple[float, float]] = {}
        # (document frequency, where the postings start) of a term in a segment
        self._located: dict[tuple[int, str, bytes], tuple[int, int | None]] = {}
        # (field, btext) -> its document frequency in each segment, for query shapes
        self._frequencies: dict[tuple[str, bytes], np.ndarray] = {}
        self._idfs: dict[tuple, float] = {}
        # key -> the evaluation that first read it within some documents (`_once`)
        self._asked: dict[tuple, int] = {}
        # Each segment's first document, then the index's size: where `_Within` looks
        # for the segments holding its documents.
        leaves = _leaves(searcher)
        self.bounds = np.array([offset for _, offset in leaves] + [len(live)], dtype=np.int64)
        self._lexicon = open_lexicon(folder)
        # Each lexicon segment's place among the version's leaves (-1: merged away since),
        # and the leaves it covers.
        self._lexicon_leaves: list[int] = []
        if self._lexicon is not None:
            place = {
                reader.segment().segment_id(): seg
                for seg, (reader, _) in enumerate(leaves)
                if reader.segment() is not None
            }
            self._lexicon_leaves = [place.get(s, -1) for s in self._lexicon.segments]
        self._lexicon_covered = frozenset(self._lexicon_leaves)
        self._lexicon_places = np.array(self._lexicon_leaves, dtype=np.int64)
        # The leaves the lexicon does not cover: their terms tables are asked instead.
        self._uncovered = [seg for seg in range(len(leaves)) if seg not in self._lexicon_covered]
        # (field, btext) -> where its postings start in each segment the lexicon covers
        # (-1: not there), beside its `_frequencies`
        self._starts: dict[tuple[str, bytes], np.ndarray] = {}
        # (field, btext) -> the lexicon's entry of a term it pools (`_read_pooled`)
        self._pooled: dict[tuple[str, bytes], Found] = {}
        # (field, btext) -> its lexicon entry, found with the rest of its query's words
        # (`look_up`), until `_in_lexicon` takes it
        self._ahead: dict[tuple[str, bytes], Found] = {}

    def fielded_idf(self, searcher, q: FieldedTerm) -> float:
        """`q.idf`, remembered: the same for every segment and query of this version (it
        was two document-frequency lookups per field, segment and query); its document
        frequencies are the remembered lookups' (`frequency`), not Whoosh's own again."""
        key = (q.fields, q.text)
        found = self._idfs.get(key)
        if found is None:
            found = self._idfs[key] = q.idf(
                searcher, self.weighting, lambda field: self.frequency(searcher, field, q.text)
            )
        return found

    def _start(self, seg: int, reader, field: str, btext: bytes) -> int | None:
        """Where the term's postings start in a segment's postings file (None: inlined in
        its terms table), remembered: a lookup in Whoosh's terms table is several reads of
        the file, and at a million articles a term is looked up in dozens of segments.
        The lexicon's answer where `frequencies` kept it."""
        starts = self._starts.get((field, btext))
        if starts is not None and seg in self._lexicon_covered:
            start = int(starts[seg])
            return start if start >= 0 else None
        key = (seg, field, btext)
        found = self._located.get(key)
        if found is None:
            found = term_location(reader, field, btext)
            self._remember_locations([(key, found)])
        return found[1]

    def _remember_locations(self, entries: list[tuple[tuple, tuple[int, int | None]]]) -> None:
        """Keep lookups' answers, all forgotten at once past CACHE_LOCATIONS."""
        if len(self._located) + len(entries) > CACHE_LOCATIONS:
            self._located.clear()
        self._located.update(entries[:CACHE_LOCATIONS])

    def frequencies(self, leaves: list, field: str, btext: bytes) -> np.ndarray:
        """The term's document frequency in each segment, remembered as one array (up to
        CACHE_LOCATIONS segment entries in all, then forgotten at once): the segments the
        generation's lexicon covers from one lookup there, as arrays (a word is asked in
        each language's fields, some thirty lookups a query), the rest from each
        segment's terms table."""
        key = (field, btext)
        found = self._frequencies.get(key)
        if found is None:
            if (len(self._frequencies) + 1) * len(leaves) > CACHE_LOCATIONS:
                self._frequencies.clear()
                self._starts.clear()
            found = np.zeros(len(leaves), dtype=np.int64)
            if self._lexicon is not None and self._lexicon_covered:
                self._in_lexicon(key, found)
            rest = self._uncovered
            if rest:
                where = [self._located.get((seg, field, btext)) for seg in rest]
                missing = [i for i, known in enumerate(where) if known is None]
                if missing:  # every segment at once (index/codec/terms.py)
                    readers = [leaves[rest[i]][0] for i in missing]
                    looked_up = term_locations(readers, field, btext)
                    entries = []
                    for i, known in zip(missing, looked_up, strict=True):
                        where[i] = known
                        entries.append(((rest[i], field, btext), known))
                    self._remember_locations(entries)
                found[rest] = [known[0] for known in where]
            self._frequencies[key] = found
        return found

    def _in_lexicon(self, key: tuple[str, bytes], found: np.ndarray) -> None:
        """Fill `found` (and `_starts`) for the segments the generation's lexicon covers
        (index/codec/lexicon.py): one lookup for them all."""
        assert self._lexicon is not None
        entry = self._ahead.pop(key, None) or self._lexicon.find(*key)
        places = self._lexicon_places[entry.numbers]
        kept = places >= 0  # rows of segments merged away since: -1
        starts = np.full(len(found), -1, dtype=np.int64)
        found[places[kept]] = entry.frequencies[kept]
        starts[places[kept]] = entry.starts[kept]
        self._starts[key] = starts
        if entry.pool is not None:
            if len(self._pooled) >= CACHE_POOLED:
                self._pooled.clear()
            self._pooled[key] = entry

    def look_up(self, keys: list[tuple[str, bytes]]) -> None:
        """Find the (field, btext) `keys` not yet known in the lexicon all at once, for
        `frequencies` to take: a query's words cost three waves of reads, not three reads
        each one after another (index/codec/lexicon.py)."""
        if self._lexicon is None or not self._lexicon_covered:
            return
        ahead, known = self._ahead, self._frequencies
        new = [key for key in dict.fromkeys(keys) if key not in known and key not in ahead]
        if new:
            if len(self._ahead) + len(new) > CACHE_POOLED:
                self._ahead.clear()
            self._ahead.update(zip(new, self._lexicon.find_all(new), strict=True))

    def words(self, searcher) -> IndexWords:
        """The index's words for prefix and fuzzy terms (search/words.py): the lexicon's
        and those of the segments it does not cover."""
        if self._lexicon is None or not self._lexicon.has_words:
            return IndexWords(searcher.reader(), None, frozenset())
        return IndexWords(searcher.reader(), self._lexicon, self._lexicon_covered)

    def frequency(self, searcher, field: str, text: str) -> int:
        """Documents holding `text` in `field`, deleted ones included (as Whoosh counts),
        summed from the remembered lookups of each segment: did-you-mean asks this of
        every word of every query."""
        btext = searcher.schema[field].to_bytes(text)
        return int(self.frequencies(_leaves(searcher), field, btext).sum())

    # -- reading --------------------------------------------------------------------------

    def term(
        self,
        searcher,
        leaves: list,
        field: str,
        btext: bytes,
        *,
        positions: bool = False,
        within: _Within | None = None,
    ):
        """A term's postings in the whole index (document numbers across segments), or
        `within` some documents: the first time (`_once`), read and scored for those
        alone, not cached."""
        key = ("term", field, btext)
        found = self._get(key)
        if found is not None and (found.positions is not None or not positions):
            return found if within is None else _cut_term(found, within)
        frequencies = self.frequencies(leaves, field, btext)
        restricted = within if self._once(key, within) else None
        entry = self._term_at_once(
            searcher, leaves, field, btext, frequencies, positions, restricted
        )
        if restricted is not None:
            return entry
        self._put(key, entry, entry.nbytes)
        return entry if within is None else _cut_term(entry, within)

    def _term_at_once(
        self,
        searcher,
        leaves: list,
        field: str,
        btext: bytes,
        frequencies: np.ndarray,
        positions: bool,
        within: _Within | None = None,
    ) -> _Term:
        """A term's live postings and scores (and positions), every segment read into one
        buffer and scored at once (`_read_all`), `within` some documents if given."""
        scorable = searcher.schema[field].scorable
        segs = np.flatnonzero(frequencies).tolist()
        if within is not None:
            segs = within.segments(segs)
        found = self._read_all(
            leaves,
            segs,
            frequencies,
            field,
            btext,
            lengths=scorable,
            positions=positions,
            within=within,
        )
        ids, weights, lengths, found_positions = found
        live = self.live[ids]
        if not live.all():
            ids, weights = ids[live], weights[live]
            lengths = lengths[live] if lengths is not None else None
            if found_positions is not None:
                found_positions = _kept_positions(found_positions, live)
        scores = self._scores(searcher, field, btext, weights, lengths)
        entry = _Term(ids.astype(self.id_dtype), scores)
        if found_positions is not None:
            entry.positions = found_positions[0]
            entry.starts = found_positions[1].astype(np.int32)
        for array in (entry.ids, entry.scores, entry.positions, entry.starts):
            if array is not None:
                array.flags.writeable = False
        return entry

    def _read_all(
        self,
        leaves: list,
        segs: list[int],
        frequencies: np.ndarray,
        field: str,
        btext: bytes,
        *,
        lengths: bool,
        positions: bool = False,
        within: _Within | None = None,
    ) -> _Read:
        """(ids in the whole index, weights, field lengths or None, positions as (flat,
        starts) or None) of a term's postings in the segments `segs`, deleted documents
        included: those the generation's lexicon pools from its pool (`_read_pooled`),
        the others from each segment's posting arrays (`_read_segments`), and the ids
        moved and the weights widened once for all (read one by one, a word's postings
        in forty segments cost some fifteen numpy calls each at a million articles).
        `within`: only the postings of these documents are kept, before their lengths
        are looked up."""
        entry = self._pooled.get((field, btext)) if self._lexicon is not None else None
        # The lexicon row of each segment the term is pooled for (merged-away rows: -1).
        row_of = {}
        if entry is not None:
            row_of = {self._lexicon_leaves[n]: row for row, n in enumerate(entry.numbers.tolist())}
        pooled = [seg for seg in segs if seg in row_of]
        rest = [seg for seg in segs if seg not in row_of]
        parts = []
        if pooled:
            assert entry is not None
            rows = [row_of[seg] for seg in pooled]
            parts.append(self._read_pooled(entry, rows, frequencies[pooled], positions))
        if rest or not pooled:  # (no segment at all: empty arrays of the right kinds)
            parts.append(
                self._read_segments(leaves, rest, frequencies[rest], field, btext, positions)
            )
        counts = frequencies[segs]
        joined = _in_segment_order([group for group in (pooled, rest) if group], parts, frequencies)
        return self._found(leaves, segs, counts, field, joined, lengths, within)

    def _read_segments(
        self,
        leaves: list,
        segs: list[int],
        counts: np.ndarray,
        field: str,
        btext: bytes,
        positions: bool,
    ) -> _Segments:
        """`_read_all`'s postings from the segments' own arrays: each segment's read
        straight into its part of one buffer (then, for positions, each segment's
        positions into theirs), all asked of the disk at once. A segment without arrays
        for the term (API writes and merges are written without, and a term Whoosh
        inlines in its terms table has none) is decoded from Whoosh's blocks into its
        part: one such segment used to send every segment of the word through Whoosh,
        one read and decode after another."""
        total = int(counts.sum())
        ids = np.empty(total, dtype=np.uint32)
        weights = np.empty(total, dtype=np.float32)
        # Each segment's position starts, one more than its postings.
        starts = np.empty(total + len(segs), dtype=np.int64) if positions else None
        # Each segment's positions: its arrays' name, or those decoded from Whoosh's blocks.
        sources: list[str | np.ndarray] = []
        reads: list[pread.Read] = []
        at = 0
        for i, (seg, count) in enumerate(zip(segs, counts.tolist(), strict=True)):
            budget.check()  # reading a term's postings is the unit of work that grows
            reader = leaves[seg][0]
            segment = reader.segment()
            start = self._start(seg, reader, field, btext)
            end = at + count
            seg_starts = None if starts is None else starts[at + i : end + i + 1]
            seg_reads = None
            if segment is not None and start is not None:
                seg_reads = term_reads(
                    self.folder,
                    segment.segment_id(),
                    field,
                    start,
                    ids[at:end],
                    weights[at:end],
                    seg_starts,
                )
            if seg_reads is None:
                # Whoosh stores weights as 32-bit floats too: the buffer keeps them exact.
                ids[at:end], weights[at:end], decoded = read_term(reader, field, btext, positions)
                if seg_starts is not None:
                    seg_starts[:] = decoded[1]
                    sources.append(decoded[0])
            else:
                reads += seg_reads
                sources.append(segment.segment_id())
            at = end
        pread.read_all(reads)
        found_positions = None
        if starts is not None:
            found_positions = self._positions(sources, field, counts, starts)
        return ids, weights, found_positions

    def _read_pooled(
        self, entry: Found, rows: list[int], counts: np.ndarray, positions: bool
    ) -> _Segments:
        """`_read_all`'s postings in the lexicon rows `rows` (segments, in order) of a term
        the generation's lexicon pools (`entry`): (segment ids, weights, positions as
        (flat, starts) or None), from one or two reads (index/codec/lexicon.py)."""
        assert self._lexicon is not None
        budget.check()
        ids, weights, sizes, flat = self._lexicon.pooled(entry, positions)
        if rows == list(range(len(entry.numbers))):  # every row, in order: the whole pool
            return ids, weights, None if flat is None else (flat, run_starts(sizes))
        taken = concatenated_ranges(run_starts(entry.frequencies)[rows], counts)
        if sizes is None or flat is None:
            return ids[taken], weights[taken], None
        kept_sizes = sizes[taken]
        kept = concatenated_ranges(run_starts(sizes)[taken], kept_sizes)
        return ids[taken], weights[taken], (flat[kept], run_starts(kept_sizes))

    def _found(self, leaves, segs, counts, field, read: _Segments, lengths: bool, within) -> _Read:
        """`_read_all`'s answer from the postings read (each segment's ids, weights and
        positions, one after another): ids moved into the whole index, kept `within`
        some documents, weights widened, and field lengths if asked."""
        ids, weights, found_positions = read
        offsets = np.array([leaves[seg][1] for seg in segs], dtype=np.int64)
        moved = ids.astype(np.int64)
        moved += np.repeat(offsets, counts)
        keep = None if within is None else within.mask[moved]
        if keep is not None:
            moved, weights = moved[keep], weights[keep]
            if found_positions is not None:
                found_positions = _kept_positions(found_positions, keep)
        if not lengths:
            return _Read(moved, weights.astype(np.float64), None, found_positions)
        every = self._index_field_lengths(leaves, field)
        if every is not None:
            return _Read(moved, weights.astype(np.float64), every[moved], found_positions)
        found_lengths = np.empty(len(ids), dtype=np.float64)
        at = 0
        for seg, count in zip(segs, counts.tolist(), strict=True):
            reader = leaves[seg][0]
            found_lengths[at : at + count] = self._field_lengths(seg, reader, field)[
                ids[at : at + count]
            ]
            at += count
        if keep is not None:
            found_lengths = found_lengths[keep]
        return _Read(moved, weights.astype(np.float64), found_lengths, found_positions)

    def _positions(
        self, sources: list, field: str, counts: np.ndarray, starts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The positions of postings whose segments' position starts are `starts` (each
        segment's `counts` postings and one more), as one flat array and where each
        posting's start in it (one more than the postings). `sources`: each segment's
        arrays' name, or its positions already decoded."""
        ends = np.cumsum(counts + 1)  # each segment's part of `starts` ends here
        firsts, lasts = starts[ends - counts - 1], starts[ends - 1]
        sizes = lasts - firsts
        flat = np.empty(int(sizes.sum()), dtype=np.int32)
        reads = []
        at = 0
        for source, first, size in zip(sources, firsts.tolist(), sizes.tolist(), strict=True):
            into = flat[at : at + size]
            if isinstance(source, str):
                reads.append(positions_read(self.folder, source, field, first, into))
            else:
                into[:] = source
            at += size
        pread.read_all(reads)
        # Each posting's start, moved from its segment's positions to the flat array's; a
        # segment's last start (its end) is the next one's first.
        own = np.ones(len(starts), dtype=bool)
        own[ends - 1] = False
        moved = starts - np.repeat(firsts - (np.cumsum(sizes) - sizes), counts + 1)
        return flat, np.append(moved[own], len(flat))

    def _joined(self, parts: Iterable[tuple[int, _Term]], bound: int, positions: bool) -> _Term:
        """Segments' postings, read one at a time, as one: ids moved by each segment's
        offset into arrays of `bound` postings at most (the term's document frequencies),
        so that a big term's segments and the whole are not all in memory at once;
        positions' starts moved by the positions before them. Read-only, as every run
        shares them."""
        ids = np.empty(bound, dtype=self.id_dtype)
        scores = np.empty(bound, dtype=np.float64)
        at = 0
        flats, starts, before = [], [], 0
        for offset, t in parts:
            end = at + len(t.ids)
            np.add(t.ids, offset, out=ids[at:end], casting="unsafe")
            scores[at:end] = t.scores
            at = end
            if positions:
                first, last = int(t.starts[0]), int(t.starts[-1])
                flats.append(t.positions[first:last].astype(np.int32))
                starts.append((t.starts[:-1] - first + before).astype(np.int32))
                before += last - first
        if at < bound:  # deleted documents, or a word in several fields of a document
            ids, scores = ids[:at].copy(), scores[:at].copy()
        entry = _Term(ids, scores)
        if positions:
            starts.append(np.array([before], dtype=np.int32))
            entry.positions = _concatenated(flats, np.int32)
            entry.starts = np.concatenate(starts)
        for array in (entry.ids, entry.scores, entry.positions, entry.starts):
            if array is not None:
                array.flags.writeable = False
        return entry

    def _once(self, key: tuple, within: _Within | None) -> bool:
        """Whether to read an uncached term only `within` some documents: in the first
        query that asks for it so (in each of its runs). A query seen once (an outside
        check's) then reads a common word's postings only where the rare word is; one
        asked again (a newsroom's standing searches) has it read whole, cached and cut
        from the cache."""
        if within is None:
            return False
        with self._lock:
            first = self._asked.get(key)
            if first is None:
                if len(self._asked) >= CACHE_ASKED:
                    self._asked.clear()
                first = self._asked[key] = within.query
        return first == within.query

    def _get(self, key: tuple):
        with self._lock:
            found = self._decoded.get(key)
            if found is None:
                return None
            self._decoded.move_to_end(key)
            return found[0]

    def _put(self, key: tuple, value, size: int) -> None:
        with self._lock:
            old = self._decoded.pop(key, None)
            if old is not None:
                self._held -= old[1]
            self._decoded[key] = (value, size)
            self._held += size
            while self._held > CACHE_BYTES and len(self._decoded) > 1:
                _, (_, dropped) = self._decoded.popitem(last=False)
                self._held -= dropped

    def _scores(self, searcher, field, btext, weights, fl) -> np.ndarray:
        """BM25 of a term's postings in a scorable field (`fl`: their field lengths); in
        a field that is not (`fl` None), WeightScorer's: each posting's weight."""
        if fl is None:
            return weights
        w = self.weighting
        stats = self._stats.get((field, btext))
        if stats is None:
            # Global statistics from the top searcher, as the scorers take them.
            if isinstance(w, LanguageBM25):
                df = int(self.frequencies(_leaves(searcher), field, btext).sum())
                idf = field_idf(w, searcher, field, btext, df)
                avgfl = w.average_length(searcher, field)
            else:
                idf = searcher.idf(field, btext)
                avgfl = searcher.avg_field_length(field) or 1
            stats = self._stats[(field, btext)] = (idf, avgfl)
        idf, avgfl = stats
        b = field_b(w, field)
        k1 = w.K1
        # scoring.bm25, term by term in the same order:
        # idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
        return idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * fl / avgfl)))

    def fielded(self, searcher, leaves: list, q: FieldedTerm, within: _Within | None = None):
        """(ids, BM25F frequency) of a FieldedTerm in the whole index: the field-weighted,
        length-normalised frequencies added in field order, as `_FieldedMatcher.score`
        adds them, before saturation (which depends on the query's boost). `within`:
        those of these documents; the first time (`_once`), read for them alone and not
        cached."""
        key = ("fielded", q.fields, q.text)
        found = self._get(key)
        if found is not None:
            return found if within is None else within.cut(*found)
        restricted = within if self._once(key, within) else None
        schema = searcher.schema
        fields = []  # (field, weight, term bytes, its document frequency in each segment)
        postings = np.zeros(len(leaves), dtype=np.int64)  # each segment's, all fields
        for field, weight in q.fields:
            btext = schema[field].to_bytes(q.text)
            fields.append((field, weight, btext, self.frequencies(leaves, field, btext)))
            postings += fields[-1][-1]
        parts = (
            (0, self._fielded_run(searcher, leaves, run, fields, restricted))
            for run in _runs_of_segments(postings, RUN_POSTINGS)
        )
        entry = self._joined(parts, int(postings.sum()), positions=False)
        found = (entry.ids, entry.scores)
        if restricted is not None:
            return found
        self._put(key, found, entry.nbytes)
        return found if within is None else within.cut(*found)

    def _fielded_run(
        self, searcher, leaves: list, run: range, fields: list, within: _Within | None
    ) -> _Term:
        """The BM25F frequencies of the segments in `run` (ids in the whole index), of
        the documents `within` if given: each field's postings read from every segment
        of the run (`_read_all`), then weighted and normalised at once, and the fields
        added in order."""
        w = self.weighting
        parts = []
        for field, weight, btext, frequencies in fields:
            segs = [seg for seg in run if frequencies[seg]]
            if within is not None:
                segs = within.segments(segs)
            if not segs:
                continue
            found = self._read_all(
                leaves, segs, frequencies, field, btext, lengths=True, within=within
            )
            field_ids, tf, fl, _ = found
            live = self.live[field_ids]
            fl, tf = fl[live], tf[live]
            b, avgfl = w.field_b(field), w.average_length(searcher, field)
            parts.append((field_ids[live], weight * tf / (1 - b + b * fl / avgfl)))
        if not parts:
            return _Term(_EMPTY_IDS, _EMPTY_SCORES)
        ids, places = _merge([part_ids for part_ids, _ in parts])
        tf = np.zeros(len(ids), dtype=np.float64)
        for at, (_, part_tf) in zip(places, parts, strict=True):
            tf[at] += part_tf
        return _Term(ids, tf)

    def _index_field_lengths(self, leaves: list, field: str) -> FieldLengths | None:
        """Every document's length in `field` across the index, one byte each, looked up
        once for all of a term's postings (gathered segment by segment, the lookups were
        the largest part of reading a word's postings); None where a segment keeps its
        lengths as numbers (a reader other than Whoosh's W3)."""
        if field not in self._index_lengths:
            parts = [
                self._field_lengths(seg, reader, field) for seg, (reader, _) in enumerate(leaves)
            ]
            codes = [part.codes for part in parts]
            whole = None
            if all(c is not None for c in codes):
                every = np.concatenate(codes)
                whole = FieldLengths(codes=every)
                for seg, (_, offset) in enumerate(leaves):  # each segment's: a view of it
                    size = len(codes[seg])
                    self._lengths[(seg, field)] = FieldLengths(codes=every[offset : offset + size])
            self._index_lengths[field] = whole
        return self._index_lengths[field]

    def _field_lengths(self, seg: int, reader, field: str) -> FieldLengths:
        key = (seg, field)
        lengths = self._lengths.get(key)
        if lengths is None:
            lengths = read_lengths(reader, field)
            self._lengths[key] = lengths
        return lengths


def _runs_of_segments(postings: np.ndarray, limit: int) -> list[range]:
    """Consecutive segments in runs of about `limit` postings (`postings`: each
    segment's), a segment above it alone: one run for most words, and bounded
    temporaries for a word in every other document."""
    runs, start, held = [], 0, 0
    for seg, count in enumerate(postings.tolist()):
        if held and held + count > limit:
            runs.append(range(start, seg))
            start, held = seg, 0
        held += count
    if start < len(postings):
        runs.append(range(start, len(postings)))
    return runs


def _concatenated(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)


def _cut_term(term: _Term, within: _Within) -> _Term:
    """A cached term's postings (and positions) of the documents `within`."""
    keep = within.mask[term.ids]
    if term.positions is None or term.starts is None:
        return _Term(term.ids[keep], term.scores[keep])
    flat, starts = _kept_positions((term.positions, term.starts), keep)
    return _Term(term.ids[keep], term.scores[keep], flat, starts)


def _in_segment_order(
    groups: list[list[int]], parts: list[_Segments], frequencies: np.ndarray
) -> _Segments:
    """The postings of `parts`, each read from the segments of its group one after
    another, joined in the order of the segments. A lexicon's pooled segments come
    first unless it leaves out a segment between them (one a merge wrote)."""
    if len(parts) == 1:
        return parts[0]
    ids = np.concatenate([part[0] for part in parts])
    weights = np.concatenate([part[1] for part in parts])
    with_positions = parts[0][2] is not None
    if with_positions:
        flat = np.concatenate([part[2][0] for part in parts])
        sizes = np.concatenate([np.diff(part[2][1]) for part in parts])
    order = [seg for group in groups for seg in group]
    if order != sorted(order):  # each segment's postings moved to its place
        counts = frequencies[order]
        rank = np.argsort(order)
        taken = concatenated_ranges(run_starts(counts)[rank], counts[rank])
        ids, weights = ids[taken], weights[taken]
        if with_positions:
            flat = flat[concatenated_ranges(run_starts(sizes)[taken], sizes[taken])]
            sizes = sizes[taken]
    return ids, weights, (flat, run_starts(sizes)) if with_positions else None


def _kept_positions(positions: tuple[np.ndarray, np.ndarray], keep: np.ndarray):
    """Positions (flat, starts) of the postings `keep` marks."""
    flat, starts = positions
    counts = np.diff(starts)
    kept = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[keep], out=kept[1:])
    return flat[np.repeat(keep, counts)], kept


# -- evaluation -----------------------------------------------------------------------------


def evaluate(
    cache: PostingsCache, searcher, query: wq.Query, also: Sequence[tuple[str, str]] = ()
) -> Scored | None:
    """All live documents matching `query` with Whoosh's scores; None if not supported.
    `also`: (field, text) of other words the caller will ask about, looked up in the
    lexicon with the query's."""
    if not cache.supported:
        return None
    leaves = _leaves(searcher)
    ids: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    try:
        found = _Leaves(cache, searcher, leaves)
        asked = itertools.chain(_words(query), also)
        words = ((f, _btext(found.btexts, searcher.schema, f, t)) for f, t in asked)
        cache.look_up([(field, btext) for field, btext in words if btext is not None])
        shapes = _Shapes(cache, searcher, leaves, found.btexts)
        for orders, start, end in _runs(shapes, query):
            run_ids, run_scores = _Run(found, shapes.sizes, orders, start, end).eval(query)
            ids.append(run_ids)
            scores.append(run_scores)
    except Unsupported:
        return None
    if not ids:
        return Scored(_EMPTY_IDS, _EMPTY_SCORES)
    return Scored(np.concatenate(ids).astype(np.int64, copy=False), np.concatenate(scores))


def _words(q) -> Iterator[tuple[str, object]]:
    """Each (field, text) of the terms and phrases the evaluation of `q` looks up."""
    kind = type(q)
    if kind is wq.Term:
        yield q.fieldname, q.text
    elif kind is wq.Phrase:
        yield from ((q.fieldname, word) for word in q.words)
    elif kind is FieldedTerm:
        yield from ((name, q.text) for name, _ in q.fields)
    elif kind is wq.And or kind is wq.Or:
        for sub in q.subqueries:
            yield from _words(sub)
    elif kind is wq.Not:
        yield from _words(q.query)
    elif kind is wq.AndMaybe:
        yield from _words(q.a)
        yield from _words(q.b)


def _leaves(searcher):
    reader = searcher.reader()
    return list(reader.leaf_readers())


def _runs(shapes: _Shapes, query: wq.Query):
    """(shapes, first document, end) of each run of neighbouring segments in which Whoosh
    builds the same matcher trees.

    Whoosh shapes each segment's trees by that segment's size estimates, and the shape
    decides the order in which a document's scores are added (so their last bits). Where
    neighbouring segments agree on every shape, as a big archive's equal-sized segments
    mostly do, they are evaluated together: one array operation per query node for the
    run instead of one per segment, whose fixed cost was most of a query at 50 segments.
    """
    nodes: list[int] = []
    columns: list[list] = []
    shapes.collect(query, nodes, columns)
    runs: list[list] = []
    offset = 0
    for seg, count in enumerate(shapes.counts):
        signature = [column[seg] for column in columns]
        if runs and runs[-1][0] == signature:
            runs[-1][2] = offset + count
        else:
            runs.append([signature, offset, offset + count])
        offset += count
    return [
        (dict(zip(nodes, signature, strict=True)), start, end) for signature, start, end in runs
    ]


class _Shapes:
    """How Whoosh combines the children of each And and Or of a query, in every segment:
    from the size estimates it weighs them by, computed for all segments at once."""

    def __init__(self, cache: PostingsCache, searcher, leaves: list, btexts: dict):
        """`btexts`: each (field, word)'s encoded term, shared with the leaves' evaluation."""
        self.cache = cache
        self.searcher = searcher
        self.leaves = leaves
        self.btexts = btexts
        self.counts = [reader.doc_count_all() for reader, _ in leaves]
        self.lives = np.array([reader.doc_count() for reader, _ in leaves], dtype=np.int64)
        self.sizes: dict[int, np.ndarray] = {}  # id(node) -> its size in each segment

    def collect(self, q, nodes: list[int], columns: list[list]) -> None:
        """Appends each compound's id and its shape in every segment: a nested pair of
        child positions (`_merge_order`), or None for an Or's ArrayUnionMatcher (children
        added in order)."""
        kind = type(q)
        if kind is wq.And or kind is wq.Or:
            if len(q.subqueries) > 1:  # one child: CompoundQuery.matcher returns it
                nodes.append(id(q))
                columns.append(self._combinations(q))
            for sub in q.subqueries:
                self.collect(sub, nodes, columns)
        elif kind is wq.Not:
            self.collect(q.query, nodes, columns)
        elif kind is wq.AndMaybe:
            self.collect(q.a, nodes, columns)
            self.collect(q.b, nodes, columns)

    def _combinations(self, q) -> list:
        """The compound's shape in each segment, as `_or_shape` and `_and_shape` say."""
        subs = q.subqueries
        if type(q) is wq.Or and (q.scale or q.minmatch or type(q).matcher_type != Or.AUTO_MATCHER):
            raise Unsupported("Or options")
        empty = zip(*(self._empty(s).tolist() for s in subs), strict=True)
        if type(q) is wq.And:
            weights = zip(*((0 - self._size(s)).tolist() for s in subs), strict=True)
            return [_and_shape(w, e) for w, e in zip(weights, empty, strict=True)]
        weights = zip(*(self._size(s).tolist() for s in subs), strict=True)
        # Or._matcher's choice in a scored search (needs_current is False there).
        few = len(subs) < Or.TOO_MANY_CLAUSES
        return [
            _or_shape(w, e, few and (len(subs) == 2 or count > _OR_ARRAY_DOC_LIMIT), q.boost)
            for w, e, count in zip(weights, empty, self.counts, strict=True)
        ]

    def _empty(self, q) -> np.ndarray:
        """Whether `q` surely matches nothing in each segment: a word no document of the
        segment holds (deleted ones included), or a compound of such."""
        kind = type(q)
        if q is wq.NullQuery or kind in (wq.Term, wq.Phrase, FieldedTerm):
            return self._size(q) == 0
        if kind is wq.Or and q.subqueries:
            return np.logical_and.reduce([self._empty(s) for s in q.subqueries])
        if kind is wq.And and q.subqueries:
            return np.logical_or.reduce([self._empty(s) for s in q.subqueries])
        return np.zeros(len(self.counts), dtype=bool)

    def _size(self, q) -> np.ndarray:
        """`q.estimate_size(segment reader)` in each segment, Whoosh's weights for its
        matcher trees, from remembered document frequencies; once per node."""
        found = self.sizes.get(id(q))
        if found is None:
            found = self.sizes[id(q)] = self._estimate(q)
        return found

    def _estimate(self, q) -> np.ndarray:
        kind = type(q)
        if q is wq.NullQuery:
            return np.zeros(len(self.counts), dtype=np.int64)
        if kind is wq.Term or kind is wq.Phrase:
            words = [q.text] if kind is wq.Term else q.words
            # a phrase estimates as the And of its words
            return np.minimum.reduce([self._frequencies(q.fieldname, word) for word in words])
        if kind is wq.Or:
            return np.minimum(sum(self._size(s) for s in q.subqueries), self.lives)
        if kind is wq.And:
            return np.minimum.reduce([self._size(s) for s in q.subqueries])
        if kind is FieldedTerm:
            found = np.zeros(len(self.counts), dtype=np.int64)
            for name, _ in q.fields:
                found += self._frequencies(name, q.text)
            return found
        return np.array([q.estimate_size(reader) for reader, _ in self.leaves], dtype=np.int64)

    def _frequencies(self, field: str, text) -> np.ndarray:
        btext = _btext(self.btexts, self.searcher.schema, field, text)
        if btext is None:
            return np.zeros(len(self.counts), dtype=np.int64)
        return self.cache.frequencies(self.leaves, field, btext)


class _Leaves:
    """A query's leaves (terms, phrases) evaluated over the whole index once, for each
    run to cut its documents from."""

    def __init__(self, cache: PostingsCache, searcher, leaves: list):
        self.cache = cache
        self.searcher = searcher
        self.leaves = leaves
        self.btexts: dict[tuple[str, object], bytes | None] = {}
        self._found: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id(node) -> arrays
        self.number = next(_evaluations)  # this evaluation's, for PostingsCache._once

    def within(self, ids: np.ndarray) -> _Within:
        return _Within(ids, self.cache.bounds, self.number)

    def of(
        self, q, start: int, end: int, within: _Within | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`q`'s matches and scores in documents `start` to `end`, or `within` some of
        them: read for those alone unless the whole index's are already at hand."""
        found = self._found.get(id(q))
        if found is None and within is not None:
            return self._evaluated(q, within)
        if found is None:
            found = self._found[id(q)] = self._evaluated(q, None)
        ids, scores = found
        if within is not None:
            return within.cut(ids, scores)
        if start == 0 and end == len(self.cache.live):
            return ids, scores
        lo, hi = np.searchsorted(ids, (start, end))
        return ids[lo:hi], scores[lo:hi]

    def _evaluated(self, q, within: _Within | None):
        kind = type(q)
        if kind is wq.Term:
            return self._term(q, within)
        if kind is FieldedTerm:
            return self._fielded_term(q, within)
        return self._phrase(q, within)

    def _term(self, q: wq.Term, within: _Within | None):
        if q.minquality:
            raise Unsupported("minquality")
        btext = _btext(self.btexts, self.searcher.schema, q.fieldname, q.text)
        if btext is None:
            return _EMPTY_IDS, _EMPTY_SCORES
        found = self.cache.term(self.searcher, self.leaves, q.fieldname, btext, within=within)
        if q.boost != 1.0:
            return found.ids, found.scores * q.boost
        return found.ids, found.scores

    def _fielded_term(self, q: FieldedTerm, within: _Within | None):
        """BM25F of one word over several fields (search/ranking.py), score for score."""
        w = self.cache.weighting
        if not isinstance(w, LanguageBM25):
            raise Unsupported("FieldedTerm without LanguageBM25")
        ids, tf = self.cache.fielded(self.searcher, self.leaves, q, within)
        if not len(ids):
            return ids, tf
        scale = self.cache.fielded_idf(self.searcher, q) * q.boost  # = q.scale(...)
        return ids, scale * tf * (w.K1 + 1) / (tf + w.K1)

    def _phrase(self, q: wq.Phrase, within: _Within | None):
        """The words read from the rarest up, each within the documents holding those
        before it (as an And's children)."""
        if q.slop != 1 or q.char_ranges:
            raise Unsupported("sloppy phrase")
        field = q.fieldname
        if field not in self.searcher.schema:
            return _EMPTY_IDS, _EMPTY_SCORES
        fieldobj = self.searcher.schema[field]
        if not fieldobj.format or not fieldobj.format.supports("positions"):
            raise Unsupported("phrase without positions")
        btexts = [_btext(self.btexts, self.searcher.schema, field, word) for word in q.words]
        if any(btext is None for btext in btexts):
            return _EMPTY_IDS, _EMPTY_SCORES
        sizes = [int(self.cache.frequencies(self.leaves, field, b).sum()) for b in btexts]
        terms: list = [None] * len(btexts)
        for i in sorted(range(len(btexts)), key=sizes.__getitem__):
            terms[i] = self.cache.term(
                self.searcher, self.leaves, field, btexts[i], positions=True, within=within
            )
            if not len(terms[i].ids):
                return _EMPTY_IDS, _EMPTY_SCORES
            within = self.within(terms[i].ids)
        ids, scores = _binary_tree(_intersect, [(t.ids, t.scores) for t in terms])
        if len(terms) > 1 and len(ids):
            ids, scores = _consecutive(terms, ids, scores)
        if q.boost != 1.0:
            scores = scores * q.boost
        return ids, scores


def _btext(btexts: dict, schema, field: str, text) -> bytes | None:
    """`text` encoded as `field`'s term (None if it cannot be), remembered in `btexts` for
    the rest of the query (its shapes and its leaves ask for the same words)."""
    key = (field, text)
    if key not in btexts:
        btexts[key] = _encoded(schema, field, text)
    return btexts[key]


def _encoded(schema, field: str, text):
    if field not in schema:
        return None
    try:
        return schema[field].to_bytes(text)
    except ValueError:
        return None


class _Run:
    """Evaluates a query tree over neighbouring segments of the same shapes, building
    Whoosh's matcher trees' sums.

    Each node may be evaluated `within` some documents (an And's matches so far): its
    matches among them, with the scores it gives them over the whole run. An And's
    answer lies within each child's matches, so a child evaluated within the others'
    gives it the same documents and numbers."""

    def __init__(self, leaves: _Leaves, sizes: dict, shapes: dict, start: int, end: int):
        """Documents `start` to `end` (exclusive) of the index; `sizes`: each node's
        estimated size in each segment (`_Shapes.sizes`)."""
        self.leaves = leaves
        self.sizes = sizes
        self.shapes = shapes
        self.start = start
        self.end = end

    def eval(self, q, within: _Within | None = None) -> tuple[np.ndarray, np.ndarray]:
        kind = type(q)
        if q is wq.NullQuery:
            return _EMPTY_IDS, _EMPTY_SCORES
        if kind is wq.Term or kind is FieldedTerm or kind is wq.Phrase:
            return self.leaves.of(q, self.start, self.end, within)
        if kind is wq.Or:
            return self._or(q, within)
        if kind is wq.And:
            return self._and(q, within)
        if kind is wq.Not:
            return self._not(q, within)
        if kind is wq.AndMaybe:
            return self._and_maybe(q, within)
        raise Unsupported(kind.__name__)

    def _and_maybe(self, q: wq.AndMaybe, within: _Within | None):
        """AndMaybeMatcher: the first query's matches, the second's score added where it
        matches too."""
        a_ids, a_scores = self.eval(q.a, within)
        b_ids, b_scores = self.eval(q.b, self.leaves.within(a_ids))
        scores = a_scores.copy()
        _, at_a, at_b = intersect_sorted(a_ids, b_ids)
        scores[at_a] = a_scores[at_a] + b_scores[at_b]
        return a_ids, (scores * q.boost if q.boost != 1.0 else scores)

    def _not(self, q: wq.Not, within: _Within | None):
        inner, _ = self.eval(q.query, within)
        if within is None:
            live = self.leaves.cache.live[self.start : self.end]
            everything = np.flatnonzero(live) + self.start
        else:
            everything = within.ids  # live documents of this run
        ids = np.setdiff1d(everything, inner, assume_unique=True)
        return ids, np.ones(len(ids), dtype=np.float64)  # InverseMatcher's weight

    # -- compounds ------------------------------------------------------------------------

    def _and(self, q: wq.And, within: _Within | None):
        """The children from the smallest estimate up, each within the matches of those
        before it: a word in every other article is then read and scored only where the
        rare word is, not merged and scored in full to be cut down to a few hundred."""
        subs = q.subqueries
        if not subs:
            return _EMPTY_IDS, _EMPTY_SCORES
        if len(subs) == 1:  # CompoundQuery.matcher: the only child, boost unused
            return self.eval(subs[0], within)
        order = self.shapes[id(q)]
        if order == _NOTHING:
            return _EMPTY_IDS, _EMPTY_SCORES
        children: list = [None] * len(subs)
        for i in sorted(range(len(subs)), key=lambda i: self._size(subs[i])):
            children[i] = self.eval(subs[i], within)
            if not len(children[i][0]):
                return _EMPTY_IDS, _EMPTY_SCORES
            within = self.leaves.within(children[i][0])
        ids, scores = _built(_intersect, order, children.__getitem__)
        return ids, (scores * q.boost if q.boost != 1.0 else scores)

    def _size(self, q) -> int:
        """`q`'s estimated size in the whole index (an And's children all have one)."""
        sizes = self.sizes.get(id(q))
        return 0 if sizes is None else int(sizes.sum())

    def _or(self, q: wq.Or, within: _Within | None):
        if not q.subqueries:
            return _EMPTY_IDS, _EMPTY_SCORES
        if q.scale or q.minmatch or type(q).matcher_type != Or.AUTO_MATCHER:
            raise Unsupported("Or options")
        if len(q.subqueries) == 1:
            return self.eval(q.subqueries[0], within)
        order = self.shapes[id(q)]
        if order == _NOTHING:
            return _EMPTY_IDS, _EMPTY_SCORES
        if order is None:
            return _preloaded_union([self.eval(s, within) for s in q.subqueries], q.boost)
        ids, scores = _built(_union, order, lambda i: self.eval(q.subqueries[i], within))
        return ids, (scores * q.boost if q.boost != 1.0 else scores)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique(values)` of values in ascending runs, by one stable sort: numpy's stable
    sort (timsort) merges runs it finds in linear time, where its default sort and
    `np.unique` (which hashes, then sorts) start over."""
    values = values.copy()
    values.sort(kind="stable")
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _merge(arrays: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The sorted union of sorted, duplicate-free `arrays`, and where each array's values
    sit in it. One stable argsort merges the runs (7x faster than sorting them again and
    placing each array with `searchsorted`, on a 30,000-document segment). Array methods,
    not numpy's functions: a query makes hundreds of these calls, most of them small."""
    joined = np.concatenate(arrays)
    order = joined.argsort(kind="stable")
    ordered = joined[order]
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    place = np.empty(len(joined), dtype=np.int64)
    place[order] = first.cumsum() - 1
    places, at = [], 0
    for values in arrays:
        places.append(place[at : at + len(values)])
        at += len(values)
    return ordered[first], places


def _union(a, b):
    a_ids, a_scores = a
    b_ids, b_scores = b
    if not len(a_ids):
        return b
    if not len(b_ids):
        return a
    ids, (at_a, at_b) = _merge([a_ids, b_ids])
    scores = np.zeros(len(ids), dtype=np.float64)
    scores[at_a] = a_scores
    scores[at_b] += b_scores  # a + b where both match
    return ids, scores


def intersect_sorted(a: np.ndarray, b: np.ndarray):
    """`np.intersect1d(a, b, assume_unique=True, return_indices=True)` of ascending,
    duplicate-free arrays: the shorter looked up in the longer, in order (each search
    starts where the last ended). intersect1d sorts both together, whatever their sizes:
    a rare word's thousand documents within a common word's million took 2 ms, not 0.1."""
    if len(a) > len(b):
        ids, at_b, at_a = intersect_sorted(b, a)
        return ids, at_a, at_b
    dtype = np.result_type(a, b)
    if not len(a):
        return a[:0].astype(dtype), _NO_POSITIONS, _NO_POSITIONS
    at = b.searchsorted(a)
    np.minimum(at, len(b) - 1, out=at)
    hit = b[at] == a
    return a[hit].astype(dtype, copy=False), np.flatnonzero(hit), at[hit]


def _intersect(a, b):
    a_ids, a_scores = a
    b_ids, b_scores = b
    ids, at_a, at_b = intersect_sorted(a_ids, b_ids)
    return ids, a_scores[at_a] + b_scores[at_b]


def _preloaded_union(children, boost: float):
    """ArrayUnionMatcher: each child's scores times the boost, added child by child."""
    children = [c for c in children if len(c[0])]
    if not children:
        return _EMPTY_IDS, _EMPTY_SCORES
    ids, places = _merge([child_ids for child_ids, _ in children])
    scores = np.zeros(len(ids), dtype=np.float64)
    for at, (_, child_scores) in zip(places, children, strict=True):
        scores[at] += child_scores * boost
    return ids, scores


# A compound nothing matches in a segment.
_NOTHING = "nothing"


@functools.lru_cache(maxsize=4096)
def _and_shape(weights: tuple[int, ...], empty: tuple[bool, ...]):
    """An And's children intersected along Whoosh's weighted tree; nothing if one of
    them matches nothing."""
    return _NOTHING if any(empty) else _merge_order(weights)


@functools.lru_cache(maxsize=4096)
def _or_shape(weights: tuple[int, ...], empty: tuple[bool, ...], tree: bool, boost: float):
    """An Or's children added along Whoosh's weighted tree (`tree`), or one by one in
    order (its ArrayUnionMatcher, each child's scores times the boost: None), as nested
    pairs of the children that match something: a child matching nothing adds nothing,
    so segments differing only in those children add the same numbers in the same order.
    Unboosted, adding one by one is the left-deep tree."""
    present = [i for i, nothing in enumerate(empty) if not nothing]
    if not present:
        return _NOTHING
    if tree:
        return _pruned(_merge_order(weights), frozenset(present))
    if boost != 1.0:
        return None
    order = present[0]
    for child in present[1:]:
        order = (order, child)
    return order


def _pruned(order, present: frozenset):
    """`order` without the children not `present` (there is at least one)."""
    return _pruned_lowest(order, present)[0]


def _pruned_lowest(order, present: frozenset) -> tuple[object, int]:
    """`_pruned` and its lowest child (-1 if none is left): carried up, not searched for
    again at every pair (a query's Ors are shaped in every segment)."""
    if isinstance(order, int):
        return (order, order) if order in present else (None, -1)
    (a, low_a), (b, low_b) = (_pruned_lowest(part, present) for part in order)
    if a is None or b is None:
        return (b, low_b) if a is None else (a, low_a)
    return ((a, b), low_a) if low_a < low_b else ((b, a), low_b)


@functools.lru_cache(maxsize=4096)
def _merge_order(weights: tuple[int, ...]):
    """whoosh.util.make_weighted_tree's tree over children of these weights (stable sort
    by weight, merge the two lightest, insert the merge after every equal weight), as
    nested pairs of child positions, each pair's lower first: IEEE sums commute, so only
    which children are added together first changes a score."""
    # (weight, lowest child, tree): the lowest carried, not searched for at each merge
    items: list[tuple[int, int, object]] = sorted(
        ((weight, i, i) for i, weight in enumerate(weights)), key=_weight
    )
    while len(items) > 1:
        (wa, low_a, a), (wb, low_b, b) = items[0], items[1]
        del items[:2]
        weight = wa + wb
        merged = (weight, low_a, (a, b)) if low_a < low_b else (weight, low_b, (b, a))
        at = len(items)
        for i, item in enumerate(items):
            if weight < item[0]:
                at = i
                break
        items.insert(at, merged)
    return items[0][2]


def _weight(item: tuple) -> int:
    return item[0]


def _built(combine, order, child):
    """`combine` applied along a `_merge_order` tree to `child(i)`, each child's arrays."""
    if isinstance(order, int):
        return child(order)
    a, b = order
    return combine(_built(combine, a, child), _built(combine, b, child))


def _binary_tree(combine, parts):
    """whoosh.util.make_binary_tree: halves, recursively."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return combine(_binary_tree(combine, parts[:half]), _binary_tree(combine, parts[half:]))


def _consecutive(terms: list[_Term], ids: np.ndarray, scores: np.ndarray):
    """Of `ids` (documents holding every word), those where the words occur in a row:
    some position p with word i at p + i for every i (Whoosh's SpanNear2, slop 1)."""
    keys = None
    for i, term in enumerate(terms):
        rows = np.searchsorted(term.ids, ids)
        first, last = term.starts[rows], term.starts[rows + 1]
        counts = last - first
        # Every position of the word in each candidate document, with its document.
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        positions = term.positions[np.repeat(first, counts) + within].astype(np.int64)
        docs = np.repeat(ids, counts).astype(np.int64)  # cached as 32 bits: a key needs 64
        found = _sorted_unique((docs << 32) | (positions - i + (1 << 31)))
        keys = found if keys is None else intersect_sorted(keys, found)[0]
        if not len(keys):
            break
    _, keep, _ = intersect_sorted(ids, _sorted_unique(keys >> 32))
    return ids[keep], scores[keep]
