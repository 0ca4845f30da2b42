"""What a cluster is: a front and, per shard, its replicas (`cluster.toml`), and the
searchd configuration of a local one.

Every replica daemon holds two RT indexes, `docs_a` and `docs_b`: one serves while
`sift reindex` fills the other, and the front (a `type = distributed` index per slot over
every shard's replicas, as agent mirrors) is re-pointed by one row of its local `sift`
RT index once the new slot is complete. Sift analyses text itself (index/writer.py's term
lists), so each Sphinx field receives ready terms (index/cluster/rows.py) and no
morphology or charset of Sphinx's is involved.
"""

from __future__ import annotations

import socket
import tomllib
from dataclasses import dataclass
from pathlib import Path

from index.analysis import STEMMED_LANGUAGES
from index.schema import ACTOR_TEXT, SOURCE_TEXT, TEXT, TITLE, field_for

CLUSTER_FILE = "cluster.toml"
SLOTS = ("a", "b")
META_INDEX = "sift"  # on the front: which slot serves (row id 1)
# Fields: Sift's term lists (index.schema names), plus the language as a token and a
# token every document has (what a query of only NOTs is subtracted from).
TEXT_FIELDS = (
    TITLE,
    TEXT,
    *(field_for(base, lang) for lang in sorted(STEMMED_LANGUAGES) for base in (TITLE, TEXT)),
    SOURCE_TEXT,
    ACTOR_TEXT,
    "language_t",
    "all_t",
)
STRING_ATTRS = ("doc_id", "title_s", "text_s", "source", "language", "actors_s", "meta")
UINT_ATTRS = ("source_key", "language_key", "date", "month", "year")
MULTI_ATTRS = ("actor_keys",)
# Seconds the front waits for an agent: loopback or a LAN, never a slow disk.
AGENT_CONNECT_TIMEOUT_MS = 300
AGENT_QUERY_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Cluster:
    """The front's SphinxQL address and each shard's replicas' SphinxQL addresses."""

    front: str
    shards: tuple[tuple[str, ...], ...]
    folder: Path  # where cluster.toml is: Sift's own state (journal, vocabulary) lives here

    @property
    def state_dir(self) -> Path:
        return self.folder / "state"


def load_cluster(path: str | Path) -> Cluster:
    """The cluster `path` (a cluster.toml, or the folder holding one) describes."""
    path = Path(path)
    if path.is_dir():
        path = path / CLUSTER_FILE
    data = tomllib.loads(path.read_text("utf-8"))
    shards = tuple(tuple(shard["replicas"]) for shard in data["shards"])
    if not shards or not all(shards):
        raise ValueError(f"{path}: every cluster needs shards, each with replicas")
    return Cluster(data["front"]["address"], shards, path.resolve().parent)


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


# -- a local cluster ------------------------------------------------------------------------


@dataclass(frozen=True)
class Daemon:
    """One local searchd: its folder under the cluster folder, role, shard and ports."""

    name: str
    role: str  # "front" | "replica"
    shard: int | None
    sql_port: int
    api_port: int  # the Sphinx API port the front's agents use

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sql_port}"


def local_daemons(folder: Path) -> list[Daemon]:
    """The daemons `sift cluster init` wrote into `folder` (from their port files)."""
    found = []
    for conf in sorted(Path(folder).glob("*/ports")):
        name = conf.parent.name
        sql, api = (int(x) for x in conf.read_text().split())
        if name == "front":
            found.append(Daemon(name, "front", None, sql, api))
        else:
            shard = int(name.split("-")[0].removeprefix("shard"))
            found.append(Daemon(name, "replica", shard, sql, api))
    found.sort(key=lambda d: (d.role != "front", d.shard or 0, d.name))
    return found


def init_cluster(folder: Path, shards: int, replicas: int, base_port: int | None) -> Path:
    """Write searchd configurations and cluster.toml for a local cluster; its path."""
    if shards < 1 or replicas < 1:
        raise ValueError("a cluster needs at least one shard and one replica")
    folder = Path(folder).resolve()
    if (folder / CLUSTER_FILE).exists():
        raise FileExistsError(f"{folder / CLUSTER_FILE} exists already")
    count = 1 + shards * replicas
    ports = list(range(base_port, base_port + 2 * count)) if base_port else _free_ports(2 * count)
    daemons = [Daemon("front", "front", None, ports[0], ports[1])]
    for shard in range(shards):
        for replica in range(replicas):
            i = 1 + shard * replicas + replica
            daemons.append(
                Daemon(f"shard{shard}-r{replica}", "replica", shard, ports[2 * i], ports[2 * i + 1])
            )
    for daemon in daemons:
        home = folder / daemon.name
        (home / "data").mkdir(parents=True, exist_ok=True)
        (home / "ports").write_text(f"{daemon.sql_port} {daemon.api_port}\n")
        body = _front_indexes(home, daemons) if daemon.role == "front" else _replica_indexes(home)
        (home / "sphinx.conf").write_text(body + _searchd_section(home, daemon))
    lines = ["[front]", f'address = "{daemons[0].address}"', ""]
    for shard in range(shards):
        addresses = ", ".join(f'"{d.address}"' for d in daemons if d.shard == shard)
        lines += ["[[shards]]", f"replicas = [{addresses}]", ""]
    (folder / CLUSTER_FILE).write_text("\n".join(lines))
    return folder / CLUSTER_FILE


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _rt_index(name: str, path: Path) -> str:
    lines = [f"index {name}", "{", "    type = rt", f"    path = {path}"]
    lines += [f"    rt_field = {field}" for field in TEXT_FIELDS]
    lines += [f"    rt_attr_string = {attr}" for attr in STRING_ATTRS]
    lines += [f"    rt_attr_uint = {attr}" for attr in UINT_ATTRS]
    lines += [f"    rt_attr_multi = {attr}" for attr in MULTI_ATTRS]
    lines += [
        # Tokens arrive analysed and encoded by Sift (index/cluster/rows.py).
        "    charset_table = 0..9, a..z, _",
        "    index_field_lengths = 1",
        "    rt_mem_limit = 256M",
        "}",
        "",
    ]
    return "\n".join(lines)


def _replica_indexes(home: Path) -> str:
    return "".join(_rt_index(f"docs_{slot}", home / "data" / f"docs_{slot}") for slot in SLOTS)


def _front_indexes(home: Path, daemons: list[Daemon]) -> str:
    shards = sorted({d.shard for d in daemons if d.role == "replica"})
    text = "\n".join(
        [
            f"index {META_INDEX}",
            "{",
            "    type = rt",
            f"    path = {home / 'data' / META_INDEX}",
            "    rt_field = name",
            "    rt_attr_string = slot",
            "}",
            "",
        ]
    )
    for slot in SLOTS:
        lines = [f"index dist_{slot}", "{", "    type = distributed"]
        for shard in shards:
            mirrors = "|".join(f"127.0.0.1:{d.api_port}" for d in daemons if d.shard == shard)
            lines.append(f"    agent = {mirrors}:docs_{slot}")
        lines += [
            "    ha_strategy = nodeads",
            f"    agent_connect_timeout = {AGENT_CONNECT_TIMEOUT_MS}",
            f"    agent_query_timeout = {AGENT_QUERY_TIMEOUT_MS}",
            "}",
            "",
        ]
        text += "\n".join(lines)
    return text


def _searchd_section(home: Path, daemon: Daemon) -> str:
    return "\n".join(
        [
            "searchd",
            "{",
            f"    listen = 127.0.0.1:{daemon.api_port}",
            f"    listen = 127.0.0.1:{daemon.sql_port}:mysql41",
            f"    log = {home / 'searchd.log'}",
            f"    query_log = {home / 'query.log'}",
            f"    pid_file = {home / 'searchd.pid'}",
            f"    binlog_path = {home / 'data'}",
            "    workers = threads",
            # One process per daemon: its pid is the one `status` reports and a kill stops.
            "    watchdog = 0",
            "    max_packet_size = 32M",
            "}",
            "",
        ]
    )
