"""`sift verify`: damage is detected, leftovers are listed and repaired, never silently served."""

from __future__ import annotations

import gc
import json

import pytest
from click.testing import CliRunner

from api import create_app
from api.cli import main
from index import generations
from index.applier import apply_pending
from index.verify import verify
from tests.helpers import assert_problem


def live_folder(root):
    return generations.generation_path(root, generations.current_generation(root))


def segment_file(root):
    return max(live_folder(root).glob("MAIN_*.seg"), key=lambda p: p.stat().st_size)


def toc_file(root):
    return max(live_folder(root).glob("_MAIN_*.toc"), key=lambda p: p.stat().st_mtime_ns)


def test_a_fresh_index_verifies_with_every_file_checked(fresh_root):
    generations.journal(fresh_root).append([{"op": "put", "doc": {"id": "v1", "text": "x"}}])
    apply_pending(fresh_root)
    report = verify(fresh_root)
    assert report.ok, report.problems
    assert report.documents == 15 and report.files_checked >= 2 and report.pending_writes == 0
    assert report.leftovers == []


def flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate_half(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# Whoosh leaves files open when it fails to read a damaged TOC or segment (its bug, not
# ours); the warnings those leaks raise are not what these tests are about.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    "damage",
    [
        lambda root: toc_file(root).write_bytes(b""),
        lambda root: toc_file(root).unlink(),
        lambda root: flip_middle_byte(segment_file(root)),
        lambda root: truncate_half(segment_file(root)),
    ],
    ids=["toc-emptied", "toc-deleted", "segment-byte-flipped", "segment-truncated"],
)
def test_damage_is_detected(fresh_root, damage):
    damage(fresh_root)
    report = verify(fresh_root)
    assert not report.ok
    gc.collect()
    result = CliRunner().invoke(main, ["verify", "--index-dir", str(fresh_root)])
    assert result.exit_code == 1 and "PROBLEM" in result.output


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("emptied", [False, True], ids=["toc-deleted", "toc-emptied"])
def test_an_unreadable_index_is_503_never_wrong_answers(fresh_root, emptied):
    if emptied:
        toc_file(fresh_root).write_bytes(b"")
    else:
        toc_file(fresh_root).unlink()
    client = create_app({"index_dir": str(fresh_root)}).test_client()
    assert_problem(client.get("/readyz"), 503)
    assert_problem(client.get("/api/v1/search?q=coalition"), 503)
    gc.collect()  # Whoosh's leaked file objects are reclaimed here, under this test's filter


def test_leftovers_of_killed_writers_are_listed_and_repaired(fresh_root):
    folder = live_folder(fresh_root)
    (folder / "MAIN_deadbeef0000.seg").write_bytes(b"\0" * 64)  # a killed commit's segment
    (folder / "_MAIN_9.toc.1700000000").write_bytes(b"half")  # a killed commit's TOC
    (folder / "MAIN.tmp").mkdir()  # Whoosh's posting pool
    (folder / ".applied.123.tmp").write_bytes(b"7")
    (fresh_root / ".CURRENT.123.tmp").write_bytes(b"{}")
    stale = generations.generations_dir(fresh_root) / "g20000101T000000-dead00"
    stale.mkdir()
    report = verify(fresh_root)
    assert report.ok  # leftovers are not damage
    assert len(report.leftovers) == 6, report.leftovers
    args = ["verify", "--repair", "--json", "--index-dir", str(fresh_root)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["removed"]) == 6 and data["leftovers"] == [] and data["ok"]
    assert not stale.exists() and not (folder / "MAIN.tmp").exists()
    assert verify(fresh_root).ok


def test_the_applier_removes_leftovers_of_the_live_generation_on_start(fresh_root):
    from index.applier import clean_up

    folder = live_folder(fresh_root)
    (folder / "MAIN_deadbeef0000.seg").write_bytes(b"\0" * 64)
    (folder / ".applied.123.tmp").write_bytes(b"7")
    clean_up(fresh_root)
    assert not (folder / "MAIN_deadbeef0000.seg").exists()
    assert not (folder / ".applied.123.tmp").exists()
    assert verify(fresh_root).leftovers == []
