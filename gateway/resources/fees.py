"""The number-selection fee (选号费, M5): "lucky" numbers cost more, by configurable rules.

A rule says what it looks for — a run of repeated digits (``8888``), an ascending or
descending run (``1234``, ``9876``), a digit occurring often (many ``8``s), or a given ending
(``168``) — optionally only at the end of the number (尾号), and what it costs. A number's fee
is that of the most expensive enabled rule it matches, so the clerk can say which rule set it.

Every change to a rule — creation, new values, disabling — is recorded with its values before
and after and the operator who made it (`fee_changes`; rows are never deleted, and rules are
disabled rather than deleted so old records keep their meaning).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.identifiers import SafeText
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.store import SqliteStore, Tx


class RuleKind(StrEnum):
    REPEATED = "repeated"  # a run of one digit, e.g. 8888 (length = run length)
    ASCENDING = "ascending"  # 1234 (length = run length)
    DESCENDING = "descending"  # 9876
    DIGIT_COUNT = "digit_count"  # the digit occurs at least ``length`` times anywhere
    ENDS_WITH = "ends_with"  # the number ends with ``digits``


class FeeRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: SafeText = Field(min_length=1, max_length=40)
    kind: RuleKind
    length: int | None = Field(None, ge=2, le=11)
    digit: str | None = Field(None, pattern=r"^[0-9]$")
    digits: str | None = Field(None, pattern=r"^[0-9]{1,10}$")
    at_end: bool = False
    fee_cents: int = Field(ge=0, le=100_000_000)
    enabled: bool = True
    note: SafeText = Field("", max_length=200)

    @model_validator(mode="after")
    def _parameters(self) -> FeeRule:
        kind = self.kind
        if kind is RuleKind.ENDS_WITH:
            if self.digits is None:
                raise ValueError("an ends_with rule needs digits (e.g. 168)")
        elif self.length is None:
            raise ValueError(f"a {kind.value} rule needs length (the run or count, 2–11)")
        if kind is RuleKind.DIGIT_COUNT and self.digit is None:
            raise ValueError("a digit_count rule needs digit (e.g. 8)")
        return self

    def matches(self, number: str) -> bool:
        if not self.enabled:
            return False
        if self.kind is RuleKind.ENDS_WITH:
            return self.digits is not None and number.endswith(self.digits)
        if self.kind is RuleKind.DIGIT_COUNT:
            assert self.digit is not None and self.length is not None
            return number.count(self.digit) >= self.length
        assert self.length is not None
        step = {RuleKind.REPEATED: 0, RuleKind.ASCENDING: 1, RuleKind.DESCENDING: -1}[self.kind]
        runs = _runs(number, step)
        if self.at_end:
            return runs[-1] >= self.length
        return max(runs) >= self.length


def _runs(number: str, step: int) -> list[int]:
    """For each position, the length of the run ending there where each digit is the previous
    one plus ``step`` (0: repeated, 1: ascending, -1: descending)."""
    runs = [1]
    for prev, cur in itertools.pairwise(number):
        runs.append(runs[-1] + 1 if int(cur) - int(prev) == step else 1)
    return runs


@dataclass(frozen=True)
class StoredRule:
    id: int
    rule: FeeRule

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.rule.model_dump(mode="json")}


@dataclass(frozen=True)
class Fee:
    cents: int
    rule: str | None  # the name of the rule that set it; None: no rule matched

    def as_dict(self) -> dict[str, Any]:
        return {"fee_cents": self.cents, "fee_rule": self.rule}


class FeeSchedule:
    """The enabled rules at one moment; prices any number of numbers without the store."""

    def __init__(self, rules: Sequence[FeeRule]) -> None:
        self.rules = sorted((r for r in rules if r.enabled), key=lambda r: -r.fee_cents)

    def fee(self, number: str) -> Fee:
        for rule in self.rules:
            if rule.matches(number):
                return Fee(rule.fee_cents, rule.name)
        return Fee(0, None)


@dataclass(frozen=True)
class FeeChange:
    id: int
    rule_id: int
    before: dict[str, Any] | None
    after: dict[str, Any]
    operator: str
    at: float


def load_rules(conn: Tx) -> list[StoredRule]:
    rows = conn.execute("SELECT id, body FROM fee_rules ORDER BY id").fetchall()
    return [StoredRule(r[0], FeeRule.model_validate_json(r[1])) for r in rows]


def _record_change(
    conn: Tx,
    rule_id: int,
    before: FeeRule | None,
    after: FeeRule,
    operator: str,
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO fee_changes (rule_id, before, after, operator, at) VALUES (?,?,?,?,?)",
        (
            rule_id,
            before.model_dump_json() if before is not None else None,
            after.model_dump_json(),
            operator,
            now,
        ),
    )


class FeeRules:
    """The fee rules and their change record."""

    def __init__(self, store: SqliteStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def schedule(self) -> FeeSchedule:
        return FeeSchedule([s.rule for s in await self.all()])

    async def all(self) -> list[StoredRule]:
        return await self.store.run(load_rules)

    async def create(self, rule: FeeRule, *, by: str) -> StoredRule:
        now = self.clock()

        def job(conn: Tx) -> StoredRule:
            if conn.execute("SELECT 1 FROM fee_rules WHERE name=?", (rule.name,)).fetchone():
                raise Unavailable(f"a fee rule named {rule.name} exists already", field="name")
            cur = conn.execute(
                "INSERT INTO fee_rules (name, body, updated_by, updated_at) VALUES (?,?,?,?)",
                (rule.name, rule.model_dump_json(), by, now),
            )
            rule_id = int(cur.lastrowid or 0)
            _record_change(conn, rule_id, None, rule, by, now)
            return StoredRule(rule_id, rule)

        return await self.store.run(job)

    async def change(self, rule_id: int, changes: dict[str, Any], *, by: str) -> StoredRule:
        """Apply ``changes`` (any FeeRule fields) to a rule; recorded with before and after.
        A change that changes nothing records nothing."""
        now = self.clock()

        def job(conn: Tx) -> StoredRule:
            row = conn.execute("SELECT body FROM fee_rules WHERE id=?", (rule_id,)).fetchone()
            if row is None:
                raise NotFound(f"no fee rule {rule_id}", field="rule")
            before = FeeRule.model_validate_json(row[0])
            try:
                after = FeeRule.model_validate(before.model_dump() | changes)
            except ValidationError as exc:
                raise Invalid.from_validation(exc) from None
            if after == before:
                return StoredRule(rule_id, before)
            clash = conn.execute(
                "SELECT id FROM fee_rules WHERE name=? AND id<>?", (after.name, rule_id)
            ).fetchone()
            if clash is not None:
                raise Unavailable(f"fee rule {clash[0]} is named {after.name}", field="name")
            conn.execute(
                "UPDATE fee_rules SET name=?, body=?, updated_by=?, updated_at=? WHERE id=?",
                (after.name, after.model_dump_json(), by, now, rule_id),
            )
            _record_change(conn, rule_id, before, after, by, now)
            return StoredRule(rule_id, after)

        return await self.store.run(job)

    async def changes(self, rule_id: int | None = None, limit: int = 100) -> list[FeeChange]:
        def job(conn: Tx) -> list[Any]:
            if rule_id is None:
                return conn.execute(
                    "SELECT id, rule_id, before, after, operator, at FROM fee_changes"
                    " ORDER BY id DESC LIMIT ?",
                    (limit,),
                ).fetchall()
            return conn.execute(
                "SELECT id, rule_id, before, after, operator, at FROM fee_changes"
                " WHERE rule_id=? ORDER BY id DESC LIMIT ?",
                (rule_id, limit),
            ).fetchall()

        return [
            FeeChange(r[0], r[1], json.loads(r[2]) if r[2] else None, json.loads(r[3]), r[4], r[5])
            for r in await self.store.run(job)
        ]
