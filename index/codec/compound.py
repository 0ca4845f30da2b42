"""Compound segment files read in place, not copied into every searcher.

Whoosh maps a segment's compound file and hands each sub-file (postings, terms table,
stored fields, columns) to its readers as a `BufferFile`, whose constructor wraps the
mapped bytes in `io.BytesIO`: a private copy of the sub-file. Every searcher therefore
copied the whole index into its own memory when it opened (at 216,000 Reuters articles,
480 MB per searcher, once per thread and per worker). Here a sub-file reads the bytes
each read asks for, with `pread` from the page cache (index/pread.py): random access
(`get`, what postings and term lookups use) and the sequential reads Whoosh makes when
it opens a table alike. (Reading them through a map instead, as Whoosh does, left every
page a term lookup had touched, and the pages around it, in the worker's own resident
memory: 355 MB of terms tables per worker at a million articles.)
"""

from __future__ import annotations

import io
import os
import pickle

from whoosh.codec import base
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import StorageError
from whoosh.filedb.structfile import BufferFile

from index import pread


class _Reader(io.RawIOBase):
    """A read-only, seekable file over `source` (a sub-file's `pread.Bytes`)."""

    def __init__(self, source: pread.Bytes):
        super().__init__()
        self._source = source
        self._end = len(source)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._end}
        self._pos = max(base[whence] + offset, 0)
        return self._pos

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


class PreadBufferFile(BufferFile):
    """A `BufferFile` reading `length` bytes of a file from `offset` as asked."""

    def __init__(self, file: pread.Descriptor, offset: int, length: int, name=None):
        self._buf = pread.Bytes(file, offset, length)  # what `get` slices
        self._name = name
        self.file = _Reader(self._buf)
        self.onclose = None
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


class PreadCompoundStorage(CompoundStorage):
    """Whoosh's compound storage, handing out sub-files that read with `pread`."""

    def __init__(self, dbfile, use_mmap=True, basepos=0):
        super().__init__(dbfile, use_mmap=False, basepos=basepos)  # reads the directory
        self._descriptor = pread.Descriptor(os.dup(dbfile.fileno()))
        dbfile.close()  # the sub-files hold the descriptor, and close it when done
        self._file = None

    def open_file(self, name, *args, **kwargs):
        if self.is_closed:
            raise StorageError("Storage was closed")
        offset, length = self.range(name)
        return PreadBufferFile(self._descriptor, offset, length, name=name)


# Segments open their compound file through this name (whoosh.codec.base.Segment.
# open_compound_file); every segment of every index Sift opens reads this way.
base.CompoundStorage = PreadCompoundStorage
