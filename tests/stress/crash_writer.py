"""A writer to be killed: journals batches of API writes and applies them, forever.

Run as `python -m tests.stress.crash_writer ROOT FIRST_NUMBER SEED`. For each batch it
appends to the journal (the acknowledgement point of the API) and prints the batch's
last sequence number, then applies everything pending (commits, Whoosh merges); every
fifth batch it also rewrites the live generation into one segment (a full merge). The
parent kills it with SIGKILL at a random moment and checks what survived.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from index import generations
from index.applier import apply_pending

# Ids are drawn from a small pool, so batches replace and delete earlier documents.
ID_POOL = 400


def batch(rng: random.Random, number: int) -> list[dict]:
    ops = []
    for _ in range(rng.randint(20, 60)):
        doc_id = f"crash-{rng.randrange(ID_POOL)}"
        if rng.random() < 0.2:
            ops.append({"op": "delete", "id": doc_id})
        else:
            token = f"zq{number}x{len(ops)}"
            text = f"Kestrel bulletin {token}: lorem ipsum dolor sit amet {doc_id}."
            ops.append({"op": "put", "doc": {"id": doc_id, "title": token, "text": text}})
    return ops


def full_merge(root: Path) -> None:
    with generations.writer_lock(root):
        name = generations.current_generation(root)
        ix = generations.open_generation(root, name)
        try:
            writer = ix.writer()
            try:
                writer.commit(optimize=True)
            except BaseException:
                generations.cancel_writer(writer)
                raise
        finally:
            ix.close()


def main() -> None:
    root, number, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    journal = generations.journal(root)
    while True:
        seq = journal.append(batch(rng, number))
        print(seq, flush=True)  # acknowledged: durable in the journal
        apply_pending(root, wait_s=10)
        if number % 5 == 4:
            full_merge(root)
        number += 1


if __name__ == "__main__":
    main()
