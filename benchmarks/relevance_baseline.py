"""Regenerate the stored baseline runs: Whoosh's BM25F as shipped, on each collection.

What the team measured as "Whoosh BM25F as shipped" (nDCG@10 0.6764 / 0.3640 / 0.3604),
reproduced exactly: one field holding title and text, Whoosh's `StemmingAnalyzer`
(Porter stemmer, English stop words), `BM25F()` with its defaults, and the query's
analysed words ORed, each weighted by how often the query repeats it. (Whoosh's own
`QueryParser` ANDs words, reads a trailing `?` as a wildcard and counts a repeated word
once: all measured to be worse, so the baseline avoids them.) `benchmarks/relevance.py`
tests Sift against these runs.

    python -m benchmarks.relevance_baseline     # writes benchmarks/baselines/*.run.gz
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from collections import Counter

from whoosh import fields, index, scoring
from whoosh import query as wq
from whoosh.analysis import StemmingAnalyzer

from benchmarks import relevance as rel


def whoosh_run(collection: rel.Collection) -> rel.Run:
    analyzer = StemmingAnalyzer()
    schema = fields.Schema(id=fields.ID(stored=True), body=fields.TEXT(analyzer=analyzer))
    run: rel.Run = {}
    with tempfile.TemporaryDirectory(prefix="whoosh-baseline-") as tmp:
        ix = index.create_in(tmp, schema)
        writer = ix.writer()
        with gzip.open(collection.corpus, "rt", encoding="utf-8") as stream:
            for doc in map(json.loads, stream):
                writer.add_document(id=doc["id"], body=f"{doc['title']} {doc['text']}")
        writer.commit()
        with ix.searcher(weighting=scoring.BM25F()) as searcher:
            for qid, text in collection.queries:
                counts = Counter(token.text for token in analyzer(text))
                query = wq.Or([wq.Term("body", t, boost=n) for t, n in counts.items()])
                hits = searcher.search(query, limit=rel.BASELINE_DEPTH)
                run[qid] = [hit["id"] for hit in hits]
        ix.close()
    return run


def main() -> int:
    for name in rel.COLLECTIONS:
        collection = rel.Collection.load(name)
        run = whoosh_run(collection)
        path = rel.baseline_path(name)
        rel.write_run(run, path, rel.BASELINE_NAME, rel.BASELINE_DEPTH)
        ndcg = rel.mean(rel.per_query(collection, run, [rel.nDCG @ 10])[rel.nDCG @ 10])
        print(f"{name}: nDCG@10 {ndcg:.4f} -> {path.relative_to(rel.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
