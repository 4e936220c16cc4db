"""The outlet counter joined to the engine: numbers held, cards from stock, both consumed.

What an order at the counter needs from the resources, and when:
- at intake, the number it opens must be held (预占) by the clerk who places it;
- before planning, the card's keys: the SIM stock's for that ICCID (the card is reserved for the
  order), or — for a card the stock does not know — the order's own or fresh ones;
- when the order completes, in the same transaction: the number becomes in use and the card is
  sold (the old card of a SIM replacement retired);
- after it ends otherwise: the card goes back to stock (damaged if it was written), and the hold
  is kept until it lapses, so the clerk may try again with another card.
Recycling a number (change of number, cancellation) follows the completion, outside it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from gateway.config import GatewayConfig
from gateway.engine import IntakeGuard, IntakeRefused, default_card_keys
from gateway.lines import Line
from gateway.operations import WriteCard
from gateway.orders import Cancel, ChangeNumber, OpenAccount, Order, PortOut, SimSwap
from gateway.planner import CardKeys, Plan, PlanRefused
from gateway.resources import audit
from gateway.resources.number_pool import find, take_into_use
from gateway.resources.numbers import NumberState
from gateway.resources.refusals import NotFound, ResourceError
from gateway.resources.service import Resources
from gateway.resources.sim_stock import find_card, mark_sold, retire
from gateway.resources.stock import CardState
from gateway.store import OrderState, Phase, StepState, Tx
from gateway.store.savepoint import savepoint

log = logging.getLogger(__name__)


class Counter:
    def __init__(self, resources: Resources, config: GatewayConfig) -> None:
        self.res = resources
        self.config = config

    # -- intake --------------------------------------------------------------------------

    def guard(self, base: IntakeGuard | None) -> IntakeGuard:
        """``base`` (channel, operator, hours, customer), then: a number from the pool that an
        account is opened on must be held by the clerk placing the order."""

        async def guard(order: Order) -> None:
            if base is not None:
                await base(order)
            if not isinstance(order, OpenAccount):
                return
            number = await self.res.numbers.find(order.msisdn)
            if number is None:
                return  # a number the pool does not manage (upstream systems' own ranges)
            held_by_clerk = number.state is NumberState.HELD and number.held_by == order.operator
            if not held_by_clerk and number.order_id != order.order_id:
                reason = (
                    f"number {order.msisdn} is {number.state.value.replace('_', ' ')}: hold it "
                    "(预占) before opening an account on it"
                )
                await self._audit(order, "refused", reason)
                raise IntakeRefused(reason)

        return guard

    # -- planning ------------------------------------------------------------------------

    async def card_keys(self, order: OpenAccount | SimSwap) -> CardKeys:
        """The keys for the card the order writes; the stock's card is reserved for it."""
        iccid, imsi = (
            (order.iccid, order.imsi)
            if isinstance(order, OpenAccount)
            else (order.new_iccid, order.new_imsi)
        )
        card = await self.res.stock.find(iccid)
        if card is None:
            return default_card_keys(self.config, order)
        if card.imsi and card.imsi != imsi:
            raise PlanRefused(f"card {iccid} carries IMSI {card.imsi}, not {imsi}")
        if not (card.state is CardState.RESERVED and card.order_id == order.order_id):
            try:
                await self.res.stock.reserve_card(iccid, order.operator, order_id=order.order_id)
            except ResourceError as exc:
                raise PlanRefused(str(exc)) from None
        try:
            keys = await self.res.stock.card_keys(iccid, order_id=order.order_id)
        except ResourceError as exc:
            raise PlanRefused(str(exc)) from None
        if keys.opc is None:
            raise PlanRefused(f"card {iccid} has no OPc on record: it cannot run Milenage")
        fallback = default_card_keys(self.config, order)
        adm1 = keys.adm1 or fallback.adm1
        return CardKeys(ki=keys.ki, opc=keys.opc, adm1=adm1)

    # -- the end of an order -------------------------------------------------------------

    def in_transaction(
        self,
        conn: Tx,
        order: Order,
        state: OrderState,
        before: Mapping[str, Line | None],
        now: float,
    ) -> None:
        """With a completion, in its transaction: the number in use, the cards sold/retired.

        Never raises: the network already holds the order, so a resource record that does
        not fit is reported (audit, log) for a person to look at, not allowed to undo it."""
        if state is not OrderState.COMPLETED:
            return
        steps: list[tuple[str, Callable[[], None]]] = []
        number = card = None
        if isinstance(order, OpenAccount):
            number, card = order.msisdn, order.iccid
        elif isinstance(order, SimSwap):
            card = order.new_iccid
            old = before.get(order.msisdn)
            if old is not None and find_card(conn, old.iccid) is not None:
                steps.append(("retire old card", lambda: retire(conn, old.iccid, now=now)))
        # Only what the pool and the stock manage: an upstream system's own numbers and
        # cards are not theirs to record.
        if number is not None and find(conn, number, now) is not None:
            steps.append(
                (
                    "take number",
                    lambda: take_into_use(
                        conn, number, order.order_id, operator=order.operator, now=now
                    ),
                )
            )
        if card is not None and find_card(conn, card) is not None:
            steps.append(("sell card", lambda: mark_sold(conn, card, order.order_id, now=now)))
        for what, action in steps:
            try:
                with savepoint(conn, "counter"):
                    action()
            except ResourceError as exc:
                log.warning("order %s: could not %s: %s", order.order_id, what, exc)
                audit.record(
                    conn,
                    at=now,
                    operator=order.operator,
                    channel=order.channel,
                    action=f"{what} for order {order.order_id}",
                    outcome="failed",
                    reason=str(exc),
                )

    async def after(
        self,
        order: Order,
        state: OrderState,
        plan: Plan | None,
        steps: Mapping[tuple[Phase, int], StepState],
    ) -> None:
        """After an order ended: numbers recycled, or a reserved card back to stock."""
        try:
            if state is OrderState.COMPLETED:
                if isinstance(order, ChangeNumber | Cancel | PortOut):
                    await self.res.numbers.recycle(order.msisdn, by=order.operator)
                return
            if isinstance(order, OpenAccount | SimSwap) and order.card is not None:
                iccid = order.iccid if isinstance(order, OpenAccount) else order.new_iccid
                written = plan is not None and any(
                    isinstance(s.op, WriteCard)
                    and steps.get(("forward", s.index)) is StepState.DONE
                    for s in plan.steps
                )
                await self.res.stock.release_card(iccid, damaged=written, order_id=order.order_id)
        except NotFound:
            return
        except ResourceError as exc:
            log.warning("order %s: resources not updated after it ended: %s", order.order_id, exc)

    async def _audit(self, order: Order, outcome: str, reason: str) -> None:
        now = self.res.clock()

        def job(conn: Tx) -> None:
            audit.record(
                conn,
                at=now,
                operator=order.operator,
                channel=order.channel,
                action=f"order {order.kind} {order.order_id}",
                outcome=outcome,
                reason=reason,
            )

        await self.res.store.run(job)
