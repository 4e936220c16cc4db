"""Selection fees (选号费): rules, the most expensive match, and the record of every change."""

from __future__ import annotations

import sqlite3

import pytest
from pydantic import ValidationError

from gateway.resources.fees import FeeRule, FeeSchedule, RuleKind
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.resources.service import Resources
from gateway.store import SqliteStore


def rule(kind: RuleKind, fee: int = 100, **kw: object) -> FeeRule:
    name = "-".join([kind.value, *(f"{k}{v}" for k, v in kw.items())])
    return FeeRule.model_validate({"name": name, "kind": kind, "fee_cents": fee} | kw)


@pytest.mark.parametrize(
    ("r", "number", "matches"),
    [
        (rule(RuleKind.REPEATED, length=4), "13866667123", True),
        (rule(RuleKind.REPEATED, length=4), "13866607123", False),
        (rule(RuleKind.REPEATED, length=4, at_end=True), "13812348888", True),
        (rule(RuleKind.REPEATED, length=4, at_end=True), "13888881234", False),
        (rule(RuleKind.ASCENDING, length=4), "13811234999", True),
        (rule(RuleKind.ASCENDING, length=5), "13811234999", False),
        (rule(RuleKind.ASCENDING, length=5), "13801234999", True),
        (rule(RuleKind.ASCENDING, length=4, at_end=True), "13800005678", True),
        (rule(RuleKind.DESCENDING, length=4), "13898760000", True),
        (rule(RuleKind.DESCENDING, length=4), "13801234000", False),
        (rule(RuleKind.DIGIT_COUNT, digit="8", length=5), "13818283848", True),
        (rule(RuleKind.DIGIT_COUNT, digit="8", length=5), "13818283840", False),
        (rule(RuleKind.ENDS_WITH, digits="168"), "13800000168", True),
        (rule(RuleKind.ENDS_WITH, digits="168"), "13800001680", False),
        (rule(RuleKind.REPEATED, length=4, enabled=False), "13866667123", False),
    ],
)
def test_rules_match_what_they_say(r: FeeRule, number: str, matches: bool) -> None:
    assert r.matches(number) is matches


def test_the_most_expensive_matching_rule_sets_the_fee() -> None:
    schedule = FeeSchedule(
        [
            rule(RuleKind.ENDS_WITH, 8_800, digits="88"),
            rule(RuleKind.REPEATED, 100_000, length=4, at_end=True),
            rule(RuleKind.REPEATED, 500_000, length=6, enabled=False),
        ]
    )
    assert schedule.fee("13888888888").cents == 100_000
    assert schedule.fee("13800000088").cents == 8_800
    plain = schedule.fee("13800000123")
    assert (plain.cents, plain.rule) == (0, None)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"kind": "repeated"}, "needs length"),
        ({"kind": "digit_count", "length": 5}, "needs digit"),
        ({"kind": "ends_with"}, "needs digits"),
        ({"kind": "repeated", "length": 1}, "greater than or equal to 2"),
        ({"kind": "lucky", "length": 4}, "repeated"),
        ({"kind": "repeated", "length": 4, "fee_cents": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_rules_are_refused(data: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        FeeRule.model_validate({"name": "r", "fee_cents": 100} | data)


async def test_every_change_is_recorded_with_before_after_and_who(res: Resources) -> None:
    tail = await res.fees.create(
        FeeRule(name="tail AAAA", kind=RuleKind.REPEATED, length=4, at_end=True, fee_cents=100),
        by="admin1",
    )
    await res.fees.change(tail.id, {"fee_cents": 250}, by="admin2")
    await res.fees.change(tail.id, {"fee_cents": 250}, by="admin3")  # no change: no record
    await res.fees.change(tail.id, {"enabled": False}, by="admin1")
    changes = await res.fees.changes(tail.id)
    assert [
        (c.operator, c.before and c.before["fee_cents"], c.after["fee_cents"]) for c in changes
    ] == [
        ("admin1", 250, 250),
        ("admin2", 100, 250),
        ("admin1", None, 100),
    ]
    assert changes[0].before is not None and changes[0].before["enabled"] is True
    assert changes[0].after["enabled"] is False
    assert changes[2].before is None, "creation has no before"
    assert (await res.fees.schedule()).fee("13800008888").cents == 0, "disabled rule is off"


async def test_refused_changes_change_nothing(res: Resources) -> None:
    a = await res.fees.create(rule(RuleKind.ENDS_WITH, digits="88"), by="admin1")
    b = await res.fees.create(rule(RuleKind.ENDS_WITH, digits="68"), by="admin1")
    with pytest.raises(Invalid, match="fee_cents"):
        await res.fees.change(a.id, {"fee_cents": -5}, by="admin1")
    with pytest.raises(Unavailable, match="named"):
        await res.fees.change(a.id, {"name": b.rule.name}, by="admin1")
    with pytest.raises(NotFound):
        await res.fees.change(99, {"fee_cents": 5}, by="admin1")
    with pytest.raises(Unavailable, match="exists already"):
        await res.fees.create(rule(RuleKind.ENDS_WITH, digits="88"), by="admin1")
    assert len(await res.fees.changes()) == 2


async def test_rules_and_their_record_are_never_deleted(res: Resources, store: SqliteStore) -> None:
    await res.fees.create(rule(RuleKind.ENDS_WITH, digits="88"), by="admin1")
    for table in ("fee_rules", "fee_changes"):
        with pytest.raises(sqlite3.IntegrityError):
            await store.run(lambda c, t=table: c.execute(f"DELETE FROM {t}"))  # noqa: S608
    assert len(await res.fees.all()) == 1
