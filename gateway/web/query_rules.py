"""Who may be told what about a line: the seed's query rules (查询流程), at the counter.

- The service password has top priority: with the right one anybody is served; a wrong one
  is refused, whoever presents it.
- Without it, only the owner, identified by the ID document the line was opened (or last
  transferred) with, is served their own number's details.
- A weak password is accepted, and the clerk is told to have the customer change it.

The gateway keeps no separate register of owners and service passwords yet, so both are read
from the line's completed orders: the owner from its latest open-account or transfer, the
service password from its latest change of customer details that set one (sealed in the
store like every secret). A refusal is written to the audit trail.
"""

from __future__ import annotations

import hmac
import itertools
from dataclasses import dataclass
from typing import Literal

from gateway.orders import ChangeCustomerInfo, Customer, OpenAccount, TransferOwnership
from gateway.resources import audit
from gateway.store import OrderState, OrderStore, Tx

Basis = Literal["password", "owner"]
_COMMON = {"000000", "111111", "123456", "654321", "666666", "888888", "123123", "112233"}


@dataclass(frozen=True)
class Served:
    basis: Basis
    weak_password: bool


class QueryRefused(Exception):
    """``key`` names the catalog message that tells the clerk why."""

    def __init__(self, key: str, field: str) -> None:
        super().__init__(key)
        self.key = key
        self.field = field


def weak(password: str, msisdn: str) -> bool:
    """Short, common, one digit repeated, a straight run, or the number's own tail."""
    if len(password) < 6 or password in _COMMON or len(set(password)) == 1:
        return True
    if password.isdigit():
        steps = {int(b) - int(a) for a, b in itertools.pairwise(password)}
        if steps in ({1}, {-1}):
            return True
    return msisdn.endswith(password)


async def _completed(store: OrderStore, kind: str, msisdn: str, limit: int) -> list[object]:
    found = await store.list_orders(
        kind=kind, msisdn=msisdn, state=OrderState.COMPLETED.value, limit=limit
    )
    orders: list[object] = []
    for summary in found:
        rec = await store.get(summary.id)
        if rec is not None and rec.order is not None:
            orders.append(rec.order)
    return orders


async def line_owner(store: OrderStore, msisdn: str) -> tuple[Customer, float] | None:
    """The owner's identity and since when (the latest open-account or transfer)."""
    latest: tuple[Customer, float] | None = None
    for kind in ("open_account", "transfer_ownership"):
        found = await store.list_orders(
            kind=kind, msisdn=msisdn, state=OrderState.COMPLETED.value, limit=1
        )
        if not found or (latest is not None and latest[1] >= found[0].created_at):
            continue
        rec = await store.get(found[0].id)
        order = rec.order if rec is not None else None
        if isinstance(order, OpenAccount):
            latest = (order.customer, found[0].created_at)
        elif isinstance(order, TransferOwnership):
            latest = (order.new_owner, found[0].created_at)
    return latest


async def service_password(store: OrderStore, msisdn: str) -> str | None:
    for order in await _completed(store, "change_customer_info", msisdn, 50):
        if isinstance(order, ChangeCustomerInfo) and order.service_password is not None:
            return order.service_password.get_secret_value()
    return None


async def decide(
    store: OrderStore,
    msisdn: str,
    *,
    password: str | None,
    id_type: str | None,
    id_number: str | None,
) -> Served:
    """Whether the details of ``msisdn`` may be given, and on what basis; else `QueryRefused`."""
    if password:
        stored = await service_password(store, msisdn)
        if stored is None:
            raise QueryRefused("query.refused.no_password_set", "service_password")
        if not hmac.compare_digest(password.encode(), stored.encode()):
            raise QueryRefused("query.refused.wrong_password", "service_password")
        return Served("password", weak(password, msisdn))
    if id_number:
        owner = await line_owner(store, msisdn)
        if (
            owner is not None
            and owner[0].id_type.value == id_type
            and hmac.compare_digest(owner[0].id_number.upper(), id_number.strip().upper())
        ):
            return Served("owner", False)
        raise QueryRefused("query.refused.not_owner", "id_number")
    raise QueryRefused("query.refused.identify", "service_password")


async def record_refusal(
    store: OrderStore, *, operator: str, channel: str, msisdn: str, reason: str, at: float
) -> None:
    def job(conn: Tx) -> None:
        audit.record(
            conn,
            at=at,
            operator=operator,
            channel=channel,
            action=f"query {msisdn}",
            outcome="refused",
            reason=reason,
        )

    await store.run(job)
