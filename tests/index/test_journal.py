"""The write-ahead journal: durable appends, torn tails, segments and compaction."""

from __future__ import annotations

import os

import pytest

from index import journal as jmod
from index.journal import Journal


def put(doc_id: str, text: str = "x") -> dict:
    return {"op": "put", "doc": {"id": doc_id, "text": text}}


def delete(doc_id: str) -> dict:
    return {"op": "delete", "id": doc_id}


def seqs(journal: Journal, after: int = 0) -> list[int]:
    return [seq for seq, _ in journal.read_after(after)]


@pytest.fixture
def small_segments(monkeypatch):
    """Segments of ~300 bytes, so a handful of appends spans several."""
    monkeypatch.setattr(jmod, "SEGMENT_BYTES", 300)


def test_append_numbers_entries_and_reads_after(tmp_path):
    journal = Journal(tmp_path / "j")
    assert journal.state() is None and journal.last_seq() == 0
    assert journal.append([put("a"), put("b")]) == 2
    assert journal.append([delete("a")]) == 3
    assert seqs(journal) == [1, 2, 3]
    assert [op for _, op in journal.read_after(2)] == [delete("a")]
    assert journal.last_seq() == 3
    assert oct(os.stat(tmp_path / "j").st_mode & 0o777) == "0o700"


def test_a_torn_tail_is_invisible_and_cut_by_the_next_append(tmp_path):
    journal = Journal(tmp_path / "j")
    journal.append([put("a")])
    segment = journal.segments()[-1][1]
    with open(segment, "ab") as f:
        f.write(b'2\t00000000\t{"op":"put","doc":{"id":"torn"')  # a crash mid-write
    assert seqs(journal) == [1]
    assert journal.append([put("b")]) == 2
    assert [op["doc"]["id"] for _, op in journal.read_after(0)] == ["a", "b"]
    assert journal.check() == []


def test_a_damaged_line_in_the_middle_is_reported(tmp_path):
    journal = Journal(tmp_path / "j")
    journal.append([put("a"), put("b"), put("c")])
    segment = journal.segments()[-1][1]
    data = bytearray(segment.read_bytes())
    data[data.index(b'"b"') + 1] ^= 0x20  # flip one bit inside line 2's payload
    segment.write_bytes(bytes(data))
    assert seqs(journal) == [1]  # readers stop at the first line failing its checksum
    assert any("line 2: damaged" in problem for problem in journal.check())


def test_segments_roll_and_readers_open_only_what_they_need(tmp_path, small_segments):
    journal = Journal(tmp_path / "j")
    for i in range(30):
        journal.append([put(f"d{i}", "some text " * 3)])
    segments = journal.segments()
    assert len(segments) > 3
    assert seqs(journal) == list(range(1, 31))
    last_start = segments[-1][0]
    opened = journal._open_from(last_start - 1)
    try:
        assert len(opened) == 1  # only the active segment can hold entries >= its start
    finally:
        for f in opened:
            f.close()
    assert seqs(journal, 25) == list(range(26, 31))
    assert journal.check() == []


def test_compaction_keeps_the_latest_op_per_id_with_its_number(tmp_path, small_segments):
    journal = Journal(tmp_path / "j")
    for round_ in range(6):
        for doc in ("a", "b", "c"):
            journal.append([put(doc, f"round {round_} " * 4)])
    journal.append([delete("b")])
    journal.append([put("z", "the active segment is never compacted " * 2)])
    before = list(journal.read_after(0))
    latest = {jmod.op_id(op): (seq, op) for seq, op in before}
    dropped = journal.compact()
    after = list(journal.read_after(0))
    assert dropped > 0 and len(after) == len(before) - dropped
    assert {jmod.op_id(op): (seq, op) for seq, op in after} == latest
    assert [seq for seq, _ in after] == sorted(seq for seq, _ in after)
    assert journal.last_seq() == before[-1][0]
    assert journal.append([put("new")]) == before[-1][0] + 1
    assert journal.check() == []


def test_a_crash_half_way_through_compaction_leaves_no_gap_and_no_duplicate(
    tmp_path, small_segments, monkeypatch
):
    journal = Journal(tmp_path / "j")
    for i in range(40):
        journal.append([put(f"d{i % 7}", f"version {i} " * 3)])
    before = list(journal.read_after(0))
    closed = journal.segments()[:-1]
    assert len(closed) >= 3
    real_unlink = type(closed[0][1]).unlink

    def crash_on_first_unlink(self, *args, **kwargs):
        raise KeyboardInterrupt("killed after the rename, before the unlinks")

    monkeypatch.setattr(type(closed[0][1]), "unlink", crash_on_first_unlink)
    with pytest.raises(KeyboardInterrupt):
        journal.compact()
    monkeypatch.setattr(type(closed[0][1]), "unlink", real_unlink)

    after = list(journal.read_after(0))
    numbers = [seq for seq, _ in after]
    assert numbers == sorted(set(numbers))  # no duplicates, in order
    assert all(entry in after for entry in before)  # nothing lost (old copies still read)
    latest = {jmod.op_id(op): op for _, op in before}
    assert {jmod.op_id(op): op for _, op in after} == latest
    journal.compact()  # the next compaction finishes the job
    assert {jmod.op_id(op): op for _, op in journal.read_after(0)} == latest
    assert journal.check() == []


def test_needs_compaction_grows_geometrically(tmp_path, small_segments):
    journal = Journal(tmp_path / "j")
    assert not journal.needs_compaction()
    for i in range(60):
        journal.append([put(f"d{i % 3}", "text " * 10)])
    assert journal.needs_compaction()
    journal.compact()
    assert not journal.needs_compaction()
    assert len(journal.segments()) == 2  # the compacted one and the active one


def test_the_one_file_journal_of_older_versions_is_adopted(tmp_path):
    folder = tmp_path / "j"
    folder.mkdir()
    lines = jmod._encode(1, put("old")) + jmod._encode(2, delete("gone"))
    (folder / jmod.LEGACY_FILE).write_bytes(lines)
    journal = Journal(folder)
    assert journal.last_seq() == 2 and seqs(journal) == [1, 2]
    assert journal.append([put("new")]) == 3
    assert not (folder / jmod.LEGACY_FILE).exists()
    assert seqs(journal) == [1, 2, 3]
