"""Whoosh file storage that makes commits durable, and the fsync helpers Sift shares.

Whoosh never calls fsync. It commits by writing segment files, then renaming a temporary
TOC into place; that rename is the only `rename_file` call a commit makes. So fsyncing
every file in the folder before that rename and the folder after it gives Lucene's
promise: once `commit()` returns, the generation survives a power loss.

Whoosh names new files (segments, temporary runs) with the process-wide `random` module,
so anything that seeds it (a library, a test framework: Hypothesis does, per example)
makes it pick names it already used; the next commit then fails an assertion or
overwrites live files. Sift gives Whoosh names from `secrets` instead.

Whoosh has no checksums either (a flipped byte is read as data). At the same moment,
before the rename, the storage records the size and CRC-32 of every index file in
`checksums.json`: Whoosh never rewrites a file in place, so only new files are read,
once, and `sift verify` (index/verify.py) can later tell a damaged file from a good one.
"""

from __future__ import annotations

import json
import os
import secrets
import zlib
from pathlib import Path

import whoosh.codec.base
import whoosh.filedb.compound
import whoosh.filedb.filestore
import whoosh.writing
from whoosh.filedb.filestore import FileStorage
from whoosh.util import IDCHARS

PRIVATE_DIR_MODE = 0o700
CHECKSUMS_FILE = "checksums.json"
# Files Sift keeps beside Whoosh's in a generation folder (not index data).
SIFT_FILES = frozenset({CHECKSUMS_FILE, "manifest.json", "applied"})
_CRC_CHUNK = 1 << 20


def _unpredictable_name(size: int = 28) -> str:
    return "".join(secrets.choice(IDCHARS) for _ in range(size))


for _module in (whoosh.codec.base, whoosh.filedb.filestore, whoosh.filedb.compound, whoosh.writing):
    _module.random_name = _unpredictable_name


def fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | Path) -> None:
    """Persist a folder's entries (new, renamed and removed names)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private_dir(path: str | Path) -> Path:
    """Create `path` (and parents) readable by its owner only: index files are pickles."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    path.chmod(PRIVATE_DIR_MODE)
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new bytes, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def crc32_file(path: str | Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CRC_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def is_index_file(name: str) -> bool:
    """A Whoosh data file (not a lock, a hidden temporary or one of Sift's own)."""
    return not (name.startswith(".") or name.upper().endswith("LOCK") or name in SIFT_FILES)


def read_checksums(folder: str | Path) -> dict[str, dict]:
    """{file name: {"size", "crc32"}} as recorded at the last commit; {} if none."""
    try:
        return json.loads((Path(folder) / CHECKSUMS_FILE).read_text("utf-8"))
    except FileNotFoundError:
        return {}


class DurableFileStorage(FileStorage):
    """FileStorage whose TOC rename (the commit point) is fenced by fsyncs and checksums."""

    def rename_file(self, oldname, newname, safe=False):
        folder = Path(self.folder)
        known = read_checksums(folder)
        sums = {}
        for entry in folder.iterdir():
            if not (entry.is_file() and is_index_file(entry.name)):
                continue
            fsync_file(entry)
            name = newname if entry.name == oldname else entry.name
            size = entry.stat().st_size
            recorded = known.get(name)
            if recorded is None or recorded["size"] != size:
                recorded = {"size": size, "crc32": crc32_file(entry)}
            sums[name] = recorded
        write_atomically(folder / CHECKSUMS_FILE, json.dumps(sums, sort_keys=True).encode())
        super().rename_file(oldname, newname, safe=safe)
        fsync_dir(folder)
