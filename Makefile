# One task runner: CI (.ci/run) calls these same targets. On a fresh machine with Python
# 3.11, make and Debian's apt, `make run` and `make test` install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export SIFT_INDEX_DIR ?= var/index
# Lock files (docs/development.md, "Dependencies"): the runtime alone (the Docker image),
# and the runtime with every extra (what `make install` puts in .venv).
LOCKS := requirements/runtime.txt requirements/dev.txt
UV_VERSION := 0.13.9
LOCK_FLAGS := --quiet --generate-hashes --universal --python-version 3.11 --no-header

.PHONY: install run test test-tools lint stress bench bench-quick bench-cluster bench-metrics \
	bench-scale eval eval-extraction eval-relevance eval-html eval-stories lock clean

## .venv with exactly the locked dependencies (hashes checked), then Sift itself.
$(BIN)/sift: pyproject.toml $(LOCKS)
	@scripts/system-deps venv
	@$(PYTHON) scripts/lockfile.py check $(LOCKS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $(BIN)/sift

install: $(BIN)/sift

## Serve the bundled seeds on http://127.0.0.1:8000 (index built on first run).
run: install
	$(BIN)/sift serve

## The system tools the tests drive: Debian's Chromium (tests/browser) and Sphinx's searchd.
test-tools:
	@scripts/system-deps venv chromium searchd

## The test suite CI runs (fast subset; `make stress` runs everything).
test: test-tools install
	$(BIN)/pytest -m "not slow"

## Everything, including the slow crash, fuzzing and load tests (minutes; reads
## ../shared/data/reuters21578.jsonl.gz, or $$SIFT_REUTERS).
stress: test-tools install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## After changing dependencies in pyproject.toml: re-resolve the lock files, keeping every
## pin that still fits (`make lock LOCK_ARGS=--upgrade` moves them all to the latest).
lock: $(BIN)/uv
	$(BIN)/uv pip compile $(LOCK_FLAGS) $(LOCK_ARGS) --extra dev --extra stress --extra bench \
		-o requirements/dev.txt pyproject.toml
	$(BIN)/uv pip compile $(LOCK_FLAGS) $(LOCK_ARGS) -c requirements/dev.txt \
		-o requirements/runtime.txt pyproject.toml
	$(PYTHON) scripts/lockfile.py stamp $(LOCKS)

$(BIN)/uv:
	@scripts/system-deps venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

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

## Ranking quality on public test collections (docs/benchmarks.md, "Relevance").
eval-relevance: install
	$(BIN)/python -m benchmarks.relevance --expand
	$(BIN)/python -m benchmarks.docs

## Sift against SQLite FTS5 and tantivy on Reuters-21578 (and 4x it); table + JSON in
## benchmarks/results/, rendered into docs/benchmarks.md (so are relevance and metrics). `make bench-quick` is a one-minute smoke run of the same suite.
bench: install
	$(BIN)/python -m benchmarks $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.docs

bench-quick: install
	$(BIN)/python -m benchmarks --quick $(BENCH_ARGS)

## The embedded index against a local 2-shard x 2-replica SphinxQL cluster (needs searchd):
## Reuters-21578 and 4x it; JSON in benchmarks/results/cluster.json.
bench-cluster: install
	$(BIN)/python -m benchmarks.cluster $(BENCH_ARGS)

## Sift built and served at 1x, 10x and 50x Reuters-21578 with FTS5 beside it: build time
## and phases, memory, HTTP percentiles, cold start, incremental adds (most of an hour;
## BENCH_ARGS='--sizes 1' for one size). JSON in benchmarks/results/scale-latest.json.
bench-scale: install
	$(BIN)/python -m benchmarks.scale $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.docs

## The HTTP p50 with and without the request counting behind /metrics (Reuters-21578;
## benchmarks/results/metrics-cost.json).
bench-metrics: install
	$(BIN)/python -m benchmarks.metrics_cost $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.docs

clean:
	rm -rf var build *.egg-info .pytest_cache .ruff_cache .mypy_cache
