"""Whoosh's file format and private internals: the one place in Sift that touches them.

Sift writes segments itself (index/codec/segments.py), reads posting blocks, length columns
and terms tables in bulk (index/codec/postings.py) and fences Whoosh's commit with fsyncs
and checksums (index/codec/storage.py). All of that depends on one Whoosh release's
private attributes and on-disk layout, so this package refuses to load under any other
(tests/test_boundaries.py keeps every other module off Whoosh's internals), like Lucene's
codec package: the rest of Sift asks for what it wants, never how Whoosh stores it.
"""

from __future__ import annotations

import whoosh

# The release whose internals this package was written against and tested with
# (tests/search/test_postings.py, tests/index/test_pipeline.py compare with Whoosh's own).
WHOOSH_VERSION = "2.7.5"

if whoosh.versionstring() != WHOOSH_VERSION:
    raise ImportError(
        f"Sift's Whoosh codec is written for whoosh-reloaded {WHOOSH_VERSION}, "
        f"not {whoosh.versionstring()}: its file format and internals may differ"
    )

# Installed on import, before any index opens: compound segments read in place, terms
# looked up with exact reads, stored fields' offsets summed at once.
from index.codec import compound, stored, terms  # noqa: E402, F401
