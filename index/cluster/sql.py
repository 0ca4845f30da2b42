"""SphinxQL connections (pymysql) and the front's pointer to the serving slot."""

from __future__ import annotations

import pymysql

from index.cluster.layout import META_INDEX, SLOTS, split_address

CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 30.0


def connect(address: str) -> pymysql.connections.Connection:
    """A SphinxQL connection (pymysql.err.OperationalError if the daemon is down)."""
    host, port = split_address(address)
    return pymysql.connect(
        host=host,
        port=port,
        autocommit=True,
        charset="utf8",
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        write_timeout=READ_TIMEOUT_S,
    )


def live_slot(front: pymysql.connections.Connection) -> str | None:
    """The slot the front serves (None before the first reindex)."""
    with front.cursor() as cur:
        cur.execute(f"SELECT slot FROM {META_INDEX} WHERE id = 1")
        found = cur.fetchall()
    slot = found[0][0] if found else None
    return slot if slot in SLOTS else None


def set_live_slot(front: pymysql.connections.Connection, slot: str) -> None:
    with front.cursor() as cur:
        cur.execute(f"REPLACE INTO {META_INDEX} (id, name, slot) VALUES (1, 'live', %s)", (slot,))
