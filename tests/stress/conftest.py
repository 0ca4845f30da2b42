"""Fixtures for `make stress`: Reuters-21578 indexes, subsets of it, and the fixed queries.

The corpus is read from ../shared/data (never copied into the repository); set
SIFT_REUTERS to point elsewhere. A missing corpus fails these tests loudly: they exist to
prove the claims in the README, so they do not skip.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

from index.reindex import reindex
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import ROOT

REUTERS = Path(
    os.environ.get("SIFT_REUTERS", ROOT.parent / "shared" / "data" / "reuters21578.jsonl.gz")
)
# The fixed queries whose answers must not change under crashes (hazards note test 1/2).
FIXED_QUERIES = [
    "oil",
    "crude oil prices",
    "opec",
    "bank rate",
    '"interest rates"',
    "wheat OR corn",
    "coffee -brazil",
    "gold",
    "dollar yen",
    "trade deficit",
    "shares",
    "merger",
    "grain exports",
    "sugar",
    "loss",
    "profit",
    "japan",
    "tonnes",
    "inflation",
    "acquisition",
]


ARTIFACTS = ROOT / "test-artifacts" / "stress"


def record(name: str, figures: dict) -> None:
    """Keep a test's measured figures (test-artifacts/stress/NAME.json) and print them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(figures, indent=1, ensure_ascii=False)
    (ARTIFACTS / f"{name}.json").write_text(text + "\n", "utf-8")
    print(f"\n{name}: {text}")


def reuters_records(count: int | None = None, skip: int = 0) -> list[dict]:
    assert REUTERS.exists(), f"the Reuters-21578 corpus is needed at {REUTERS} (SIFT_REUTERS)"
    records = []
    with gzip.open(REUTERS, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number < skip:
                continue
            if count is not None and len(records) >= count:
                break
            records.append(json.loads(line))
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def answers(root: Path, *, sort: str = "relevance", per_page: int = 10) -> dict[str, tuple]:
    """(total, ids in order) of each fixed query's first page: what must not change."""
    engine = Engine(root)
    try:
        found = {}
        for q in FIXED_QUERIES:
            result = engine.search(SearchRequest(q=q, sort=sort, per_page=per_page))
            found[q] = (result.total, [hit.id for hit in result.hits])
        return found
    finally:
        engine.close()


@pytest.fixture(scope="session")
def reuters_1000(tmp_path_factory) -> Path:
    """The first 1,000 Reuters documents as a JSONL file."""
    folder = tmp_path_factory.mktemp("reuters1000")
    return write_jsonl(folder / "reuters-1000.jsonl", reuters_records(1000))


@pytest.fixture(scope="session")
def reuters_root(tmp_path_factory) -> Path:
    """All of Reuters-21578 indexed once per session (minutes: for the stress tests only).

    SIFT_STRESS_REUTERS_INDEX may name an index already built from the same file (it is
    copied, never written), to iterate on a test without rebuilding.
    """
    root = tmp_path_factory.mktemp("reuters-index")
    prebuilt = os.environ.get("SIFT_STRESS_REUTERS_INDEX")
    if prebuilt:
        shutil.copytree(prebuilt, root, dirs_exist_ok=True)
        assert answers(root)["oil"][0] > 0
        return root
    report = reindex(root, [REUTERS])
    assert report.switched and report.documents == 21578, report.errors[:5]
    return root
