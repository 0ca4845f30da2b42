"""`sift verify`: check the live index end to end, and remove what crashes left behind.

Whoosh opens a damaged index without complaint and serves whatever bytes it reads (a
flipped byte went unnoticed by 29 of 30 test queries). So verification reads everything:

- CURRENT names a generation that opens;
- every file the commit's TOC references exists with the size and CRC-32 recorded
  when it was committed (`checksums.json`, written by index/storage.py);
- every stored document decodes, ids are unique, and each resolves by id;
- the journal's segments are intact and ordered, and nothing applied is ahead of it.

Leftovers are reported and, with `repair`, removed: Whoosh files no commit references
(a writer killed mid-commit), temporary files of interrupted atomic writes, and
generation folders that are neither live nor the one kept for rollback. Repair takes
the reindex lock and then the writer lock, so it never removes a build in progress or
the files of a commit being written.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from index import generations, schema
from index.codec.storage import DurableFileStorage, committed_files
from index.journal import COMPACT_TMP
from index.storage import crc32_file, is_index_file, read_checksums

# Seconds `repair` waits for a running reindex or writer before giving up.
REPAIR_LOCK_WAIT_S = 30.0


@dataclass
class VerifyReport:
    generation: str | None = None
    documents: int = 0
    files_checked: int = 0
    pending_writes: int = 0
    problems: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(root: str | Path, *, repair: bool = False) -> VerifyReport:
    """Check the index at `root`; with `repair`, also remove leftovers."""
    root = Path(root)
    report = VerifyReport()
    name = generations.current_generation(root)
    report.generation = name
    if name is None:
        report.problems.append("no CURRENT generation: nothing has been indexed yet")
        return report
    path = generations.generation_path(root, name)
    if not path.is_dir():
        report.problems.append(f"CURRENT names generation {name}, whose folder is missing")
        return report
    _check_files(path, report)
    _check_documents(root, name, report)
    _check_journal(root, name, report)
    report.leftovers = leftovers(root)
    if repair and report.leftovers:
        report.removed = remove_leftovers(root)
        report.leftovers = leftovers(root)
    return report


def referenced_files(path: Path) -> set[str] | None:
    """Files the generation's latest TOC needs (the TOC included); None if unreadable."""
    try:
        ix = DurableFileStorage(str(path)).open_index()
        generation, segment_ids = committed_files(ix)
    except Exception:
        return None
    needed = {f"_{ix.indexname}_{generation}.toc"}
    for entry in os.listdir(path):
        if entry.split(".", 1)[0] in segment_ids:
            needed.add(entry)
    return needed


def _check_files(path: Path, report: VerifyReport) -> None:
    needed = referenced_files(path)
    if needed is None:
        report.problems.append(f"generation {path.name}: its table of contents cannot be read")
        return
    sums = read_checksums(path)
    for name in sorted(needed):
        file = path / name
        if not file.exists():
            report.problems.append(f"{path.name}/{name}: missing")
            continue
        recorded = sums.get(name)
        if recorded is None:
            continue  # committed before checksums were recorded: nothing to compare
        report.files_checked += 1
        size = file.stat().st_size
        if size != recorded["size"]:
            committed = recorded["size"]
            report.problems.append(f"{path.name}/{name}: {size} bytes, {committed} committed")
        elif crc32_file(file) != recorded["crc32"]:
            report.problems.append(f"{path.name}/{name}: checksum differs from the committed one")


def _check_documents(root: Path, name: str, report: VerifyReport) -> None:
    try:
        ix = generations.open_generation(root, name)
        try:
            with ix.searcher() as searcher:
                seen: set[str] = set()
                for stored in searcher.all_stored_fields():
                    doc_id = stored[schema.ID]
                    if doc_id in seen:
                        report.problems.append(f"document {doc_id!r} is stored twice")
                    seen.add(doc_id)
                    json.loads(stored.get(schema.META) or "{}")
                    if searcher.document_number(**{schema.ID: doc_id}) is None:
                        report.problems.append(f"document {doc_id!r} cannot be found by id")
                report.documents = len(seen)
                if searcher.doc_count() != len(seen):
                    report.problems.append(
                        f"the index counts {searcher.doc_count()} documents, {len(seen)} stored"
                    )
        finally:
            ix.close()
    except Exception as exc:  # any failure to read is what verify exists to report
        report.problems.append(f"reading the documents failed: {type(exc).__name__}: {exc}")


def _check_journal(root: Path, name: str, report: VerifyReport) -> None:
    journal = generations.journal(root)
    try:
        report.problems.extend(journal.check())
        applied = generations.read_applied(root, name)
        last = journal.last_seq()
    except (OSError, ValueError) as exc:
        report.problems.append(f"reading the journal failed: {exc}")
        return
    if applied > last:
        report.problems.append(f"generation {name} applied journal entry {applied}, last is {last}")
    report.pending_writes = sum(1 for _ in journal.read_after(applied))


def generation_leftovers(path: Path) -> list[str]:
    """Names in a generation folder that its latest commit does not need: files of a
    commit that was killed, Whoosh's `MAIN.tmp` and temporaries of atomic writes."""
    needed = referenced_files(path)
    found = []
    for entry in sorted(os.listdir(path)):
        temporary = entry.startswith(".") and entry.endswith(".tmp")
        unreferenced = needed is not None and is_index_file(entry) and entry not in needed
        if temporary or unreferenced:
            found.append(entry)
    return found


def clean_generation(root: Path, name: str) -> list[str]:
    """Remove a generation's leftovers; the caller holds the writer lock."""
    path = generations.generation_path(root, name)
    removed = generation_leftovers(path)
    for entry in removed:
        target = path / entry
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
    return removed


def leftovers(root: Path) -> list[str]:
    """Paths (relative to `root`) that no reader or writer needs. A build in progress
    shows up too (as a generation that is not live); `remove_leftovers` waits for it."""
    found = [p.name for p in root.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    journal_tmp = root / generations.JOURNAL_DIR / COMPACT_TMP
    if journal_tmp.exists():
        found.append(f"{generations.JOURNAL_DIR}/{COMPACT_TMP}")
    live = generations.current_generation(root)
    folder = generations.generations_dir(root)
    if not folder.exists():
        return found
    rollback = _rollback_generation(root, live)
    for path in sorted(folder.iterdir()):
        rel = f"{generations.GENERATIONS_DIR}/{path.name}"
        if path.name == live:
            found.extend(f"{rel}/{entry}" for entry in generation_leftovers(path))
        elif path.name != rollback:
            found.append(rel)
    return found


def _rollback_generation(root: Path, live: str | None) -> str | None:
    """The generation kept for rollback: the newest finished one before the live one."""
    finished = [
        path.name
        for path in generations.generations_dir(root).iterdir()
        if path.name != live and (path / "manifest.json").exists() and path.name < (live or "")
    ]
    return max(finished, default=None)


def remove_leftovers(root: Path) -> list[str]:
    """Remove `leftovers(root)` under the reindex and writer locks; what was removed."""
    removed = []
    with (
        generations.file_lock(root / generations.REINDEX_LOCK, wait_s=REPAIR_LOCK_WAIT_S),
        generations.writer_lock(root, wait_s=REPAIR_LOCK_WAIT_S),
    ):
        for rel in leftovers(root):
            target = root / rel
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
            removed.append(rel)
    return removed
