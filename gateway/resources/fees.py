"""The number-selection fee (选号费, M5): "lucky" numbers cost more, by configurable rules.

A rule says what it looks for — a run of repeated digits (``8888``), an ascending or
descending run (``1234``, ``9876``), a digit occurring often (many ``8``s), or a given ending
(``168``) — optionally only at the end of the number (尾号), and what it costs. A number's fee
is that of the most expensive enabled rule it matches, so the clerk can say which rule set it.

Every change to a rule — creation, new values, disabling — is recorded with its values before
and after and the operator who made it (`fee_changes`; rows are never deleted, and rules are
disabled rather than deleted so old records keep their meaning). The register is
`gateway.resources.fee_register`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.identifiers import SafeText


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
