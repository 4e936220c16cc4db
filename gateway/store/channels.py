"""The channel register's rows (channels and their opening hours)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from gateway.resources.channels import Channel, ChannelKind, OpeningHours
from gateway.store.tx import Tx

_COLUMNS = "id, kind, name, city, area, hours, active"


@functools.lru_cache(maxsize=256)
def _hours(stored: str) -> OpeningHours:
    """Opening hours from their stored JSON. Every order's intake checks its channel's hours,
    so a parse is kept per text: a timetable that changes is a different text, and the model
    is frozen."""
    return OpeningHours.model_validate_json(stored)


def _channel(row: tuple[Any, ...]) -> Channel:
    return Channel(
        row[0], ChannelKind(row[1]), row[2], row[3], row[4], _hours(row[5]), bool(row[6])
    )


def find(tx: Tx, channel_id: str) -> Channel | None:
    row = tx.execute(f"SELECT {_COLUMNS} FROM channels WHERE id=?", (channel_id,)).fetchone()  # noqa: S608
    return _channel(row) if row else None


def all_channels(tx: Tx) -> list[Channel]:
    return [
        _channel(r)
        for r in tx.execute(f"SELECT {_COLUMNS} FROM channels ORDER BY id").fetchall()  # noqa: S608
    ]


def ids_of_kind(tx: Tx, kind: ChannelKind) -> list[str]:
    return [r[0] for r in tx.execute("SELECT id FROM channels WHERE kind=?", (kind.value,))]


def insert(tx: Tx, channel: Channel, *, now: float) -> bool:
    """Add a channel; False (nothing written) if its id is taken — also by another process
    adding the same id at the same moment."""
    cur = tx.execute(
        "INSERT INTO channels (id, kind, name, city, area, hours, active, created_at,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
        (
            channel.id,
            channel.kind.value,
            channel.name,
            channel.city,
            channel.area,
            channel.hours.model_dump_json(),
            int(channel.active),
            now,
            now,
        ),
    )
    return cur.rowcount == 1


def update(tx: Tx, channel: Channel, *, now: float) -> None:
    """Name, hours and whether it is open (its kind, city and area stay)."""
    tx.execute(
        "UPDATE channels SET name=?, hours=?, active=?, updated_at=? WHERE id=?",
        (channel.name, channel.hours.model_dump_json(), int(channel.active), now, channel.id),
    )


def in_area_of(tx: Tx, channel_ids: Sequence[str]) -> frozenset[str]:
    """The channels in the same city and area as any of ``channel_ids`` (a supervisor's
    reach, `gateway.resources.policy`)."""
    if not channel_ids:
        return frozenset()
    marks = ",".join("?" * len(channel_ids))
    rows = tx.execute(
        "SELECT id FROM channels WHERE (city, area) IN"  # noqa: S608 - placeholders only
        f" (SELECT city, area FROM channels WHERE id IN ({marks}))",
        list(channel_ids),
    ).fetchall()
    return frozenset(r[0] for r in rows)
