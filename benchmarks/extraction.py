"""Evaluate metadata extraction on real labelled news; print the data, the method, the figures.

    python -m benchmarks.extraction            # everything (`make eval-extraction`)
    python -m benchmarks.extraction conll      # or: reuters, language, speed, multilingual
    python -m benchmarks.extraction conll --splits train,dev   # while developing

Data (read from ../shared/data, never copied into the repository; research use only):
- CoNLL-2003 English (Reuters news 1996-97): eng.train / eng.testa (dev) / eng.testb (test).
  Text = each document's tokens joined by spaces, one sentence per line. Scored: PER and
  ORG, exact typed spans ("mention"), and unique names per document, case-insensitive
  ("document", what a facet shows); "facet view" compares the canonical actors extract()
  reports with the gold names after the same merging a facet does (a gold name that is the
  end of a longer gold name of the same type in the document counts as that name; gold
  organisations pass through the alias table). Whole set and its prose subset (PROSE_RULE).
  Develop on train/dev; the test split is reported once per change.
- Reuters-21578: text = title, then "<dateline> - " + body, the way a scraped page starts;
  the given date is withheld, `fetched` is the day after the DATE stamp (a crawl's date,
  which gives the year only). Dates are scored against the dateline's own month and day
  (the target) and against the DATE stamp. People/organisation tags are codes ("reagan",
  "opec"); benchmarks/data/reuters_codes.toml maps each to names (written by hand from
  general knowledge) and recall is the share of tags found among extracted actors.
- Beyond English: a hand-written labelled set in de, fr, es, ru (and it, pt, nl, pl) with
  dates, people and places, development and held-out parts (benchmarks/multilingual.py,
  benchmarks/data/README.md); `--misses` lists every error.
- Speed: CPU time (time.process_time) of extract() end to end, one process, medians of
  repeated passes, on Reuters documents and on the seed articles.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import multilingual
from benchmarks.measure import per_cpu_second
from index import aliases
from index.documents import ORGANISATION, PERSON, RawDocument
from index.extract import actors, extract
from index.extract.dates import MONTHS
from index.extract.lexicon import fold
from index.language import detect_language

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SIFT_SHARED_DATA", ROOT.parent / "shared" / "data"))
CONLL_FILES = {"train": "eng.train.gz", "dev": "eng.testa.gz", "test": "eng.testb.gz"}
TYPES = {"PER": PERSON, "ORG": ORGANISATION}
PROSE_RULE = "at least 60 % of a document's sentences have >= 8 tokens and >= 3 lower-case words"


# --- CoNLL-2003 -------------------------------------------------------------------------


@dataclass
class ConllDoc:
    text: str
    tokens: list[tuple[int, int]]  # character span of each token
    gold: list[tuple[int, int, str]]  # (first token, last token + 1, "PER"/"ORG"/...)
    sentences: list[list[str]] = field(default_factory=list)

    def surface(self, start: int, end: int) -> str:
        return self.text[self.tokens[start][0] : self.tokens[end - 1][1]]


def read_conll(path: Path) -> list[ConllDoc]:
    """Documents of a CoNLL-2003 file (IOB1 tags; this copy's DOCSTART sits at the end)."""
    docs, sentences, sentence = [], [], []

    def end_sentence():
        if sentence:
            sentences.append(list(sentence))
            sentence.clear()

    def end_doc():
        end_sentence()
        if sentences:
            docs.append(_conll_doc(list(sentences)))
            sentences.clear()

    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                end_sentence()
            elif parts[0] == "-DOCSTART-":
                end_doc()
            else:
                sentence.append((parts[0], parts[-1]))
    end_doc()
    return docs


def _conll_doc(sentences: list[list[tuple[str, str]]]) -> ConllDoc:
    text_parts, tokens, gold = [], [], []
    pos, open_entity = 0, None
    for sentence in sentences:
        for n, (word, tag) in enumerate(sentence):
            if n:
                text_parts.append(" ")
                pos += 1
            index = len(tokens)
            tokens.append((pos, pos + len(word)))
            text_parts.append(word)
            pos += len(word)
            kind = tag[2:] if tag != "O" else None
            continues = open_entity and kind == open_entity[2] and not tag.startswith("B-") and n
            if continues:
                open_entity[1] = index + 1
            else:
                if open_entity:
                    gold.append(tuple(open_entity))
                open_entity = [index, index + 1, kind] if kind else None
        if open_entity:
            gold.append(tuple(open_entity))
            open_entity = None
        text_parts.append("\n")
        pos += 1
    return ConllDoc("".join(text_parts), tokens, gold, [[w for w, _ in s] for s in sentences])


def is_prose(doc: ConllDoc) -> bool:
    """PROSE_RULE: mostly running text, not results tables."""

    def prose_sentence(words):
        return len(words) >= 8 and sum(w[:1].islower() for w in words) >= 3

    return sum(map(prose_sentence, doc.sentences)) >= 0.6 * len(doc.sentences)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set, pred: set) -> None:
        self.tp += len(gold & pred)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _merge_gold_names(names: set[str]) -> set[str]:
    """A facet's view of gold names: "clinton" counts as "bill clinton" named in the doc."""
    merged = set()
    for name in names:
        words = name.split()
        longer = [
            n for n in names if len(n.split()) > len(words) and n.split()[-len(words) :] == words
        ]
        merged.add(max(longer, key=len) if longer else name)
    return merged


def score_conll(docs: list[ConllDoc]) -> dict[str, dict[str, Counts]]:
    scores = {level: {t: Counts() for t in TYPES} for level in ("mention", "document", "facet")}
    for doc in docs:
        starts = {s: i for i, (s, _) in enumerate(doc.tokens)}
        ends = {e: i + 1 for i, (_, e) in enumerate(doc.tokens)}
        mentions = actors.find_mentions(doc.text)
        found_actors = actors.actors_of(mentions)
        for label, kind in TYPES.items():
            gold_spans = {(s, e) for s, e, t in doc.gold if t == label}
            pred_spans = {
                (starts.get(m.start, -1), ends.get(m.end, -m.end))
                for m in mentions
                if m.type == kind
            }
            scores["mention"][label].add(gold_spans, pred_spans)
            gold_names = {doc.surface(s, e).casefold() for s, e in gold_spans}
            pred_names = {m.text.casefold() for m in mentions if m.type == kind}
            scores["document"][label].add(gold_names, pred_names)
            if kind == ORGANISATION:
                gold_facet = {(aliases.canonical(n) or n).casefold() for n in gold_names}
            else:
                gold_facet = _merge_gold_names(gold_names)
            pred_facet = {a.name.casefold() for a in found_actors if a.type == kind}
            scores["facet"][label].add(gold_facet, pred_facet)
    return scores


def report_conll(splits: list[str]) -> None:
    print("## CoNLL-2003 English: PER and ORG (precision / recall / F1)\n")
    print(f"Prose subset: {PROSE_RULE}.")
    print("| split | subset | docs | level | PER P | PER R | PER F1 | ORG P | ORG R | ORG F1 |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for split in splits:
        docs = read_conll(SHARED / "conll2003" / CONLL_FILES[split])
        for subset, chosen in (("whole", docs), ("prose", [d for d in docs if is_prose(d)])):
            scores = score_conll(chosen)
            for level in ("document", "mention", "facet"):
                row = [f"{x:.3f}" for t in TYPES for x in scores[level][t].prf()]
                print(f"| {split} | {subset} | {len(chosen)} | {level} | " + " | ".join(row) + " |")
    print()


# --- Reuters-21578 ----------------------------------------------------------------------


def reuters_docs() -> Iterator[dict]:
    with gzip.open(SHARED / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def reuters_raw(doc: dict) -> RawDocument:
    """The document as a crawler would hand it over: no given date, source or actors."""
    body = doc["body"]
    if doc.get("dateline"):
        body = f"{doc['dateline']} - {body}"
    fetched = _day_after(doc["date"][:10])
    return RawDocument(id=doc["id"], text=f"{doc['title']}\n{body}", fetched=fetched)


def _day_after(iso: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(iso) + dt.timedelta(days=1)).isoformat()


def _dateline_month_day(dateline: str) -> tuple[int, int] | None:
    words = dateline.replace(",", " ").split()
    if len(words) >= 2 and words[-1].isdigit() and words[-2].rstrip(".").casefold() in MONTHS:
        return MONTHS[words[-2].rstrip(".").casefold()], int(words[-1])
    return None


def report_reuters() -> None:
    import datetime as dt

    codes = tomllib.loads((ROOT / "benchmarks" / "data" / "reuters_codes.toml").read_text("utf-8"))
    n = with_dateline = exact_dateline = exact_stamp = near_stamp = none = 0
    people = {"tags": 0, "found": 0}
    orgs = {"tags": 0, "found": 0}
    sources = {"Reuters": 0, "other": 0, "none": 0}
    for doc in reuters_docs():
        if doc["text_type"] != "NORM" or not doc["body"].strip():
            continue
        n += 1
        out = extract(reuters_raw(doc))
        stamp = dt.date.fromisoformat(doc["date"][:10])
        expected = _dateline_month_day(doc.get("dateline") or "")
        if out.date is None:
            none += 1
        else:
            exact_stamp += out.date == stamp
            near_stamp += abs((out.date - stamp).days) <= 1
        if expected:
            with_dateline += 1
            exact_dateline += (
                out.date is not None
                and (out.date.month, out.date.day) == expected
                and out.date.year == stamp.year
            )
        sources[
            "Reuters" if out.source == "Reuters" else "none" if out.source is None else "other"
        ] += 1
        names = [a for a in out.actors]
        for code in doc["people"]:
            people["tags"] += 1
            people["found"] += any(
                _person_matches(a.name, codes["people"][code]) for a in names if a.type == PERSON
            )
        for code in doc["orgs"]:
            orgs["tags"] += 1
            wanted = {fold(v) for v in codes["orgs"][code]}
            orgs["found"] += any(
                fold(a.name) in wanted or any(fold(v) in wanted for v in aliases.variants(a.name))
                for a in names
                if a.type == ORGANISATION
            )
    print("## Reuters-21578: dates, sources, people and organisation tags\n")
    print(f"{n} NORM documents with a body; given date withheld; fetched = DATE stamp + 1 day.")
    print(
        f"- date = the dateline's own month and day (and the stamp's year): "
        f"{exact_dateline}/{with_dateline} = {exact_dateline / with_dateline:.2%} "
        "of documents whose dateline has one"
    )
    print(
        f"- date = DATE stamp exactly: {exact_stamp}/{n} = {exact_stamp / n:.2%}; "
        f"within one day: {near_stamp}/{n} = {near_stamp / n:.2%}; no date: {none}"
    )
    print(
        f"- source: Reuters {sources['Reuters']}, other {sources['other']}, none {sources['none']}"
    )
    print(
        f"- people tags found among extracted people: {people['found']}/{people['tags']} = "
        f"{people['found'] / people['tags']:.2%} (recall)"
    )
    print(
        f"- organisation tags found among extracted organisations: "
        f"{orgs['found']}/{orgs['tags']} = {orgs['found'] / orgs['tags']:.2%} (recall)"
    )
    print(
        "  (match rule: same full name, or same surname when the extracted name is a surname alone;"
        " organisations: any listed name or its alias-table variants)\n"
    )


def _person_matches(extracted: str, full_name: str) -> bool:
    got, want = fold(extracted).replace("-", " ").split(), fold(full_name).replace("-", " ").split()
    if got == want:
        return True
    return (
        bool(got) and got[-len(want[-1:]) :] == want[-1:] and (len(got) == 1 or got[0] == want[0])
    )


# --- language -------------------------------------------------------------------------


def report_language() -> None:
    from langdetect import detect

    from index import language

    agree = screened = total = 0
    answers: Counter[str] = Counter()
    for doc in reuters_docs():
        if doc["text_type"] != "NORM" or len(doc["body"]) < 200:
            continue
        total += 1
        answers[detect_language(doc["body"])] += 1
        sample = language.running_text(doc["body"])
        quick = language.screen(sample)
        if quick:
            screened += 1
            agree += quick == detect(sample)
    print("## Language: Reuters-21578 bodies of 200+ characters (all English)\n")
    print(
        f"- {total} bodies; detect_language: "
        + ", ".join(f"{k} {v}" for k, v in answers.most_common())
    )
    print(
        f"- the function-word screen answered {screened} ({screened / total:.1%}) and agreed with "
        f"langdetect on the same sample for {agree} of them"
    )
    print(
        "- detect_language on the seeds: "
        + ", ".join(
            detect_language(p.read_text("utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt"))
        )
    )
    print()


# --- speed ------------------------------------------------------------------------------


def report_speed() -> None:
    reuters = [
        reuters_raw(d)
        for d, _ in zip(
            (d for d in reuters_docs() if d["text_type"] == "NORM" and d["body"].strip()),
            range(2000),
            strict=False,
        )
    ]
    seeds = [
        RawDocument(id=p.stem, text=p.read_text("utf-8"))
        for p in sorted((ROOT / "seeds").glob("*.txt"))
    ]
    chars = statistics.mean(len(r.text) for r in reuters)
    seed_chars = statistics.mean(len(r.text) for r in seeds)
    print("## Speed: extract() end to end, CPU time, one process (median of 5 passes)\n")
    print(
        f"- Reuters-21578, first 2,000 NORM documents (mean {chars:.0f} chars): "
        f"{per_cpu_second(extract, reuters):,.0f} docs/s per core"
    )
    print(
        f"- seed articles x40 (mean {seed_chars:.0f} chars): "
        f"{per_cpu_second(extract, seeds * 40):,.0f} docs/s per core"
    )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "parts", nargs="*", default=["conll", "reuters", "language", "speed", "multilingual"]
    )
    parser.add_argument("--misses", action="store_true", help="multilingual: list every error")
    parser.add_argument(
        "--out", default="multilingual.json", help="multilingual: result file in benchmarks/results"
    )
    parser.add_argument("--splits", default="dev,test", help="CoNLL splits: train,dev,test")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(
            f"data not found: {SHARED} (the shared/ folder beside the repository)", file=sys.stderr
        )
        return 2
    for part in args.parts:
        if part == "conll":
            report_conll(args.splits.split(","))
        elif part == "reuters":
            report_reuters()
        elif part == "language":
            report_language()
        elif part == "speed":
            report_speed()
        elif part == "multilingual":
            multilingual.report(args.misses, args.out)
        else:
            parser.error(f"unknown part {part!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
