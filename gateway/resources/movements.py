"""Moves of cards and numbers between places (see `gateway.resources.distribution`), all or
none, each recorded with its items."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from gateway.resources.access import Role
from gateway.resources.distribution import (
    LEVELS,
    DistributeIn,
    Movement,
    Resource,
    ReturnIn,
    Selection,
    location_text,
    parse_location,
)
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.store import OrderStore, Tx, channels, operators
from gateway.store import distribution as rows
from gateway.store.distribution import Item


@dataclass(frozen=True)
class _Kind:
    movable: tuple[str, ...]  # the states an item may move in
    noun: str


_KINDS: dict[Resource, _Kind] = {
    "sim": _Kind(("in_stock",), "card"),
    "number": _Kind(("unused", "recycled", "disabled", "reserved"), "number"),
}


def _items(tx: Tx, resource: Resource, selection: Selection, now: float) -> list[Item]:
    """Each selected item; unknown ids are refused."""
    noun = _KINDS[resource].noun
    if selection.first is not None and selection.last is not None:
        found = rows.items_between(tx, resource, selection.first, selection.last, now)
        if not found:
            raise NotFound(f"no {noun} between {selection.first} and {selection.last}")
        return found
    wanted = list(dict.fromkeys(selection.items))
    found = rows.items(tx, resource, wanted, now)
    missing = set(wanted) - {i.id for i in found}
    if missing:
        raise NotFound(
            f"not in stock records: {', '.join(sorted(missing)[:10])}"
            + (f" and {len(missing) - 10} more" if len(missing) > 10 else ""),
            field="items",
        )
    return found


def _check_place(tx: Tx, parts: tuple[str, ...]) -> str | None:
    """The receiver a place implies (a clerk receives for themselves), after checking that an
    outlet is a channel in that city and area, and a clerk an operator of that outlet."""
    if len(parts) >= 3:
        channel = channels.find(tx, parts[2])
        if channel is None:
            raise Invalid(f"outlet {parts[2]} is not a registered channel", field="to")
        if (channel.city, channel.area) != parts[:2]:
            raise Invalid(
                f"outlet {parts[2]} is in {channel.city}/{channel.area}, not"
                f" {location_text(parts[:2])}",
                field="to",
            )
    if len(parts) == 4:
        operator = operators.find(tx, parts[3])
        if operator is None or not operator.active:
            raise Invalid(f"clerk {parts[3]} is not an active operator", field="to")
        if operator.role is not Role.ADMIN and parts[2] not in operator.channels:
            raise Invalid(f"clerk {parts[3]} is not assigned to outlet {parts[2]}", field="to")
        return operator.id
    return None


def _why_stuck(kind: _Kind, item: Item, direction: str) -> str | None:
    """Items in use, held or sold stay where they are; damaged cards only go back up."""
    if item.state not in kind.movable:
        return item.state.replace("_", " ")
    if direction == "distribute" and item.condition != "usable":
        return item.condition
    return None


class Distribution:
    """Moves of cards and numbers between places, and their record."""

    def __init__(self, store: OrderStore, *, clock: Callable[[], float] = time.time) -> None:
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
        kind = _KINDS[resource]
        noun = kind.noun
        now = self.clock()

        def job(tx: Tx) -> Movement:
            found = _items(tx, resource, move, now)
            places = {i.location for i in found}
            if len(places) > 1:
                shown = ", ".join(repr(p) for p in sorted(places)[:5])
                raise Invalid(
                    f"the {noun}s are in different places ({shown}): move them separately",
                    field="items",
                )
            source_text = places.pop()
            source = parse_location(source_text)
            if target_given is None:
                if not source:
                    raise Invalid(
                        f"the {noun}s are in the central stock: there is nowhere to return them to",
                        field="items",
                    )
                direction, target = "return", source[:-1]
            else:
                direction, target = "distribute", target_given
                if len(target) != len(source) + 1 or target[: len(source)] != source:
                    below = location_text((*source, "<name>"))
                    raise Invalid(
                        f"from {location_text(source) or 'the central stock'} the {noun}s"
                        f" go one level down, to a {LEVELS[len(source) + 1]} ({below})",
                        field="to",
                    )
            implied = _check_place(tx, target) if direction == "distribute" else None
            receiver = receiver_given or implied
            if receiver is None:
                raise Invalid("say who receives the goods", field="receiver")
            if implied is not None and receiver != implied:
                raise Invalid(f"the clerk {implied} receives goods given to them", field="receiver")
            stuck = [(i.id, why) for i in found if (why := _why_stuck(kind, i, direction))]
            if stuck:
                raise Unavailable(
                    f"{len(stuck)} of the {noun}s cannot move: {stuck[0][0]} is {stuck[0][1]}",
                    field="items",
                )
            ids = [i.id for i in found]
            target_text = location_text(target)
            moved = rows.relocate(
                tx,
                resource,
                ids,
                source=source_text,
                target=target_text,
                movable=kind.movable,
                now=now,
            )
            if moved != len(ids):
                raise Unavailable(
                    f"{len(ids) - moved} of the {noun}s changed while they were being moved:"
                    " nothing was moved, try again",
                    field="items",
                )
            movement = Movement(
                0,
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
            return replace(movement, id=rows.record_movement(tx, movement, ids))

        return await self.store.run(job)

    async def movements(
        self, *, resource: Resource | None = None, item: str | None = None, limit: int = 100
    ) -> list[Movement]:
        """The newest moves first; for one card or number if ``item`` is given."""
        return await self.store.run(
            lambda tx: rows.movements(tx, resource=resource, item=item, limit=limit)
        )

    async def items_of(self, movement_id: int) -> list[str]:
        return await self.store.run(lambda tx: rows.items_of(tx, movement_id))
