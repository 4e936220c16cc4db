"""The fee rules and their change record (see `gateway.resources.fees`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from gateway.resources.fees import FeeChange, FeeRule, FeeSchedule, StoredRule
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.store import OrderStore, Tx
from gateway.store import fees as rows


class FeeRules:
    """The fee rules and their change record."""

    def __init__(self, store: OrderStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def schedule(self) -> FeeSchedule:
        return FeeSchedule([s.rule for s in await self.all()])

    async def all(self) -> list[StoredRule]:
        return await self.store.run(rows.rules)

    async def create(self, rule: FeeRule, *, by: str) -> StoredRule:
        now = self.clock()

        def job(tx: Tx) -> StoredRule:
            rule_id = rows.insert(tx, rule, by=by, now=now)
            if rule_id is None:
                raise Unavailable(f"a fee rule named {rule.name} exists already", field="name")
            rows.record_change(tx, rule_id, None, rule, by=by, now=now)
            return StoredRule(rule_id, rule)

        return await self.store.run(job)

    async def change(self, rule_id: int, changes: dict[str, Any], *, by: str) -> StoredRule:
        """Apply ``changes`` (any FeeRule fields) to a rule; recorded with before and after.
        A change that changes nothing records nothing."""
        now = self.clock()

        def job(tx: Tx) -> StoredRule:
            before = rows.rule(tx, rule_id)
            if before is None:
                raise NotFound(f"no fee rule {rule_id}", field="rule")
            try:
                after = FeeRule.model_validate(before.model_dump() | changes)
            except ValidationError as exc:
                raise Invalid.from_validation(exc) from None
            if after == before:
                return StoredRule(rule_id, before)
            clash = rows.rule_named(tx, after.name)
            if clash is not None and clash != rule_id:
                raise Unavailable(f"fee rule {clash} is named {after.name}", field="name")
            rows.update(tx, rule_id, after, by=by, now=now)
            rows.record_change(tx, rule_id, before, after, by=by, now=now)
            return StoredRule(rule_id, after)

        return await self.store.run(job)

    async def changes(self, rule_id: int | None = None, limit: int = 100) -> list[FeeChange]:
        return await self.store.run(lambda tx: rows.changes(tx, rule_id, limit))
