"""Extraction beyond English: date accuracy and people/places precision and recall per
language on the hand-written labelled set benchmarks/data/multilingual.jsonl (its README
says how it was written and labelled).

    python -m benchmarks.extraction multilingual

Each article goes through extract() with its `fetched` date (the year for datelines that
give none) and nothing else given. Names are compared as a facet shows them: through the
alias table, romanised (BGN/PCGN) and folded, so "Михаил Мишустин" in the labels equals
an extracted "Mikhail Mishustin". Places are labelled with their canonical (GeoNames)
name. Figures are given for the development part (which the rules were tuned on) and the
held-out test part (which they were not) separately.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import per_cpu_second
from index import aliases
from index.documents import PERSON, Document, RawDocument
from index.extract import extract
from index.extract.lexicon import fold
from index.translit import to_latin

DATA = Path(__file__).resolve().parent / "data" / "multilingual.jsonl"
SPLITS = ("dev", "test")


def labelled() -> list[dict]:
    """The labelled articles, in file order."""
    return [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]


def raw_of(article: dict) -> RawDocument:
    return RawDocument(id=article["id"], text=article["text"], fetched=article["fetched"])


def name_key(name: str) -> str:
    """What two spellings of one actor have in common: canonical, romanised, folded."""
    latin = to_latin(aliases.canonical(name) or name)
    return " ".join(fold(w) for w in (aliases.canonical(latin) or latin).split())


@dataclass
class Score:
    articles: int = 0
    dates: int = 0
    tp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fn: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[str] = field(default_factory=list)

    def add(self, article: dict, doc: Document) -> None:
        self.articles += 1
        found_date = doc.date.isoformat() if doc.date else None
        self.dates += found_date == article["date"]
        if found_date != article["date"]:
            self.misses.append(f"{article['id']} date {found_date} != {article['date']}")
        found = {
            "people": {name_key(a.name) for a in doc.actors if a.type == PERSON},
            "places": {fold(p) for p in doc.places},
        }
        for kind in ("people", "places"):
            gold = {name_key(n) if kind == "people" else fold(n) for n in article[kind]}
            self.tp[kind] += len(gold & found[kind])
            self.fp[kind] += len(found[kind] - gold)
            self.fn[kind] += len(gold - found[kind])
            for extra in sorted(found[kind] - gold):
                self.misses.append(f"{article['id']} {kind} extra {extra!r}")
            for missed in sorted(gold - found[kind]):
                self.misses.append(f"{article['id']} {kind} missed {missed!r}")

    def precision(self, kind: str) -> float:
        total = self.tp[kind] + self.fp[kind]
        return self.tp[kind] / total if total else 1.0

    def recall(self, kind: str) -> float:
        total = self.tp[kind] + self.fn[kind]
        return self.tp[kind] / total if total else 1.0

    def date_accuracy(self) -> float:
        return self.dates / self.articles if self.articles else 0.0


def score(articles: list[dict]) -> dict[tuple[str, str], Score]:
    """Scores by (language, split), plus ("all", split)."""
    scores: dict[tuple[str, str], Score] = defaultdict(Score)
    for article in articles:
        doc = extract(raw_of(article))
        for key in ((article["language"], article["split"]), ("all", article["split"])):
            scores[key].add(article, doc)
    return scores


def report(show_misses: bool = False) -> None:
    articles = labelled()
    scores = score(articles)
    print("## Beyond English: hand-written labelled set (benchmarks/data/multilingual.jsonl)\n")
    print("| language | split | articles | date acc. | people P | people R | places P | places R |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    languages = [*sorted({lang for lang, _ in scores if lang != "all"}), "all"]
    for lang in languages:
        for split in SPLITS:
            s = scores.get((lang, split))
            if s is None:
                continue
            print(
                f"| {lang} | {split} | {s.articles} | {s.date_accuracy():.1%} "
                f"| {s.precision('people'):.3f} | {s.recall('people'):.3f} "
                f"| {s.precision('places'):.3f} | {s.recall('places'):.3f} |"
            )
    mean_chars = statistics.mean(len(a["text"]) for a in articles)
    rate = per_cpu_second(extract, [raw_of(a) for a in articles])
    print(
        f"\n- extract() on these {len(articles)} articles (mean {mean_chars:.0f} chars): "
        f"{rate:,.0f} articles/s per core (CPU time, median of 5)"
    )
    if show_misses:
        for split in SPLITS:
            for line in scores[("all", split)].misses:
                print(f"  - [{split}] {line}")
    print()
