"""The write-ahead journal: every accepted API write, durable before it is acknowledged.

A folder of segment files named by the first sequence number they may hold
(`00000000000000000001.log`, ...), each a run of lines `SEQ<TAB>CRC32<TAB>JSON`. Appends
go to the last (active) segment under an exclusive lock: write, fsync, and only then
does the API answer. A crash can tear the last line: readers stop at the first line
that fails its checksum, and the next append cuts it off (it was never acknowledged,
because its fsync never returned).

The journal is also the record of API writes across reindexes: a new generation built
from files gets the journal replayed onto it before it goes live. So it is never simply
truncated; it is kept bounded instead:

- the active segment is closed once it passes SEGMENT_BYTES, and a reader looking for
  entries after a sequence number opens only the segments that can hold them;
- `compact()` rewrites the closed segments as the latest op per document id (older
  ops for an id are superseded: replaying the latest one alone gives the same index),
  so the journal stays about as large as the set of documents written over HTTP.

Compaction writes its result under the name of the *last* closed segment and only
then unlinks the earlier ones. Every entry in a segment therefore stays below the next
segment's first number, and a crash half way leaves duplicates, never gaps: readers
skip any entry whose number is not above the last one they returned.
"""

from __future__ import annotations

import fcntl
import json
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from index.storage import fsync_dir, make_private_dir

SUFFIX = ".log"
LOCK_FILE = "journal.lock"
LEGACY_FILE = "journal.log"  # the one-file journal of Sift 0.1, adopted as a segment
COMPACT_TMP = ".compact.tmp"
# Size at which the active segment is closed and a new one started: bounds what an
# applier scans to find the entries it lacks.
SEGMENT_BYTES = 4 << 20
_TAIL_CHUNK = 1 << 16
_DIGITS = 20


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


def _seq_of(line: bytes) -> int | None:
    """The sequence number a line starts with, without checking the rest."""
    tab = line.find(b"\t")
    try:
        return int(line[:tab]) if tab > 0 else None
    except ValueError:
        return None


def segment_name(start: int) -> str:
    return f"{start:0{_DIGITS}d}{SUFFIX}"


def op_id(op: dict) -> str:
    """The document id an op is about (put: the document's; delete: the one given)."""
    return op["doc"]["id"] if op["op"] == "put" else op["id"]


class JournalCorrupt(OSError):
    """An intact journal line is followed by garbage that is not a torn tail."""


class Journal:
    """The journal in `folder` (created private on first use)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    # -- locking and segments -------------------------------------------------------------

    @contextmanager
    def _locked(self, mode: int = fcntl.LOCK_EX):
        make_private_dir(self.folder)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def segments(self) -> list[tuple[int, Path]]:
        """(first possible seq, path) of every segment, oldest first."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            stem = name[: -len(SUFFIX)]
            if name.endswith(SUFFIX) and len(stem) == _DIGITS and stem.isdigit():
                found.append((int(stem), self.folder / name))
        if not found and LEGACY_FILE in names:
            found.append((1, self.folder / LEGACY_FILE))  # renamed by the next append
        return sorted(found)

    def _adopt_legacy(self) -> None:
        legacy = self.folder / LEGACY_FILE
        if self.segments() == [(1, legacy)]:
            os.replace(legacy, self.folder / segment_name(1))
            fsync_dir(self.folder)

    # -- writing --------------------------------------------------------------------------

    def append(self, ops: list[dict]) -> int:
        """Append `ops` durably; the sequence number of the last one."""
        with self._locked():
            self._adopt_legacy()
            segments = self.segments() or [(1, self.folder / segment_name(1))]
            start, path = segments[-1]
            created = not path.exists()
            with open(path, "a+b") as active:
                end = _repair_tail(active)
                seq = _last_seq(active, end) if end else start - 1
                if end < SEGMENT_BYTES:
                    return self._write(active, seq, ops, created)
            with open(self.folder / segment_name(seq + 1), "a+b") as fresh:
                return self._write(fresh, seq, ops, created=True)

    def _write(self, out, seq: int, ops: list[dict], created: bool) -> int:
        data = bytearray()
        for op in ops:
            seq += 1
            data += _encode(seq, op)
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
        if created:
            fsync_dir(self.folder)  # a new segment's name must survive a crash too
        return seq

    # -- reading --------------------------------------------------------------------------

    def _open_from(self, seq: int) -> list:
        """Open the segments that may hold entries above `seq` (under the shared lock,
        so that compaction cannot remove one between listing and opening)."""
        with self._locked(fcntl.LOCK_SH):
            segments = self.segments()
            files = []
            for i, (_, path) in enumerate(segments):
                following = segments[i + 1][0] if i + 1 < len(segments) else None
                if following is not None and following <= seq + 1:
                    continue  # every entry here is below `following`
                files.append(open(path, "rb"))  # noqa: SIM115 (closed by the reader)
            return files

    def read_after(self, seq: int) -> Iterator[tuple[int, dict]]:
        """Intact entries with a sequence number above `seq`, in order."""
        files = self._open_from(seq)
        try:
            last = seq
            for f in files:
                for line in f:
                    number = _seq_of(line)
                    if number is not None and number <= last and line.endswith(b"\n"):
                        continue  # before what we want, or a duplicate left by compaction
                    entry = _decode(line)
                    if entry is None:
                        return  # a torn tail: nothing after it was acknowledged
                    last = entry[0]
                    yield entry
        finally:
            for f in files:
                f.close()

    def read_batch(self, seq: int, limit: int) -> list[tuple[int, dict]]:
        """At most `limit` entries above `seq` (the segments closed again at once)."""
        reader = self.read_after(seq)
        try:
            return list(islice(reader, limit))
        finally:
            reader.close()

    def last_seq(self) -> int:
        segments = self.segments()
        if not segments:
            return 0
        start, path = segments[-1]
        with open(path, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            return _last_seq(f, end) if end else start - 1

    def state(self) -> tuple[str, int] | None:
        """A cheap token that changes whenever an entry is appended (None: empty)."""
        segments = self.segments()
        if not segments:
            return None
        path = segments[-1][1]
        try:
            return path.name, path.stat().st_size
        except FileNotFoundError:
            return None

    def size(self) -> int:
        return sum(path.stat().st_size for _, path in self.segments())

    # -- compaction -----------------------------------------------------------------------

    def needs_compaction(self) -> bool:
        """True when the closed segments after the first outweigh it (so compaction's
        cost, rewriting everything closed, stays proportional to what was appended)."""
        closed = self.segments()[:-1]
        if len(closed) < 2:
            return False
        sizes = [path.stat().st_size for _, path in closed]
        return sum(sizes[1:]) >= max(sizes[0], SEGMENT_BYTES)

    def compact(self) -> int:
        """Rewrite the closed segments as the latest op per id; entries dropped."""
        closed = self.segments()[:-1]
        if not closed:
            return 0
        latest: dict[str, tuple[int, dict]] = {}
        read = 0
        last = 0
        for _, path in closed:
            with open(path, "rb") as f:
                for line in f:
                    entry = _decode(line)
                    if entry is None:
                        raise JournalCorrupt(f"journal segment {path.name} has a damaged line")
                    if entry[0] <= last:
                        continue
                    last = entry[0]
                    read += 1
                    doc_id = op_id(entry[1])
                    latest.pop(doc_id, None)
                    latest[doc_id] = entry
        tmp = self.folder / COMPACT_TMP
        with open(tmp, "wb") as out:
            for seq, op in sorted(latest.values(), key=lambda entry: entry[0]):
                out.write(_encode(seq, op))
            out.flush()
            os.fsync(out.fileno())
        with self._locked():
            os.replace(tmp, closed[-1][1])
            fsync_dir(self.folder)
            for _, path in closed[:-1]:
                path.unlink()
            fsync_dir(self.folder)
        return read - len(latest)

    def check(self) -> list[str]:
        """Problems found reading every segment (for `sift verify`)."""
        problems = []
        segments = self.segments()
        for i, (_, path) in enumerate(segments):
            following = segments[i + 1][0] if i + 1 < len(segments) else None
            with open(path, "rb") as f:
                lines = f.readlines()
            previous = 0
            for number, line in enumerate(lines, 1):
                entry = _decode(line)
                where = f"journal {path.name} line {number}"
                if entry is None:
                    if following is not None or number < len(lines):
                        problems.append(f"{where}: damaged")
                    break  # else a torn tail, cut by the next append
                if entry[0] <= previous:
                    problems.append(f"{where}: sequence number out of order")
                if following is not None and entry[0] >= following:
                    problems.append(f"{where}: sequence number beyond its segment")
                previous = entry[0]
        return problems


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


def _last_seq(f, end: int) -> int:
    """The sequence number of the last complete line ending at `end`."""
    start = max(0, end - _TAIL_CHUNK)
    while True:
        f.seek(start)
        chunk = f.read(end - start)
        cut = chunk.rfind(b"\n", 0, len(chunk) - 1)
        if cut >= 0 or start == 0:
            number = _seq_of(chunk[cut + 1 :])
            if number is None:
                raise JournalCorrupt(f"journal {f.name} is corrupt at its end")
            return number
        start = max(0, start - _TAIL_CHUNK)
