"""The write-ahead journal: every accepted API write, durable before it is acknowledged.

One append-only file of lines `SEQ<TAB>CRC32<TAB>JSON`. Appends take an exclusive lock,
write, and fsync; only then does the API answer. A crash can tear the last line: readers
stop at the first line that fails its checksum, and the next append cuts it off (it was
never acknowledged, because its fsync never returned).

The journal is also the record of API writes across reindexes: a new generation built
from files gets the journal replayed onto it before it goes live, so a full reindex does
not lose documents that were written over HTTP.
"""

from __future__ import annotations

import fcntl
import json
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.storage import fsync_dir, make_private_dir

JOURNAL_FILE = "journal.log"
LOCK_FILE = "journal.lock"
_TAIL_CHUNK = 1 << 16


def _encode(seq: int, op: dict) -> bytes:
    payload = json.dumps(op, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"%d\t%08x\t%s\n" % (seq, zlib.crc32(payload), payload)


def _decode(line: bytes) -> tuple[int, dict] | None:
    """(seq, op) of a complete, intact line; None for a torn or corrupt one."""
    if not line.endswith(b"\n"):
        return None
    try:
        seq_text, crc_text, payload = line[:-1].split(b"\t", 2)
        if zlib.crc32(payload) != int(crc_text, 16):
            return None
        return int(seq_text), json.loads(payload)
    except ValueError:
        return None


class Journal:
    """The journal in `folder` (created private on first use)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / JOURNAL_FILE

    @contextmanager
    def _locked(self):
        make_private_dir(self.folder)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, ops: list[dict]) -> int:
        """Append `ops` durably; the sequence number of the last one."""
        with self._locked():
            created = not self.path.exists()
            with open(self.path, "a+b") as out:
                end = self._repair_tail(out)
                seq = self._last_seq(out, end)
                data = bytearray()
                for op in ops:
                    seq += 1
                    data += _encode(seq, op)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if created:
                fsync_dir(self.folder)
            return seq

    def last_seq(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as f:
            return self._last_seq(f, f.seek(0, os.SEEK_END))

    def read_after(self, seq: int) -> Iterator[tuple[int, dict]]:
        """Intact entries with a sequence number above `seq`, in order."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for line in f:
                entry = _decode(line)
                if entry is None:
                    return  # a torn tail: nothing after it was acknowledged
                if entry[0] > seq:
                    yield entry

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    @staticmethod
    def _repair_tail(f) -> int:
        """Cut a torn last line (an append that never returned); the intact length."""
        end = f.seek(0, os.SEEK_END)
        if end == 0:
            return 0
        f.seek(end - 1)
        if f.read(1) == b"\n":
            return end
        start = max(0, end - _TAIL_CHUNK)
        while True:
            f.seek(start)
            chunk = f.read(end - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            if start == 0:
                keep = 0
                break
            start = max(0, start - _TAIL_CHUNK)
        f.truncate(keep)
        os.fsync(f.fileno())
        return keep

    @staticmethod
    def _last_seq(f, end: int) -> int:
        """The sequence number of the last intact line ending at `end`."""
        if end == 0:
            return 0
        start = max(0, end - _TAIL_CHUNK)
        while True:
            f.seek(start)
            chunk = f.read(end - start)
            cut = chunk.rfind(b"\n", 0, len(chunk) - 1)
            if cut >= 0 or start == 0:
                entry = _decode(chunk[cut + 1 :])
                if entry is None:
                    raise OSError(f"journal {f.name} is corrupt at its end")
                return entry[0]
            start = max(0, start - _TAIL_CHUNK)
