"""Named numpy arrays in one file, memory-mapped with one map (and one descriptor).

The per-segment caches (index/columns.py, index/codec/arrays.py) hold a dozen arrays
each. As separate `.npy` files memory-mapped by numpy, every array keeps a file
descriptor open (Python's mmap duplicates it): a million-article index of 36 segments
needed some 1,500 descriptors per worker, past Debian's default limit of 1,024. Here a
segment's arrays are one file: a header (JSON: each array's type, length and offset,
and any small metadata), then the arrays, each aligned to 64 bytes.

Arrays read a slice at a time and copied anyway (posting lists: a search converts the
slice it reads) can be left unmapped (`read_parts`), each slice read from the
page cache (index/pread.py) instead of through the map.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

from index import pread

MAGIC = b"SIFTPACK"
_ALIGN = 64
_HEADER_LENGTH = np.dtype("<u8")


class Later(NamedTuple):
    """An array `write` is given piece by piece (`pieces`), too big to hold whole."""

    dtype: np.dtype
    length: int


def write(
    path: str | Path,
    arrays: Mapping[str, np.ndarray | Later],
    meta: dict | None = None,
    pieces: Iterable[tuple[str, np.ndarray]] = (),
) -> None:
    """Write `arrays` (and JSON-able `meta`) to `path`, atomically (temporary + rename):
    a file being read is never rewritten in place (a mapped file truncated under a
    reader is a SIGBUS on its next read). Each writer has its own temporary, so processes
    writing the same file at once leave one whole copy. An array given as `Later` is
    written from `pieces`, (its name, the next piece) in its order, which must fill it."""
    path = Path(path)
    entries: dict[str, dict] = {}
    offset = 0
    for name, array in arrays.items():
        if isinstance(array, Later):
            dtype, length = np.dtype(array.dtype), array.length
        else:
            array = np.ascontiguousarray(array)
            dtype, length = array.dtype, len(array)
        entries[name] = {"dtype": dtype.str, "length": length, "offset": offset}
        offset += -(-length * dtype.itemsize // _ALIGN) * _ALIGN
    header = json.dumps({"arrays": entries, "meta": meta or {}}, ensure_ascii=False).encode()
    start = -(-(len(MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
    temporary = path.parent / f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(temporary, "wb") as f:
            f.write(MAGIC + np.array(len(header), _HEADER_LENGTH).tobytes() + header)
            filled: dict[str, int] = {}  # each Later array's elements written so far
            for name, array in arrays.items():
                if isinstance(array, Later):
                    filled[name] = 0
                    continue
                f.seek(start + entries[name]["offset"])
                f.write(np.ascontiguousarray(array).data)  # no copy of a large array
            for name, piece in pieces:
                entry = entries[name]
                piece = np.ascontiguousarray(piece, dtype=entry["dtype"])
                if filled[name] + len(piece) > entry["length"]:
                    raise ValueError(f"{path}: more than {entry['length']} elements of {name}")
                f.seek(start + entry["offset"] + filled[name] * piece.itemsize)
                f.write(piece.data)
                filled[name] += len(piece)
            short = [name for name, count in filled.items() if count < entries[name]["length"]]
            if short:
                raise ValueError(f"{path}: {', '.join(short)} not filled")
            f.truncate(start + offset)
        os.replace(temporary, path)
    except BaseException:  # a full disk: the space goes back, the old file stays
        temporary.unlink(missing_ok=True)
        raise


class Unmapped:
    """One array of a packed file, read slice by slice (`take`) through the page cache."""

    def __init__(self, file: pread.Descriptor, offset: int, dtype: np.dtype, length: int):
        self._file = file
        self._offset = offset
        self.dtype = dtype
        self._length = length

    def __len__(self) -> int:
        return self._length

    def take(self, start: int, end: int) -> np.ndarray:
        """A new array of elements [start, end)."""
        start, end = max(start, 0), min(end, self._length)
        return self.read_into(start, np.empty(max(end - start, 0), dtype=self.dtype))

    def read_into(self, start: int, out: np.ndarray) -> np.ndarray:
        """`out` (of this array's type) filled with the elements from `start`: a slice of
        a buffer that several reads fill one after another, without a copy each."""
        return pread.read_into(*self.read_at(start, out))

    def advise(self, start: int, end: int) -> None:
        """Ask the disk for elements [start, end) now, to be read soon (`pread.advise`)."""
        size = self.dtype.itemsize
        pread.advise(self._file, self._offset + start * size, (end - start) * size)

    def read_at(self, start: int, out: np.ndarray) -> pread.Read:
        """`read_into`, to be made later with others (`pread.read_all`)."""
        if start < 0 or start + len(out) > self._length:
            raise ValueError(f"elements {start}..{start + len(out)} of {self._length}")
        return pread.Read(self._file, out, self._offset + start * self.dtype.itemsize)


def read(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays of `path` as read-only views of one map, and its metadata; OSError or
    ValueError if it is missing or not such a file."""
    mapped, _, meta = read_parts(path, ())
    return mapped, meta


def read_parts(
    path: str | Path, unmapped: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], dict[str, Unmapped], dict]:
    """`read`, but the arrays whose name (after any "field." prefix) is in `unmapped`
    come apart, as `Unmapped`."""
    # Plain ndarray views of the map (which they keep open): numpy's memmap subclass runs
    # Python code on every slice and every ufunc result, hundreds of thousands per write.
    mapped = np.memmap(path, dtype=np.uint8, mode="r").view(np.ndarray)
    if bytes(mapped[: len(MAGIC)]) != MAGIC:
        raise ValueError(f"{path}: not a packed arrays file")
    size = int(mapped[len(MAGIC) : len(MAGIC) + 8].view(_HEADER_LENGTH)[0])
    head_end = len(MAGIC) + 8 + size
    header = json.loads(bytes(mapped[len(MAGIC) + 8 : head_end]))
    start = -(-head_end // _ALIGN) * _ALIGN
    file = pread.Descriptor.open(path) if unmapped else None
    arrays, apart = {}, {}
    for name, entry in header["arrays"].items():
        dtype = np.dtype(entry["dtype"])
        begin = start + entry["offset"]
        end = begin + entry["length"] * dtype.itemsize
        if end > len(mapped):
            raise ValueError(f"{path}: cut short")
        if file is not None and name.rsplit(".", 1)[-1] in unmapped:
            apart[name] = Unmapped(file, begin, dtype, entry["length"])
        else:
            arrays[name] = mapped[begin:end].view(dtype)
    return arrays, apart, header["meta"]


def pack_strings(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """`strings` as two arrays: their UTF-8 bytes one after another (uint8), and where
    each ends (int64); `string_at` reads one back."""
    encoded = [text.encode("utf-8") for text in strings]
    ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def string_at(data: np.ndarray, ends: np.ndarray, i: int) -> str:
    start = int(ends[i - 1]) if i else 0
    return data[start : int(ends[i])].tobytes().decode("utf-8")
