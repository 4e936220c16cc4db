"""The audit trail: who did or was refused what, on which channel, why, and when.

Every refusal of an order or a login, and every change to operators, channels, categories and
pool settings is written here, in the same transaction as the change it describes (`record`,
inside a store job). Rows are never deleted (a trigger refuses it). Callers pass only
non-secret detail: ids, kinds and counts, never keys, PINs or passwords. The rows themselves
are `gateway.store.audit`'s.
"""

from __future__ import annotations

from gateway.store import OrderStore
from gateway.store.audit import AuditEntry, record
from gateway.store.audit import entries as _entries

__all__ = ["AuditEntry", "entries", "record"]


async def entries(
    store: OrderStore,
    *,
    operator: str | None = None,
    channel: str | None = None,
    outcome: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest entries first, optionally for one operator, channel or outcome."""
    return await store.run(
        lambda tx: _entries(tx, operator=operator, channel=channel, outcome=outcome, limit=limit)
    )
