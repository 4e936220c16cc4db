"""The outbox: MQTT messages the gateway owes the broker, in the store until it took them.

Every status message (and every answer, and every dead-letter copy) is first a row here, and
is deleted only once the broker acknowledged it (PUBACK). So what happens while the broker is
down is published after the gateway reconnects, and a gateway killed with rows unsent leaves
them to the next process that looks (rows of an owner silent for ``STALE_S`` are adopted).

This module holds all the bus's SQL, written through the store's `Tx` seam; its table is made by
the store's migration 0003 (gateway/store/migrations).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store imports this module for its DDL: no import back at run time
    from gateway.store.tx import Tx

STALE_S = 30.0
"""Rows older than this whose owner has not published them are taken over (a dead gateway)."""


@dataclass(frozen=True)
class Outgoing:
    """One message to publish (QoS 1): topic, body, MQTT 5 correlation data, user
    properties."""

    topic: str
    payload: bytes
    correlation: bytes | None = None
    user: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Queued:
    id: int
    message: Outgoing


def add(conn: Tx, owner: str, messages: Sequence[Outgoing], now: float) -> None:
    conn.executemany(
        "INSERT INTO bus_outbox (owner, topic, payload, correlation, properties, created_at)"
        " VALUES (?,?,?,?,?,?)",
        [
            (owner, m.topic, m.payload, m.correlation, json.dumps(m.user) if m.user else None, now)
            for m in messages
        ],
    )


def adopt(conn: Tx, owner: str, now: float) -> int:
    """Take over rows other owners have left unpublished for ``STALE_S``; how many."""
    cur = conn.execute(
        "UPDATE bus_outbox SET owner=? WHERE owner<>? AND created_at<?",
        (owner, owner, now - STALE_S),
    )
    return cur.rowcount


def take(conn: Tx, owner: str, limit: int) -> list[Queued]:
    """The oldest rows ``owner`` is to publish."""
    rows = conn.execute(
        "SELECT id, topic, payload, correlation, properties FROM bus_outbox WHERE owner=?"
        " ORDER BY id LIMIT ?",
        (owner, limit),
    ).fetchall()
    return [
        Queued(r[0], Outgoing(r[1], bytes(r[2]), r[3], json.loads(r[4]) if r[4] else {}))
        for r in rows
    ]


def remove(conn: Tx, ids: Sequence[int]) -> None:
    conn.executemany("DELETE FROM bus_outbox WHERE id=?", [(i,) for i in ids])


def pending(conn: Tx) -> int:
    """Rows not yet acknowledged by the broker (all owners)."""
    (n,) = conn.execute("SELECT count(*) FROM bus_outbox").fetchone()
    return int(n)
