"""The anchors: SQLite FTS5 and tantivy, indexing exactly what Sift indexed.

Both get Sift's cleaned text and Sift's facet values (exported from Sift's index), so
facet counts are over the same values. They do the same work per query as Sift: the
total, the top 10 by BM25 with their stored fields, optionally a highlighted snippet of
each hit's text, optionally the four facet counts over all matches (disjunctive: each
facet applies the other facets' filters, not its own).

Built in a subprocess (`python -m benchmarks.anchors build ENGINE DOCS DIR`) so that its
time and peak memory are measured the same way as `sift reindex`.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import sys
from pathlib import Path

from benchmarks.queries import Query

FACET_SIZE = 10
TOP = 10
# tantivy's indexing memory budget (its documented default is 50 MB per thread).
TANTIVY_HEAP = 200_000_000


def _documents(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _date_key(day) -> int:
    return day.year * 10000 + day.month * 100 + day.day


# -- SQLite FTS5 ---------------------------------------------------------------------------


def build_fts5(docs: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "fts5.db")
    db.executescript(
        """
        PRAGMA journal_mode = OFF;
        PRAGMA synchronous = OFF;
        CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, body TEXT,
                          source TEXT, language TEXT, date INTEGER, year INTEGER);
        CREATE TABLE actors(rowid INTEGER, actor TEXT);
        CREATE VIRTUAL TABLE fts USING fts5(title, body, content='docs', content_rowid='rowid',
                                            tokenize='porter unicode61 remove_diacritics 2');
        """
    )
    rows, actor_rows = [], []
    for n, doc in enumerate(_documents(docs), 1):
        date = doc["date"]
        rows.append(
            (
                n,
                doc["id"],
                doc["title"],
                doc["text"],
                doc["source"],
                doc["language"],
                date,
                date // 10000 if date else None,
            )
        )
        actor_rows.extend((n, name) for name in doc["actors"])
    db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO actors VALUES (?, ?)", actor_rows)
    db.executescript(
        """
        INSERT INTO fts(rowid, title, body) SELECT rowid, title, body FROM docs;
        CREATE INDEX actors_rowid ON actors(rowid);
        CREATE INDEX docs_date ON docs(date);
        INSERT INTO fts(fts) VALUES ('optimize');
        """
    )
    db.commit()
    db.close()


class Fts5:
    name = "fts5"

    def __init__(self, folder: Path):
        self.db = sqlite3.connect(folder / "fts5.db", check_same_thread=False)
        self.db.execute("CREATE TEMP TABLE m(rowid INTEGER PRIMARY KEY)")

    def open_probe(self) -> None:
        self.db.execute("SELECT count(*) FROM docs").fetchone()

    @staticmethod
    def _filters(query: Query, leave_out: str | None = None) -> tuple[str, list]:
        sql, args = "", []
        if query.language and leave_out != "language":
            sql += " AND d.language = ?"
            args.append(query.language)
        if query.dates and leave_out != "year":
            sql += " AND d.date BETWEEN ? AND ?"
            args += [_date_key(query.dates[0]), _date_key(query.dates[1])]
        return sql, args

    def run(self, query: Query, mode: str) -> int:
        db = self.db
        text = query.fts5_text()
        where, args = self._filters(query)
        # A join, not `rowid IN (SELECT ...)`: the subquery form is 2,000 times slower.
        if where:
            total = db.execute(
                f"SELECT count(*) FROM fts JOIN docs d ON d.rowid = fts.rowid "
                f"WHERE fts MATCH ?{where}",
                [text, *args],
            ).fetchone()[0]
        else:
            total = db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", [text]).fetchone()[0]
        snippet = ", snippet(fts, 1, '<mark>', '</mark>', '…', 40)" if mode != "ranked" else ""
        hits = db.execute(
            f"SELECT fts.rowid, d.id, d.title, d.source, d.date, d.language, bm25(fts)"
            f"{snippet} FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ?{where} "
            f"ORDER BY bm25(fts) LIMIT {TOP}",
            [text, *args],
        ).fetchall()
        if hits:  # the hits' actors, as Sift's hits carry them
            marks = ",".join("?" * len(hits))
            db.execute(
                f"SELECT rowid, actor FROM actors WHERE rowid IN ({marks})",
                [hit[0] for hit in hits],
            ).fetchall()
        if mode == "facets":
            self._facets(query, text)
        return total

    def _facets(self, query: Query, text: str) -> dict:
        db = self.db
        db.execute("DELETE FROM m")
        db.execute("INSERT INTO m SELECT rowid FROM fts WHERE fts MATCH ?", [text])
        counts = {}
        for name, column in (
            ("source", "d.source"),
            ("language", "d.language"),
            ("year", "d.year"),
        ):
            where, args = self._filters(query, leave_out=name)
            counts[name] = db.execute(
                f"SELECT {column}, count(*) FROM m CROSS JOIN docs d ON d.rowid = m.rowid "
                f"WHERE {column} IS NOT NULL{where} GROUP BY {column} "
                f"ORDER BY 2 DESC LIMIT {FACET_SIZE}",
                args,
            ).fetchall()
        where, args = self._filters(query)
        counts["actor"] = db.execute(
            f"SELECT a.actor, count(*) FROM m CROSS JOIN docs d ON d.rowid = m.rowid "
            f"CROSS JOIN actors a ON a.rowid = m.rowid WHERE 1{where} GROUP BY a.actor "
            f"ORDER BY 2 DESC LIMIT {FACET_SIZE}",
            args,
        ).fetchall()
        return counts


# -- tantivy -------------------------------------------------------------------------------


def _tantivy_schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("source", stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("language", stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("actor", stored=True, tokenizer_name="raw", fast=True)
    builder.add_unsigned_field("date", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("year", stored=True, indexed=True, fast=True)
    return builder.build()


def build_tantivy(docs: Path, folder: Path) -> None:
    import tantivy

    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_tantivy_schema(), path=str(folder))
    writer = index.writer(heap_size=TANTIVY_HEAP)
    for doc in _documents(docs):
        date = doc["date"]
        record = tantivy.Document(
            id=doc["id"],
            title=doc["title"],
            body=doc["text"],
            source=doc["source"],
            language=doc["language"],
        )
        for name in doc["actors"]:
            record.add_text("actor", name)
        record.add_unsigned("date", date)
        if date:
            record.add_unsigned("year", date // 10000)
        writer.add_document(record)
    writer.commit()
    writer.wait_merging_threads()


class Tantivy:
    name = "tantivy"

    def __init__(self, folder: Path):
        import tantivy

        self.t = tantivy
        self.index = tantivy.Index.open(str(folder))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def open_probe(self) -> None:
        self.searcher.num_docs  # noqa: B018

    def _query(self, query: Query, leave_out: str | None = None):
        t = self.t
        parsed = self.index.parse_query(
            query.tantivy_text(), ["title", "body"], conjunction_by_default=True
        )
        parts = [(t.Occur.Must, parsed)]
        if query.language and leave_out != "language":
            parts.append(
                (t.Occur.Must, t.Query.term_query(self.schema, "language", query.language))
            )
        if query.dates and leave_out != "year":
            parts.append(
                (
                    t.Occur.Must,
                    t.Query.range_query(
                        self.schema,
                        "date",
                        t.FieldType.Unsigned,
                        _date_key(query.dates[0]),
                        _date_key(query.dates[1]),
                    ),
                )
            )
        return parsed if len(parts) == 1 else t.Query.boolean_query(parts)

    def run(self, query: Query, mode: str) -> int:
        searcher = self.searcher
        q = self._query(query)
        result = searcher.search(q, TOP)
        docs = [searcher.doc(address) for _, address in result.hits]
        if mode != "ranked":
            generator = self.t.SnippetGenerator.create(searcher, q, self.schema, "body")
            for doc in docs:
                generator.snippet_from_doc(doc).to_html()
        if mode == "facets":
            self._facets(query)
        return result.count

    def _facets(self, query: Query) -> dict:
        aggs = {}
        scopes = {}
        for name, field in (
            ("source", "source"),
            ("actor", "actor"),
            ("language", "language"),
            ("year", "year"),
        ):
            leave = name if name in ("language", "year") else None
            scopes.setdefault(leave, {})[name] = {"terms": {"field": field, "size": FACET_SIZE}}
        for leave, spec in scopes.items():
            aggs.update(self.searcher.aggregate(self._query(query, leave_out=leave), spec))
        return aggs


def main(argv: list[str]) -> None:
    command, engine, docs, folder = argv
    assert command == "build"
    {"fts5": build_fts5, "tantivy": build_tantivy}[engine](Path(docs), Path(folder))


if __name__ == "__main__":
    main(sys.argv[1:])
