"""The time budget: fires in any thread, inside Whoosh's matching, and changes no answer."""

from __future__ import annotations

import gc
import threading
import time

import pytest
from whoosh.codec import whoosh3

from index.codec.lexicon import Lexicon
from search import budget, postings
from search.engine import Engine
from search.errors import QueryTimeout
from search.request import SearchRequest
from tests.helpers import assert_problem

BUDGET_S = 0.2
# CPU time on top of the budget for the answer to come back (one posting, the problem).
SLACK_S = 0.1
# Matches most documents of the test index: hundreds of postings, seconds when slowed.
# Not stop words: an OR of those is left out of each language they are stop words in.
BROAD = (
    "nato OR said OR coalition OR islamic OR state OR alliance OR trump OR fight OR terrorism "
    "OR syria OR iraq OR people"
)
QUERIES = ["nato", "coalition OR stoltenberg", '"islamic state"', "nat*", "-nato trump", "merkl~"]


def burn_cpu(seconds: float) -> None:
    """Spend `seconds` of this thread's CPU time (however long that takes on the clock)."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


@pytest.fixture
def slow_postings(monkeypatch):
    """Reading postings is slow on both query paths, none is over a cap: every posting
    Whoosh's matchers read costs 5 ms of CPU, every term list the numpy path
    (search/postings.py) reads, one segment's at a time, into a shared buffer or from
    the lexicon's pool, costs 50 ms."""
    real_next = whoosh3.W3LeafMatcher.next
    real_read = postings.read_term
    real_reads = postings.term_reads
    real_pooled = Lexicon.pooled

    def next_slowly(self):
        burn_cpu(0.005)
        return real_next(self)

    def read_slowly(*args, **kwargs):
        burn_cpu(0.05)
        return real_read(*args, **kwargs)

    def reads_slowly(*args, **kwargs):
        burn_cpu(0.05)
        return real_reads(*args, **kwargs)

    def pooled_slowly(*args, **kwargs):
        burn_cpu(0.05)
        return real_pooled(*args, **kwargs)

    monkeypatch.setattr(whoosh3.W3LeafMatcher, "next", next_slowly)
    monkeypatch.setattr(postings, "read_term", read_slowly)
    monkeypatch.setattr(postings, "term_reads", reads_slowly)
    monkeypatch.setattr(Lexicon, "pooled", pooled_slowly)


def test_the_budget_changes_no_answer(index_root):
    plain, budgeted = Engine(index_root), Engine(index_root, budget_s=5.0)
    for q in QUERIES:
        for sort in ("relevance", "newest"):
            request = SearchRequest(q=q, sort=sort, op="or")
            a, b = plain.search(request), budgeted.search(request)
            assert [(h.id, h.score) for h in a.hits] == [(h.id, h.score) for h in b.hits], q
            assert a.total == b.total and a.facets == b.facets


@pytest.mark.parametrize("in_thread", [False, True], ids=["main-thread", "worker-thread"])
def test_the_budget_fires_inside_matching_in_any_thread(index_root, slow_postings, in_thread):
    engine = Engine(index_root, budget_s=BUDGET_S)
    engine.search(SearchRequest(q="x"))  # open the snapshot outside the measurement
    # Collect what earlier tests left first: a collection falling inside the query (one
    # took 118 ms of this thread's CPU) would count against its budget.
    gc.collect()
    outcome: list = []

    def run():
        started = time.thread_time()
        try:
            engine.search(SearchRequest(q=BROAD, op="or"))
            outcome.append(("answered", time.thread_time() - started))
        except QueryTimeout as exc:
            outcome.append((exc, time.thread_time() - started))

    if in_thread:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(30)
    else:
        run()
    error, elapsed = outcome[0]
    assert isinstance(error, QueryTimeout), outcome
    assert "budget" in str(error) and elapsed < BUDGET_S + SLACK_S


def test_a_budget_overrun_is_a_400_problem_over_http(index_root, slow_postings):
    from api import create_app

    app = create_app({"index_dir": str(index_root), "query_budget_ms": int(BUDGET_S * 1000)})
    client = app.test_client()
    client.get("/api/v1/search?q=x")
    started = time.thread_time()  # the test client runs the app in this thread
    response = client.get("/api/v1/search", query_string={"q": BROAD})
    body = assert_problem(response, 400)
    assert time.thread_time() - started < BUDGET_S + SLACK_S
    assert body["type"] == "/problems/query-too-complex" and "budget" in body["detail"]
    for path in ("/api/v1/export", "/api/v1/timeline"):  # every way in to a query
        response = client.get(path, query_string={"q": BROAD})
        assert assert_problem(response, 400)["type"] == "/problems/query-too-complex"


def test_a_busy_machine_does_not_turn_a_cheap_query_into_a_400():
    """Waiting for the CPU (here: sleeping) is not the query's cost."""
    with budget.within(0.05):
        time.sleep(0.2)
        budget.check()  # 0.2 s of wall time, next to no CPU: no QueryTimeout
        burn_cpu(0.02)
        budget.check()  # late, but less than half the CPU budget used: still cheap
        with pytest.raises(QueryTimeout):
            for _ in range(100):
                burn_cpu(0.001)
                budget.check()  # late and past half the CPU budget: cut


def test_budgets_are_per_thread():
    seen = {}

    def run(name, seconds):
        with budget.within(seconds):
            time.sleep(0.05)
            seen[name] = budget.remaining()

    threads = [
        threading.Thread(target=run, args=("short", 0.01)),
        threading.Thread(target=run, args=("long", 10.0)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["short"] < 0 < seen["long"]
    assert budget.remaining() is None


def test_opening_a_new_version_is_not_the_querys_work(index_root, monkeypatch):
    """The first query on a version builds its tables (seconds at a million articles):
    outside the budget, so that query is answered, not refused as too broad."""
    from search import engine as engine_module

    real = engine_module.open_tables

    def slow_tables(*args, **kwargs):
        burn_cpu(2 * BUDGET_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_module, "open_tables", slow_tables)
    engine = Engine(index_root, budget_s=BUDGET_S)
    assert engine.search(SearchRequest(q="nato")).total > 0
    with budget.within(BUDGET_S):
        burn_cpu(2 * BUDGET_S)
        with pytest.raises(QueryTimeout):
            budget.check()  # the same work inside the budget is refused
