"""Who may place an order over the bus: the one call into the access policy REST uses.

The broker has authenticated the upstream system and its ACL let it publish to
``provgw/orders/{channel}``; the order must name that channel, and then the engine's intake
guard — the same one behind ``POST /orders`` (`gateway.resources.guard`: channel open, operator
known, enabled and assigned to the channel, opening hours, customer category), audited on
refusal — decides. Whatever that policy becomes, the bus reaches it through `submit` only.
"""

from __future__ import annotations

from gateway.engine import Engine, IntakeRefused
from gateway.orders import Order
from gateway.store import OrderRecord


async def submit(engine: Engine, channel: str, order: Order) -> tuple[OrderRecord, bool]:
    """Accept ``order`` that came in on ``channel``'s topic, as REST would; (record, created).
    Raises `IntakeRefused` (nothing stored) or `gateway.store.Conflict`."""
    if order.channel != channel:
        raise IntakeRefused(
            f"channel: the order names channel {order.channel} but was published for {channel}"
        )
    return await engine.submit(order)
