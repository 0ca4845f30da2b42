"""Whoosh file storage that makes commits durable, and names Whoosh cannot repeat.

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
import secrets
from pathlib import Path

import whoosh.codec.base
import whoosh.filedb.compound
import whoosh.filedb.filestore
import whoosh.writing
from whoosh.filedb.filestore import FileStorage
from whoosh.util import IDCHARS

from index.storage import (
    CHECKSUMS_FILE,
    crc32_file,
    fsync_dir,
    fsync_file,
    is_index_file,
    read_checksums,
    write_atomically,
)


def _unpredictable_name(size: int = 28) -> str:
    return "".join(secrets.choice(IDCHARS) for _ in range(size))


for _module in (whoosh.codec.base, whoosh.filedb.filestore, whoosh.filedb.compound, whoosh.writing):
    _module.random_name = _unpredictable_name


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


def committed_files(ix) -> tuple[int, set[str]]:
    """(TOC generation, segment ids) of an index's latest commit, from Whoosh's own TOC."""
    toc = ix._read_toc()
    return toc.generation, {segment.segment_id() for segment in toc.segments}
