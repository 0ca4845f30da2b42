"""Generations: atomic switch, failures that leave the old index serving, incremental."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from index import generations
from index.reindex import ReindexFailed, reindex
from search.engine import Engine
from search.request import SearchRequest
from tests.conftest import DATA

DOCS = 14  # documents in tests/data


def total(root, q="") -> int:
    return Engine(root).search(SearchRequest(q=q)).total


def test_full_build_switches_pointer_and_keeps_the_folder_private(tmp_path):
    root = tmp_path / "ix"
    report = reindex(root, [DATA])
    assert report.switched and report.documents == total(root) == DOCS
    assert generations.current_generation(root) == report.generation
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    manifest = generations.read_manifest(root, report.generation)
    assert manifest["documents"] == DOCS


def test_bad_input_is_reported_and_the_old_index_keeps_serving(tmp_path):
    root = tmp_path / "ix"
    reindex(root, [DATA])
    before = generations.current_generation(root)
    bad = tmp_path / "bad"
    shutil.copytree(DATA, bad)
    (bad / "broken.jsonl").write_text('{"id": "ok", "text": "fine"}\n{not json}\n')
    (bad / "nobody.json").write_text('{"id": "x"}')
    (bad / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    report = reindex(root, [bad])
    assert not report.switched
    reasons = {
        os.path.basename(e.where.split(":")[0].split("[")[0]): e.reason for e in report.errors
    }
    assert "invalid JSON" in reasons["broken.jsonl"]
    assert "'text'" in reasons["nobody.json"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert generations.current_generation(root) == before
    assert sorted(p.name for p in (root / "generations").iterdir()) == [before]


def test_duplicate_ids_are_input_errors(tmp_path):
    root = tmp_path / "ix"
    (tmp_path / "a.jsonl").write_text(
        '{"id": "same", "text": "one"}\n{"id": "same", "text": "two"}\n'
    )
    report = reindex(root, [tmp_path / "a.jsonl"])
    assert not report.switched and "duplicate id 'same'" in report.errors[0].reason


def test_failed_build_cleans_up_and_keeps_serving(tmp_path, monkeypatch):
    root = tmp_path / "ix"
    reindex(root, [DATA])
    before = generations.current_generation(root)

    def broken_validate(*args, **kwargs):
        raise RuntimeError("validation failed on purpose")

    monkeypatch.setattr(generations, "validate", broken_validate)
    with pytest.raises(ReindexFailed, match="previous index still serving"):
        reindex(root, [DATA])
    assert generations.current_generation(root) == before
    assert [p.name for p in (root / "generations").iterdir()] == [before]
    assert total(root) == DOCS


def test_a_second_reindex_cannot_start_while_one_runs(tmp_path):
    root = tmp_path / "ix"
    reindex(root, [DATA])
    with (
        generations.file_lock(root / generations.REINDEX_LOCK, wait_s=None),
        pytest.raises(generations.IndexBusy),
    ):
        reindex(root, [DATA])


def test_partial_generations_of_crashed_builds_are_removed(tmp_path):
    root = tmp_path / "ix"
    reindex(root, [DATA])
    crashed = root / "generations" / "g20000101T000000-dead00"
    crashed.mkdir()
    (crashed / "MAIN_half.seg").write_bytes(b"\0" * 100)
    before = generations.current_generation(root)
    report = reindex(root, [DATA])
    assert not crashed.exists()
    kept = {p.name for p in (root / "generations").iterdir()}
    assert kept == {before, report.generation}


def test_incremental_reads_only_changes(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA, corpus)
    root = tmp_path / "ix"
    reindex(root, [corpus])
    (corpus / "short.txt").unlink()
    (corpus / "fr_ecoles.txt").write_text(
        "Les écoles restent fermées\n\nLa grève continue.", "utf-8"
    )
    (corpus / "new.txt").write_text("Quokkas\n\nA quokka colony was counted on Rottnest.", "utf-8")
    report = reindex(root, [corpus], incremental=True)
    assert report.switched
    assert report.files_read == 2 and report.files_removed == 1
    assert total(root) == DOCS
    assert total(root, "quokka") == 1
    assert total(root, "fermées") == 1 and total(root, "rouvriront") == 0
    assert Engine(root).document("short") is None
    assert list(report.phases) == [
        "copy",
        "documents",
        "commit",
        "stories",
        "columns",
        "lexicon",
        "switch",
    ]


def test_a_build_reports_its_phases_in_order(tmp_path):
    report = reindex(tmp_path / "ix", [DATA])
    assert list(report.phases) == ["documents", "commit", "stories", "columns", "lexicon", "switch"]
    assert all(seconds >= 0 for seconds in report.phases.values())
    assert sum(report.phases.values()) <= report.seconds


def test_api_writes_survive_a_full_reindex(tmp_path):
    root = tmp_path / "ix"
    reindex(root, [DATA])
    journal = generations.journal(root)
    journal.append(
        [
            {"op": "put", "doc": {"id": "api-doc", "text": "Narwhals seen off Svalbard."}},
            {"op": "delete", "id": "short"},
        ]
    )
    report = reindex(root, [DATA])
    assert report.api_writes_replayed == 2
    assert "replay" in report.phases
    assert total(root, "narwhals") == 1
    assert Engine(root).document("short") is None
    assert report.documents == total(root) == DOCS


def test_manifest_is_json_and_records_inputs(tmp_path):
    root = tmp_path / "ix"
    report = reindex(root, [DATA])
    manifest = json.loads((root / "generations" / report.generation / "manifest.json").read_text())
    assert any(path.endswith("feed.jsonl") for path in manifest["files"])
