"""The corpus: Reuters-21578 as given, and scaled copies with rewritten ids."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

REUTERS = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "reuters21578.jsonl.gz"
)
# --quick: the first articles only, so CI can run the whole suite in about a minute.
QUICK_DOCUMENTS = 2000


def reuters_path(given: str | None) -> Path:
    path = Path(given) if given else REUTERS
    if not path.exists():
        alt = Path.cwd().parent / "shared" / "data" / "reuters21578.jsonl.gz"
        path = alt if alt.exists() else path
    if not path.exists():
        raise SystemExit(f"corpus not found: {path} (pass --corpus)")
    return path


def write_corpus(source: Path, target: Path, *, scale: int = 1, limit: int | None = None) -> int:
    """Write `scale` copies of `source` (ids suffixed after the first) to `target`."""
    lines = []
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                break
            lines.append(json.loads(line))
    count = 0
    with gzip.open(target, "wt", encoding="utf-8", compresslevel=1) as out:
        for copy in range(scale):
            for record in lines:
                if copy:
                    record = {**record, "id": f"{record['id']}-x{copy}"}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    return count
