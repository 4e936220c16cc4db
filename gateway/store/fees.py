"""The fee rules' rows and their change record (rules are disabled, never deleted)."""

from __future__ import annotations

import json

from gateway.resources.fees import FeeChange, FeeRule, StoredRule
from gateway.store.tx import Tx


def rules(tx: Tx) -> list[StoredRule]:
    rows = tx.execute("SELECT id, body FROM fee_rules ORDER BY id").fetchall()
    return [StoredRule(r[0], FeeRule.model_validate_json(r[1])) for r in rows]


def rule(tx: Tx, rule_id: int) -> FeeRule | None:
    row = tx.execute("SELECT body FROM fee_rules WHERE id=?", (rule_id,)).fetchone()
    return None if row is None else FeeRule.model_validate_json(row[0])


def rule_named(tx: Tx, name: str) -> int | None:
    row = tx.execute("SELECT id FROM fee_rules WHERE name=?", (name,)).fetchone()
    return None if row is None else int(row[0])


def any_rule(tx: Tx) -> bool:
    return tx.execute("SELECT 1 FROM fee_rules LIMIT 1").fetchone() is not None


def insert(tx: Tx, new: FeeRule, *, by: str, now: float) -> int | None:
    """The new rule's id; None (nothing written) if its name is taken."""
    row = tx.execute(
        "INSERT INTO fee_rules (name, body, updated_by, updated_at) VALUES (?,?,?,?)"
        " ON CONFLICT (name) DO NOTHING RETURNING id",
        (new.name, new.model_dump_json(), by, now),
    ).fetchone()
    return None if row is None else int(row[0])


def update(tx: Tx, rule_id: int, after: FeeRule, *, by: str, now: float) -> None:
    tx.execute(
        "UPDATE fee_rules SET name=?, body=?, updated_by=?, updated_at=? WHERE id=?",
        (after.name, after.model_dump_json(), by, now, rule_id),
    )


def record_change(
    tx: Tx, rule_id: int, before: FeeRule | None, after: FeeRule, *, by: str, now: float
) -> None:
    tx.execute(
        "INSERT INTO fee_changes (rule_id, before, after, operator, at) VALUES (?,?,?,?,?)",
        (
            rule_id,
            before.model_dump_json() if before is not None else None,
            after.model_dump_json(),
            by,
            now,
        ),
    )


def changes(tx: Tx, rule_id: int | None = None, limit: int = 100) -> list[FeeChange]:
    """The newest first; of one rule if ``rule_id`` is given."""
    select = "SELECT id, rule_id, before, after, operator, at FROM fee_changes"
    if rule_id is None:
        rows = tx.execute(f"{select} ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    else:
        rows = tx.execute(
            f"{select} WHERE rule_id=? ORDER BY id DESC LIMIT ?",
            (rule_id, limit),
        ).fetchall()
    return [
        FeeChange(r[0], r[1], json.loads(r[2]) if r[2] else None, json.loads(r[3]), r[4], r[5])
        for r in rows
    ]
