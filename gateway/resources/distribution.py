"""Distribution of stock (M4/M5): city → area → outlet → clerk, and returns the other way.

A card or a number is somewhere: in the central stock (the empty location ``""``), at a city
(``Beijing``), an area (``Beijing/Dongcheng``), an outlet (``Beijing/Dongcheng/OUT001``, a
registered own-outlet or agent channel in that city and area) or with a clerk
(``Beijing/Dongcheng/OUT001/clerk1``, an operator assigned to that outlet). A move goes one
level down (distribute) or one level up (return), for a set of items that are all in the same
place, and is recorded with every item, the operator who made it and the person who received
the goods.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.identifiers import SafeText
from gateway.resources.access import Role
from gateway.resources.channels import load_channel
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.store import SqliteStore, Tx

Resource = Literal["sim", "number"]
LEVELS = ("central stock", "city", "area", "outlet", "clerk")
_SEGMENT = re.compile(r"[^/\"';\\<>`\x00-\x1f\x7f]{1,40}")
_CHUNK = 500


def parse_location(text: str) -> tuple[str, ...]:
    """``"Beijing/Dongcheng"`` → ``("Beijing", "Dongcheng")``; ``""`` is the central stock."""
    text = text.strip().strip("/")
    if not text:
        return ()
    parts = tuple(p.strip() for p in text.split("/"))
    if len(parts) > 4:
        raise Invalid("a location is at most city/area/outlet/clerk", field="to")
    for part in parts:
        if not _SEGMENT.fullmatch(part):
            raise Invalid(f"location part {part!r} is empty, too long or has a forbidden character")
    return parts


def location_text(parts: Sequence[str]) -> str:
    return "/".join(parts)


class Selection(BaseModel):
    """Items named one by one, or every item of the resource in an inclusive range."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    items: list[str] = Field(default_factory=list, max_length=100_000)
    first: str | None = Field(None, pattern=r"^[0-9]{3,20}$")
    last: str | None = Field(None, pattern=r"^[0-9]{3,20}$")

    @model_validator(mode="after")
    def _one_way(self) -> Selection:
        if self.first is None and self.last is None:
            if not self.items:
                raise ValueError("give items, or first and last")
            return self
        if self.items:
            raise ValueError("give items, or first and last, not both")
        if self.first is None or self.last is None or len(self.first) != len(self.last):
            raise ValueError("a range needs first and last with the same number of digits")
        return self


class DistributeIn(Selection):
    """Give the selected items one level down, to ``to``. ``receiver`` is the person taking
    the goods (a clerk receives for themselves and may be left out)."""

    to: str = Field(min_length=1, max_length=200)
    receiver: SafeText | None = Field(None, min_length=1, max_length=60)
    note: SafeText = Field("", max_length=200)


class ReturnIn(Selection):
    """Give the selected items back one level up; ``receiver`` takes them there."""

    receiver: SafeText = Field(min_length=1, max_length=60)
    note: SafeText = Field("", max_length=200)


@dataclass(frozen=True)
class Movement:
    id: int
    resource: str
    direction: str
    source: str
    target: str
    operator: str
    receiver: str
    count: int
    note: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource,
            "direction": self.direction,
            "from": self.source,
            "to": self.target,
            "operator": self.operator,
            "receiver": self.receiver,
            "count": self.count,
            "note": self.note,
            "at": self.at,
        }


@dataclass(frozen=True)
class _Table:
    name: str
    key: str
    state: str  # SQL for the item's state now
    movable: tuple[str, ...]
    noun: str


_TABLES: dict[str, _Table] = {
    "sim": _Table("sims", "iccid", "state", ("in_stock",), "card"),
    "number": _Table(
        "numbers",
        "msisdn",
        "CASE WHEN state='held' AND hold_until<=:now THEN prior_state ELSE state END",
        ("unused", "recycled", "disabled", "reserved"),
        "number",
    ),
}


def _items(
    conn: Tx, table: _Table, selection: Selection, now: float
) -> list[tuple[str, str, str, str]]:
    """(id, location, state, condition) of each selected item; unknown ids are refused."""
    condition = "condition" if table.name == "sims" else "'usable'"
    # Table and column names come from _TABLES, never from the request.
    select = f"SELECT {table.key}, location, {table.state}, {condition} FROM {table.name}"  # noqa: S608
    if selection.first is not None and selection.last is not None:
        rows = conn.execute(
            f"{select} WHERE {table.key} BETWEEN :first AND :last AND length({table.key})=:n"
            f" ORDER BY {table.key}",
            {
                "first": selection.first,
                "last": selection.last,
                "n": len(selection.first),
                "now": now,
            },
        ).fetchall()
        if not rows:
            raise NotFound(f"no {table.noun} between {selection.first} and {selection.last}")
        return rows
    wanted = list(dict.fromkeys(selection.items))
    found: list[tuple[str, str, str, str]] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join(f":i{i}" for i in range(len(chunk)))
        params = {f"i{i}": v for i, v in enumerate(chunk)} | {"now": now}
        found.extend(conn.execute(f"{select} WHERE {table.key} IN ({marks})", params).fetchall())
    missing = set(wanted) - {r[0] for r in found}
    if missing:
        raise NotFound(
            f"not in stock records: {', '.join(sorted(missing)[:10])}"
            + (f" and {len(missing) - 10} more" if len(missing) > 10 else ""),
            field="items",
        )
    return found


def _check_place(conn: Tx, parts: tuple[str, ...]) -> str | None:
    """The receiver a place implies (a clerk receives for themselves), after checking that an
    outlet is a channel in that city and area, and a clerk an operator of that outlet."""
    if len(parts) >= 3:
        channel = load_channel(conn, parts[2])
        if channel is None:
            raise Invalid(f"outlet {parts[2]} is not a registered channel", field="to")
        if (channel.city, channel.area) != parts[:2]:
            raise Invalid(
                f"outlet {parts[2]} is in {channel.city}/{channel.area}, not"
                f" {location_text(parts[:2])}",
                field="to",
            )
    if len(parts) == 4:
        from gateway.resources.operators import load_operator

        operator = load_operator(conn, parts[3])
        if operator is None or not operator.active:
            raise Invalid(f"clerk {parts[3]} is not an active operator", field="to")
        if operator.role is not Role.ADMIN and parts[2] not in operator.channels:
            raise Invalid(f"clerk {parts[3]} is not assigned to outlet {parts[2]}", field="to")
        return operator.id
    return None


def _why_stuck(table: _Table, state: str, condition: str, direction: str) -> str | None:
    """Items in use, held or sold stay where they are; damaged cards only go back up."""
    if state not in table.movable:
        return state.replace("_", " ")
    if direction == "distribute" and condition != "usable":
        return condition
    return None


class Distribution:
    """Moves of cards and numbers between places, and their record."""

    def __init__(self, store: SqliteStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def distribute(self, resource: Resource, move: DistributeIn, *, by: str) -> Movement:
        return await self._move(resource, move, parse_location(move.to), move.receiver, by=by)

    async def give_back(self, resource: Resource, move: ReturnIn, *, by: str) -> Movement:
        return await self._move(resource, move, None, move.receiver, by=by)

    async def _move(
        self,
        resource: Resource,
        move: DistributeIn | ReturnIn,
        target_given: tuple[str, ...] | None,
        receiver_given: str | None,
        *,
        by: str,
    ) -> Movement:
        """Move the selected items, all or none, and record the move with each item."""
        table = _TABLES[resource]
        now = self.clock()

        def job(conn: Tx) -> Movement:
            rows = _items(conn, table, move, now)
            places = {r[1] for r in rows}
            if len(places) > 1:
                shown = ", ".join(repr(p) for p in sorted(places)[:5])
                raise Invalid(
                    f"the {table.noun}s are in different places ({shown}): move them separately",
                    field="items",
                )
            source = parse_location(places.pop())
            if target_given is None:
                if not source:
                    raise Invalid(
                        f"the {table.noun}s are in the central stock: there is nowhere to return"
                        " them to",
                        field="items",
                    )
                direction, target = "return", source[:-1]
            else:
                direction, target = "distribute", target_given
                if len(target) != len(source) + 1 or target[: len(source)] != source:
                    below = location_text((*source, "<name>"))
                    raise Invalid(
                        f"from {location_text(source) or 'the central stock'} the {table.noun}s"
                        f" go one level down, to a {LEVELS[len(source) + 1]} ({below})",
                        field="to",
                    )
            implied = _check_place(conn, target) if direction == "distribute" else None
            receiver = receiver_given or implied
            if receiver is None:
                raise Invalid("say who receives the goods", field="receiver")
            if implied is not None and receiver != implied:
                raise Invalid(f"the clerk {implied} receives goods given to them", field="receiver")
            stuck = [
                (r[0], why)
                for r in rows
                if (why := _why_stuck(table, r[2], r[3], direction)) is not None
            ]
            if stuck:
                raise Unavailable(
                    f"{len(stuck)} of the {table.noun}s cannot move: {stuck[0][0]} is"
                    f" {stuck[0][1]}",
                    field="items",
                )
            ids = [r[0] for r in rows]
            target_text = location_text(target)
            conn.executemany(
                f"UPDATE {table.name} SET location=? WHERE {table.key}=?",  # noqa: S608
                [(target_text, i) for i in ids],
            )
            cur = conn.execute(
                "INSERT INTO movements (resource, direction, from_location, to_location,"
                " operator, receiver, count, note, at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    resource,
                    direction,
                    location_text(source),
                    target_text,
                    by,
                    receiver,
                    len(ids),
                    move.note,
                    now,
                ),
            )
            movement_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO movement_items (movement_id, item) VALUES (?,?)",
                [(movement_id, i) for i in ids],
            )
            return Movement(
                movement_id,
                resource,
                direction,
                location_text(source),
                target_text,
                by,
                receiver,
                len(ids),
                move.note,
                now,
            )

        return await self.store.run(job)

    async def movements(
        self, *, resource: Resource | None = None, item: str | None = None, limit: int = 100
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
        rows = await self.store.run(lambda conn: conn.execute(sql, (*args, limit)).fetchall())
        return [Movement(*r) for r in rows]

    async def items_of(self, movement_id: int) -> list[str]:
        rows = await self.store.run(
            lambda conn: conn.execute(
                "SELECT item FROM movement_items WHERE movement_id=? ORDER BY item",
                (movement_id,),
            ).fetchall()
        )
        return [r[0] for r in rows]
