"""`make bench`: Sift against SQLite FTS5 and tantivy on Reuters-21578 (docs/benchmarks.md)."""
