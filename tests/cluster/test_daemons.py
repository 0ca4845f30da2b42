"""Waiting for searchd daemons to come up (index/cluster/daemons.py)."""

from __future__ import annotations

import pytest

from index.cluster import daemons
from index.cluster.daemons import ClusterError
from index.cluster.layout import Daemon
from tests.servers import free_port


def test_a_daemon_that_never_comes_up_is_named_with_the_end_of_its_log(tmp_path, monkeypatch):
    monkeypatch.setattr(daemons, "START_WAIT_S", 0.2)
    down = Daemon("shard0-r1", "replica", 0, free_port(), free_port())  # nothing listens
    log = tmp_path / down.name / "searchd.log"
    log.parent.mkdir()
    log.write_text("".join(f"line {n}\n" for n in range(20)) + "FATAL: bind() failed\n")
    with pytest.raises(ClusterError) as raised:
        daemons._wait_up(tmp_path, [down])
    message = str(raised.value)
    assert "not accepting connections after 0s: ['shard0-r1']" in message
    assert message.endswith("FATAL: bind() failed")
    assert "line 13" in message and "line 12" not in message  # its last lines only


def test_a_daemon_without_a_log_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(daemons, "START_WAIT_S", 0.1)
    down = Daemon("front", "front", None, free_port(), free_port())
    with pytest.raises(ClusterError, match=r"front: no searchd\.log"):
        daemons._wait_up(tmp_path, [down])
