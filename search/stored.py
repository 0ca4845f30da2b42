"""A hit's stored document at a bounded cost, however long its text.

Whoosh keeps a document's stored fields as one compressed pickle: a 50 MB article is
inflated whole (about 0.3 s) to read even its title, and every search returning it then
built snippets from all of it (seconds). Hits, snippets, similar documents and the
document page read a *head* instead: the document with its text cut to HEAD_CHARS, and
the whole text's length. A huge document's head is kept once read, by segment (segments
never change once written), so only the first request to meet it pays for the inflate.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from index.documents import Document
from index.writer import stored_document

# Characters of a document's text that hits, snippets and pages read: far beyond a news
# article (a long one is 20,000), far below what would cost a search its budget.
HEAD_CHARS = 100_000
# Heads of huge documents kept per process (at most HEAD_CHARS each).
HEADS_KEPT = 64

_heads: OrderedDict[tuple[str, int], Head] = OrderedDict()
_heads_lock = threading.Lock()


@dataclass(frozen=True)
class Head:
    document: Document  # its text cut to HEAD_CHARS when longer
    text_length: int  # characters in the whole text

    @property
    def truncated(self) -> bool:
        return self.text_length > len(self.document.text)


def whole(searcher, docnum: int) -> Document:
    """The document as stored, all of its text."""
    return stored_document(searcher.stored_fields(docnum))


def head(searcher, docnum: int) -> Head:
    """The document with at most HEAD_CHARS of its text."""
    key = _segment_key(searcher.reader(), docnum)
    if key is not None:
        with _heads_lock:
            found = _heads.get(key)
            if found is not None:
                _heads.move_to_end(key)
                return found
    doc = whole(searcher, docnum)
    if len(doc.text) <= HEAD_CHARS:
        return Head(doc, len(doc.text))
    found = Head(replace(doc, text=doc.text[:HEAD_CHARS]), len(doc.text))
    if key is not None:
        with _heads_lock:
            _heads[key] = found
            while len(_heads) > HEADS_KEPT:
                _heads.popitem(last=False)
    return found


def _segment_key(reader, docnum: int) -> tuple[str, int] | None:
    """(segment id, document number in it) of `docnum`; None where there is no segment."""
    for leaf, offset in reversed(reader.leaf_readers()):
        if docnum >= offset:
            segment = leaf.segment()
            return None if segment is None else (segment.segment_id(), docnum - offset)
    return None
