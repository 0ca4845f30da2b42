"""Whoosh file storage that makes commits durable, and the fsync helpers Sift shares.

Whoosh never calls fsync. It commits by writing segment files, then renaming a temporary
TOC into place; that rename is the only `rename_file` call a commit makes. So fsyncing
every file in the folder before that rename and the folder after it gives Lucene's
promise: once `commit()` returns, the generation survives a power loss.
"""

from __future__ import annotations

import os
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

PRIVATE_DIR_MODE = 0o700


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


class DurableFileStorage(FileStorage):
    """FileStorage whose TOC rename (the commit point) is fenced by fsyncs."""

    def rename_file(self, oldname, newname, safe=False):
        folder = Path(self.folder)
        for entry in folder.iterdir():
            if entry.is_file() and not entry.name.endswith(".lock"):
                fsync_file(entry)
        super().rename_file(oldname, newname, safe=safe)
        fsync_dir(folder)
