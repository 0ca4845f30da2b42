"""`make eval-stories`: how well ingest groups copies of one story, and what it costs.

Protocol (benchmarks/README.md, "Stories"):

1. Labelled set, from Reuters-21578 and built deterministically (seeded by article id):
   the days of ORIGINAL_DAYS dates spread over the collection; every article of those days
   is in the set (so same-day, same-topic articles are the hard negatives), and each of
   up to ORIGINALS_PER_DAY of them with a body of at least MIN_WORDS words gets one to
   three republished variants under other outlets' names: trimmed (the first 50-80 % of
   its sentences), re-headlined, wrapped in site boilerplate, re-dated by one to three
   days (each variant draws one or two of these). Gold: an original and its variants are
   one story; articles with the same body text (Reuters repeats some) are one story;
   every other article is a story of its own.
2. Index the set with `sift reindex` (the real pipeline) and read each article's story.
3. Score pairwise precision/recall/F1 (pairs in one story) and B-cubed F1.
4. Ingest cost: full reindex of INGEST_DOCS Reuters articles with clustering and with it
   switched off (the signature and assignment steps replaced by no-ops), CPU seconds
   of the process and its workers, and wall seconds; docs/s on both.
5. Collapse cost: the benchmark queries (benchmarks/queries.py) on Reuters, median of
   REPEATS runs each, with and without `collapse=story`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import re
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from itertools import combinations, islice
from pathlib import Path
from unittest import mock

from benchmarks.corpus import reuters_path
from benchmarks.queries import QUERIES
from index import generations, pipeline, reindex, stories
from search.engine import Engine
from search.request import SearchRequest

ORIGINAL_DAYS = 8
ORIGINALS_PER_DAY = 40
MIN_WORDS = 80
REPEATS = 5
OUTLETS = ("Daily Courier", "Metro Wire", "Evening Post", "Capital Times")
BOILERPLATE_HEAD = "Subscribe to our newsletter for the latest business news."
BOILERPLATE_TAIL = "(c) 1987 All rights reserved. Share this article: Facebook Twitter Email"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def load(path: Path, limit: int | None = None) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in islice(lines, limit)]


def variant(article: dict, rng: random.Random, n: int) -> dict:
    body, title = article["body"], article["title"]
    day = dt.datetime.fromisoformat(article["date"]).date()
    kinds = rng.sample(["trimmed", "reheadlined", "boilerplate", "redated"], rng.choice([1, 2]))
    if "trimmed" in kinds:
        sentences = _SENTENCE.split(body)
        body = " ".join(sentences[: max(2, round(len(sentences) * rng.uniform(0.5, 0.8)))])
    if "reheadlined" in kinds:
        title = " ".join(body.split()[:8]).title()
    if "boilerplate" in kinds:
        body = f"{BOILERPLATE_HEAD}\n\n{body}\n\n{BOILERPLATE_TAIL}"
    if "redated" in kinds:
        day += dt.timedelta(days=rng.randint(1, 3))
    return {
        "id": f"{article['id']}-v{n}",
        "title": title,
        "text": body,
        "date": day.isoformat(),
        "source": OUTLETS[n % len(OUTLETS)],
        "kinds": kinds,
    }


def labelled_set(articles: list[dict]) -> tuple[list[dict], dict[str, str]]:
    """The documents to index and their gold story labels."""
    by_day: dict[str, list[dict]] = defaultdict(list)
    for article in articles:
        by_day[article["date"][:10]].append(article)
    days = sorted(by_day)
    chosen = [days[i * len(days) // ORIGINAL_DAYS] for i in range(ORIGINAL_DAYS)]
    docs, gold = [], {}
    for day in chosen:
        seen_bodies: dict[str, str] = {}
        originals = 0
        for article in by_day[day]:
            text = article["body"] or article["title"]
            key = " ".join(text.split()).lower()
            label = seen_bodies.setdefault(key, article["id"])
            docs.append(
                {
                    "id": article["id"],
                    "title": article["title"],
                    "text": text,
                    "date": article["date"],
                    "source": article["source"],
                }
            )
            gold[article["id"]] = label
            if originals < ORIGINALS_PER_DAY and len(article["body"].split()) >= MIN_WORDS:
                originals += 1
                rng = random.Random(article["id"])
                for n in range(rng.randint(1, 3)):
                    copy = variant(article, rng, n)
                    docs.append(copy)
                    gold[copy["id"]] = label
    return docs, gold


def pairwise(predicted: dict[str, str], gold: dict[str, str]) -> dict[str, float]:
    def pairs(labels: dict[str, str]) -> set[tuple[str, str]]:
        groups: dict[str, list[str]] = defaultdict(list)
        for doc_id, label in labels.items():
            groups[label].append(doc_id)
        return {pair for ids in groups.values() for pair in combinations(sorted(ids), 2)}

    found, true = pairs(predicted), pairs(gold)
    precision = len(found & true) / len(found) if found else 1.0
    recall = len(found & true) / len(true) if true else 1.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def bcubed(predicted: dict[str, str], gold: dict[str, str]) -> dict[str, float]:
    members_p: dict[str, set[str]] = defaultdict(set)
    members_g: dict[str, set[str]] = defaultdict(set)
    for doc_id in gold:
        members_p[predicted[doc_id]].add(doc_id)
        members_g[gold[doc_id]].add(doc_id)
    precision = recall = 0.0
    for doc_id in gold:
        mine, truth = members_p[predicted[doc_id]], members_g[gold[doc_id]]
        precision += len(mine & truth) / len(mine)
        recall += len(mine & truth) / len(truth)
    precision, recall = precision / len(gold), recall / len(gold)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def story_map(root: Path) -> dict[str, str]:
    name = generations.current_generation(root)
    return stories.read_stories(generations.generation_path(root, name))


def quality(articles: list[dict], work: Path) -> dict:
    docs, gold = labelled_set(articles)
    source = work / "labelled.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in docs), "utf-8")
    root = work / "labelled-index"
    assert reindex.reindex(root, [source]).switched
    predicted = story_map(root)
    variants = sum("kinds" in d for d in docs)
    return {
        "documents": len(docs),
        "variants": variants,
        "gold_stories": len(set(gold.values())),
        "found_stories": len(set(predicted.values())),
        "pairwise": pairwise(predicted, gold),
        "bcubed": bcubed(predicted, gold),
    }


@contextmanager
def clustering_off():
    """Ingest with the story steps replaced by no-ops (what ingest cost without them)."""
    with (
        mock.patch.object(pipeline, "entries_for", lambda docs, folded=None: [None] * len(docs)),
        mock.patch.object(pipeline, "Entries", list),  # holds the Nones
        mock.patch.object(reindex.stories, "assign_all", lambda folder, entries: None),
    ):
        yield


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def ingest(path: Path, limit: int, work: Path) -> dict:
    subset = work / "ingest.jsonl"
    subset.write_text("".join(json.dumps(a) + "\n" for a in load(path, limit)), "utf-8")
    result = {"documents": limit}
    for label, context in (("without", clustering_off), ("with", _nothing)):
        with context():
            cpu, wall = _cpu(), time.perf_counter()
            report = reindex.reindex(work / f"ingest-{label}", [subset])
            cpu, wall = _cpu() - cpu, time.perf_counter() - wall
        assert report.switched
        result[label] = {
            "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2),
            "docs_per_cpu_s": round(limit / cpu, 1),
        }
    result["cost"] = round(
        1 - result["with"]["docs_per_cpu_s"] / result["without"]["docs_per_cpu_s"], 3
    )
    return result, work / "ingest-with"


@contextmanager
def _nothing():
    yield


def collapse_cost(root: Path) -> dict:
    engine = Engine(root)
    plain, collapsed = [], []
    for query in QUERIES:
        for collapse, into in ((None, plain), ("story", collapsed)):
            request = SearchRequest(q=query.sift_text(), collapse=collapse)
            engine.search(request)  # warm
            times = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                engine.search(request)
                times.append(time.perf_counter() - started)
            into.append(statistics.median(times))
    total_plain, total_collapsed = sum(plain), sum(collapsed)
    return {
        "queries": len(QUERIES),
        "plain_ms": round(total_plain * 1000, 1),
        "collapsed_ms": round(total_collapsed * 1000, 1),
        "ratio": round(total_collapsed / total_plain, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuters", help="reuters21578.jsonl.gz (default: ../shared/data)")
    parser.add_argument("--ingest-docs", type=int, default=21578)
    args = parser.parse_args(argv)
    path = reuters_path(args.reuters)
    with tempfile.TemporaryDirectory(prefix="sift-stories-") as tmp:
        work = Path(tmp)
        results = {"quality": quality(load(path), work)}
        print(json.dumps(results, indent=2), flush=True)
        results["ingest"], root = ingest(path, args.ingest_docs, work)
        results["collapse"] = collapse_cost(root)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
