"""Hostile input files through the real `sift reindex`: each reported by path and line,
the others still read, no traceback, a non-zero exit and the previous index serving."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from index import generations
from index.readers import InputError, read_file
from index.validate import Limits
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import DATA, ROOT

GOOD = {"id": "good-1", "text": "Zebras crossed the Limpopo river on Tuesday."}


def sift(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "sift"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def _lines(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def hostile_folder(folder):
    """Good files and one hostile file of each family; {file name: line (or "")}."""
    folder.mkdir()
    (folder / "good.jsonl").write_text(_lines(GOOD, {"id": "good-2", "text": "More zebras."}))
    (folder / "plain.txt").write_text("A plain article about zebras.\n")
    bad = {
        "surrogate.jsonl": _lines(
            GOOD | {"id": "s1"}, '{"id": "s2", "text": "x", "title": "\\ud800"}'
        ),
        "surrogate_id.jsonl": _lines('{"id": "\\udc00", "text": "x"}'),
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "deep_extra.jsonl": _lines({"id": "d", "text": "x", "n": [[[[[[[[[[["deep"]]]]]]]]]]]}),
        "bigint.jsonl": _lines('{"id": "b", "text": "x", "n": ' + "7" * 5000 + "}"),
        "nan.jsonl": _lines('{"id": "n", "text": "x", "score": NaN}'),
        "inf.jsonl": _lines('{"id": "i", "text": "x", "score": 1e999}'),
        "dot.jsonl": _lines({"id": ".", "text": "x"}),
        "spaces.jsonl": _lines({"id": " padded ", "text": "x"}),
    }
    for name, content in bad.items():
        (folder / name).write_text(content)
    (folder / "sidecar.txt").write_text("Text whose sidecar is bad.\n")
    (folder / "sidecar.meta.json").write_text('{"title": "t", "extra": Infinity}')
    # One line that inflates far beyond the line cap (64 KiB + 1 MiB here): 8 MiB of zeros.
    with gzip.open(folder / "bomb.jsonl.gz", "wb") as out:
        out.write(b'{"id": "z", "text": "' + b"0" * (8 << 20) + b'"}\n')
    return {
        "surrogate.jsonl": ":2",
        "surrogate_id.jsonl": ":1",
        "deep.json": "",
        "deep_extra.jsonl": ":1",
        "bigint.jsonl": ":1",
        "nan.jsonl": ":1",
        "inf.jsonl": ":1",
        "dot.jsonl": ":1",
        "spaces.jsonl": ":1",
        "sidecar.meta.json": "",
        "bomb.jsonl.gz": ":1",
    }


def test_reindex_reports_every_hostile_file_and_keeps_the_old_index(tmp_path):
    root = tmp_path / "index"
    first = sift("reindex", str(DATA), "--index-dir", str(root))
    assert first.returncode == 0, first.stderr
    assert re.search(r"^phases: documents [\d.]+s, commit [\d.]+s, stories ", first.stdout, re.M)
    live = generations.current_generation(root)
    before = Engine(root).search(SearchRequest(per_page=100))
    folder = tmp_path / "input"
    expected = hostile_folder(folder)

    run = sift(
        "reindex", str(folder), "--index-dir", str(root), env={"SIFT_MAX_DOCUMENT_BYTES": "65536"}
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr + run.stdout
    skipped = [line for line in run.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == len(expected), run.stderr
    for name, line in expected.items():
        assert any(f"skipped {folder / name}{line}: " in s for s in skipped), (name, skipped)
    assert generations.current_generation(root) == live
    after = Engine(root).search(SearchRequest(per_page=100))
    assert [h.id for h in after.hits] == [h.id for h in before.hits]

    for name in expected:
        (folder / name).unlink()
    (folder / "sidecar.txt").unlink()
    clean = sift("reindex", str(folder), "--index-dir", str(root))
    assert clean.returncode == 0, clean.stderr
    assert Engine(root).search(SearchRequest(q="zebras")).total == 3


def test_a_good_record_before_a_bad_line_is_read_and_the_line_named(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(_lines(GOOD, '{"id": "x", "text": "y", "n": -Infinity}', GOOD | {"id": "g3"}))
    docs = []
    with pytest.raises(InputError) as refused:
        docs.extend(read_file(path))
    assert [d.id for d in docs] == ["good-1"]
    assert refused.value.where == f"{path}:2" and "Infinity" in refused.value.reason


def test_an_overlong_line_is_refused_without_reading_the_rest(tmp_path):
    path = tmp_path / "long.jsonl.gz"
    with gzip.open(path, "wb") as out:
        out.write(b'{"id": "a", "text": "' + b"a" * 3_000_000 + b'"}\n' + _lines(GOOD).encode())
    with pytest.raises(InputError) as refused:
        list(read_file(path, limits=Limits(max_document_bytes=1000)))
    assert refused.value.where == f"{path}:1"
    assert "line longer than" in refused.value.reason


def test_the_inflated_size_of_a_compressed_file_is_capped(tmp_path):
    path = tmp_path / "many.jsonl.gz"
    with gzip.open(path, "wt") as out:
        out.write(_lines(*({"id": f"d{n}", "text": "zebra " * 50} for n in range(2000))))
    limits = Limits(max_document_bytes=1000, max_inflated_bytes=100_000)
    read = []
    with pytest.raises(InputError) as refused:
        read.extend(read_file(path, limits=limits))
    assert "more than 100000 bytes" in refused.value.reason
    assert 0 < len(read) < 2000


def test_a_corrupt_gzip_is_an_input_error(tmp_path):
    path = tmp_path / "broken.jsonl.gz"
    data = gzip.compress(_lines(GOOD).encode() * 100)
    path.write_bytes(data[:40] + bytes(64) + data[104:])
    with pytest.raises(InputError) as refused:
        list(read_file(path))
    assert refused.value.where == str(path)


@pytest.mark.slow
def test_a_compressed_bomb_is_read_in_bounded_memory(tmp_path):
    """4 MiB of gzip inflating to one 4 GiB line: refused at the line cap; peak RSS stays
    far below the inflated size (the figure is printed for the notes)."""
    path = tmp_path / "bomb.jsonl.gz"
    member = gzip.compress(b"a" * (64 << 20), compresslevel=9)  # gzip members concatenate
    with open(path, "wb") as out:
        out.write(gzip.compress(b'{"id": "bomb", "text": "'))
        for _ in range(64):
            out.write(member)
    assert path.stat().st_size < 8 << 20
    # VmHWM: this process's own peak (ru_maxrss would count what pytest had at the fork).
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from index.readers import InputError, read_file\n"
        "try:\n"
        "    list(read_file(Path(sys.argv[1])))\n"
        "except InputError as exc:\n"
        "    print(exc.where, exc.reason)\n"
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "print(next(line.split()[1] for line in status if line.startswith('VmHWM:')))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    report, peak_kb = run.stdout.splitlines()
    print(f"bomb: {path.stat().st_size} bytes compressed; {report}; peak RSS {peak_kb} KB")
    assert report.startswith(f"{path}:1 line longer than")
    assert int(peak_kb) < 512 << 10  # KB: half a GiB, for a 4 GiB line


def test_a_document_extraction_fails_on_is_named_not_a_traceback(tmp_path, monkeypatch):
    """Extraction never raises on any text (tests/index/test_extract_hostile.py); if a bug
    made it, the reindex fails naming the document, and the old index keeps serving."""
    from index import pipeline
    from index.reindex import ReindexFailed, reindex

    root = tmp_path / "index"
    assert reindex(root, [DATA]).switched
    live = generations.current_generation(root)
    real = pipeline.extract

    def failing_on_one(raw):
        if raw.id == "de_fluechtlinge":
            raise ValueError("a bug")
        return real(raw)

    monkeypatch.setattr(pipeline, "extract", failing_on_one)
    with pytest.raises(ReindexFailed, match=r"de_fluechtlinge\.txt: extraction failed"):
        reindex(root, [DATA])
    assert generations.current_generation(root) == live


def test_documents_readers_build_themselves_are_validated_as_records():
    from index.documents import RawDocument
    from index.readers import check_document

    check_document(RawDocument(id="page-1", text="Text.", extra={"authors": ["A. Writer"]}))
    for raw, field in (
        (RawDocument(id="..", text="Text.", origin="pages/...html"), "id"),
        (RawDocument(id="p", text="Text.", title="\ud800", origin="feed.xml#3"), "title"),
        (RawDocument(id="p", text="Text.", extra={"authors": ["\udfff"]}), "authors[0]"),
    ):
        with pytest.raises(InputError) as refused:
            check_document(raw)
        assert refused.value.where == (raw.origin or raw.id)
        assert refused.value.reason.startswith(f"{field}: ")
