"""The fsync helpers Sift shares, and the checksums each commit records.

Whoosh never calls fsync and keeps no checksums; index/codec/storage.py fences its commit
with these helpers. The journal and the generation pointer use them too.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
CHECKSUMS_FILE = "checksums.json"
# Files Sift keeps beside Whoosh's in a generation folder (not index data).
# A generation's stories (index/stories.py), and SQLite's rollback journal beside it.
STORIES_FILE = "stories.sqlite3"
STORY_BANDS_FILE = "stories-bands.pack"  # a full build's LSH bands (index/packed.py)
COLUMNS_DIR = "columns"  # index/columns.py
POSTINGS_DIR = "postings"  # index/codec/arrays.py
TABLES_DIR = "tables"  # search/tables.py: each version's tables, shared by the workers
LEXICON_FILE = "lexicon.pack"  # index/codec/lexicon.py: every segment's terms, at once
SIFT_FILES = frozenset(
    {
        CHECKSUMS_FILE,
        "manifest.json",
        "applied",
        STORIES_FILE,
        STORIES_FILE + "-journal",
        STORY_BANDS_FILE,
        COLUMNS_DIR,
        POSTINGS_DIR,
        TABLES_DIR,
        LEXICON_FILE,
    }
)
_CRC_CHUNK = 1 << 20


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
