"""Who may do what, where and when: roles, permissions, and the channel/operator/hours check.

The same check guards order intake (`gateway.resources.guard`) and the counter actions of the
resource API (holding a number on behalf of a channel), so a clerk meets one rule everywhere:
a known, active operator, on a known, active channel they are assigned to, and — for clerks —
only while that channel is open.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from gateway.resources.channels import load_channel
from gateway.resources.refusals import NotAllowed
from gateway.store import Tx

if TYPE_CHECKING:
    from gateway.resources.operators import Operator


class Role(StrEnum):
    CLERK = "clerk"  # 营业员: counter work
    ENGINEER = "engineer"  # 工程师: stock, numbers, network
    ADMIN = "admin"  # 管理员: everything, including operators and channels


class Permission(StrEnum):
    READ = "read"
    COUNTER = "counter"  # hold numbers, reserve cards, register customers
    STOCK = "stock"  # import, distribute and return stock; disable and recycle numbers
    ADMIN = "admin"  # operators, channels, fee rules, categories, settings, audit trail


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset({Permission.READ, Permission.COUNTER}),
    Role.ENGINEER: frozenset({Permission.READ, Permission.STOCK}),
    Role.ADMIN: frozenset(Permission),
}


def require(operator: Operator, permission: Permission) -> None:
    if permission not in GRANTS[operator.role]:
        raise NotAllowed(
            f"operator {operator.id} ({operator.role.value}) may not do this: it needs the"
            f" {permission.value} permission"
        )


def refusal(conn: Tx, operator_id: str, channel_id: str, now: float) -> str | None:
    """Why ``operator_id`` may not act on ``channel_id`` at ``now``, or None if they may."""
    from gateway.resources.operators import load_operator

    channel = load_channel(conn, channel_id)
    if channel is None:
        return f"channel {channel_id} is not registered: every request must name a known channel"
    if not channel.active:
        return f"channel {channel_id} ({channel.name}) is closed"
    operator = load_operator(conn, operator_id)
    if operator is None:
        return f"operator {operator_id} is not known"
    if not operator.active:
        return f"operator {operator_id} is disabled"
    if operator.role is not Role.ADMIN and channel_id not in operator.channels:
        return f"operator {operator_id} is not assigned to channel {channel_id}"
    if operator.role is Role.CLERK and not channel.hours.is_open(now):
        local = channel.hours.local(now)
        return (
            f"channel {channel_id} is outside its opening hours: it is {local:%a %H:%M} there,"
            f" open {channel.hours.describe()}"
        )
    return None
