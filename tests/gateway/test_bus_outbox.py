"""The bus's outbox table: rows come out oldest first, per owner, and a dead gateway's rows
are adopted once stale (a second gateway publishes what the first could not)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import gateway.store.migrations
from gateway.store import outbox
from gateway.store.outbox import Outgoing


def table() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    migration = Path(gateway.store.migrations.__file__).parent / "sqlite" / "0003_bus_outbox.sql"
    conn.executescript(migration.read_text())
    return conn


def test_rows_come_out_in_the_order_they_went_in_with_their_properties() -> None:
    conn = table()
    outbox.add(conn, "gw1", [Outgoing("provgw/status/a", b"1")], now=100.0)
    outbox.add(
        conn,
        "gw1",
        [Outgoing("r/x", b"2", correlation=b"a"), Outgoing("d/y", b"3", user={"reason": "r"})],
        now=100.0,
    )
    rows = outbox.take(conn, "gw1", limit=10)
    assert [q.message for q in rows] == [
        Outgoing("provgw/status/a", b"1"),
        Outgoing("r/x", b"2", correlation=b"a"),
        Outgoing("d/y", b"3", user={"reason": "r"}),
    ]
    assert [q.message.payload for q in outbox.take(conn, "gw1", limit=2)] == [b"1", b"2"]
    outbox.remove(conn, [rows[0].id, rows[1].id])
    assert [q.message.payload for q in outbox.take(conn, "gw1", limit=10)] == [b"3"]
    assert outbox.pending(conn) == 1


def test_another_gateways_rows_are_adopted_only_once_stale() -> None:
    conn = table()
    outbox.add(conn, "dead", [Outgoing("provgw/status/a", b"old")], now=1000.0)
    outbox.add(conn, "alive", [Outgoing("provgw/status/b", b"new")], now=1000.0 + 25)
    assert outbox.take(conn, "me", limit=10) == []
    assert outbox.adopt(conn, "me", now=1000.0 + outbox.STALE_S - 1) == 0
    assert outbox.adopt(conn, "me", now=1000.0 + outbox.STALE_S + 1) == 1
    assert [q.message.payload for q in outbox.take(conn, "me", limit=10)] == [b"old"]
    assert [q.message.payload for q in outbox.take(conn, "alive", limit=10)] == [b"new"]
