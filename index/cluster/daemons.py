"""Starting, stopping and checking the searchd daemons of a local cluster."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from index.cluster.layout import Daemon, local_daemons, split_address

# How long `start` waits for every daemon to accept connections.
START_WAIT_S = 15.0
# A daemon that does not accept a connection this fast counts as down.
CONNECT_TIMEOUT_S = 0.3


class ClusterError(Exception):
    """A cluster command could not do what it was asked (the message says why)."""


def searchd() -> str:
    found = shutil.which("searchd")
    if found is None:
        raise ClusterError("searchd was not found: install Sphinx (apt-get install sphinxsearch)")
    return found


def _conf(folder: Path, daemon: Daemon) -> Path:
    return Path(folder) / daemon.name / "sphinx.conf"


def _daemons(folder: Path) -> list[Daemon]:
    daemons = local_daemons(folder)
    if not daemons:
        raise ClusterError(f"{folder} holds no local cluster (run `sift cluster init` first)")
    return daemons


def start(folder: Path) -> list[Daemon]:
    """Start every daemon not running yet; wait until all accept connections."""
    binary = searchd()
    daemons = _daemons(folder)
    for daemon in daemons:
        if pid_of(folder, daemon) is None:
            done = subprocess.run(
                [binary, "--config", str(_conf(folder, daemon))],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise ClusterError(f"{daemon.name} did not start: {done.stdout[-500:]}")
    deadline = time.monotonic() + START_WAIT_S
    while not all(is_up(d.address) for d in daemons):
        if time.monotonic() > deadline:
            down = [d.name for d in daemons if not is_up(d.address)]
            raise ClusterError(f"not accepting connections after {START_WAIT_S:.0f}s: {down}")
        time.sleep(0.05)
    return daemons


def stop(folder: Path) -> None:
    """Stop every running daemon and wait for each to exit (`searchd --stopwait`)."""
    binary = searchd()
    for daemon in reversed(_daemons(folder)):
        if pid_of(folder, daemon) is not None:
            subprocess.run(
                [binary, "--config", str(_conf(folder, daemon)), "--stopwait"],
                capture_output=True,
                check=False,
            )


def status(folder: Path) -> list[dict]:
    """Every daemon with its role, shard, address, pid and whether it answers."""
    return [
        {
            "role": daemon.role,
            "shard": daemon.shard,
            "address": daemon.address,
            "pid": pid_of(folder, daemon),
            "up": is_up(daemon.address),
        }
        for daemon in _daemons(folder)
    ]


def pid_of(folder: Path, daemon: Daemon) -> int | None:
    """The pid searchd recorded, if that process is alive."""
    try:
        pid = int((Path(folder) / daemon.name / "searchd.pid").read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    except PermissionError:
        pass
    return pid


def is_up(address: str) -> bool:
    try:
        with socket.create_connection(split_address(address), timeout=CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False
