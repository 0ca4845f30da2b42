"""The durability barrier (hazards note, test 20): what is fsync'd, and in which order.

Every `os.fsync` and `os.rename` of one acknowledged API write is recorded: the journal
segment is fsync'd before the answer, and the commit that applies it fsyncs every index
file before renaming its TOC into place and the folder after.
"""

from __future__ import annotations

import os
from pathlib import Path

from api import create_app
from tests.conftest import API_KEY


def test_an_acknowledged_write_is_fsynced_journal_first_then_commit(fresh_root, monkeypatch):
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def rename(src, dst, *args, **kwargs):
        events.append(("rename", str(dst)))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    app = create_app({"index_dir": str(fresh_root), "api_key": API_KEY})
    response = app.test_client().post(
        "/api/v1/documents",
        json={"id": "durable", "text": "Fsync before we answer."},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    app.config["SIFT_INDEX"].stop_applier()
    assert response.status_code == 200 and response.get_json()["status"] == "applied"

    journal_sync = next(i for i, (kind, path) in enumerate(events) if "/journal/" in path)
    toc_rename = next(
        i for i, (kind, path) in enumerate(events) if kind == "rename" and path.endswith(".toc")
    )
    assert journal_sync < toc_rename  # durable before it is applied
    folder = str(Path(events[toc_rename][1]).parent)
    synced_before = {path for kind, path in events[:toc_rename] if kind == "fsync"}
    index_files = {
        str(p) for p in Path(folder).iterdir() if p.name.startswith("MAIN_") and p.suffix == ".seg"
    }
    assert index_files and index_files <= synced_before  # every segment, before the commit
    assert ("fsync", folder) in events[toc_rename + 1 :]  # the rename itself, after
