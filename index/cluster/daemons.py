"""Starting, stopping and checking the searchd daemons of a local cluster."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from index.cluster.layout import CATCH_UP_CONF, Daemon, load_cluster, local_daemons, split_address
from index.cluster.store import ClusterStore

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
    """Start every daemon not running yet; wait until all accept connections.

    A replica of a cluster already serving first runs unseen by the front (without its
    agent port) until it has applied the journalled writes it missed, then for real.
    """
    folder = Path(folder)
    daemons = _daemons(folder)
    front, replicas = daemons[0], daemons[1:]
    if pid_of(folder, front) is None:
        _launch(folder, front, _conf(folder, front))
    _wait_up(folder, [front])
    store = ClusterStore(load_cluster(folder))
    slot = store.live_slot()
    for daemon in replicas:
        if pid_of(folder, daemon) is not None:
            continue
        if slot is not None:
            catch_up = Path(folder) / daemon.name / CATCH_UP_CONF
            _launch(folder, daemon, catch_up)
            _wait_up(folder, [daemon])
            assert daemon.shard is not None  # replicas always belong to a shard
            store.catch_up(slot, daemon.shard, daemon.address)
            _stop(catch_up)
        _launch(folder, daemon, _conf(folder, daemon))
    _wait_up(folder, daemons)
    return daemons


def _launch(folder: Path, daemon: Daemon, conf: Path) -> None:
    done = subprocess.run(
        [searchd(), "--config", str(conf)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ClusterError(f"{daemon.name} did not start: {done.stdout[-500:]}")


def _stop(conf: Path) -> None:
    subprocess.run(
        [searchd(), "--config", str(conf), "--stopwait"], capture_output=True, check=False
    )


def _wait_up(folder: Path, daemons: list[Daemon]) -> None:
    deadline = time.monotonic() + START_WAIT_S
    while not all(is_up(d.address) for d in daemons):
        if time.monotonic() > deadline:
            down = [d for d in daemons if not is_up(d.address)]
            logs = "".join(_log_tail(folder, d) for d in down)
            raise ClusterError(
                f"not accepting connections after {START_WAIT_S:.0f}s: "
                f"{[d.name for d in down]}{logs}"
            )
        time.sleep(0.05)


# Lines of a daemon's searchd.log quoted when it does not come up.
LOG_LINES = 8


def _log_tail(folder: Path, daemon: Daemon) -> str:
    """The end of the daemon's own log (why searchd did not come up is said there)."""
    try:
        lines = (folder / daemon.name / "searchd.log").read_text("utf-8", "replace").splitlines()
    except OSError:
        return f"\n{daemon.name}: no searchd.log"
    return f"\n{daemon.name}'s searchd.log ends:\n" + "\n".join(lines[-LOG_LINES:])


def stop(folder: Path) -> None:
    """Stop every running daemon and wait for each to exit (`searchd --stopwait`)."""
    for daemon in reversed(_daemons(folder)):
        if pid_of(folder, daemon) is not None:
            _stop(_conf(folder, daemon))


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
