"""Extraction beyond English: date accuracy and people/places precision and recall per
language on the hand-written labelled set benchmarks/data/multilingual.jsonl (its README
says how it was written and labelled).

    python -m benchmarks.extraction multilingual

Results go to benchmarks/results/multilingual.json (or the file --out names), which
benchmarks/docs.py renders into docs/benchmarks.md; `--out multilingual-first-look.json`
keeps a batch's figures from before any rule was tuned on it.

Each article goes through extract() with its `fetched` date (the year for datelines that
give none) and nothing else given. Names are compared as a facet shows them: through the
alias table, romanised (BGN/PCGN) and folded, so "Михаил Мишустин" in the labels equals
an extracted "Mikhail Mishustin". Places are labelled with their canonical (GeoNames)
name. Figures are given per group: the development part (which the rules were tuned on),
the first held-out batch and the second held-out batch (written later, measured before
any rule looked at it: see benchmarks/data/README.md).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import per_cpu_second
from benchmarks.run import RESULTS
from index import aliases
from index.documents import PERSON, Document, RawDocument
from index.extract import extract
from index.extract.lexicon import fold
from index.translit import to_latin

DATA = Path(__file__).resolve().parent / "data" / "multilingual.jsonl"
# Groups reported: "test" is the first held-out batch, "test-2" to "test-4" the later ones.
GROUPS = ("dev", "test", "test-2", "test-3", "test-4")


def labelled() -> list[dict]:
    """The labelled articles, in file order."""
    return [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]


def group(article: dict) -> str:
    """dev, test (held-out batch 1) or test-2 (held-out batch 2)."""
    batch = article.get("batch", 1)
    return article["split"] if batch == 1 else f"{article['split']}-{batch}"


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
    """Scores by (language, group), plus ("all", group)."""
    scores: dict[tuple[str, str], Score] = defaultdict(Score)
    for article in articles:
        doc = extract(raw_of(article))
        for key in ((article["language"], group(article)), ("all", group(article))):
            scores[key].add(article, doc)
    return scores


def results(articles: list[dict]) -> dict:
    """Per (language, group) figures, every miss, and the speed, as JSON-ready data."""
    scores = score(articles)
    languages = [*sorted({lang for lang, _ in scores if lang != "all"}), "all"]
    rows = [
        {
            "language": lang,
            "group": g,
            "articles": s.articles,
            "date": round(s.date_accuracy(), 4),
            **{
                f"{kind}_{m}": round(getattr(s, measure)(kind), 4)
                for kind in ("people", "places")
                for m, measure in (("p", "precision"), ("r", "recall"))
            },
        }
        for lang in languages
        for g in GROUPS
        if (s := scores.get((lang, g))) is not None
    ]
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "articles": len(articles),
        "mean_chars": round(statistics.mean(len(a["text"]) for a in articles)),
        "articles_per_cpu_s": round(per_cpu_second(extract, [raw_of(a) for a in articles])),
        "rows": rows,
        "misses": {g: scores[("all", g)].misses for g in GROUPS if ("all", g) in scores},
    }


def table(r: dict) -> str:
    """The per-language table of a results file (benchmarks/docs.py renders it)."""
    lines = [
        "| language | part | articles | date | people P | people R | places P | places R |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r["rows"]:
        lines.append(
            f"| {row['language']} | {row['group']} | {row['articles']} | {row['date']:.1%} "
            f"| {row['people_p']:.3f} | {row['people_r']:.3f} "
            f"| {row['places_p']:.3f} | {row['places_r']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def report(show_misses: bool = False, out: str = "multilingual.json") -> None:
    r = results(labelled())
    (RESULTS / out).write_text(json.dumps(r, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print("## Beyond English: hand-written labelled set (benchmarks/data/multilingual.jsonl)\n")
    print(table(r))
    print(
        f"- extract() on these {r['articles']} articles (mean {r['mean_chars']} chars): "
        f"{r['articles_per_cpu_s']:,} articles/s per core (CPU time, median of 5); "
        f"written to benchmarks/results/{out}"
    )
    if show_misses:
        for g, misses in r["misses"].items():
            for line in misses:
                print(f"  - [{g}] {line}")
    print()
