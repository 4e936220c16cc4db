"""Who may do what: roles and the permissions they grant.

Where and when (a known, active operator on a known, active channel they are assigned to,
clerks only while it is open) is the intake guard's check, `gateway.resources.guard.refusal`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from gateway.resources.refusals import NotAllowed

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
