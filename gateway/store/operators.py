"""The operator register's rows: operators, their password hashes, and their channels."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.resources.access import Role
from gateway.resources.operators import Operator
from gateway.store.tx import Tx


def find(tx: Tx, operator_id: str) -> Operator | None:
    row = tx.execute(
        "SELECT id, job_number, name, role, active FROM operators WHERE id=?", (operator_id,)
    ).fetchone()
    if row is None:
        return None
    channels = tx.execute(
        "SELECT channel_id FROM operator_channels WHERE operator_id=? ORDER BY channel_id",
        (operator_id,),
    ).fetchall()
    return Operator(
        row[0], row[1], row[2], Role(row[3]), bool(row[4]), tuple(c[0] for c in channels)
    )


def ids(tx: Tx) -> list[str]:
    return [r[0] for r in tx.execute("SELECT id FROM operators ORDER BY id")]


def password_hash(tx: Tx, operator_id: str) -> str | None:
    row = tx.execute("SELECT password FROM operators WHERE id=?", (operator_id,)).fetchone()
    return row[0] if row else None


def holder_of_job_number(tx: Tx, job_number: str) -> str | None:
    row = tx.execute("SELECT id FROM operators WHERE job_number=?", (job_number,)).fetchone()
    return row[0] if row else None


def insert(tx: Tx, operator: Operator, *, password_hash: str, now: float) -> bool:
    """Add an operator (without channels); False (nothing written) if the id is taken."""
    cur = tx.execute(
        "INSERT INTO operators (id, job_number, name, role, password, active,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
        (
            operator.id,
            operator.job_number,
            operator.name,
            operator.role.value,
            password_hash,
            int(operator.active),
            now,
            now,
        ),
    )
    return cur.rowcount == 1


def update(tx: Tx, operator: Operator, *, now: float) -> None:
    """Name, role and whether active (channels: `assign_channels`)."""
    tx.execute(
        "UPDATE operators SET name=?, role=?, active=?, updated_at=? WHERE id=?",
        (operator.name, operator.role.value, int(operator.active), now, operator.id),
    )


def assign_channels(tx: Tx, operator_id: str, channels: Iterable[str]) -> None:
    """The operator works on exactly ``channels`` from now on."""
    tx.execute("DELETE FROM operator_channels WHERE operator_id=?", (operator_id,))
    tx.executemany(
        "INSERT INTO operator_channels (operator_id, channel_id) VALUES (?,?)",
        [(operator_id, c) for c in sorted(set(channels))],
    )


def set_password_hash(tx: Tx, operator_id: str, password_hash: str, *, now: float) -> bool:
    """False if there is no such operator."""
    cur = tx.execute(
        "UPDATE operators SET password=?, updated_at=? WHERE id=?",
        (password_hash, now, operator_id),
    )
    return cur.rowcount == 1
