"""The search engine: typed requests in, plain results out, over the live generation.

Each thread keeps one searcher on the version it last saw (generation + Whoosh commit).
Every call compares that with what is on disk and, when it changed, opens a new searcher
and closes the old one: never `Searcher.refresh()`, which in whoosh-reloaded 2.7.5 brings
back deleted and duplicated documents after a merge. Facet tables are built once per
version and shared by the threads.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
from whoosh import query as wq
from whoosh.lang import NoStopWords, stopwords_for_language

from index import generations, schema
from index.analysis import STEMMED_LANGUAGES, document_terms, term
from index.documents import Document
from index.embedded import EmbeddedStore
from search import analysis, budget, feedback, stored, stories
from search import parser as p
from search.errors import IndexUnavailable
from search.facets import facet_counts
from search.feedback import FEEDBACK_DOCS
from search.filters import combine, filter_masks, value_ids
from search.postings import PostingsCache, Scored, evaluate
from search.queries import Marks, common_stop_words, compile_query
from search.ranking import weighting
from search.request import Filters, SearchRequest
from search.results import (
    ActorView,
    Comparison,
    DocumentView,
    FacetValue,
    Hit,
    SearchResults,
    Stats,
    StoryMember,
    StorySummary,
    StoryView,
    Timeline,
)
from search.snippets import match_spans, render, snippet
from search.suggest import Completion, checked_words, completions, did_you_mean
from search.tables import Tables, open_tables

# More-like-this: how many of a document's most distinctive terms make its query, and
# how much of its text they are chosen from (all of a news article).
SIMILAR_TERMS = 25
SIMILAR_TEXT_CHARS = 50_000
_UNDATED_LAST = np.int64(10**9)


class _Plan(NamedTuple):
    """What `search` and `ranking` share: the user's query and what it matches and scores."""

    node: p.Node  # the parsed query tree
    query: wq.Query  # the compiled (with `expand`, the expanded) Whoosh query
    marks: Marks  # what snippets highlight
    matches: np.ndarray  # documents the user's query matches (mask)
    masks: dict  # filter name -> mask
    final: np.ndarray  # matches and every filter (mask)
    scored: Scored | None  # matches and scores in one pass; None where Whoosh answers


@dataclass
class _Snapshot:
    version: generations.Version
    ix: object
    searcher: object
    tables: Tables
    postings: PostingsCache

    @property
    def reader(self):
        return self.searcher.reader()


class _Words:
    """The index's words as did-you-mean reads them (search/suggest.py): Whoosh's, with
    each word's document frequency from the version's remembered lookups."""

    def __init__(self, snap: _Snapshot):
        self._snap = snap

    def doc_frequency(self, field: str, text: str) -> int:
        return self._snap.postings.frequency(self._snap.searcher, field, text)

    def terms_within(self, field: str, text: str, maxdist: int, prefix: int = 0):
        words = self._snap.postings.words(self._snap.searcher)
        return words.terms_within(field, text, maxdist, prefix=prefix)


class Engine:
    """Searches the index at `root`; safe to share between the threads of one process."""

    def __init__(self, root: str | Path, budget_s: float | None = None):
        self.root = Path(root)
        self.store = EmbeddedStore(self.root)
        self.budget_s = budget_s  # seconds of work one request may take (search/budget.py)
        self._local = threading.local()
        self._tables: dict[generations.Version, tuple[Tables, PostingsCache]] = {}
        self._tables_lock = threading.Lock()

    # -- versions and searchers -----------------------------------------------------------

    def _snapshot(self) -> _Snapshot:
        name = generations.current_generation(self.root)
        if name is None:
            raise IndexUnavailable("no index has been built yet")
        snap: _Snapshot | None = getattr(self._local, "snapshot", None)
        if snap is not None and snap.version.generation == name:
            try:
                if snap.ix.latest_generation() == snap.version.commit:
                    return snap
            except OSError:
                pass
        fresh = self._open(name)
        if snap is not None:
            snap.searcher.close()
        self._local.snapshot = fresh
        return fresh

    def _open(self, name: str) -> _Snapshot:
        try:
            ix = generations.open_generation(self.root, name)
            version = generations.Version(name, ix.latest_generation())
            searcher = ix.searcher(weighting=weighting())
        except Exception as exc:  # a missing or damaged TOC raises anything from EOFError
            # to Whoosh's EmptyIndexError: none of it may become a 500 or a wrong answer
            failure = f"{type(exc).__name__}: {exc}"
        else:
            failure = None
        if failure:  # raised outside the handler: a chained traceback would keep the file
            raise IndexUnavailable(f"the index cannot be opened ({failure})")  # Whoosh left open
        with self._tables_lock:
            shared = self._tables.get(version)
            if shared is None:
                folder = generations.generation_path(self.root, name)
                tables = open_tables(searcher.reader(), folder, version.commit)
                shared = (tables, PostingsCache(searcher, tables.live, str(folder)))
                self._tables = {version: shared}  # only the newest version is kept
        return _Snapshot(version, ix, searcher, *shared)

    def version(self) -> str:
        snap = self._snapshot()
        return f"{snap.version.generation}.{snap.version.commit}"

    def ready(self) -> bool:
        try:
            self._snapshot()
        except IndexUnavailable:
            return False
        return True

    def close(self) -> None:
        snap = getattr(self._local, "snapshot", None)
        if snap is not None:
            snap.searcher.close()
            self._local.snapshot = None

    # -- search ---------------------------------------------------------------------------

    @budget.limited
    def search(self, request: SearchRequest) -> SearchResults:
        started = time.perf_counter()
        snap = self._snapshot()
        plan = self._plan(snap, request)
        found = np.flatnonzero(plan.final)  # gathered by number: most queries match few
        total = len(found)
        offset = (request.page - 1) * request.per_page
        marks = plan.marks if request.snippets else None
        if request.collapse == "story":
            hits = self._collapsed(snap, plan, request, total, marks)
        else:
            ranked = self._ranked(snap, plan, request.sort, offset + request.per_page)[offset:]
            hits = [self._hit(snap, docnum, score, marks) for docnum, score in ranked]
        facets = facet_counts(
            snap.tables,
            plan.matches,
            plan.masks,
            request.filters,
            request.facets,
            request.facet_size,
            snap.tables.story if request.collapse == "story" else None,
            filtered=found,
        )
        suggestion = did_you_mean(_Words(snap), request.q, plan.node)
        return SearchResults(
            total=total,
            page=request.page,
            per_page=request.per_page,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=hits,
            facets=facets,
            suggestion=suggestion,
            version=f"{snap.version.generation}.{snap.version.commit}",
            stories=snap.tables.story.count(found),
        )

    def _collapsed(
        self, snap: _Snapshot, plan: _Plan, request: SearchRequest, total: int, marks
    ) -> list[Hit]:
        """One hit per story, its best-ranked member, in rank order, paged."""
        ranked = self._ranked(snap, plan, request.sort, total)
        if not ranked:
            return []
        docnums = np.fromiter((d for d, _ in ranked), dtype=np.int64, count=len(ranked))
        offset = (request.page - 1) * request.per_page
        window = stories.first_per_story(snap.tables.story, docnums)
        window = window[offset : offset + request.per_page]
        hits = []
        for at in window.tolist():
            docnum, score = ranked[at]
            hit = self._hit(snap, docnum, score, marks)
            summary = self._story_summary(snap, int(snap.tables.story.codes[docnum]))
            hits.append(replace(hit, story_summary=summary))
        return hits

    @staticmethod
    def _story_summary(snap: _Snapshot, code: int) -> StorySummary:
        tables = snap.tables

        def source_of(docnum: int) -> str | None:
            vid = int(tables.source.ids[docnum])
            return tables.source.values[vid] if vid >= 0 else None

        return stories.summary(tables.story, code, tables.date, source_of)

    @budget.limited
    def story(self, story: str) -> StoryView | None:
        """A story's members in date order, with what each adds; None if unknown."""
        snap = self._snapshot()
        table = snap.tables.story
        code = table.code_of(story)
        if code is None or not table.members(code).size:
            return None
        summary = self._story_summary(snap, code)
        ordered = stories.chronological(table.members(code), snap.tables.date, table.doc_ids)
        docs = [stored.head(snap.searcher, d).document for d in ordered]
        members = [
            StoryMember(
                id=doc.id,
                title=doc.title,
                source=doc.source,
                date=doc.date,
                adds=stories.added_sentences(doc.text, docs[0].text) if i else [],
            )
            for i, doc in enumerate(docs)
        ]
        return StoryView(story, len(members), summary.sources, members)

    @budget.limited
    def ranking(self, request: SearchRequest, depth: int) -> list[tuple[str, float]]:
        """(id, score) of the first `depth` hits, in the order `search` pages through them.

        The same query, filters and ranking as `search`, without its paging window
        (`MAX_RESULT_WINDOW`) and without snippets or facets: an internal entry point for
        measuring ranking quality (benchmarks/relevance.py), not exposed over HTTP.
        """
        snap = self._snapshot()
        ranked = self._ranked(snap, self._plan(snap, request), request.sort, depth)
        return [(snap.searcher.stored_fields(docnum)[schema.ID], score) for docnum, score in ranked]

    def _plan(self, snap: _Snapshot, request: SearchRequest) -> _Plan:
        """What `search` and `ranking` share: the compiled query, its matches and scores.

        With `expand`, the query and scores returned are the expanded ones (search/
        feedback.py); the matches stay the user's query's.
        """
        node, query, marks = self._compile(snap, request.q, request.op, request.filters)
        scored = self._evaluate(snap, node, query)
        matches = self._matches(snap, node, query, scored)
        masks = filter_masks(snap.tables, request.filters)
        plan = _Plan(node, query, marks, matches, masks, combine(matches, masks), scored)
        if request.expand and request.sort == "relevance" and not isinstance(node, p.MatchAll):
            best = self._ranked(snap, plan, "relevance", FEEDBACK_DOCS)
            query = feedback.expand(snap.searcher, query, node, best)
            plan = plan._replace(query=query, scored=self._evaluate(snap, node, query))
        return plan

    def _compile(self, snap: _Snapshot, q: str, op: str, filters: Filters):
        """The query tree, Whoosh query and marks of `q` over the languages searched."""
        languages = self._languages(snap, filters)
        node = p.parse(q, op, stop_words=common_stop_words(languages))
        query, marks = compile_query(node, snap.postings.words(snap.searcher), languages)
        return node, query, marks

    def _languages(self, snap: _Snapshot, filters: Filters) -> list[str]:
        present = snap.tables.languages()
        if filters.languages:
            wanted = {lang.lower() for lang in filters.languages}
            present = [lang for lang in present if lang in wanted] or present
        return present

    @staticmethod
    def _evaluate(snap: _Snapshot, node: p.Node, query: wq.Query) -> Scored | None:
        """Matches and scores in one numpy pass; None where Whoosh must answer."""
        if isinstance(node, p.MatchAll):
            return None
        # did-you-mean's words are looked up with the query's (`search` asks them next)
        also = [(schema.WORDS, word) for word in checked_words(node)]
        return evaluate(snap.postings, snap.searcher, query, also)

    @staticmethod
    def _matches(
        snap: _Snapshot, node: p.Node, query: wq.Query, scored: Scored | None = None
    ) -> np.ndarray:
        """Every live document the query matches, as a mask."""
        if isinstance(node, p.MatchAll):
            return snap.tables.live.copy()
        mask = np.zeros(snap.tables.size, dtype=bool)
        if scored is not None:
            mask[scored.ids] = True
            return mask
        ids = np.fromiter(budget.matching_ids(snap.searcher, query), dtype=np.int64)
        mask[ids] = True
        return mask & snap.tables.live

    def _ranked(
        self, snap: _Snapshot, plan: _Plan, sort: str, limit: int
    ) -> list[tuple[int, float]]:
        """(docnum, score) of the first `limit` hits of `plan` in the requested order."""
        node, query, final, masks, scored = (
            plan.node,
            plan.query,
            plan.final,
            plan.masks,
            plan.scored,
        )
        if limit <= 0 or not final.any():
            return []
        if sort == "relevance" and scored is not None:
            return scored.top(final if masks else None, limit)
        if sort == "relevance" and not isinstance(node, p.MatchAll):
            allowed = set(np.flatnonzero(final).tolist()) if masks else None
            results = budget.search(snap.searcher, query, limit=limit, filter=allowed)
            return [(hit.docnum, float(hit.score)) for hit in results]
        docnums = _date_order(snap.tables, final, oldest=sort == "oldest")[:limit]
        if isinstance(node, p.MatchAll):
            return [(int(d), 1.0) for d in docnums]
        if scored is not None:
            scores = scored.scores_of(docnums)
            return [(int(d), scores.get(int(d), 0.0)) for d in docnums]
        scores = self._scores(snap, query, docnums)
        return [(int(d), scores.get(int(d), 0.0)) for d in docnums]

    @staticmethod
    def _scores(snap: _Snapshot, query: wq.Query, docnums) -> dict[int, float]:
        wanted = {int(d) for d in docnums}
        results = budget.search(snap.searcher, query, limit=len(wanted), filter=wanted)
        return {hit.docnum: float(hit.score) for hit in results}

    def _hit(self, snap: _Snapshot, docnum: int, score: float, marks: Marks | None) -> Hit:
        doc = stored.head(snap.searcher, docnum).document
        return Hit(
            id=doc.id,
            score=round(score, 4),
            title=doc.title,
            source=doc.source,
            date=doc.date,
            language=doc.language,
            actors=[actor.name for actor in doc.actors],
            snippet=snippet(doc.text, doc.language, marks) if marks is not None else "",
            story=self._story_of(snap, docnum),
        )

    @staticmethod
    def _story_of(snap: _Snapshot, docnum: int) -> str:
        return snap.tables.story.values[int(snap.tables.story.codes[docnum])]

    def export(
        self, q: str, filters: Filters, op: str = "and", sort: str = "relevance"
    ) -> Iterator[Document]:
        """Every matching document, in order: for streaming exports (no page window)."""
        snap, order = self._export_order(q, filters, op, sort)
        for docnum in order:
            yield stored.whole(snap.searcher, docnum)

    @budget.limited
    def _export_order(self, q: str, filters: Filters, op: str, sort: str):
        """The export's documents in order: found under the query budget (reading them
        afterwards is not, it grows with the archive, not with the query's breadth)."""
        snap = self._snapshot()
        node, query, marks = self._compile(snap, q, op, filters)
        scored = self._evaluate(snap, node, query)
        matches = self._matches(snap, node, query, scored)
        final = combine(matches, filter_masks(snap.tables, filters))
        plan = _Plan(node, query, marks, matches, {"all": final}, final, scored)
        ranked = self._ranked(snap, plan, sort, int(final.sum()))
        return snap, [docnum for docnum, _ in ranked]

    @staticmethod
    def _sample(snap: _Snapshot, mask: np.ndarray) -> list[Document]:
        """The newest TERM_SAMPLE documents of `mask`."""
        docnums = _date_order(snap.tables, mask, oldest=False)[: analysis.TERM_SAMPLE]
        return [stored.head(snap.searcher, int(d)).document for d in docnums]

    # -- documents ------------------------------------------------------------------------

    @budget.limited
    def document(
        self,
        doc_id: str,
        q: str | None = None,
        *,
        keep_lines: bool = False,
        text_offset: int = 0,
        text_length: int = stored.HEAD_CHARS,
    ) -> DocumentView | None:
        """A document by id, its text marked with `q`'s matches if given; None if unknown.

        Its text is the `text_length` characters from `text_offset` (by default the head
        that hits read: reading further inflates the whole document). `keep_lines` keeps
        the text's line breaks in `text_html` (for reading pages).
        """
        snap = self._snapshot()
        docnum = snap.searcher.document_number(**{schema.ID: doc_id})
        if docnum is None:
            return None
        if text_offset + text_length <= stored.HEAD_CHARS:
            found = stored.head(snap.searcher, docnum)
            doc, full_length = found.document, found.text_length
        else:
            doc = stored.whole(snap.searcher, docnum)
            full_length = len(doc.text)
        if text_offset or len(doc.text) > text_length:
            doc = replace(doc, text=doc.text[text_offset : text_offset + text_length])
        spans = []
        if q:
            node = p.parse(q)
            words = snap.postings.words(snap.searcher)
            _, marks = compile_query(node, words, snap.tables.languages())
            spans = match_spans(doc.text, doc.language, marks)
        text_html = render(doc.text, spans, keep_lines=keep_lines)
        return DocumentView(
            doc, text_html, text_offset, full_length, story=self._story_of(snap, docnum)
        )

    @budget.limited
    def similar(self, doc_id: str, limit: int = 10) -> list[Hit] | None:
        """Documents sharing the most distinctive terms of `doc_id`; None if it is unknown."""
        snap = self._snapshot()
        docnum = snap.searcher.document_number(**{schema.ID: doc_id})
        if docnum is None:
            return None
        doc = stored.head(snap.searcher, docnum).document
        terms = self._key_terms(snap, doc)
        if not terms:
            return []
        lang = doc.language if doc.language in STEMMED_LANGUAGES else None
        text_field = schema.field_for(schema.TEXT, lang)
        query = wq.Or([wq.Term(text_field, t, boost=weight) for t, weight in terms])
        marks = Marks(terms={lang: {t for t, _ in terms}})
        others = snap.tables.live.copy()
        others[docnum] = False
        scored = evaluate(snap.postings, snap.searcher, query)
        if scored is not None:
            ranked = scored.top(others, limit)
        else:
            allowed = set(np.flatnonzero(others).tolist())
            results = budget.search(snap.searcher, query, limit=limit, filter=allowed)
            ranked = [(hit.docnum, float(hit.score)) for hit in results]
        return [self._hit(snap, d, score, marks) for d, score in ranked]

    @staticmethod
    def _key_terms(snap: _Snapshot, doc: Document) -> list[tuple[str, float]]:
        lang = doc.language if doc.language in STEMMED_LANGUAGES else None
        stop = {term(word, lang) for word in _stopwords(doc.language)}
        counts = Counter(document_terms(f"{doc.title}\n{doc.text[:SIMILAR_TEXT_CHARS]}", lang))
        total = max(snap.tables.doc_count, 1)
        weighted = []
        text_field = schema.field_for(schema.TEXT, lang)
        for t, tf in counts.items():
            df = snap.reader.doc_frequency(text_field, t)
            if df and len(t) > 2 and not t.isdigit() and t not in stop:
                weighted.append((t, tf * math.log(1 + total / df)))
        weighted.sort(key=lambda pair: (-pair[1], pair[0]))
        top = weighted[:SIMILAR_TERMS]
        if not top:
            return []
        scale = top[0][1]
        return [(t, round(w / scale, 3)) for t, w in top]

    @budget.limited
    def suggest(self, text: str, limit: int = 10) -> list[Completion]:
        snap = self._snapshot()
        actor = snap.tables.actor
        counts = actor.counts(snap.tables.live).tolist()
        return completions(snap.reader, list(zip(actor.values, counts, strict=True)), text, limit)

    # -- aggregates -----------------------------------------------------------------------

    @budget.limited
    def timeline(
        self, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> Timeline:
        """Matching documents per year, month or day (same query and filters as search)."""
        snap = self._snapshot()
        final = self._scope(snap, q, filters, op)
        return analysis.timeline_of(snap.tables.date, final, interval)

    def _scope(self, snap: _Snapshot, q: str, filters: Filters, op: str) -> np.ndarray:
        """The documents `q` and `filters` match, as a mask."""
        node, query, _ = self._compile(snap, q, op, filters)
        scored = self._evaluate(snap, node, query)
        return combine(self._matches(snap, node, query, scored), filter_masks(snap.tables, filters))

    @budget.limited
    def actor(
        self, name: str, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> ActorView | None:
        """An actor within the matches of `q` and `filters`: mentions over time, sources,
        and who is named with them more than chance; None if no document names them."""
        snap = self._snapshot()
        vids = value_ids(snap.tables.actor, (name,), canonicalise=True)
        if not vids:
            return None
        scope = self._scope(snap, q, filters, op)

        def type_of(vid: int, mask: np.ndarray) -> str | None:
            column = snap.tables.actor
            docs = column.doc[(column.val == vid) & mask[column.doc]]
            if not docs.size:
                return None
            doc = stored.head(snap.searcher, int(docs.min())).document
            wanted = column.values[vid]
            return next((a.type for a in doc.actors if a.name == wanted), None)

        return analysis.actor_view(snap.tables, vids, scope, interval, type_of)

    @budget.limited
    def compare(
        self, q: str, filters: Filters, op: str = "and", interval: str = "year"
    ) -> Comparison:
        """Each of `filters.sources` on the matches of `q` and the other filters: matches
        over time, top actors, and the words that set its coverage apart."""
        snap = self._snapshot()
        scope = self._scope(snap, q, replace(filters, sources=()), op)
        masks = {
            source: scope & snap.tables.source.mask_for(value_ids(snap.tables.source, (source,)))
            for source in dict.fromkeys(filters.sources)
        }
        samples = {source: self._sample(snap, mask) for source, mask in masks.items()}
        rest: list[Document] = []
        if len(masks) == 1:  # one source: set apart from every other source's matches
            rest = self._sample(snap, scope & ~next(iter(masks.values())))
        terms = analysis.distinctive_words(samples, rest)
        return Comparison(
            [
                analysis.source_profile(snap.tables, source, mask, interval, terms[source])
                for source, mask in masks.items()
            ]
        )

    def stats(self) -> Stats:
        snap = self._snapshot()
        tables = snap.tables
        folder = generations.generation_path(self.root, snap.version.generation)
        size = sum(path.stat().st_size for path in folder.iterdir() if path.is_file())
        try:
            built = generations.read_manifest(self.root, snap.version.generation).get("built")
        except FileNotFoundError:
            built = None
        return Stats(
            documents=tables.doc_count,
            index_bytes=size,
            generation=snap.version.generation,
            last_reindex=built,
            sources=_all_values(tables.source.values, tables.source.counts(tables.live)),
            languages=_all_values(tables.language.values, tables.language.counts(tables.live)),
            undated=int((tables.date[tables.live] == 0).sum()),
        )


def _stopwords(language: str) -> frozenset[str]:
    try:
        return stopwords_for_language(language)
    except NoStopWords:
        return frozenset()


def _date_order(tables: Tables, final: np.ndarray, *, oldest: bool) -> np.ndarray:
    """Matching docnums by date (newest or oldest first), undated last, stable by docnum."""
    docnums = np.flatnonzero(final)
    dates = tables.date[docnums].astype(np.int64)
    key = np.where(dates > 0, dates if oldest else -dates, _UNDATED_LAST)
    return docnums[np.lexsort((docnums, key))]


def _all_values(values: list[str], counts: np.ndarray) -> list[FacetValue]:
    pairs = sorted(
        ((int(c), v) for v, c in zip(values, counts, strict=True) if c),
        key=lambda cv: (-cv[0], cv[1]),
    )
    return [FacetValue(v, c, False) for c, v in pairs]
