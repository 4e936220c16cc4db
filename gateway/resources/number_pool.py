"""The number pool's operations: import, search, hold and release, reserve, disable, use and
recycle (see `gateway.resources.numbers` for the states and `gateway.store.numbers` for how a
change is made race-safe)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from gateway.resources import audit
from gateway.resources.numbers import (
    BlockIn,
    Hold,
    NumberKind,
    NumberRecord,
    NumberState,
    PoolSettings,
    why_not,
)
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Unavailable
from gateway.store import OrderStore, Tx, customers
from gateway.store import numbers as rows
from gateway.store.numbers import Transition

_PATTERN = re.compile(r"[0-9*?]{1,20}")
_CONTAINS = re.compile(r"[0-9]{1,20}")


def _load(tx: Tx, msisdn: str, now: float) -> NumberRecord:
    record = rows.find(tx, msisdn, now)
    if record is None:
        raise NotFound(f"number {msisdn} is not in the pool", field="msisdn")
    return record


def find(tx: Tx, msisdn: str, now: float) -> NumberRecord | None:
    """Inside a store job: the number, or None when the pool does not manage it."""
    return rows.find(tx, msisdn, now)


def take_into_use(tx: Tx, msisdn: str, order_id: str, *, operator: str, now: float) -> None:
    """Inside a store job: the number held by ``operator`` becomes in use by ``order_id`` —
    call it in the job that completes the order, so both commit together. A hold that has
    lapsed but was not taken by anyone else still counts. Running it again for the same order
    changes nothing; anything else raises `Unavailable` (and the job rolls back)."""
    if rows.take_into_use(tx, msisdn, order_id, operator=operator, now=now):
        return
    record = _load(tx, msisdn, now)
    if record.state is NumberState.IN_USE and record.order_id == order_id:
        return
    raise Unavailable(f"{why_not(record, operator)}: it is not held by {operator}", field="msisdn")


class NumberPool:
    """The pool: import, search, hold and release, reserve, disable, use and recycle."""

    def __init__(self, store: OrderStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    # -- settings ------------------------------------------------------------------------

    async def settings(self) -> PoolSettings:
        return await self.store.run(rows.settings)

    async def change_settings(self, changes: dict[str, Any], *, by: str) -> PoolSettings:
        now = self.clock()

        def job(tx: Tx) -> PoolSettings:
            before = rows.settings(tx)
            try:
                after = PoolSettings.model_validate(before.model_dump() | changes)
            except ValidationError as exc:
                raise Invalid.from_validation(exc) from None
            rows.save_settings(tx, after)
            audit.record(
                tx,
                at=now,
                operator=by,
                action="change number pool settings",
                outcome="done",
                detail={"before": before.model_dump(), "after": after.model_dump()},
            )
            return after

        return await self.store.run(job)

    # -- stock ---------------------------------------------------------------------------

    async def import_block(self, block: BlockIn, *, by: str) -> int:
        """Put every number of the block into the pool as unused, in one transaction; refused
        whole if any of them is in the pool already."""
        now = self.clock()
        first, last = block.first, block.last
        assert first is not None and last is not None

        def job(tx: Tx) -> int:
            clash = rows.first_in_range(tx, first, last)
            if clash is not None:
                raise Unavailable(
                    f"number {clash[0]} is in the pool already (block {clash[1]}):"
                    " nothing was imported",
                    field="prefix" if block.prefix else "first",
                )
            rows.add_block(tx, block, block.numbers(), by=by, now=now)
            return block.count

        return await self.store.run(job)

    async def get(self, msisdn: str) -> NumberRecord:
        now = self.clock()
        return await self.store.run(lambda tx: _load(tx, msisdn, now))

    async def find(self, msisdn: str) -> NumberRecord | None:
        """Like `get`, but None for a number the pool does not manage (no exception: a
        raising job makes its whole group commit run again, one savepoint per job)."""
        now = self.clock()
        return await self.store.run(lambda tx: rows.find(tx, msisdn, now))

    async def search(
        self,
        *,
        pattern: str | None = None,
        contains: str | None = None,
        state: NumberState | None = None,
        available: bool = False,
        kind: NumberKind | None = None,
        location: str | None = None,
        limit: int = 100,
    ) -> list[NumberRecord]:
        """Numbers matching a mask (``138****8888``: ``*`` or ``?`` is any one digit), holding
        a run of digits (``contains="666"``), in a state, or available to hold now."""
        if pattern is not None and not _PATTERN.fullmatch(pattern):
            raise Invalid("a pattern is digits with * or ? for any digit", field="pattern")
        if contains is not None and not _CONTAINS.fullmatch(contains):
            raise Invalid("contains must be 1 to 20 digits", field="contains")
        now = self.clock()
        return await self.store.run(
            lambda tx: rows.search(
                tx,
                now=now,
                mask=pattern.replace("*", "?") if pattern is not None else None,
                contains=contains,
                state=state,
                available=available,
                kind=kind,
                location=location,
                limit=limit,
            )
        )

    # -- the counter ---------------------------------------------------------------------

    async def hold(
        self, msisdn: str, operator: str, channel: str, *, for_customer: int | None = None
    ) -> Hold:
        """Pre-occupy (预占) a number for the counter. Succeeds for one caller only: the number
        must be unused, recycled past its cool-down, a lapsed hold, or reserved for
        ``for_customer``; and the operator may not hold more than the configured number."""
        now = self.clock()
        token = secrets.token_urlsafe(16)

        def job(tx: Tx) -> Hold:
            settings = rows.settings(tx)
            until = now + settings.hold_minutes * 60
            customer = str(for_customer) if for_customer is not None else None
            if rows.hold(
                tx,
                msisdn,
                token=token,
                operator=operator,
                channel=channel,
                until=until,
                now=now,
                customer=customer,
            ):
                return Hold(msisdn, operator, channel, token, until)
            record = _load(tx, msisdn, now)
            if record.state in (NumberState.UNUSED, NumberState.RECYCLED) and (
                record.reusable_from is None or record.reusable_from <= now
            ):
                raise NotAllowed(
                    f"operator {operator} holds {settings.max_holds_per_operator} numbers"
                    " already (the limit): release one first",
                    field="msisdn",
                )
            raise Unavailable(why_not(record, operator), field="msisdn")

        return await self.store.run(job)

    async def release(self, hold: Hold) -> bool:
        """Give a held number back (to the state it was in). False if the hold is no longer
        this one (it lapsed and someone else took the number, or it is in use)."""
        return await self.release_token(hold.msisdn, hold.token)

    async def release_token(self, msisdn: str, token: str) -> bool:
        """`release` for a client that kept only the number and the hold's token."""
        return await self.store.run(lambda tx: rows.release(tx, msisdn, token))

    async def take_into_use(self, msisdn: str, order_id: str, *, operator: str) -> None:
        """`take_into_use` in a transaction of its own."""
        now = self.clock()
        await self.store.run(
            lambda tx: take_into_use(tx, msisdn, order_id, operator=operator, now=now)
        )

    async def recycle(self, msisdn: str, *, by: str) -> NumberRecord:
        """A number whose line was cancelled comes back (回收); it may be held again only after
        the cool-down."""
        return await self._transition(msisdn, "recycle", (NumberState.IN_USE,), by=by)

    async def reserve(self, msisdn: str, customer_id: int, *, by: str) -> NumberRecord:
        """Book (预定) an available number for a registered customer."""

        def check(tx: Tx) -> None:
            if not customers.exists(tx, customer_id):
                raise NotFound(f"no customer {customer_id}", field="customer")

        return await self._transition(
            msisdn,
            "reserve",
            (NumberState.UNUSED, NumberState.RECYCLED),
            by=by,
            customer=str(customer_id),
            check=check,
        )

    async def unreserve(self, msisdn: str, *, by: str) -> NumberRecord:
        return await self._transition(msisdn, "unreserve", (NumberState.RESERVED,), by=by)

    async def disable(self, msisdn: str, *, by: str) -> NumberRecord:
        return await self._transition(
            msisdn,
            "disable",
            (NumberState.UNUSED, NumberState.RECYCLED, NumberState.RESERVED),
            by=by,
            cooling_ok=True,
        )

    async def enable(self, msisdn: str, *, by: str) -> NumberRecord:
        """A disabled number becomes unused again — or recycled, if it was recycled and its
        cool-down has not ended."""
        return await self._transition(msisdn, "enable", (NumberState.DISABLED,), by=by)

    async def _transition(
        self,
        msisdn: str,
        action: Transition,
        allowed: tuple[NumberState, ...],
        *,
        by: str,
        customer: str | None = None,
        check: Callable[[Tx], None] | None = None,
        cooling_ok: bool = False,
    ) -> NumberRecord:
        """Move a number from one of ``allowed`` (its state now) by ``action``; audited.
        A recycled number still cooling down moves only if ``cooling_ok``."""
        now = self.clock()

        def job(tx: Tx) -> NumberRecord:
            if check is not None:
                check(tx)
            record = _load(tx, msisdn, now)
            cooling = record.reusable_from is not None and record.reusable_from > now
            if record.state not in allowed or (
                record.state is NumberState.RECYCLED and cooling and not cooling_ok
            ):
                raise Unavailable(f"cannot {action}: {why_not(record)}", field="msisdn")
            if not rows.transition(tx, msisdn, action, allowed, now=now, customer=customer):
                # Another process changed it since it was read.
                raise Unavailable(
                    f"cannot {action}: {why_not(_load(tx, msisdn, now))}", field="msisdn"
                )
            audit.record(
                tx,
                at=now,
                operator=by,
                action=f"{action} number {msisdn}",
                outcome="done",
                detail={"from": record.state.value},
            )
            return _load(tx, msisdn, now)

        return await self.store.run(job)
