"""A time budget per request that fires in any thread: a deadline checked, never signals.

Whoosh's `TimeLimitCollector` stops a search with SIGALRM, which raises `ValueError:
signal only works in main thread` under gunicorn's gthread workers, and without the
alarm it only looks at the clock between collected hits, long after term expansion has
run. Here the engine opens a budget for each request (`within`) and every loop that can
grow with the query or the index calls `check()`: term expansion, the match pass, the
scored pass (`BudgetCollector`), did-you-mean, and every leaf matcher of a query Whoosh
evaluates (`guard`): an intersection that skips through a million postings without
yielding a document still advances its leaves, and each advance looks at the clock.
Over the budget, `QueryTimeout` (a 400 saying the query was too broad) ends the
request, whatever thread it runs in. The budget is CPU time of the request's thread,
so waiting for a core on a loaded machine never makes a cheap query a 400 (`check`).

The deadline lives in a context variable, so threads (and tasks) never see each other's.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.collectors import FilterCollector, WrappingCollector
from whoosh.matching import NullMatcher, WrappingMatcher

from search.errors import QueryTimeout

# Loop iterations between two looks at the clock: a clock read costs about 50 ns, a
# posting or a collected hit several microseconds, so this keeps checks well under 1 %.
CHECK_EVERY = 256
# An answer this many budgets late on the clock is cut at half its CPU budget (`check`).
LATE_FACTOR = 1.5


@dataclass(frozen=True)
class _Deadline:
    ends: float  # time.monotonic() when the budget is spent on the clock
    late: float  # time.monotonic() when an answer is late (LATE_FACTOR x the budget)
    cpu_start: float  # time.thread_time() when the request started
    seconds: float


_current: ContextVar[_Deadline | None] = ContextVar("sift_query_budget", default=None)


@contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Run the block under a budget of `seconds` (None or <= 0: unlimited)."""
    if not seconds or seconds <= 0:
        yield
        return
    now = time.monotonic()
    deadline = _Deadline(now + seconds, now + LATE_FACTOR * seconds, time.thread_time(), seconds)
    token = _current.set(deadline)
    try:
        yield
    finally:
        _current.reset(token)


def check() -> None:
    """Raise QueryTimeout if the current request has spent its budget.

    Spent means the request's own thread used `seconds` of CPU: a 400 says the query is
    too broad, so it must not fire for a cheap query on a busy machine, where the clock
    runs on while the CPU time does not. Except that an answer already late on the clock
    (LATE_FACTOR x the budget) is cut once the query has used half its CPU budget: a
    query that expensive is not cheap, and the answer must still come within a second
    when other work shares the cores. The wall clock is read first (cheaper); the
    thread's CPU clock only once the budget has passed on it.
    """
    deadline = _current.get()
    if deadline is None:
        return
    now = time.monotonic()
    if now <= deadline.ends:
        return
    used = time.thread_time() - deadline.cpu_start
    if used > deadline.seconds or (now > deadline.late and used > deadline.seconds / 2):
        raise QueryTimeout(
            f"the query needed more than its {deadline.seconds * 1000:.0f} ms budget; "
            "narrow it (fewer OR'ed words, longer prefixes, no fuzzy terms)"
        )


def spent() -> bool:
    """Whether `check()` would raise now: for work that can stop early instead (a
    snippet's search for matches), so the budget counts it without failing the query."""
    try:
        check()
    except QueryTimeout:
        return True
    return False


def remaining() -> float | None:
    """Seconds left in the current budget (None: unlimited)."""
    deadline = _current.get()
    return None if deadline is None else deadline.ends - time.monotonic()


def checked(items: Iterable, every: int = CHECK_EVERY) -> Iterator:
    """`items`, checking the budget every `every` items."""
    for count, item in enumerate(items):
        if count % every == 0:
            check()
        yield item


class _CheckedMatcher(WrappingMatcher):
    """A leaf matcher that checks the budget each time it advances (about 0.1 µs
    against the microseconds a Whoosh posting costs)."""

    def next(self):
        check()
        self.child.next()

    def skip_to(self, id):
        check()
        return self.child.skip_to(id)

    def skip_to_quality(self, minquality):
        check()
        return self.child.skip_to_quality(minquality / self.boost)

    def all_ids(self):
        return checked(self.child.all_ids())


class _Checked(wq.WrappingQuery):
    def matcher(self, searcher, context=None):
        found = self.child.matcher(searcher, context)
        return _CheckedMatcher(found) if found.is_active() else found


class _CheckedPhrase(wq.Phrase):
    """Whoosh's `Phrase.matcher` (whoosh/query/positional.py) with each word checked.

    A phrase looks for its first match while its matcher is being built, walking the
    intersection of its words (all of "the of" on Reuters) before anyone calls next().
    """

    def matcher(self, searcher, context=None):
        if self.fieldname not in searcher.schema:
            return NullMatcher()
        field = searcher.schema[self.fieldname]
        reader = searcher.reader()
        words = []
        for word in self.words:
            try:
                btext = field.to_bytes(word)
            except ValueError:
                return NullMatcher()
            if (self.fieldname, btext) not in reader:
                return NullMatcher()
            words.append(_Checked(wq.Term(self.fieldname, btext)))
        near = wq.SpanNear2(words, slop=self.slop, ordered=True, mindist=1)
        found = near.matcher(searcher, context)
        return WrappingMatcher(found, boost=self.boost) if self.boost != 1.0 else found


def _checked_leaf(q):
    if isinstance(q, wq.Phrase):
        return _CheckedPhrase(q.fieldname, q.words, slop=q.slop, boost=q.boost)
    return _Checked(q) if q.is_leaf() else q


def guard(query):
    """A copy of a Whoosh query whose leaves check the budget as they advance."""
    if _current.get() is None:
        return query
    return query.accept(_checked_leaf)


def matching_ids(searcher, query) -> Iterator[int]:
    """Every document number `query` matches (unscored), under the current budget."""
    return checked(guard(query).matcher(searcher).all_ids())


class BudgetCollector(WrappingCollector):
    """Wraps a Whoosh collector so the scored pass stops when the budget is spent."""

    def matches(self):
        return checked(self.child.matches())

    def collect_matches(self):
        for sub_docnum in self.matches():
            self.child.collect(sub_docnum)


def search(searcher, query, *, limit: int, filter=None):
    """`searcher.search(query, limit=, filter=)` under the current budget.

    The budget wraps the top-k collector itself, inside the filter, so that filtering
    (which collects through `child.matches()`) still goes through the checks.
    """
    collector = BudgetCollector(searcher.collector(limit=limit))
    if filter:  # as Whoosh's own search(): an empty filter filters nothing
        collector = FilterCollector(collector, allow=filter)
    searcher.search_with_collector(guard(query), collector)
    return collector.results()


def limited(method):
    """Run an Engine method under the engine's `budget_s`.

    The snapshot is taken first, outside the budget: opening a new index version and
    building its tables is the price of a commit, not of the query that happens to
    notice it.
    """

    @functools.wraps(method)
    def wrapper(engine, *args, **kwargs):
        engine._snapshot()
        with within(engine.budget_s):
            return method(engine, *args, **kwargs)

    return wrapper
