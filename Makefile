# One task runner: CI calls these same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export SIFT_INDEX_DIR ?= var/index

.PHONY: install run test lint stress bench bench-quick bench-cluster eval eval-extraction eval-relevance eval-html eval-stories clean

$(BIN)/sift: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/sift

install: $(BIN)/sift

## Serve the bundled seeds on http://127.0.0.1:8000 (index built on first run).
run: install
	$(BIN)/sift serve

## The test suite CI runs (fast subset; `make stress` runs everything).
test: install
	$(BIN)/pytest -m "not slow"

## Everything, including the slow crash, fuzzing and load tests (minutes; reads
## ../shared/data/reuters21578.jsonl.gz, or $$SIFT_REUTERS).
stress: install
	$(BIN)/pip install --quiet -e '.[dev,stress]'
	$(BIN)/pytest

## Metadata extraction against CoNLL-2003 and Reuters-21578 (reads ../shared/data).
eval-extraction: install
	$(BIN)/python -m benchmarks.extraction

## Article text from real web pages: Sift, trafilatura alone, the whole page (reads
## ../shared/data/html-articles; JSON in benchmarks/results/html-latest.json).
eval-html: install
	$(BIN)/python -m benchmarks.html_eval

eval: eval-extraction eval-relevance eval-html eval-stories

## Story clusters on a labelled Reuters-21578 set, ingest and collapse cost
## (benchmarks/README.md, "Stories").
eval-stories: install
	$(BIN)/python -m benchmarks.stories

## Ranking quality on public test collections (benchmarks/README.md, "Relevance").
eval-relevance: $(VENV)/.bench
	$(BIN)/python -m benchmarks.relevance --expand

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Sift against SQLite FTS5 and tantivy on Reuters-21578 (and 4x it); table + JSON in
## benchmarks/results/. `make bench-quick` is a one-minute smoke run of the same suite.
$(VENV)/.bench: pyproject.toml $(BIN)/sift
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.bench
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-quick: $(VENV)/.bench
	$(BIN)/python -m benchmarks --quick $(BENCH_ARGS)

## The embedded index against a local 2-shard x 2-replica SphinxQL cluster (needs searchd):
## Reuters-21578 and 4x it; JSON in benchmarks/results/cluster.json.
bench-cluster: install
	$(BIN)/python -m benchmarks.cluster $(BENCH_ARGS)

clean:
	rm -rf var build *.egg-info .pytest_cache .ruff_cache
