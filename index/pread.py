"""Index files read through the page cache with `pread`, not memory-mapped.

A page of a mapped file that a process has touched counts in its resident memory (RSS)
for as long as the kernel leaves it mapped, and Linux maps up to 16 cached pages around
every page fault. At a million articles a worker that had answered the benchmark's
queries held 1.2 GB of posting arrays and 0.36 GB of Whoosh's terms tables that way
(random probes, a few bytes each). Read with `pread`, the bytes stay in the page cache,
once for every process (and for the kernel to drop when memory is short), and a worker
holds only the copies it decodes; a read costs a system call (about a microsecond).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np


class Descriptor:
    """An open file, closed when the last reader holding it is dropped (a reader of a
    closed descriptor could read whichever file reused its number)."""

    def __init__(self, fd: int):
        self.fd = fd

    @classmethod
    def open(cls, path: str | Path) -> Descriptor:
        return cls(os.open(path, os.O_RDONLY))

    def __del__(self) -> None:
        os.close(self.fd)


def read_into(file: Descriptor, out: np.ndarray, at: int) -> np.ndarray:
    """`out` filled from byte `at` of the file; OSError if the file is shorter."""
    if out.nbytes and os.preadv(file.fd, [out.data], at) != out.nbytes:
        raise OSError(f"file cut short: {out.nbytes} bytes at {at}")
    return out


class Read(NamedTuple):
    """`out` to be filled from byte `at` of `file` (`read_all`)."""

    file: Descriptor
    out: np.ndarray
    at: int


def read_all(reads: list[Read]) -> None:
    """Make `reads`, the kernel told of all of them first (`posix_fadvise` WILLNEED), so
    that those the page cache lacks wait on the disk together, not one after another: a
    word's first search at a million articles reads its postings from some forty segments.
    On these machines 150 random 4 KB reads from an emptied cache took 25-33 ms one by
    one and 11-12 ms told first; telling costs a system call each (about 6 us)."""
    if len(reads) > 1:
        for file, out, at in reads:
            advise(file, at, out.nbytes)
    for read in reads:
        read_into(*read)


def advise(file: Descriptor, at: int, length: int) -> None:
    """Tell the kernel `length` bytes from `at` will be read soon: those not in the page
    cache are read from the disk while the caller goes on."""
    if length > 0:
        os.posix_fadvise(file.fd, at, length, os.POSIX_FADV_WILLNEED)


# Bytes read at least at once by a small read (`Bytes`): the reads that follow it, when
# Whoosh walks a table or a posting block a few bytes at a time, are served from them.
BLOCK = 4096


class Bytes:
    """`length` bytes of a file from `offset`, sliced (and searched) like a buffer.

    A small read reads the BLOCK bytes from where it starts, and the next small reads
    inside them are slices of that block, not system calls: Whoosh reads its tables
    sequentially a few bytes a call (at a million articles, computing a segment's columns
    took 45 % more time with a call each). The block is swapped whole, so threads
    sharing a file each see one block or the other, never half of one."""

    def __init__(self, file: Descriptor, offset: int, length: int):
        self._file = file
        self._offset = offset
        self._length = length
        self._block: tuple[int, bytes] = (0, b"")  # (where it starts, its bytes)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, where: slice) -> bytes:
        start, stop, _ = where.indices(self._length)
        if stop <= start:
            return b""
        at, block = self._block
        if at <= start and stop <= at + len(block):
            return block[start - at : stop - at]
        if stop - start >= BLOCK:
            return os.pread(self._file.fd, stop - start, self._offset + start)
        block = os.pread(self._file.fd, min(BLOCK, self._length - start), self._offset + start)
        self._block = (start, block)
        return block[: stop - start]

    def exact(self, start: int, length: int) -> bytes:
        """`length` bytes from `start` (fewer at the end), read now and only them: for
        random probes (a terms table's slots and entries, index/codec/terms.py), which
        a block would not serve again."""
        length = min(length, self._length - start)
        if length <= 0:
            return b""
        return os.pread(self._file.fd, length, self._offset + start)

    def find(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        at = self[start:end].find(sub)
        return at + start if at >= 0 else -1
