"""Who may do what: roles and the permissions each role is granted (M7).

The grants are the first thing the one access policy (`gateway.resources.policy`) checks;
the channel, the hour and the scope of what may be read follow there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from gateway.resources.refusals import NotAllowed

if TYPE_CHECKING:
    from gateway.resources.operators import Operator


class Role(StrEnum):
    CLERK = "clerk"  # 营业员: counter work
    SUPERVISOR = "supervisor"  # 值班经理: counter work, and reads every channel of their area
    ENGINEER = "engineer"  # 工程师: stock, numbers, network
    ADMIN = "admin"  # 管理员: everything, including operators and channels


class Permission(StrEnum):
    READ = "read"
    ORDER = "order"  # place service orders
    COUNTER = "counter"  # hold numbers, reserve cards, register customers
    STOCK = "stock"  # import, distribute and return stock; disable and recycle numbers
    ADMIN = "admin"  # operators, channels, fee rules, categories, settings, audit trail


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset({Permission.READ, Permission.ORDER, Permission.COUNTER}),
    Role.SUPERVISOR: frozenset({Permission.READ, Permission.ORDER, Permission.COUNTER}),
    Role.ENGINEER: frozenset({Permission.READ, Permission.ORDER, Permission.STOCK}),
    Role.ADMIN: frozenset(Permission),
}


def require(operator: Operator, permission: Permission) -> None:
    if permission not in GRANTS[operator.role]:
        raise NotAllowed(
            f"operator {operator.id} ({operator.role.value}) may not do this: it needs the"
            f" {permission.value} permission"
        )
