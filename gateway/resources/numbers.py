"""The number pool (号码资源, M4/M5): blocks of numbers and the state of each.

States: unused 未用, disabled 禁用, recycled 回收 (back from a cancelled line; reusable only after
a cool-down), held 预占 (pre-occupied by a clerk for a customer at the counter, C1-F5, until an
expiry), reserved 预定 (booked for a registered customer), in use 在用.

A hold lapses by itself: nothing rewrites the row when it expires — every query reads a held
number whose expiry has passed as being in the state it had before (``prior_state``). The rows
and their race-safe changes are `gateway.store.numbers`'; the pool's operations
`gateway.resources.number_pool`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.identifiers import Msisdn
from gateway.resources.channels import local_time
from gateway.resources.fees import Fee, FeeSchedule

MAX_BLOCK = 1_000_000
DAY = 86400.0
_MSISDN: TypeAdapter[str] = TypeAdapter(Msisdn)
_MOBILE_PREFIX = re.compile(r"1([3-9][0-9]{0,8})?")


class NumberKind(StrEnum):
    MOBILE = "mobile"  # 11-digit mobile numbers
    SMS_PORT = "sms_port"  # SMS wholesale port numbers (短信端口号)
    ACCESS = "access"  # access numbers (接入号)


class NumberState(StrEnum):
    UNUSED = "unused"  # 未用
    DISABLED = "disabled"  # 禁用
    RECYCLED = "recycled"  # 回收
    HELD = "held"  # 预占
    RESERVED = "reserved"  # 预定
    IN_USE = "in_use"  # 在用

    @property
    def zh(self) -> str:
        return _ZH[self]


_ZH = {
    NumberState.UNUSED: "未用",
    NumberState.DISABLED: "禁用",
    NumberState.RECYCLED: "回收",
    NumberState.HELD: "预占",
    NumberState.RESERVED: "预定",
    NumberState.IN_USE: "在用",
}


def _check_number(kind: NumberKind, number: str) -> str:
    """A whole number of ``kind``: mobile numbers as the network wants them (11 digits, 13–19)."""
    if kind is NumberKind.MOBILE:
        _MSISDN.validate_python(number)
        if len(number) != 11:
            raise ValueError("give the 11-digit mobile number without a country code")
    elif not number.isdigit() or not 3 <= len(number) <= 20:
        raise ValueError("must be 3 to 20 digits")
    return number


def _check_prefix(kind: NumberKind, prefix: str) -> str:
    if kind is NumberKind.MOBILE and not _MOBILE_PREFIX.fullmatch(prefix):
        raise ValueError("mobile numbers are 11 digits starting 13–19: give up to 10 of them")
    return prefix


class BlockIn(BaseModel):
    """A block (号段) of numbers: a prefix (``1380013`` = 13800130000–13800139999) or an
    inclusive range ``first``–``last`` of numbers of equal length."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: NumberKind = NumberKind.MOBILE
    prefix: str | None = Field(None, pattern=r"^[0-9]{1,19}$")
    first: str | None = Field(None, pattern=r"^[0-9]{3,20}$")
    last: str | None = Field(None, pattern=r"^[0-9]{3,20}$")
    length: int = Field(11, ge=3, le=20, description="digits per number, for a prefix")

    @field_validator("prefix", "first", "last")
    @classmethod
    def _digits_of_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if value is None or not isinstance(kind, NumberKind):
            return value
        if info.field_name == "prefix":
            return _check_prefix(kind, value)
        return _check_number(kind, value)

    @model_validator(mode="after")
    def _range(self) -> BlockIn:
        if self.prefix is not None:
            if self.first is not None or self.last is not None:
                raise ValueError("give either prefix or first and last, not both")
            if self.kind is NumberKind.MOBILE and self.length != 11:
                raise ValueError("mobile numbers have 11 digits")
            free = self.length - len(self.prefix)
            if free < 1:
                raise ValueError(f"prefix must be shorter than the {self.length}-digit numbers")
            object.__setattr__(self, "first", self.prefix + "0" * free)
            object.__setattr__(self, "last", self.prefix + "9" * free)
        elif self.first is None or self.last is None:
            raise ValueError("give a prefix, or first and last")
        assert self.first is not None and self.last is not None
        if len(self.first) != len(self.last):
            raise ValueError("first and last must have the same number of digits")
        if int(self.last) < int(self.first):
            raise ValueError("last must not be below first")
        if self.count > MAX_BLOCK:
            raise ValueError(
                f"a block holds at most {MAX_BLOCK:,} numbers, this one {self.count:,}"
            )
        return self

    @property
    def count(self) -> int:
        assert self.first is not None and self.last is not None
        return int(self.last) - int(self.first) + 1

    @property
    def block_id(self) -> str:
        return f"{self.first}-{self.last}"

    def numbers(self) -> Iterator[str]:
        assert self.first is not None
        width = len(self.first)
        start = int(self.first)
        for n in range(start, start + self.count):
            yield str(n).zfill(width)


class PoolSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hold_minutes: float = Field(30, gt=0, le=1440, description="how long a hold lasts")
    recycle_cooldown_days: float = Field(90, ge=0, le=3650, description="回收 → reusable")
    max_holds_per_operator: int = Field(5, ge=1, le=1000)


@dataclass(frozen=True)
class Hold:
    """A pre-occupation (预占). ``token`` proves the hold is this one, for `release`."""

    msisdn: str
    operator: str
    channel: str
    token: str
    expires_at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "msisdn": self.msisdn,
            "operator": self.operator,
            "channel": self.channel,
            "token": self.token,
            "expires_at": self.expires_at,
            "expires": local_time(self.expires_at),
        }


@dataclass(frozen=True)
class NumberRecord:
    msisdn: str
    kind: NumberKind
    block: str
    state: NumberState
    since: float
    location: str
    held_by: str | None
    hold_channel: str | None
    hold_until: float | None
    reserved_for: str | None
    order_id: str | None
    reusable_from: float | None  # recycled numbers: when the cool-down ends

    def as_dict(self, fee: Fee | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "msisdn": self.msisdn,
            "kind": self.kind.value,
            "block": self.block,
            "state": self.state.value,
            "state_zh": self.state.zh,
            "since": self.since,
            "location": self.location,
            "held_by": self.held_by,
            "hold_channel": self.hold_channel,
            "hold_until": self.hold_until,
            "reserved_for": self.reserved_for,
            "order_id": self.order_id,
            "reusable_from": self.reusable_from,
        }
        return out | fee.as_dict() if fee is not None else out


def why_not(record: NumberRecord, operator: str | None = None) -> str:
    """Why a number cannot be taken now, for the clerk."""
    m = record.msisdn
    state = record.state
    if state is NumberState.HELD:
        assert record.hold_until is not None
        who = "you" if record.held_by == operator else f"{record.held_by} on {record.hold_channel}"
        return f"number {m} is held (预占) by {who} until {local_time(record.hold_until)}"
    if state is NumberState.RECYCLED and record.reusable_from is not None:
        return (
            f"number {m} was recycled (回收) and cools down until"
            f" {local_time(record.reusable_from)}"
        )
    if state is NumberState.RESERVED:
        return f"number {m} is reserved (预定) for another customer"
    return f"number {m} is {state.value.replace('_', ' ')} ({state.zh})"


def price(schedule: FeeSchedule, records: list[NumberRecord]) -> list[dict[str, Any]]:
    """Records with their selection fee (for listings)."""
    return [r.as_dict(schedule.fee(r.msisdn)) for r in records]
