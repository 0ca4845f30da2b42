"""`sift reindex`: build a new generation from files, replay API writes, validate, switch.

A full build reads every input; `incremental=True` starts from a hard-linked copy of the
live generation and re-reads only files added, changed or removed since it was built
(by size and modification time). Either way the live generation keeps serving until the
new one is complete and checked, and any failure leaves it serving.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from index import columns, generations, schema, stories
from index.applier import PUT, commit_ops, last_entry_per_id
from index.codec import lexicon, merging
from index.journal import op_id
from index.pipeline import ParallelAdder, collector_paused
from index.readers import InputError, input_files, read_file
from index.storage import POSTINGS_DIR, make_private_dir
from index.validate import DEFAULT_LIMITS, Limits
from index.workers import Beside, default_workers

Progress = Callable[[int], None]


class ReindexFailed(Exception):
    """The build could not complete; the previous generation is still serving."""


@dataclass
class ReindexReport:
    generation: str | None = None
    switched: bool = False
    documents: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    api_writes_replayed: int = 0
    errors: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what readers skipped inside files
    seconds: float = 0.0
    # Seconds per phase, in order: "copy" (an incremental build's hard links), "documents"
    # (reading, extraction, analysis, segments: in worker processes), "commit", "stories"
    # (assigned in build order: one process), "replay" (API writes made meanwhile),
    # "columns" (index/columns.py), "lexicon" (index/codec/lexicon.py: written meanwhile,
    # this is the wait for it after the columns), "switch" (checking, switching).
    phases: dict[str, float] = field(default_factory=dict)


@contextmanager
def _phase(report: ReindexReport, name: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        report.phases[name] = report.phases.get(name, 0.0) + time.monotonic() - started


def reindex(
    root: str | Path,
    paths: Iterable[str | Path],
    *,
    incremental: bool = False,
    progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ReindexReport:
    """Build and switch in a new generation from `paths`; see the module docstring.

    `limits`: the input caps (index/validate.py); a record over them is reported and
    skipped like any unreadable one."""
    root = make_private_dir(root)
    started = time.monotonic()
    with generations.file_lock(root / generations.REINDEX_LOCK, wait_s=None):
        live = generations.current_generation(root)
        keep = {live} if live else set()
        generations.remove_stale_generations(root, keep=keep)  # partial builds of crashed runs
        name = generations.new_generation_name()
        report = ReindexReport(generation=name)
        try:
            if incremental and live:
                _build_incremental(root, live, name, paths, report, progress, limits)
            else:
                _build_full(root, name, paths, report, progress, limits)
        except BaseException as exc:
            shutil.rmtree(generations.generation_path(root, name), ignore_errors=True)
            if isinstance(exc, generations.IndexBusy | KeyboardInterrupt):
                raise
            if isinstance(exc, OSError | RuntimeError):
                reason = "disk full" if generations.is_disk_full(exc) else str(exc)
                raise ReindexFailed(
                    f"reindex failed, previous index still serving: {reason}"
                ) from exc
            raise
        if not report.switched:
            shutil.rmtree(generations.generation_path(root, name), ignore_errors=True)
            return report
        generations.remove_stale_generations(root, keep={name} | keep)
        report.seconds = time.monotonic() - started
        return report


def _signature(path: Path) -> dict:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class _Ids:
    """Ids seen in this build, to report duplicates instead of indexing twice."""

    def __init__(self, taken: dict[str, str] | None = None):
        self.origin: dict[str, str] = dict(taken or {})

    def claim(self, doc_id: str, where: str) -> InputError | None:
        first = self.origin.get(doc_id)
        if first is not None:
            return InputError(where, f"duplicate id {doc_id!r} (first seen in {first})")
        self.origin[doc_id] = where
        return None


def _index_files(
    writer,
    files: list[Path],
    ids: _Ids,
    manifest: generations.Manifest,
    report: ReindexReport,
    progress: Progress | None,
    limits: Limits,
) -> stories.Entries:
    """Read every document of `files` in order; extract, analyse and add them in worker
    processes (index/pipeline.py); the story entries of those added."""
    adder = ParallelAdder(writer, writer.storage.folder, progress=progress)
    with collector_paused():
        try:
            for path in files:
                key = str(path.resolve())
                entry = {**_signature(path), "ids": []}
                try:
                    for raw in read_file(path, report.notes.append, limits):
                        where = raw.origin or str(path)
                        problem = ids.claim(raw.id, where)
                        if problem:
                            report.errors.append(problem)
                            continue
                        adder.add(raw)
                        entry["ids"].append(raw.id)
                except InputError as exc:
                    report.errors.append(exc)
                manifest.files[key] = entry
                report.files_read += 1
            adder.close()
        except BaseException:
            adder.cancel()
            raise
    return adder.entries


def _build_full(
    root: Path,
    name: str,
    paths: Iterable[str | Path],
    report: ReindexReport,
    progress: Progress | None,
    limits: Limits,
) -> None:
    manifest = generations.Manifest(generation=name, inputs=[str(p) for p in paths])
    try:
        files = input_files(paths)
    except InputError as exc:
        report.errors.append(exc)
        return
    ix = generations.create_generation(root, name)
    try:
        writer = ix.writer(limitmb=generations.BUILD_MEMORY_MB)
        try:
            ids = _Ids()
            with _phase(report, "documents"):
                entries = _index_files(writer, files, ids, manifest, report, progress, limits)
            if report.errors:
                writer.cancel()
                return
            with _phase(report, "commit"):
                writer.commit(merge=False)  # its segments are sized to keep (pipeline.py)
        except BaseException:
            generations.cancel_writer(writer)
            raise
        with _phase(report, "stories"):
            stories.assign_all(ix.storage.folder, entries)
    finally:
        ix.close()
    present = set(ids.origin)
    count = len(entries)
    _replay_and_switch(root, name, manifest, report, count, present.__contains__, since=0)


def _build_incremental(
    root: Path,
    live: str,
    name: str,
    paths: Iterable[str | Path],
    report: ReindexReport,
    progress: Progress | None,
    limits: Limits,
) -> None:
    old = generations.read_manifest(root, live)
    try:
        files = input_files(paths)
    except InputError as exc:
        report.errors.append(exc)
        return
    current = {str(p.resolve()): p for p in files}
    changed = [
        p
        for key, p in current.items()
        if key not in old["files"]
        or _signature(p) != {k: old["files"][key][k] for k in ("size", "mtime_ns")}
    ]
    stale_keys = [key for key in old["files"] if key not in current or current[key] in changed]
    report.files_removed = sum(key not in current for key in old["files"])
    report.files_unchanged = len(current) - len(changed)

    with generations.writer_lock(root), _phase(report, "copy"):
        since = generations.read_applied(root, live)
        _link_copy(generations.generation_path(root, live), generations.generation_path(root, name))

    manifest = generations.Manifest(
        generation=name,
        inputs=[str(p) for p in paths],
        files={key: entry for key, entry in old["files"].items() if key not in stale_keys},
    )
    taken = {doc_id: key for key, entry in manifest.files.items() for doc_id in entry["ids"]}
    stale_ids = {doc_id for key in stale_keys for doc_id in old["files"][key]["ids"]}

    ix = generations.open_generation(root, name)
    try:
        with ix.searcher() as searcher:
            base = searcher.doc_count()
            removed = sum(searcher.document_number(id=doc_id) is not None for doc_id in stale_ids)
        writer = ix.writer(limitmb=generations.BUILD_MEMORY_MB)
        try:
            for doc_id in stale_ids:
                writer.delete_by_term(schema.ID, doc_id)
            ids = _Ids(taken)
            with _phase(report, "documents"):
                entries = _index_files(writer, changed, ids, manifest, report, progress, limits)
            if report.errors:
                writer.cancel()
                return
            with _phase(report, "commit"):
                writer.commit(mergetype=merging.tiered)
        except BaseException:
            generations.cancel_writer(writer)
            raise
    finally:
        ix.close()
    new_ids = {doc_id for path in changed for doc_id in manifest.files[str(path.resolve())]["ids"]}
    with (
        _phase(report, "stories"),
        stories.StoryIndex(generations.generation_path(root, name)) as index,
    ):
        index.remove(stale_ids - new_ids)
        index.add_all(entries.in_build_order())
    # Documents now present: kept ones (in the copy, minus stale) and the re-read ones.
    ix = generations.open_generation(root, name)
    try:
        with ix.searcher() as searcher:

            def present(doc_id: str) -> bool:
                return doc_id in new_ids or searcher.document_number(id=doc_id) is not None

            _replay_and_switch(
                root,
                name,
                manifest,
                report,
                base - removed + len(new_ids),
                present,
                since=since,
                reapply=stale_ids | new_ids,
            )
    finally:
        ix.close()


def _replay_and_switch(
    root: Path,
    name: str,
    manifest: generations.Manifest,
    report: ReindexReport,
    count: int,
    present: Callable[[str], bool],
    *,
    since: int,
    reapply: set[str] = frozenset(),
) -> None:
    """Under the writer lock: replay API writes the new generation lacks, validate, switch.

    `reapply`: ids whose files were re-read; their latest API write must win again.
    """
    journal = generations.journal(root)
    with generations.writer_lock(root):
        entries = list(journal.read_after(0))
        todo = [entry for entry in entries if entry[0] > since or op_id(entry[1]) in reapply]
        ops = last_entry_per_id(todo)
        applied = []
        if ops:
            with _phase(report, "replay"):  # API writes made while building
                applied = commit_ops(root, name, ops, replay=True)
        for _, op in applied:  # set-aside entries (index/deadletter.py) change nothing
            count += (op["op"] == PUT) - present(op_id(op))
        generations.write_applied(root, name, entries[-1][0] if entries else 0)
        manifest.documents = count
        manifest.built = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        manifest.write(root)
        path = generations.generation_path(root, name)
        # The lexicon needs only the committed segments, the columns also the stories:
        # the lexicon is written by a forked process while the columns are (alone, its
        # one process left a core idle for 21 s at a million articles). "lexicon" is the
        # wait for it once the columns are written.
        lexicon_written = Beside(lambda: lexicon.ensure(path))
        try:
            with _phase(report, "columns"):
                columns.ensure(path, workers=default_workers())
            with _phase(report, "lexicon"):
                lexicon_written.result()
        finally:
            lexicon_written.stop()
        lexicon.forget(path)
        with _phase(report, "switch"):
            generations.validate(root, name, count)
            generations.switch_to(root, name)
    report.api_writes_replayed = len(applied)
    report.documents = count
    report.switched = True


def _link_copy(source: Path, target: Path) -> None:
    """Copy a generation by hard links: Whoosh never rewrites a file in place.

    Lock files are not linked: an flock belongs to the inode, so a shared one would make
    writers of the two generations wait for each other. The stories file is copied: SQLite
    does rewrite its file in place. Segment columns (index/columns.py) and posting arrays
    (index/codec/arrays.py) are linked too.
    """
    make_private_dir(target)
    for entry in source.iterdir():
        if entry.name == stories.FILE:
            shutil.copyfile(entry, target / entry.name)
        elif entry.is_file() and not entry.name.upper().endswith("LOCK"):
            os.link(entry, target / entry.name)
        elif entry.name in (columns.FOLDER, POSTINGS_DIR):  # never rewritten in place
            (target / entry.name).mkdir()
            for file in entry.iterdir():
                if not file.name.startswith("."):
                    os.link(file, target / entry.name / file.name)
