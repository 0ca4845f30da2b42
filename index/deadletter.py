"""Journal entries that cannot be applied, set aside so that later writes still are.

An entry whose document fails to be prepared or added to the index (a bug, or input the
checks did not foresee) would otherwise be retried forever, and every write journaled
after it would be acknowledged but never become searchable. Failed attempts are counted
per entry (in `deadletter-attempts.json`); after MAX_ATTEMPTS the entry goes to
`deadletter.jsonl` in the index folder, with its error, and is skipped from then on, by
the applier and by the replay of a reindex. `sift verify` lists what is there. The entry
itself stays in the journal: fix the document and write it again (a later write of the
same id supersedes it), then delete the file's line (or the file).

Failures that are not the entry's own (a full disk, an unreadable file) are never
counted: they fail every entry alike, and the applier retries them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from index.journal import op_id
from index.storage import fsync_dir, write_atomically

FILE = "deadletter.jsonl"
ATTEMPTS_FILE = "deadletter-attempts.json"
# Attempts before an entry is set aside: a transient failure (memory) gets another go,
# a deterministic one stops holding up the writes after it within seconds.
MAX_ATTEMPTS = 3
# Characters of the error kept with a set-aside entry.
MAX_ERROR_CHARS = 500


def set_aside_seqs(root: Path) -> set[int]:
    """Sequence numbers of the entries set aside."""
    return {entry["seq"] for entry in entries(root)}


def entries(root: Path) -> list[dict]:
    """The set-aside entries: {"seq", "id", "error", "at"} (and the put's record)."""
    try:
        lines = (Path(root) / FILE).read_text("utf-8").splitlines()
    except FileNotFoundError:
        return []
    found = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except ValueError:
            continue  # a line torn by a crash: its entry is retried and set aside again
    return found


def record_failure(root: Path, seq: int, op: dict, exc: BaseException, *, final: bool) -> bool:
    """Count a failed attempt at entry `seq` (caller holds the writer lock); True if it
    is now set aside (`final`: at once, as a replay does, which has no later try)."""
    root = Path(root)
    attempts = _attempts(root)
    tries = attempts.get(str(seq), 0) + 1
    if tries < MAX_ATTEMPTS and not final:
        attempts[str(seq)] = tries
        _write_attempts(root, attempts)
        return False
    error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    entry = {
        "seq": seq,
        "id": op_id(op),
        "error": error,
        "attempts": tries,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "record": op.get("doc"),
    }
    path = root / FILE
    created = not path.exists()
    with open(path, "ab") as out:
        out.write(json.dumps(entry, ensure_ascii=True).encode("ascii") + b"\n")
        out.flush()
        os.fsync(out.fileno())
    if created:
        fsync_dir(root)
    if attempts.pop(str(seq), None) is not None:
        _write_attempts(root, attempts)
    return True


def forget_attempts(root: Path, seqs: set[int]) -> None:
    """Drop the counts of entries now applied."""
    attempts = _attempts(Path(root))
    dropped = [attempts.pop(str(seq), None) for seq in seqs] if attempts else []
    if any(count is not None for count in dropped):
        _write_attempts(Path(root), attempts)


def _attempts(root: Path) -> dict[str, int]:
    try:
        data = json.loads((root / ATTEMPTS_FILE).read_text("ascii"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_attempts(root: Path, attempts: dict[str, int]) -> None:
    write_atomically(root / ATTEMPTS_FILE, json.dumps(attempts).encode("ascii"))
