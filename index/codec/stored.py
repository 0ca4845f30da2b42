"""Stored fields opened without a Python loop over every document of the segment.

Whoosh keeps a segment's stored fields in a column of variable-length values and does not
write their offsets: each reader sums the lengths back into offsets, one Python append
per document, the first time it reads a document there. A thread's searcher does that
for every segment it reads a hit from, 30,000 appends a build's segment, so a new
thread's first searches at a million articles paid it some thirty times over. Here numpy
sums them into the same array of offsets (tests/index/test_stored.py compares them).
"""

from __future__ import annotations

import struct
from array import array

import numpy as np
from whoosh import columns

_whoosh_read = columns.VarBytesColumn.Reader._read_offsets_and_lengths


def _read_offsets_and_lengths(self) -> None:
    """VarBytesColumn.Reader's, with the offsets summed by numpy (a column that wrote its
    offsets is read by Whoosh's own code)."""
    dbfile = self._dbfile
    lastbyte = self._basepos + self._length - 1
    lens_code = chr(dbfile.get_byte(lastbyte))
    if lens_code == "X":  # the offsets are written: nothing to sum
        _whoosh_read(self)
        return
    count = self._doccount
    lengths = dbfile.get_array(lastbyte - struct.calcsize(lens_code) * count, lens_code, count)
    offsets = np.zeros(count, dtype=np.dtype("L"))  # Whoosh's array("L")
    lengths_np = np.frombuffer(lengths, dtype=np.dtype(lens_code))
    np.cumsum(lengths_np[:-1], dtype=offsets.dtype, out=offsets[1:])
    self._offsets = array("L", offsets.tobytes())
    self._lengths = lengths


# Installed on import (index/codec/__init__.py), before any index opens.
columns.VarBytesColumn.Reader._read_offsets_and_lengths = _read_offsets_and_lengths
