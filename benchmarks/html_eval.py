"""Article body extraction from real web pages: Sift against trafilatura alone and the page.

    python -m benchmarks.html_eval            # `make eval-html`
    python -m benchmarks.html_eval --data DIR

Data: ../shared/data/html-articles (pages of the public Article Extraction Benchmark with
their hand-checked body text; read at run time, never copied here). Three extractions of
each page are scored in the same run with the benchmark's own measure (`score`):
- `sift`: the `text` Sift indexes and serves (index/html.py, then index/extract/);
- `trafilatura`: trafilatura's `extract()` with its default settings, the library alone;
- `page_text`: all the visible text of the page (the floor every extractor must beat).
Also the share of pages where Sift found a title, a date and a source, and speed as pages
per CPU-second of one process after a warm-up page (Sift end to end: the page's text and
metadata, then Sift's own extraction: language, actors, places).
Results: printed, and written to benchmarks/results/html-latest.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SIFT_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results" / "html-latest.json"
_WORD = re.compile(r"\w+")
SHINGLE = 4


def shingles(text: str) -> Counter:
    words = _WORD.findall(text)
    return Counter(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def score(predicted: str, truth: str) -> tuple[float, float]:
    """(precision, recall) of one page, as the Article Extraction Benchmark computes them:
    4-word shingles with counts; tp, fp, fn normalised by their sum; both 1 when nothing
    is missed or extra."""
    found, wanted = shingles(predicted), shingles(truth)
    tp = sum((found & wanted).values())
    fp = sum((found - wanted).values())
    fn = sum((wanted - found).values())
    if fp == 0 and fn == 0:
        return 1.0, 1.0
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def summary(scores: list[tuple[float, float]]) -> dict:
    """Mean precision and recall over pages, and F1 of the two means (the benchmark's F1)."""
    precision = sum(p for p, _ in scores) / len(scores)
    recall = sum(r for _, r in scores) / len(scores)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}


def load(data: Path) -> list[tuple[str, bytes, str]]:
    truth = json.loads((data / "ground-truth.json").read_text("utf-8"))
    return [
        (
            key,
            gzip.decompress((data / "pages" / f"{key}.html.gz").read_bytes()),
            item["articleBody"],
        )
        for key, item in sorted(truth.items())
    ]


def run(data: Path) -> dict:
    import trafilatura

    from index.extract import extract
    from index.html import page_document
    from index.visible import visible_text

    pages = load(data)
    scores: dict[str, list] = {"sift": [], "trafilatura": [], "page_text": []}
    found = Counter()
    sift_cpu = trafilatura_cpu = 0.0
    extract(page_document(pages[0][1], doc_id="warm-up", origin="warm-up"))  # load once
    trafilatura.extract(pages[0][1])
    for key, page, truth in pages:
        started = time.process_time()
        doc = extract(page_document(page, doc_id=key, origin=key))
        sift_cpu += time.process_time() - started
        scores["sift"].append(score(doc.text, truth))
        found["title"] += doc.provenance.get("title") != "unknown" and bool(doc.title)
        found["date"] += doc.date is not None
        found["source"] += doc.source is not None
        started = time.process_time()
        alone = trafilatura.extract(page) or ""
        trafilatura_cpu += time.process_time() - started
        scores["trafilatura"].append(score(alone, truth))
        scores["page_text"].append(score(visible_text(page), truth))
    return {
        "data": str(data),
        "pages": len(pages),
        "measure": "Article Extraction Benchmark: 4-word shingles, mean P and R over pages",
        "body": {name: summary(values) for name, values in scores.items()},
        "found": {
            field: round(found[field] / len(pages), 3) for field in ("title", "date", "source")
        },
        "pages_per_cpu_second": {
            "sift": round(len(pages) / sift_cpu, 1),
            "trafilatura": round(len(pages) / trafilatura_cpu, 1),
        },
        "versions": {"trafilatura": trafilatura.__version__, "python": platform.python_version()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "html-articles")
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").exists():
        print(f"no benchmark data in {args.data}", file=sys.stderr)
        return 2
    result = run(args.data)
    for name, figures in result["body"].items():
        f1, precision, recall = figures["f1"], figures["precision"], figures["recall"]
        print(f"{name:12} F1 {f1:.4f}  P {precision:.4f}  R {recall:.4f}")
    print("found (Sift):", ", ".join(f"{k} {v:.0%}" for k, v in result["found"].items()))
    speed = result["pages_per_cpu_second"]
    print(f"pages per CPU-second: Sift {speed['sift']}, trafilatura alone {speed['trafilatura']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
