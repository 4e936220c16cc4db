"""The audit trail: who did or was refused what, on which channel, why, and when.

Every refusal of an order or a login, and every change to operators, channels, categories and
pool settings is written here, in the same transaction as the change it describes. Rows are
never deleted (a trigger refuses it). Callers pass only non-secret detail: ids, kinds and
counts, never keys, PINs or passwords.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.store import SqliteStore, Tx


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
    conn: Tx,
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
    conn.execute(
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


async def entries(
    store: SqliteStore,
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

    def job(conn: Tx) -> list[Any]:
        return conn.execute(sql, (*args, limit)).fetchall()

    return [
        AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]))
        for r in await store.run(job)
    ]
