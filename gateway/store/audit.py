"""The audit trail's rows: appended in the transaction of the change they describe, never deleted.

One table with one id sequence, whichever process writes: the id is the trail's order (the
database hands it out under the insert's lock, so two gateway processes never share or reuse
one). Callers pass only non-secret detail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.store.tx import Tx


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    operator: str
    channel: str
    action: str
    outcome: str
    reason: str
    detail: dict[str, Any]


def record(
    tx: Tx,
    *,
    at: float,
    operator: str,
    action: str,
    outcome: str,
    reason: str = "",
    channel: str = "-",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry inside the caller's transaction (so it commits with the change)."""
    tx.execute(
        "INSERT INTO audit (at, operator, channel, action, outcome, reason, detail)"
        " VALUES (?,?,?,?,?,?,?)",
        (
            at,
            operator,
            channel,
            action,
            outcome,
            reason,
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        ),
    )


def entries(
    tx: Tx,
    *,
    operator: str | None = None,
    channel: str | None = None,
    outcome: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest entries first, optionally for one operator, channel or outcome."""
    clauses: list[str] = []
    args: list[str | int] = []
    for column, value in (("operator", operator), ("channel", channel), ("outcome", outcome)):
        if value is not None:
            clauses.append(f"{column}=?")
            args.append(value)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    # Only fixed column names are interpolated; values are bound parameters.
    sql = (
        "SELECT id, at, operator, channel, action, outcome, reason, detail FROM audit"  # noqa: S608
        f" {where} ORDER BY id DESC LIMIT ?"
    )
    return [
        AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]))
        for r in tx.execute(sql, (*args, limit)).fetchall()
    ]
