"""Errors the search layer raises for the API to map to HTTP answers."""


class SearchError(Exception):
    """Base class: a request the engine will not or cannot answer."""


class QueryTooComplex(SearchError):
    """A query over a cost cap; the message says which cap and how to narrow it."""


class IndexUnavailable(SearchError):
    """No index generation is live yet (or it cannot be opened)."""


class QueryTimeout(QueryTooComplex):
    """A query that ran past its time budget: too broad for the index it runs on."""


class NotSupported(SearchError):
    """A request this backend cannot answer (stories and actors on a SphinxQL cluster)."""
