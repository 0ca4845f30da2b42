"""Packed arrays: one file and one map per segment cache, whatever it holds."""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest

from index import packed, pread


def test_arrays_and_metadata_read_back_as_written(tmp_path):
    arrays = {
        "ids": np.arange(1000, dtype=np.uint32),
        "weights": np.linspace(0, 1, 7).astype(np.float32),
        "empty": np.zeros(0, dtype=np.int64),
        "ends": np.array([3, 9, 27], dtype=np.int64),
    }
    packed.write(tmp_path / "s.pack", arrays, {"values": ["NATO", "Brüssel"]})
    found, meta = packed.read(tmp_path / "s.pack")
    assert meta == {"values": ["NATO", "Brüssel"]}
    for name, array in arrays.items():
        assert found[name].dtype == array.dtype and (found[name] == array).all()


def test_arrays_given_in_pieces_read_back_whole(tmp_path):
    """Arrays declared `Later` are written from pieces that come interleaved (as the
    lexicon's pool and its positions do), beside arrays given whole; pieces that do not
    fill an array exactly leave no file."""
    ids = np.arange(10_000, dtype=np.uint32)
    positions = np.arange(-500, 2_500, dtype=np.int32)
    arrays = {
        "first": np.array([1, 2, 3], dtype=np.int64),
        "ids": packed.Later(ids.dtype, len(ids)),
        "positions": packed.Later(positions.dtype, len(positions)),
        "last": np.array([9.5], dtype=np.float64),
    }

    def pieces(cut: int):
        for at in range(0, 10_000, 999):
            yield "ids", ids[at : at + 999]
            yield "positions", positions[at * 3 // 10 : (at + 999) * 3 // 10][:cut]

    packed.write(tmp_path / "s.pack", arrays, pieces=pieces(10_000))
    found, _ = packed.read(tmp_path / "s.pack")
    assert found["ids"].tolist() == ids.tolist()
    assert found["positions"].tolist() == positions.tolist()
    assert found["first"].tolist() == [1, 2, 3] and found["last"].tolist() == [9.5]
    with pytest.raises(ValueError, match="positions not filled"):
        packed.write(tmp_path / "short.pack", arrays, pieces=pieces(100))
    with pytest.raises(ValueError, match="more than 10000 elements of ids"):
        packed.write(tmp_path / "long.pack", arrays, pieces=[("ids", ids), ("ids", ids[:1])])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.pack"]


def test_a_file_cut_short_or_foreign_is_refused(tmp_path):
    packed.write(tmp_path / "s.pack", {"ids": np.arange(5000, dtype=np.int64)})
    data = (tmp_path / "s.pack").read_bytes()
    (tmp_path / "cut.pack").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        packed.read(tmp_path / "cut.pack")
    (tmp_path / "foreign.npy").write_bytes(b"\x93NUMPY" + bytes(200))
    with pytest.raises(ValueError):
        packed.read(tmp_path / "foreign.npy")


def _descriptors_on(path) -> int:
    """This process's open descriptors on `path` (counting them all raced with other
    threads of the test run, an applier polling its journal, opening files meanwhile)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since it was listed
            count += os.readlink(f"/proc/self/fd/{fd}") == str(path)
    return count


def test_one_descriptor_however_many_arrays(tmp_path):
    packed.write(tmp_path / "s.pack", {f"a{i}": np.arange(10 + i) for i in range(40)})
    assert _descriptors_on(tmp_path / "s.pack") == 0
    found, _ = packed.read(tmp_path / "s.pack")
    assert _descriptors_on(tmp_path / "s.pack") <= 1
    assert int(found["a39"][-1]) == 48


def test_unmapped_arrays_read_the_slices_the_map_holds(tmp_path):
    arrays = {
        "text.ids": np.arange(5000, dtype=np.uint32) * 3,
        "text.offsets": np.arange(40, dtype=np.int64),
        "weights": np.linspace(0, 1, 777).astype(np.float32),
    }
    packed.write(tmp_path / "s.pack", arrays, {"n": 1})
    mapped, apart, meta = packed.read_parts(tmp_path / "s.pack", ("ids", "weights"))
    assert set(mapped) == {"text.offsets"} and set(apart) == {"text.ids", "weights"}
    assert meta == {"n": 1}
    for name in apart:
        whole = arrays[name]
        assert len(apart[name]) == len(whole)
        for start, end in ((0, 0), (0, 1), (17, 4093), (len(whole) - 5, len(whole) + 9)):
            got = apart[name].take(start, end)
            assert got.dtype == whole.dtype and np.array_equal(got, whole[start:end])
    (tmp_path / "s.pack").write_bytes((tmp_path / "s.pack").read_bytes()[:-64])
    with pytest.raises(ValueError):  # the header says more than the file holds
        packed.read_parts(tmp_path / "s.pack", ("ids",))


def test_reads_made_together_fill_each_its_own_buffer(tmp_path):
    """`pread.read_all`: slices of several arrays, told to the kernel first, land each in
    its buffer (parts of one shared buffer among them); past an array's end is refused
    before anything is read."""
    arrays = {"ids": np.arange(9000, dtype=np.uint32) * 7, "w": np.linspace(0, 1, 99)}
    packed.write(tmp_path / "s.pack", arrays)
    _, apart, _ = packed.read_parts(tmp_path / "s.pack", ("ids", "w"))
    shared = np.zeros(1200, dtype=np.uint32)
    weights = np.zeros(50, dtype=np.float64)
    wanted = [(apart["ids"], 10, shared[:200]), (apart["ids"], 8000, shared[200:])]
    wanted += [(apart["w"], 49, weights), (apart["ids"], 0, shared[:0])]
    pread.read_all([array.read_at(start, out) for array, start, out in wanted])
    assert np.array_equal(shared, np.r_[arrays["ids"][10:210], arrays["ids"][8000:]])
    assert np.array_equal(weights, arrays["w"][49:])
    with pytest.raises(ValueError):
        apart["ids"].read_at(8999, np.zeros(2, dtype=np.uint32))


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.pack"
    packed.write(path, {"x": np.arange(3)}, {"v": 1})

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(packed.os, "replace", full)
    with pytest.raises(OSError):
        packed.write(path, {"x": np.arange(5)}, {"v": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["a.pack"]
    arrays, meta = packed.read(path)
    assert meta == {"v": 1} and arrays["x"].tolist() == [0, 1, 2]
