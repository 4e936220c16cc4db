"""The one access policy (M2, M7): who may do what, on which channel, at what time, and how
much of a customer's personal data they see.

Every path that acts for an operator asks the same question — the REST API (and the CLI,
which speaks REST), the front end on every request, order intake, and any other intake that
comes later (MQTT): ``check(operator, action, channel, at)``. It is a pure function of what
it is given, so an intake that is not HTTP calls it the same way; `judge` loads its arguments
in one store job and `decide` also writes a refusal to the audit trail.

The rules:

- the operator is known and active, and their role grants the action's permission;
- the request names a registered, active channel — counter roles (clerk, supervisor) always,
  back-office roles (engineer, admin) when they act at one; a non-admin is assigned to it;
- counter roles act only while that channel is open, reads as much as writes: time is a
  control, so a stolen password is useless at night;
- reads are scoped: a clerk reads their own channels' orders and lines, a supervisor those of
  the channels in their area (same city and area as the channels they are assigned to),
  engineers and admins all;
- personal data (ID number, address) is masked wherever a list shows it; the full value is
  given only where the counter process needs it, to a role that may see it (never an
  engineer), and that access is audited (`reveal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.resources import audit
from gateway.resources.access import GRANTS, Permission, Role
from gateway.resources.channels import Channel
from gateway.resources.operators import Operator
from gateway.store import OrderRecord, OrderStore, Tx
from gateway.store import channels as channel_rows
from gateway.store import operators as operator_rows

COUNTER_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR})
"""Roles that work at a counter: they always name their channel and keep its hours."""
REVEALING_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
"""Roles that may see a customer's ID number and address in full where the process needs it."""
NAME_YOUR_CHANNEL = (
    "say which channel you work at: every request from a counter names its channel"
    " (X-Provgw-Channel header, --channel or $PROVGW_CHANNEL)"
)


@dataclass(frozen=True)
class Action:
    """What is asked for: a name for the audit trail and the permission it needs."""

    name: str
    permission: Permission


READ = Action("read", Permission.READ)
INTAKE = Action("place an order", Permission.ORDER)
COUNTER = Action("counter", Permission.COUNTER)
STOCK = Action("stock", Permission.STOCK)
ADMIN = Action("admin", Permission.ADMIN)


@dataclass(frozen=True)
class Decision:
    """The answer. ``channels``: whose orders and lines may be read (None: every channel's);
    ``reveal``: whether personal data may be shown in full where the process needs it."""

    allowed: bool
    reason: str | None = None
    channels: frozenset[str] | None = None
    reveal: bool = False

    def sees(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels


def _refused(reason: str) -> Decision:
    return Decision(False, reason)


def check(
    operator: Operator,
    action: Action,
    channel: Channel | str | None,
    at: float,
    *,
    area: frozenset[str] = frozenset(),
) -> Decision:
    """May ``operator`` do ``action`` at ``channel`` at ``at`` (Unix time)?

    ``channel`` is the registered channel the request names, its id alone when no such
    channel is registered, or None when the request names none. ``area``: for a supervisor,
    the channels of their area (`judge` finds them)."""
    if not operator.active:
        return _refused(f"operator {operator.id} is disabled")
    if action.permission not in GRANTS[operator.role]:
        return _refused(
            f"operator {operator.id} ({operator.role.value}) may not do this: it needs the"
            f" {action.permission.value} permission"
        )
    counter = operator.role in COUNTER_ROLES
    if channel is None:
        if counter:
            return _refused(NAME_YOUR_CHANNEL)
    elif isinstance(channel, str):
        return _refused(
            f"channel {channel} is not registered: every request must name a known channel"
        )
    else:
        if not channel.active:
            return _refused(f"channel {channel.id} ({channel.name}) is closed")
        if operator.role is not Role.ADMIN and channel.id not in operator.channels:
            return _refused(f"operator {operator.id} is not assigned to channel {channel.id}")
        if counter and not channel.hours.is_open(at):
            local = channel.hours.local(at)
            return _refused(
                f"channel {channel.id} is outside its opening hours: it is {local:%a %H:%M}"
                f" there, open {channel.hours.describe()}"
            )
    scope: frozenset[str] | None
    if operator.role is Role.CLERK:
        scope = frozenset(operator.channels)
    elif operator.role is Role.SUPERVISOR:
        scope = area | frozenset(operator.channels)
    else:
        scope = None
    return Decision(True, channels=scope, reveal=operator.role in REVEALING_ROLES)


def area_of(conn: Tx, operator: Operator) -> frozenset[str]:
    """The channels in the same city and area as any channel ``operator`` is assigned to."""
    if operator.role is not Role.SUPERVISOR or not operator.channels:
        return frozenset()
    return channel_rows.in_area_of(conn, operator.channels)


def judge(
    conn: Tx,
    operator: Operator | str,
    channel_id: str | None,
    action: Action,
    at: float,
) -> Decision:
    """`check` with its arguments read from the store (``operator`` by id or as loaded)."""
    found = operator_rows.find(conn, operator) if isinstance(operator, str) else operator
    if found is None:
        return _refused(f"operator {operator} is not known")
    channel: Channel | str | None = None
    if channel_id is not None:
        channel = channel_rows.find(conn, channel_id) or channel_id
    return check(found, action, channel, at, area=area_of(conn, found))


async def decide(
    store: OrderStore,
    operator: Operator | str,
    channel_id: str | None,
    action: Action,
    at: float,
    *,
    what: str | None = None,
) -> Decision:
    """`judge` in one store job; a refusal is written to the audit trail (as ``what``, the
    action's name otherwise) before it is returned."""
    shown = operator if isinstance(operator, str) else operator.id

    def job(conn: Tx) -> Decision:
        decision = judge(conn, operator, channel_id, action, at)
        if not decision.allowed:
            audit.record(
                conn,
                at=at,
                operator=shown,
                channel=channel_id or "-",
                action=what or action.name,
                outcome="refused",
                reason=decision.reason or "not allowed",
            )
        return decision

    return await store.run(job)


async def visible_orders(
    store: OrderStore,
    channels: frozenset[str] | None,
    *,
    limit: int,
    before_seq: int | None = None,
    **filters: Any,
) -> list[OrderRecord]:
    """Newest first, at most ``limit``, only orders of ``channels`` (None: every channel's):
    a clerk's list holds their channels' orders, however many others there are between."""
    if channels is None:
        return await store.list_orders(limit=limit, before_seq=before_seq, **filters)
    found: list[OrderRecord] = []
    page_size = max(limit, 200)
    while len(found) < limit:
        page = await store.list_orders(limit=page_size, before_seq=before_seq, **filters)
        found += [r for r in page if r.channel in channels]
        if len(page) < page_size:
            break
        before_seq = page[-1].seq
    return found[:limit]


def mask_id(number: str) -> str:
    """An ID number where others may see it: ``110105********002X`` — the region and the
    tail, enough to match the document in hand, not enough to copy it."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_address(address: str) -> str:
    """An address where others may see it: the first six characters (the district) only."""
    return address[:6] + "****" if len(address) > 6 else "****"


_MASKS = {"id_number": mask_id, "address": mask_address}


def masked(data: Any) -> Any:
    """``data`` (JSON-like) with every ID number and address in it masked."""
    if isinstance(data, dict):
        return {
            k: _MASKS[k](v) if k in _MASKS and isinstance(v, str) else masked(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [masked(v) for v in data]
    return data


async def reveal(
    store: OrderStore, *, operator: str, channel: str | None, what: str, at: float
) -> None:
    """Record that ``operator`` was shown ``what`` personal data in full."""
    await store.run(
        lambda conn: audit.record(
            conn,
            at=at,
            operator=operator,
            channel=channel or "-",
            action=f"show personal data: {what}",
            outcome="done",
        )
    )
