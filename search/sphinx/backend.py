"""The Backend (search/backend.py) of a SphinxQL cluster: the front answers every query.

Each search is one batch to the front's distributed index for the serving slot: the page
of hits (WEIGHT() ordering, SHOW META for the total and agent warnings), then one GROUP BY
per facet, each with every filter but its own (facets as statements of their own: FACET
fails beside WEIGHT() on a distributed index). Snippets, marks, did-you-mean, completions
and prefix/fuzzy expansion are Sift's own, over the rows' stored text and the vocabulary
`sift reindex` keeps, so they read as the embedded index's. A shard whose replicas are all
down makes the answer `partial`, naming the shard; the front's one-off failures (a mirror
it has not noticed is dead yet) are retried.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pymysql

from index.analysis import document_terms, fold
from index.cluster.daemons import is_up
from index.cluster.layout import TEXT_FIELDS, Cluster, load_cluster
from index.cluster.rows import doc_key, stored_fields, value_key
from index.cluster.sql import connect, live_slot
from index.cluster.store import ClusterStore, vocabulary_path
from index.documents import Document
from index.schema import ACTOR_TEXT, TITLE
from index.writer import stored_document
from search import parser as p
from search.actors import resolve_actor
from search.errors import IndexUnavailable, NotSupported
from search.facets import top_values, year_values
from search.queries import common_stop_words
from search.ranking import ACTOR_BOOST, TITLE_WEIGHT
from search.request import Filters, SearchRequest
from search.results import (
    ActorView,
    Bucket,
    Comparison,
    DocumentView,
    FacetValue,
    Hit,
    SearchResults,
    Stats,
    StoryView,
    Timeline,
    bucket_key,
)
from search.snippets import match_spans, render, snippet
from search.sphinx.match import compile_match
from search.sphinx.vocabulary import Vocabulary
from search.stored import HEAD_CHARS
from search.suggest import Completion, completions, did_you_mean

# Tries of a batch the front answered with an agent warning while every shard had a live
# replica (the front keeps using a dead mirror until its next health check).
FRONT_TRIES = 4
# Stories and their analyses are kept by the embedded index only (index/stories.py).
_NO_STORIES = "Stories, actors and comparisons are not supported on a cluster yet."
# Groups a facet statement may return (actors are the many).
FACET_GROUPS = 10_000
# Seconds the languages present (what a word is compiled for) are reused.
LANGUAGES_TTL_S = 1.0
SIMILAR_TERMS = 25
_HIT_COLUMNS = "id, doc_id, title_s, text_s, source, date, language, meta, WEIGHT() AS w"
_UNDATED_LAST = "IF(date > 0, date, 99999999) AS dk"
_ORDER = {"relevance": "w DESC, id ASC", "newest": "date DESC, id ASC", "oldest": "dk ASC, id ASC"}
# Sphinx's default ranker (phrase proximity, then BM25) with Sift's headline and actor
# weights (search/ranking.py; integers, hence doubled). IDF is per shard and per field set,
# not per language, and BM25 here ignores lengths, so the order is near the embedded
# index's, not the same: on the benchmark queries with more than 10 hits (2,000 Reuters
# articles) the top 10 share 0.61 of their documents, against 0.54 with ranker=bm25 and
# no weights (Sphinx 2.2's bm25f()/bm25a() gave every document the same weight here).
_SCALE = 1000  # lcs * weight * 1000 + bm25 * 999: a score of the order of Whoosh's
_FIELD_WEIGHTS = ", ".join(
    f"{field}={2 * TITLE_WEIGHT:g}"
    if field.startswith(TITLE)
    else f"{field}={2 * ACTOR_BOOST:g}"
    if field == ACTOR_TEXT
    else f"{field}=2"
    for field in TEXT_FIELDS
)
_OPTIONS = f"ranker=proximity_bm25, field_weights=({_FIELD_WEIGHTS}), retry_count=2, retry_delay=10"
_FACET_GROUP = {"source": "source_key", "language": "language_key", "actor": "actor_keys"}


class SphinxBackend:
    """Searches the cluster `cluster_file` describes; safe to share between threads."""

    def __init__(self, cluster_file: str | Path):
        self.cluster: Cluster = load_cluster(cluster_file)
        self.store = ClusterStore(self.cluster)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._vocabulary: dict[tuple[str, int], Vocabulary] = {}
        self._languages: tuple[float, str, list[str]] | None = None

    # -- connections and state ------------------------------------------------------------

    def _run(self, statements: list[tuple[str, tuple]]) -> list[list[tuple]]:
        """Every statement's rows, in one round trip to the front (reconnecting once)."""
        sql = "; ".join(statement for statement, _ in statements)
        params = tuple(value for _, values in statements for value in values)
        for attempt in range(2):
            conn = getattr(self._local, "conn", None)
            try:
                if conn is None:
                    conn = self._local.conn = connect(self.cluster.front)
                with conn.cursor() as cur:
                    cur.execute(sql, params)
                    results = [list(cur.fetchall())]
                    while cur.nextset():
                        results.append(list(cur.fetchall()))
                return results
            except pymysql.err.OperationalError as exc:
                self.close()
                if attempt:
                    raise IndexUnavailable(f"the cluster's front does not answer ({exc})") from None
            except pymysql.err.MySQLError as exc:
                self.close()
                raise IndexUnavailable(f"the cluster refused a query ({exc})") from None
        raise AssertionError("unreachable")

    def _slot(self) -> str:
        try:
            conn = getattr(self._local, "conn", None) or connect(self.cluster.front)
            self._local.conn = conn
            slot = live_slot(conn)
        except pymysql.err.MySQLError as exc:
            self.close()
            raise IndexUnavailable(f"the cluster's front does not answer ({exc})") from None
        if slot is None:
            raise IndexUnavailable("no index has been built on this cluster yet")
        return slot

    def _vocab(self, slot: str) -> Vocabulary:
        path = vocabulary_path(self.cluster, slot)
        try:
            key = (slot, path.stat().st_mtime_ns)
        except FileNotFoundError:
            key = (slot, 0)
        with self._lock:
            found = self._vocabulary.get(key)
        if found is None:
            found = Vocabulary.load(path)
            with self._lock:
                self._vocabulary = {key: found}
        return found

    def _present_languages(self, slot: str) -> list[str]:
        cached = self._languages
        if cached and cached[1] == slot and time.monotonic() - cached[0] < LANGUAGES_TTL_S:
            return cached[2]
        # Asked like a search (retried while the front misses a shard with a live replica):
        # a language only the missed shard holds would otherwise go unsearched.
        results, missing = self._complete(
            [
                (
                    f"SELECT language, COUNT(*) AS n FROM dist_{slot} GROUP BY language_key "
                    f"ORDER BY n DESC LIMIT 1000 OPTION {_OPTIONS}",
                    (),
                ),
                ("SHOW META", ()),
            ]
        )
        languages = sorted(row[0] for row in results[0] if row[1])
        if not missing:
            self._languages = (time.monotonic(), slot, languages)
        return languages

    def missing_shards(self) -> list[int]:
        """Shards none of whose replicas accepts a connection now."""
        return [
            shard
            for shard, replicas in enumerate(self.cluster.shards)
            if not any(is_up(address) for address in replicas)
        ]

    def version(self) -> str:
        return self._slot()

    def ready(self) -> bool:
        try:
            self._slot()
        except IndexUnavailable:
            return False
        return not self.missing_shards()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with contextlib.suppress(pymysql.err.MySQLError):
                conn.close()
            self._local.conn = None

    # -- queries --------------------------------------------------------------------------

    def _compile(self, slot: str, q: str, op: str, filters: Filters):
        languages = self._present_languages(slot)
        if filters.languages:
            wanted = {lang.lower() for lang in filters.languages}
            languages = [lang for lang in languages if lang in wanted] or languages
        node = p.parse(q, op, stop_words=common_stop_words(languages))
        vocabulary = self._vocab(slot)
        if isinstance(node, p.MatchAll):
            return node, None, compile_match(node, vocabulary, languages)[1], vocabulary
        match, marks = compile_match(node, vocabulary, languages)
        return node, match, marks, vocabulary

    def search(self, request: SearchRequest) -> SearchResults:
        if request.collapse:
            raise NotSupported(_NO_STORIES)
        started = time.perf_counter()
        slot = self._slot()
        node, match, marks, vocabulary = self._compile(slot, request.q, request.op, request.filters)
        offset = (request.page - 1) * request.per_page
        where = _Where(match, request.filters)
        statements = [
            self._hits(slot, node, where, request.sort, offset, request.per_page),
            ("SHOW META", ()),
        ]
        for name in request.facets:
            statements.append(_facet_statement(slot, name, where.without(name)))
        results, missing = self._complete(statements)
        meta = dict(results[1])
        hits = [self._hit(row, node, marks if request.snippets else None) for row in results[0]]
        facets = {
            name: _facet_values(name, rows, request.filters, request.facet_size)
            for name, rows in zip(request.facets, results[2:], strict=True)
        }
        return SearchResults(
            total=int(meta.get("total_found", 0)),
            page=request.page,
            per_page=request.per_page,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=hits,
            facets=facets,
            suggestion=did_you_mean(vocabulary, request.q, node),
            version=slot,
            partial=bool(missing),
            missing_shards=missing,
        )

    def story(self, story: str) -> StoryView | None:
        raise NotSupported(_NO_STORIES)

    def actor(
        self, name: str, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> ActorView | None:
        raise NotSupported(_NO_STORIES)

    def compare(
        self, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> Comparison:
        raise NotSupported(_NO_STORIES)

    def _complete(self, statements) -> tuple[list[list[tuple]], list[int]]:
        """The batch's results, retried while the front misses a shard that has a live
        replica; with the shards no replica of which answers (a partial answer)."""
        for _ in range(FRONT_TRIES):
            results = self._run(statements)
            if "warning" not in dict(results[1]):
                return results, []
            missing = self.missing_shards()
            if missing:
                return results, missing
            time.sleep(0.01)
        return results, self.missing_shards()

    @staticmethod
    def _hits(slot, node, where, sort: str, offset: int, limit: int) -> tuple[str, tuple]:
        columns = _HIT_COLUMNS + (", " + _UNDATED_LAST if sort == "oldest" else "")
        order = _ORDER["newest" if isinstance(node, p.MatchAll) and sort == "relevance" else sort]
        sql, params = where.sql()
        window = max(1000, offset + limit)
        return (
            f"SELECT {columns} FROM dist_{slot}{sql} ORDER BY {order} "
            f"LIMIT {offset}, {limit} OPTION {_OPTIONS}, max_matches={window}",
            params,
        )

    @staticmethod
    def _hit(row: tuple, node, marks) -> Hit:
        doc = _document(row)
        return Hit(
            id=doc.id,
            score=1.0 if isinstance(node, p.MatchAll) else round(row[8] / _SCALE, 4),
            title=doc.title,
            source=doc.source,
            date=doc.date,
            language=doc.language,
            actors=[actor.name for actor in doc.actors],
            snippet=snippet(doc.text, doc.language, marks) if marks is not None else "",
        )

    def ranking(self, request: SearchRequest, depth: int) -> list[tuple[str, float]]:
        slot = self._slot()
        node, match, _, _ = self._compile(slot, request.q, request.op, request.filters)
        where = _Where(match, request.filters)
        rows = self._run([self._hits(slot, node, where, request.sort, 0, depth)])[0]
        return [(row[1], row[8] / _SCALE) for row in rows]

    def export(
        self, q: str, filters: Filters, op: str = "and", sort: str = "relevance"
    ) -> Iterator[Document]:
        slot = self._slot()
        node, match, _, _ = self._compile(slot, q, op, filters)
        where = _Where(match, filters)
        results = self._run([self._hits(slot, node, where, sort, 0, 1), ("SHOW META", ())])
        total = int(dict(results[1]).get("total_found", 0))
        if total:
            for row in self._run([self._hits(slot, node, where, sort, 0, total)])[0]:
                yield _document(row)

    # -- documents ------------------------------------------------------------------------

    def _row(self, slot: str, doc_id: str) -> tuple | None:
        rows = self._run(
            [
                (
                    f"SELECT {_HIT_COLUMNS} FROM dist_{slot} WHERE id = %s OPTION {_OPTIONS}",
                    (doc_key(doc_id),),
                )
            ]
        )[0]
        return next((row for row in rows if row[1] == doc_id), None)

    def document(
        self,
        doc_id: str,
        q: str | None = None,
        *,
        keep_lines: bool = False,
        text_offset: int = 0,
        text_length: int = HEAD_CHARS,
    ) -> DocumentView | None:
        slot = self._slot()
        row = self._row(slot, doc_id)
        if row is None:
            return None
        doc = _document(row)
        full_length = len(doc.text)
        if text_offset or full_length > text_length:
            doc = replace(doc, text=doc.text[text_offset : text_offset + text_length])
        spans = []
        if q:
            _, _, marks, _ = self._compile(slot, q, "and", Filters())
            spans = match_spans(doc.text, doc.language, marks)
        text_html = render(doc.text, spans, keep_lines=keep_lines)
        return DocumentView(doc, text_html, text_offset, full_length)

    def similar(self, doc_id: str, limit: int = 10) -> list[Hit] | None:
        """Documents sharing the most distinctive words of `doc_id` (by the vocabulary's
        document frequencies); None if it is unknown."""
        slot = self._slot()
        row = self._row(slot, doc_id)
        if row is None:
            return None
        doc = _document(row)
        vocabulary = self._vocab(slot)
        total = self._run([(f"SELECT COUNT(*) FROM dist_{slot} OPTION {_OPTIONS}", ())])[0]
        total = max(int(total[0][0]) if total else 0, 1)
        counts = Counter(document_terms(f"{doc.title}\n{doc.text}", None))
        weighted = sorted(
            (
                (-tf * math.log(1 + total / vocabulary.counts[t]), t)
                for t, tf in counts.items()
                if vocabulary.counts.get(t) and len(t) > 2 and not t.isdigit()
            ),
        )[:SIMILAR_TERMS]
        if not weighted:
            return []
        node = p.Or(tuple(p.Word(t) for _, t in weighted))
        match, marks = compile_match(node, vocabulary, self._present_languages(slot))
        where = _Where(match, Filters(), exclude=doc_key(doc_id))
        rows = self._run([self._hits(slot, node, where, "relevance", 0, limit)])[0]
        return [self._hit(found, node, marks) for found in rows]

    def suggest(self, text: str, limit: int = 10) -> list[Completion]:
        slot = self._slot()
        rows = self._run([_facet_statement(slot, "actor", _Where(None, Filters()))])[0]
        actors = _actor_counts(rows)
        return completions(self._vocab(slot), actors, text, limit)

    # -- aggregates -----------------------------------------------------------------------

    def timeline(
        self, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> Timeline:
        slot = self._slot()
        _, match, _, _ = self._compile(slot, q, op, filters)
        where = _Where(match, filters)
        column = {"year": "year", "month": "month", "day": "date"}[interval]
        sql, params = where.sql()
        undated_sql, undated_params = where.sql("date = 0")
        grouped, total, undated = self._run(
            [
                (
                    f"SELECT {column}, COUNT(*) AS n FROM dist_{slot}{sql} GROUP BY {column} "
                    f"ORDER BY {column} ASC LIMIT 100000 OPTION {_OPTIONS}, max_matches=100000",
                    params,
                ),
                (f"SELECT COUNT(*) FROM dist_{slot}{sql} OPTION {_OPTIONS}", params),
                (
                    f"SELECT COUNT(*) FROM dist_{slot}{undated_sql} OPTION {_OPTIONS}",
                    undated_params,
                ),
            ]
        )
        buckets = [Bucket(bucket_key(int(k), interval), int(n)) for k, n in grouped if int(k)]
        return Timeline(
            interval,
            buckets,
            undated=int(undated[0][0]) if undated else 0,
            total=int(total[0][0]) if total else 0,
        )

    def stats(self) -> Stats:
        slot = self._slot()
        all_docs = _Where(None, Filters())
        sources, languages, undated, count = self._run(
            [
                _facet_statement(slot, "source", all_docs),
                _facet_statement(slot, "language", all_docs),
                (f"SELECT COUNT(*) FROM dist_{slot} WHERE date = 0 OPTION {_OPTIONS}", ()),
                (f"SELECT COUNT(*) FROM dist_{slot} OPTION {_OPTIONS}", ()),
            ]
        )
        path = vocabulary_path(self.cluster, slot)
        built = (
            time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(path.stat().st_mtime))
            if path.exists()
            else None
        )
        return Stats(
            documents=int(count[0][0]) if count else 0,
            index_bytes=self._index_bytes(slot),
            generation=slot,
            last_reindex=built,
            sources=_all_values(rows for rows in sources if rows[2]),
            languages=_all_values(rows for rows in languages if rows[2]),
            undated=int(undated[0][0]) if undated else 0,
        )

    def _index_bytes(self, slot: str) -> int:
        """RAM and disk bytes of the slot's index on one live replica of each shard."""
        size = 0
        for replicas in self.cluster.shards:
            for address in replicas:
                try:
                    conn = connect(address)
                except pymysql.err.MySQLError:
                    continue
                try:
                    with conn.cursor() as cur:
                        cur.execute(f"SHOW INDEX docs_{slot} STATUS")
                        status = dict(cur.fetchall())
                    size += int(status.get("ram_bytes", 0)) + int(status.get("disk_bytes", 0))
                finally:
                    conn.close()
                break
        return size


class _Where:
    """A MATCH() text and the filters, as a WHERE clause (optionally leaving one out)."""

    def __init__(self, match: str | None, filters: Filters, *, exclude: int | None = None):
        self.match = match
        self.filters = filters
        self.exclude = exclude
        self.leave_out: str | None = None

    def without(self, name: str) -> _Where:
        other = _Where(self.match, self.filters, exclude=self.exclude)
        other.leave_out = name
        return other

    def sql(self, *extra: str) -> tuple[str, tuple]:
        parts: list[str] = []
        params: list = []
        if self.match is not None:
            parts.append("MATCH(%s)")
            params.append(self.match)
        f = self.filters
        if f.sources and self.leave_out != "source":
            parts.append(f"source_key IN ({_keys(f.sources)})")
        if f.actors and self.leave_out != "actor":
            names = [*f.actors, *(c for a in f.actors if (c := resolve_actor(a)))]
            parts.append(f"actor_keys IN ({_keys(names)})")
        if f.languages and self.leave_out != "language":
            parts.append(f"language_key IN ({_keys(f.languages)})")
        dated = f.date_from or f.date_to or f.years
        if dated and self.leave_out != "year":
            parts.append("date > 0")
            if f.date_from:
                parts.append(f"date >= {_day(f.date_from)}")
            if f.date_to:
                parts.append(f"date <= {_day(f.date_to)}")
            if f.years:
                parts.append(f"year IN ({', '.join(str(int(y)) for y in f.years)})")
        if self.exclude is not None:
            parts.append(f"id != {int(self.exclude)}")
        parts.extend(extra)
        return (" WHERE " + " AND ".join(parts) if parts else ""), tuple(params)


def _keys(values) -> str:
    return ", ".join(str(value_key(v)) for v in sorted(set(values)))


def _day(day) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _facet_statement(slot: str, name: str, where: _Where) -> tuple[str, tuple]:
    sql, params = where.sql()
    if name == "year":
        sql, params = where.sql("date > 0")
        select, group = "year, COUNT(*) AS n, year", "year"
    else:
        label = {"source": "source", "language": "language", "actor": "actors_s"}[name]
        select, group = f"GROUPBY() AS k, COUNT(*) AS n, {label}", _FACET_GROUP[name]
    return (
        f"SELECT {select} FROM dist_{slot}{sql} GROUP BY {group} ORDER BY n DESC "
        f"LIMIT {FACET_GROUPS} OPTION {_OPTIONS}, max_matches={FACET_GROUPS}",
        params,
    )


def _actor_counts(rows) -> list[tuple[str, int]]:
    """(actor name, documents) of an actor facet statement's groups: each group's key is
    an actor's key, its label the names of one of its documents' actors."""
    found = []
    for key, count, names in rows:
        name = next((n for n in names.split("\n") if value_key(n) == int(key)), None)
        if name:
            found.append((name, int(count)))
    return sorted(found, key=lambda pair: pair[0])


def _facet_values(name: str, rows, filters: Filters, size: int) -> list[FacetValue]:
    """Facet values as search/facets.py lists them (top by count, selected ones kept)."""
    if name == "year":
        return year_values([int(r[0]) for r in rows], [int(r[1]) for r in rows], filters, size)
    if name == "actor":
        pairs = _actor_counts(rows)
        wanted = [*filters.actors, *(c for a in filters.actors if (c := resolve_actor(a)))]
    else:
        pairs = sorted((label, int(count)) for _, count, label in rows if label)
        wanted = list(filters.sources if name == "source" else filters.languages)
    values = [value for value, _ in pairs]
    chosen = {fold(value) for value in wanted}
    selected = {vid for vid, value in enumerate(values) if fold(value) in chosen}
    listed = top_values(values, np.array([c for _, c in pairs], dtype=np.int64), selected, size)
    known = {fold(value) for value in values}
    requested = filters.actors if name == "actor" else wanted
    for value in requested:
        names = [value, *([c] if name == "actor" and (c := resolve_actor(value)) else [])]
        if not any(fold(n) in known for n in names):
            listed.append(FacetValue(value, 0, True))
    return listed


def _all_values(rows) -> list[FacetValue]:
    pairs = sorted(((int(n), label) for _, n, label in rows), key=lambda cv: (-cv[0], cv[1]))
    return [FacetValue(v, c, False) for c, v in pairs]


def _document(row: tuple) -> Document:
    names = ("id", "doc_id", "title_s", "text_s", "source", "date", "language", "meta")
    return stored_document(stored_fields(dict(zip(names, row[:8], strict=True))))
