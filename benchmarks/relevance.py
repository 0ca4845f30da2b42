"""Ranking quality on public test collections, measured the way the field does.

Each collection in `../shared/data/relevance/` (SciFact, Cranfield, CISI; see the README
there) is indexed through Sift's own ingest (`index.reindex.reindex`, the code behind
`sift reindex`; given no actors, see `build_index`) and every judged query is sent as the
plain words a user would type, with `op="or"`, through `Engine.ranking`: the query
parsing, analysis and ranking of
`GET /api/v1/search`, read 1,000 hits deep (past the API's paging window). The runs are
scored with `ir-measures` (trec_eval semantics: nDCG@10, MAP, Recall@100, averaged over
every judged query, an unanswered one counting 0) and compared with a stored baseline run
by a paired randomization test.

    python -m benchmarks.relevance --expand         # what `make eval-relevance` runs
    python -m benchmarks.relevance cisi             # one collection, default ranking only
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ir_measures
from ir_measures import AP, R, nDCG

from index.analysis import WORD_RE
from index.reindex import reindex
from search.engine import Engine
from search.errors import QueryTooComplex
from search.request import SearchRequest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SIFT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "relevance"
BASELINES = ROOT / "benchmarks" / "baselines"
RUNS = ROOT / "var" / "relevance"
RESULTS = ROOT / "benchmarks" / "results"
COLLECTIONS = ("scifact", "cranfield", "cisi")

# Hits read per query: the depth trec_eval's MAP and the published figures use.
DEPTH = 1000
MEASURES = (nDCG @ 10, AP, R @ 100)
# Stored baseline runs keep 100 hits per query (small enough to commit), so the paired
# test compares measures that 100 hits decide; MAP there is AP@100 on both sides.
BASELINE_DEPTH = 100
PAIRED = (nDCG @ 10, AP @ 100, R @ 100)
BASELINE_NAME = "whoosh-bm25f"
# Randomization test: sign flips of the per-query differences, seeded: the same runs
# always give the same p-value.
PERMUTATIONS = 10_000
SEED = 20_240_501
ALPHA = 0.05

# Figures measured by the team with the same evaluator (nDCG@10), for the final table.
ANCHORS = {
    "Lucene BM25 (Anserini)": {"scifact": 0.6789, "cranfield": 0.3510, "cisi": 0.3585},
    "tantivy": {"scifact": 0.6843, "cranfield": 0.3677, "cisi": 0.3094},
    "SQLite FTS5": {"scifact": 0.6824, "cranfield": 0.3623, "cisi": 0.3610},
    "rank_bm25": {"scifact": 0.6827, "cranfield": 0.3649, "cisi": 0.3764},
    "Whoosh BM25F as shipped": {"scifact": 0.6764, "cranfield": 0.3640, "cisi": 0.3604},
}
TARGETS = {"scifact": 0.70, "cranfield": 0.39, "cisi": 0.39}
# Where ranking parameters were chosen (search/ranking.py): SciFact's queries with odd
# ids. The even ids, Cranfield and CISI were not used to choose anything.
DEVELOPMENT = "scifact"


def is_development(qid: str) -> bool:
    return int(qid) % 2 == 1


Run = dict[str, list[str]]  # query id -> document ids, best first


@dataclass
class Collection:
    name: str
    corpus: Path
    queries: list[tuple[str, str]]
    qrels: list[ir_measures.Qrel]

    @classmethod
    def load(cls, name: str, data: Path = DATA) -> Collection:
        folder = data / name
        with (folder / "queries.jsonl").open(encoding="utf-8") as stream:
            queries = [(q["id"], q["text"]) for q in map(json.loads, stream)]
        with (folder / "qrels.tsv").open(encoding="utf-8") as stream:
            qrels = [
                ir_measures.Qrel(qid, doc, int(rel))
                for qid, doc, rel in csv.reader(stream, delimiter="\t")
            ]
        return cls(name, folder / "corpus.jsonl.gz", queries, qrels)

    @property
    def judged(self) -> list[str]:
        return sorted({qrel.query_id for qrel in self.qrels})


@dataclass
class Shortened:
    """A query over the parser's caps, and what was sent instead."""

    qid: str
    words: int
    kept: int


def build_index(collection: Collection, root: Path) -> Engine:
    """Index the corpus with `sift reindex`'s code: title and text given, no actors.

    The corpora have no actors, and the metadata extractor, made for news, finds
    "organisations" in most scientific abstracts (acronyms such as RNA or MRI); an actor
    also counts in ranking (ACTOR_BOOST), so the input says "no actors" (`"actors": []`)
    and the figures measure the ranking, not the extractor. Language is detected per
    document, as for any input without one.
    """
    given = root.parent / f"{collection.name}.jsonl"
    with (
        gzip.open(collection.corpus, "rt", encoding="utf-8") as source,
        given.open("w", encoding="utf-8") as target,
    ):
        for record in map(json.loads, source):
            target.write(json.dumps({**record, "actors": []}) + "\n")
    report = reindex(root, [given])
    if not report.switched:
        raise SystemExit(f"{collection.name}: reindex failed: {report.errors}")
    return Engine(root)


def fit_to_caps(engine: Engine, text: str) -> tuple[str, int, int]:
    """`text`, or its longest word-boundary prefix the engine accepts; (text, words, kept).

    The engine refuses a query over its caps (characters, distinct words once stop words
    are dropped) as too complex; a user then shortens it. This does the same, and the
    caller reports every query it had to shorten.
    """
    spans = [match.end() for match in WORD_RE.finditer(text)]

    def accepted(candidate: str) -> bool:
        try:
            engine.ranking(SearchRequest(q=candidate, op="or"), 1)
        except QueryTooComplex:
            return False
        return True

    if accepted(text):
        return text, len(spans), len(spans)
    low, high = 0, len(spans)  # invariant: spans[:low] fits, spans[:high+1] does not
    while low < high:
        mid = (low + high + 1) // 2
        if accepted(text[: spans[mid - 1]]):
            low = mid
        else:
            high = mid - 1
    return text[: spans[low - 1]] if low else "", len(spans), low


def search_run(
    engine: Engine, collection: Collection, *, expand: bool = False
) -> tuple[Run, list[Shortened]]:
    run: Run = {}
    shortened = []
    for qid, text in collection.queries:
        sent, words, kept = fit_to_caps(engine, text)
        if kept < words:
            shortened.append(Shortened(qid, words, kept))
        request = SearchRequest(q=sent, op="or", **({"expand": True} if expand else {}))
        run[qid] = [doc for doc, _ in engine.ranking(request, DEPTH)]
    return run, shortened


def scored(run: Run, depth: int = DEPTH) -> list[ir_measures.ScoredDoc]:
    """The run as scored documents whose scores keep Sift's order.

    trec_eval re-sorts a run by score and breaks ties by document id; scoring by rank
    makes it measure exactly the order users see.
    """
    return [
        ir_measures.ScoredDoc(qid, doc, float(depth - rank))
        for qid, docs in run.items()
        for rank, doc in enumerate(docs[:depth])
    ]


def per_query(collection: Collection, run: Run, measures: Iterable, depth: int = DEPTH) -> dict:
    """measure -> query id -> value, for every judged query (0 where the run has none)."""
    values = {measure: dict.fromkeys(collection.judged, 0.0) for measure in measures}
    for metric in ir_measures.iter_calc(list(values), collection.qrels, scored(run, depth)):
        values[metric.measure][metric.query_id] = metric.value
    return values


def mean(values: dict[str, float]) -> float:
    return sum(values.values()) / len(values)


def randomization_test(ours: dict[str, float], theirs: dict[str, float]) -> float:
    """Two-sided p-value of a paired randomization (sign-flip) test on the mean difference."""
    diffs = [ours[qid] - theirs[qid] for qid in ours]
    observed = abs(sum(diffs))
    rng = random.Random(SEED)
    extreme = 0
    for _ in range(PERMUTATIONS):
        total = sum(d if rng.random() < 0.5 else -d for d in diffs)
        extreme += abs(total) >= observed - 1e-12
    return (extreme + 1) / (PERMUTATIONS + 1)


def read_run(path: Path) -> Run:
    """A TREC run file (gzip or plain), ranks as written."""
    opener = gzip.open if path.suffix == ".gz" else open
    ranked: dict[str, list[tuple[int, str]]] = {}
    with opener(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            qid, _, doc, rank, _score, _tag = line.split()
            ranked.setdefault(qid, []).append((int(rank), doc))
    return {qid: [doc for _, doc in sorted(pairs)] for qid, pairs in ranked.items()}


def write_run(run: Run, path: Path, tag: str, depth: int = DEPTH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":  # mtime 0: the same run gives the same bytes
        stream = io.TextIOWrapper(gzip.GzipFile(path, "wb", mtime=0), encoding="utf-8")
    else:
        stream = path.open("w", encoding="utf-8")
    with stream:
        for qid, docs in run.items():
            for rank, doc in enumerate(docs[:depth], 1):
                stream.write(f"{qid} Q0 {doc} {rank} {depth + 1 - rank} {tag}\n")


def baseline_path(name: str) -> Path:
    return BASELINES / f"{name}.{BASELINE_NAME}.run.gz"


def compare(collection: Collection, run: Run, baseline: Run) -> list[tuple[str, float, float]]:
    """(measure, difference, p) of `run` against `baseline` on the PAIRED measures."""
    ours = per_query(collection, run, PAIRED, BASELINE_DEPTH)
    theirs = per_query(collection, baseline, PAIRED, BASELINE_DEPTH)
    return [
        (
            str(measure),
            mean(ours[measure]) - mean(theirs[measure]),
            randomization_test(ours[measure], theirs[measure]),
        )
        for measure in PAIRED
    ]


def evaluate(name: str, data: Path = DATA, *, expand: bool) -> dict:
    collection = Collection.load(name, data)
    started = time.process_time()
    with tempfile.TemporaryDirectory(prefix=f"sift-relevance-{name}-") as tmp:
        engine = build_index(collection, Path(tmp) / "index")
        indexed = time.process_time() - started
        languages = {v.value: v.count for v in engine.stats().languages}
        variants = {"sift": False} | ({"sift expand": True} if expand else {})
        results = {}
        for label, flag in variants.items():
            run, shortened = search_run(engine, collection, expand=flag)
            write_run(run, RUNS / f"{name}.{label.replace(' ', '-')}.run", label.replace(" ", "-"))
            values = per_query(collection, run, MEASURES)
            results[label] = {
                "measures": {str(m): mean(v) for m, v in values.items()},
                "ndcg": values[nDCG @ 10],
                "shortened": shortened,
                "paired": compare(collection, run, read_run(baseline_path(name))),
            }
        engine.close()
    return {
        "collection": collection,
        "languages": languages,
        "index_cpu_s": indexed,
        "total_cpu_s": time.process_time() - started,
        "results": results,
    }


def report(outcome: dict) -> None:
    collection = outcome["collection"]
    name = collection.name
    languages = ", ".join(f"{lang} {n}" for lang, n in outcome["languages"].items())
    print(f"\n== {name}: {len(collection.judged)} judged queries; languages detected: {languages}")
    print(
        f"   CPU: index {outcome['index_cpu_s']:.1f} s, "
        f"index + queries {outcome['total_cpu_s']:.1f} s"
    )
    for label, result in outcome["results"].items():
        m = result["measures"]
        print(
            f"   {label:<12} nDCG@10 {m['nDCG@10']:.4f}   MAP {m['AP']:.4f}   "
            f"R@100 {m['R@100']:.4f}   (target nDCG@10 >= {TARGETS[name]:.2f}: "
            f"{'met' if m['nDCG@10'] >= TARGETS[name] else 'NOT met'})"
        )
        if name == DEVELOPMENT:
            ndcg = result["ndcg"]
            dev = {q: v for q, v in ndcg.items() if is_development(q)}
            held = {q: v for q, v in ndcg.items() if not is_development(q)}
            print(
                f"     nDCG@10 on the development half (odd ids, {len(dev)} queries) "
                f"{mean(dev):.4f}, on the held-out half ({len(held)}) {mean(held):.4f}"
            )
        for measure, diff, p in result["paired"]:
            verdict = "better" if diff > 0 else "worse"
            significance = f"significantly {verdict}" if p < ALPHA else "no significant difference"
            print(f"     vs {BASELINE_NAME}: {measure:<8} {diff:+.4f}  p={p:.4f}  ({significance})")
        for s in result["shortened"]:
            print(
                f"     query {s.qid}: over the parser's caps; sent its first {s.kept} of "
                f"{s.words} words"
            )


def summary(outcomes: list[dict]) -> None:
    names = [o["collection"].name for o in outcomes]
    print("\nnDCG@10    " + "".join(f"{n:>11}" for n in names))
    for anchor, figures in ANCHORS.items():
        print(f"{anchor[:24]:<24}" + "".join(f"{figures[n]:>11.4f}" for n in names))
    for label in outcomes[0]["results"]:
        row = [o["results"][label]["measures"]["nDCG@10"] for o in outcomes]
        print(f"{label:<24}" + "".join(f"{v:>11.4f}" for v in row))
    print(f"{'target':<24}" + "".join(f"{TARGETS[n]:>11.2f}" for n in names))


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument(
        "collections", nargs="*", metavar="COLLECTION", help=f"any of {', '.join(COLLECTIONS)}"
    )
    args.add_argument("--expand", action="store_true", help="also measure expand=true")
    args.add_argument("--data", type=Path, default=DATA, help=f"default: {DATA}")
    options = args.parse_args(argv)
    unknown = set(options.collections) - set(COLLECTIONS)
    if unknown:
        args.error(f"unknown collection(s) {sorted(unknown)}; choose from {list(COLLECTIONS)}")
    outcomes = []
    for name in options.collections or COLLECTIONS:
        outcome = evaluate(name, options.data, expand=options.expand)
        report(outcome)
        outcomes.append(outcome)
    summary(outcomes)
    if not options.collections:  # a partial run would leave the page's table half old
        target = RESULTS / "relevance.json"
        target.write_text(json.dumps(results_record(outcomes), indent=1) + "\n")
        print(f"\nJSON: {target}")
    return 0


def results_record(outcomes: list[dict]) -> dict:
    """What docs/benchmarks.md shows of a run (benchmarks/docs.py renders it)."""
    collections = {}
    for outcome in outcomes:
        name = outcome["collection"].name
        entry: dict = {"cpu_s": round(outcome["total_cpu_s"], 1)}
        for label, result in outcome["results"].items():
            entry[label] = {
                "measures": {m: round(v, 4) for m, v in result["measures"].items()},
                "paired": [[str(m), round(d, 4), round(p, 4)] for m, d, p in result["paired"]],
            }
            if name == DEVELOPMENT:
                ndcg = result["ndcg"]
                halves = {
                    "development": [v for q, v in ndcg.items() if is_development(q)],
                    "held_out": [v for q, v in ndcg.items() if not is_development(q)],
                }
                entry[label]["halves"] = {k: round(sum(v) / len(v), 4) for k, v in halves.items()}
        collections[name] = entry
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "collections": collections,
        "anchors": ANCHORS,
        "baseline": BASELINE_NAME,
        "targets": TARGETS,
        "alpha": ALPHA,
    }


if __name__ == "__main__":
    sys.exit(main())
