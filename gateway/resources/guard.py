"""The intake guard: an order is refused before it is stored unless the access policy
(`gateway.resources.policy`: channel, operator, hour) and its customer allow it (M2, M7, M3).
Every refusal is audited.

One store job per check does the lookups and, on refusal, writes the audit row — so a refusal
is on record before the clerk sees it, and intake costs no extra commit. The counter actions
of the resource API (holding a number, reserving a card) pass the same check through `admit`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gateway.engine import IntakeGuard, IntakeRefused
from gateway.orders import Customer, OpenAccount, Order, TransferOwnership
from gateway.resources import audit
from gateway.resources.customers import refusal_of
from gateway.resources.policy import COUNTER, INTAKE, Action, judge
from gateway.resources.refusals import NotAllowed
from gateway.store import OrderStore, Tx, customers


def _customer_of(order: Order) -> Customer | None:
    if isinstance(order, OpenAccount):
        return order.customer
    if isinstance(order, TransferOwnership):
        return order.new_owner
    return None


async def _check(
    store: OrderStore,
    *,
    operator: str,
    channel: str,
    action: str,
    now: float,
    needs: Action,
    customer: Customer | None = None,
    detail: dict[str, Any] | None = None,
) -> str | None:
    """The reason for refusing, audited; None if allowed."""

    def job(conn: Tx) -> str | None:
        reason = judge(conn, operator, channel, needs, now).reason
        if reason is None and customer is not None:
            # A customer not registered yet is in no category.
            record = customers.find_by_document(
                conn, customer.id_type.value, customer.id_number.upper()
            )
            reason = refusal_of(record) if record is not None else None
        if reason is not None:
            audit.record(
                conn,
                at=now,
                operator=operator,
                channel=channel,
                action=action,
                outcome="refused",
                reason=reason,
                detail=detail,
            )
        return reason

    return await store.run(job)


def make_guard(store: OrderStore, *, clock: Callable[[], float] = time.time) -> IntakeGuard:
    """An `IntakeGuard` for `gateway.engine.Engine`: refuses (and audits) an order whose
    channel is unknown or closed, whose operator is unknown, disabled or not assigned to the
    channel, a clerk's order outside the channel's opening hours, and an account opened for
    (or a line transferred to) a customer in a category that refuses it (blacklist)."""

    async def guard(order: Order) -> None:
        reason = await _check(
            store,
            operator=order.operator,
            channel=order.channel,
            action=f"order {order.kind} {order.order_id}",
            now=clock(),
            needs=INTAKE,
            customer=_customer_of(order),
            detail={"order_id": order.order_id, "kind": order.kind},
        )
        if reason is not None:
            raise IntakeRefused(reason)

    return guard


async def admit(store: OrderStore, operator: str, channel: str, action: str, *, now: float) -> None:
    """Raise `NotAllowed` (audited) unless ``operator`` may act on ``channel`` at ``now``."""
    reason = await _check(
        store, operator=operator, channel=channel, action=action, now=now, needs=COUNTER
    )
    if reason is not None:
        raise NotAllowed(reason, field="channel")
