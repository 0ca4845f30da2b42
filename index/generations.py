"""Index generations: build a complete index beside the live one, validate it, switch.

Layout of the index folder (private: Whoosh files are pickles, so whoever can write here
can run code in the server):

    CURRENT                 {"generation": NAME}: the one pointer, replaced atomically
    generations/NAME/       a complete Whoosh index + manifest.json + applied (journal seq)
    journal/                API writes (index/journal.py)
    reindex.lock            held by the one reindex that may run
    writer.lock             held while a generation is written or switched

Readers follow CURRENT and never see a half-built generation. A failed, interrupted or
disk-full build leaves CURRENT untouched; its partial folder is removed then or by the
next build.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.index import FileIndex

from index import schema
from index.codec.storage import DurableFileStorage
from index.journal import Journal
from index.storage import fsync_dir, make_private_dir, write_atomically

log = logging.getLogger(__name__)

CURRENT_FILE = "CURRENT"
GENERATIONS_DIR = "generations"
JOURNAL_DIR = "journal"
MANIFEST_FILE = "manifest.json"
APPLIED_FILE = "applied"
REINDEX_LOCK = "reindex.lock"
WRITER_LOCK = "writer.lock"

# How long a writer waits for another writer (the API's applier, a reindex's switch).
WRITER_LOCK_WAIT_S = 60.0
# Whoosh buffers this much before flushing a segment during a build.
BUILD_MEMORY_MB = 256


class IndexBusy(Exception):
    """Another process holds a lock this operation needs."""


class NoIndex(Exception):
    """No generation has been switched in yet."""


@dataclass(frozen=True)
class Version:
    """What a searcher was opened on: our generation name plus Whoosh's commit number.

    Whoosh's own number alone is not enough: two generations can share it.
    """

    generation: str
    commit: int


def generations_dir(root: Path) -> Path:
    return root / GENERATIONS_DIR


def journal(root: Path) -> Journal:
    return Journal(root / JOURNAL_DIR)


def current_generation(root: Path) -> str | None:
    """The live generation's name, or None before the first build."""
    try:
        data = json.loads((root / CURRENT_FILE).read_text("utf-8"))
    except FileNotFoundError:
        return None
    return data["generation"]


def generation_path(root: Path, name: str) -> Path:
    return generations_dir(root) / name


def open_generation(root: Path, name: str) -> FileIndex:
    return DurableFileStorage(str(generation_path(root, name))).open_index()


def open_current(root: Path) -> tuple[str, FileIndex]:
    """The live generation and its open Whoosh index; NoIndex if there is none."""
    for _ in range(3):
        name = current_generation(root)
        if name is None:
            raise NoIndex(str(root))
        try:
            return name, open_generation(root, name)
        except FileNotFoundError:
            continue  # switched and cleaned up between the two reads: read CURRENT again
    raise NoIndex(str(root))


def current_version(root: Path, name: str, ix: FileIndex) -> Version:
    return Version(name, ix.latest_generation())


def read_manifest(root: Path, name: str) -> dict:
    return json.loads((generation_path(root, name) / MANIFEST_FILE).read_text("utf-8"))


def read_applied(root: Path, name: str) -> int:
    try:
        return int((generation_path(root, name) / APPLIED_FILE).read_text("ascii"))
    except FileNotFoundError:
        return 0


def write_applied(root: Path, name: str, seq: int) -> None:
    write_atomically(generation_path(root, name) / APPLIED_FILE, b"%d" % seq)


@contextmanager
def file_lock(path: Path, *, wait_s: float | None) -> Iterator[None]:
    """An exclusive flock on `path`; IndexBusy if not had within `wait_s` (None: no wait).

    The kernel drops the lock when the holder dies, so a killed process never leaves it.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + (wait_s or 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(path.name) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)


def writer_lock(root: Path, wait_s: float | None = WRITER_LOCK_WAIT_S):
    return file_lock(root / WRITER_LOCK, wait_s=wait_s)


def new_generation_name() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"g{stamp}-{secrets.token_hex(3)}"


def create_generation(root: Path, name: str) -> FileIndex:
    path = generation_path(root, name)
    make_private_dir(path)
    fsync_dir(path.parent)
    return DurableFileStorage(str(path)).create_index(schema.build_schema())


def switch_to(root: Path, name: str) -> None:
    """Make `name` the live generation: one atomic, durable pointer replacement."""
    payload = {
        "generation": name,
        "switched": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_atomically(root / CURRENT_FILE, json.dumps(payload).encode())


def remove_stale_generations(root: Path, keep: set[str]) -> list[str]:
    """Remove every generation folder but `keep`: partial builds and superseded ones.

    Searchers still reading a removed generation keep their open files (POSIX unlink
    semantics) until they reopen on the new one.
    """
    removed = []
    folder = generations_dir(root)
    if not folder.exists():
        return removed
    for path in sorted(folder.iterdir()):
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def cancel_writer(writer) -> None:
    """Cancel a failed Whoosh writer and free its lock even if cancel itself fails.

    Whoosh's `cancel()` writes files, so on a full disk it raises and keeps the lock.
    """
    try:
        writer.cancel()
    except Exception:
        log.exception("cancelling a failed index writer")
        lock = getattr(writer, "writelock", None)
        if lock is not None:
            lock.release()


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


@dataclass
class Manifest:
    """What a generation was built from: counted, so validation can check it."""

    generation: str
    documents: int = 0
    files: dict[str, dict] = field(default_factory=dict)  # path -> {size, mtime_ns, ids}
    inputs: list[str] = field(default_factory=list)
    built: str = ""
    seconds: float = 0.0

    def write(self, root: Path) -> None:
        data = json.dumps(self.__dict__, ensure_ascii=False, indent=1).encode("utf-8")
        write_atomically(generation_path(root, self.generation) / MANIFEST_FILE, data)


def validate(
    root: Path, name: str, expected_documents: int, probe: Callable[[FileIndex], None] | None = None
) -> None:
    """Open a finished generation as a reader would and check it holds what was built."""
    ix = open_generation(root, name)
    try:
        with ix.searcher() as searcher:
            found = searcher.doc_count()
            if found != expected_documents:
                raise RuntimeError(
                    f"generation {name} holds {found} documents, expected {expected_documents}"
                )
            for stored in searcher.all_stored_fields():
                if searcher.document_number(id=stored[schema.ID]) is None:
                    raise RuntimeError(
                        f"generation {name}: document {stored[schema.ID]!r} not findable"
                    )
                break
        if probe:
            probe(ix)
    finally:
        ix.close()
