"""Adversarial texts for extraction, and what extracting them costs per KB.

Each family repeats one pattern that once made a step of `index/extract/` quadratic or
worse. `python -m benchmarks.hostile` extracts each family at 10, 50 and 200 KB and
prints the median seconds per KB: a linear step shows the same figure at every size.
"""

from __future__ import annotations

import statistics
import sys
import time

from index.documents import RawDocument
from index.extract import extract

SIZES_KB = (10, 50, 200)
REPEATS = 3


def _fill(unit: str, size: int, head: str = "", tail: str = "") -> str:
    body = unit * (max(0, size - len(head) - len(tail)) // len(unit) + 1)
    return head + body[: max(0, size - len(head) - len(tail))] + tail


# family -> text of about `size` characters
FAMILIES = {
    # `<!--` never closed: each one scanned the rest of the page for `-->`.
    "unclosed-comments": lambda size: _fill("<!--", size, "<p>", "</p>"),
    # `<script>` never closed, likewise.
    "unclosed-scripts": lambda size: _fill("<script>x ", size, "<p>", "</p>"),
    # A sentence-initial word found only inside other words: each lookup read the text.
    "sentence-initial-words": lambda size: _fill("Zorb xzorbx. ", size),
    # Role modifiers without a role: each word started a scan of the rest of the run.
    "role-modifiers": lambda size: _fill("Foreign ", size, "Said ", " Smith."),
    # A hyphenated capitalised run at the start of a prose line (dateline-like).
    "hyphenated-dateline": lambda size: _fill(
        "A-", size, "", "B and then the rest of the line is written in lower case words"
    ),
    # A header line of punctuation ending in a letter (three adjacent optional runs).
    "punctuation-header": lambda size: _fill("-", min(size, 990), "", "x"),
    # A long line of dotted words printed twice (a removed line searched for domains).
    "dotted-duplicate-line": lambda size: (
        _fill("a1.", size // 2 - 1) + "\n" + _fill("a1.", size // 2 - 1)
    ),
    # Many short Title Case headline lines, each a span every run was checked against.
    "headline-lines": lambda size: "".join(
        f"NATO Chief Says Leaders Will Act On Item {n:06x}\n" for n in range(size // 48 + 1)
    )[:size],
}


def extraction_seconds(text: str, repeats: int = REPEATS) -> float:
    """Median CPU seconds to extract one document with `text` (a busy machine moves wall
    time, not this)."""
    times = []
    for n in range(repeats):
        raw = RawDocument(id=f"hostile-{n}", text=text)
        started = time.process_time()
        extract(raw)
        times.append(time.process_time() - started)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    families = argv or list(FAMILIES)
    extract(RawDocument(id="warm", text="Warm up the lexicon. NATO said so."))
    sizes = " ".join(f"{kb:>9} KB" for kb in SIZES_KB)
    print(f"{'family':24} {sizes}   (CPU ms per KB, median of {REPEATS})")
    for name in families:
        cells = []
        for kb in SIZES_KB:
            text = FAMILIES[name](kb * 1024)
            seconds = extraction_seconds(text)
            cells.append(f"{1000 * seconds / kb:12.3f}")
        print(f"{name:24} " + " ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
