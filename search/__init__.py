"""Querying: typed search requests to Whoosh queries, facets, snippets and results."""
