"""Where cards and numbers are, and the record of their moves between places.

A number's state is read as it is *now* (a lapsed hold is back in its prior state,
`gateway.store.numbers.EFFECTIVE_STATE`); numbers have no condition, so they read as usable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.resources.distribution import Movement, Resource
from gateway.store.numbers import EFFECTIVE_STATE
from gateway.store.tx import Tx

_IN_CHUNK = 500


@dataclass(frozen=True)
class Item:
    """One card or number where it is, in the state and condition it is in now."""

    id: str
    location: str
    state: str
    condition: str


@dataclass(frozen=True)
class _Table:
    name: str
    key: str
    state: str  # SQL for the item's state now
    condition: str


_TABLES: dict[Resource, _Table] = {
    "sim": _Table("sims", "iccid", "state", "condition"),
    "number": _Table("numbers", "msisdn", EFFECTIVE_STATE, "'usable'"),
}


def _select(table: _Table) -> str:
    # Table and column names come from _TABLES, never from the request.
    return (
        f"SELECT {table.key}, location, {table.state}, {table.condition}"  # noqa: S608
        f" FROM {table.name}"
    )


def items_between(tx: Tx, resource: Resource, first: str, last: str, now: float) -> list[Item]:
    """Every item from ``first`` to ``last`` (numbers of the same length), in order."""
    table = _TABLES[resource]
    rows = tx.execute(
        f"{_select(table)} WHERE {table.key} BETWEEN :first AND :last"
        f" AND length({table.key})=:n ORDER BY {table.key}",
        {"first": first, "last": last, "n": len(first), "now": now},
    ).fetchall()
    return [Item(*r) for r in rows]


def items(tx: Tx, resource: Resource, ids: Sequence[str], now: float) -> list[Item]:
    """The items of ``ids`` that exist (unknown ids are left out)."""
    table = _TABLES[resource]
    found: list[Item] = []
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        marks = ",".join(f":i{i}" for i in range(len(chunk)))
        params = {f"i{i}": v for i, v in enumerate(chunk)} | {"now": now}
        rows = tx.execute(f"{_select(table)} WHERE {table.key} IN ({marks})", params).fetchall()
        found.extend(Item(*r) for r in rows)
    return found


def relocate(
    tx: Tx,
    resource: Resource,
    ids: Iterable[str],
    *,
    source: str,
    target: str,
    movable: Sequence[str],
    now: float,
) -> int:
    """Move the items from ``source`` to ``target``, each only if it is still there and in a
    ``movable`` state: how many moved. Fewer than asked means another process changed one
    since it was read; the caller refuses the move and the job rolls back."""
    table = _TABLES[resource]
    states = ",".join(f":s{i}" for i in range(len(movable)))
    moved = 0
    for item in ids:
        params = {"target": target, "id": item, "source": source, "now": now}
        params |= {f"s{i}": s for i, s in enumerate(movable)}
        cur = tx.execute(
            f"UPDATE {table.name} SET location=:target WHERE {table.key}=:id"  # noqa: S608
            f" AND location=:source AND {table.state} IN ({states})",
            params,
        )
        moved += cur.rowcount
    return moved


def record_movement(tx: Tx, movement: Movement, items: Iterable[str]) -> int:
    """Record a move with each of its items; the movement's id."""
    (movement_id,) = tx.execute(
        "INSERT INTO movements (resource, direction, from_location, to_location,"
        " operator, receiver, count, note, at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
        (
            movement.resource,
            movement.direction,
            movement.source,
            movement.target,
            movement.operator,
            movement.receiver,
            movement.count,
            movement.note,
            movement.at,
        ),
    ).fetchone()
    tx.executemany(
        "INSERT INTO movement_items (movement_id, item) VALUES (?,?)",
        [(movement_id, i) for i in items],
    )
    return int(movement_id)


def movements(
    tx: Tx, *, resource: Resource | None = None, item: str | None = None, limit: int = 100
) -> list[Movement]:
    """The newest moves first; for one card or number if ``item`` is given."""
    clauses: list[str] = []
    args: list[str | int] = []
    if resource is not None:
        clauses.append("m.resource=?")
        args.append(resource)
    if item is not None:
        clauses.append("m.id IN (SELECT movement_id FROM movement_items WHERE item=?)")
        args.append(item)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    sql = (
        "SELECT m.id, m.resource, m.direction, m.from_location, m.to_location, m.operator,"  # noqa: S608
        f" m.receiver, m.count, m.note, m.at FROM movements m{where}"
        " ORDER BY m.id DESC LIMIT ?"
    )
    return [Movement(*r) for r in tx.execute(sql, (*args, limit)).fetchall()]


def items_of(tx: Tx, movement_id: int) -> list[str]:
    rows = tx.execute(
        "SELECT item FROM movement_items WHERE movement_id=? ORDER BY item", (movement_id,)
    ).fetchall()
    return [r[0] for r in rows]
