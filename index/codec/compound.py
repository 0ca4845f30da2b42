"""Compound segment files read in place, not copied into every searcher.

Whoosh maps a segment's compound file and hands each sub-file (postings, terms table,
stored fields, columns) to its readers as a `BufferFile`, whose constructor wraps the
mapped bytes in `io.BytesIO`: a private copy of the sub-file. Every searcher therefore
copied the whole index into its own memory when it opened (at 216,000 Reuters articles,
480 MB per searcher, once per thread and per worker; the mapped pages themselves are
shared through the page cache). Here a sub-file reads its bytes from the map: random
access (`get`, what postings and term lookups use) slices the map as before, and the
sequential reads Whoosh makes when it opens a table read from the map too.
"""

from __future__ import annotations

import io
import pickle

from whoosh.codec import base
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile


class _MappedReader(io.RawIOBase):
    """A read-only, seekable file over `length` bytes of a map from `offset`, uncopied."""

    def __init__(self, source, offset: int, length: int):
        super().__init__()
        self._source = source
        self._start = offset
        self._end = offset + length
        self._pos = offset

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos - self._start

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: self._start, io.SEEK_CUR: self._pos, io.SEEK_END: self._end}
        self._pos = max(base[whence] + offset, self._start)
        return self._pos - self._start

    def read(self, size: int | None = -1) -> bytes:
        start = min(self._pos, self._end)
        end = self._end if size is None or size < 0 else min(start + size, self._end)
        self._pos = end
        return self._source[start:end]

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start = min(self._pos, self._end)
        limit = self._end if size is None or size < 0 else min(start + size, self._end)
        newline = self._source.find(b"\n", start, limit)
        return self.read((limit if newline < 0 else newline + 1) - start)


# Bytes a pickle is first tried within: a posting block's header (Whoosh reads one per
# block) is a tuple of six numbers, a few dozen bytes.
PICKLE_WINDOW = 256


class MappedBufferFile(BufferFile):
    """A `BufferFile` whose sequential reads come from the map instead of a copy."""

    def __init__(self, source, offset: int, length: int, name=None, onclose=None):
        self._buf = memoryview(source)[offset : offset + length]  # what `get` slices
        self._name = name
        self.file = _MappedReader(source, offset, length)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def read_pickle(self):
        """Unpickled from a small in-memory window: the unpickler reads a file object
        opcode by opcode, a Python call each (an in-memory buffer it reads directly);
        a pickle longer than the window is read from the file as Whoosh reads it."""
        start = self.file.tell()
        window = io.BytesIO(self._buf[start : start + PICKLE_WINDOW])
        try:
            value = pickle.load(window)
        except Exception:  # cut off by the window (or damaged: the plain read will say)
            self.file.seek(start)
            return pickle.load(self.file)
        self.file.seek(start + window.tell())
        return value


class MappedCompoundStorage(CompoundStorage):
    """Whoosh's compound storage, handing out sub-files that read the map in place."""

    def open_file(self, name, *args, **kwargs):
        if not self._source:  # mmap failed (ENOMEM): Whoosh reads the file instead
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return MappedBufferFile(self._source, offset, length, name=name)


# Segments open their compound file through this name (whoosh.codec.base.Segment.
# open_compound_file); every segment of every index Sift opens reads in place.
base.CompoundStorage = MappedCompoundStorage
