"""Channels (接口/渠道, M2): where a request comes from, numbered by kind, with opening hours.

Every request names its channel; without a known, active channel nothing is done. Opening
hours are a control in their own right: an outlet clerk may act only while the outlet is open,
so a stolen password is useless at night. Hours are kept per weekday in the channel's own time
zone (Asia/Shanghai unless said otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from gateway.identifiers import SafeText
from gateway.orders import ChannelId

DEFAULT_ZONE = "Asia/Shanghai"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-(([01][0-9]|2[0-3]):([0-5][0-9])|24:00)")


class ChannelKind(StrEnum):
    """The kinds the seed names; the prefix of a channel's number says its kind."""

    OWN_OUTLET = "own_outlet"  # 自有营业厅
    FIRST_TIER_AGENT = "first_tier_agent"  # 一级代理
    SECOND_TIER_AGENT = "second_tier_agent"  # 二级代理
    WEBSITE = "website"  # 网站
    CALL_CENTRE = "call_centre"  # 呼叫中心
    BANK = "bank"  # 银行

    @property
    def prefix(self) -> str:
        return _PREFIXES[self]


_PREFIXES = {
    ChannelKind.OWN_OUTLET: "OUT",
    ChannelKind.FIRST_TIER_AGENT: "AGA",
    ChannelKind.SECOND_TIER_AGENT: "AGB",
    ChannelKind.WEBSITE: "WEB",
    ChannelKind.CALL_CENTRE: "CCT",
    ChannelKind.BANK: "BNK",
}


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _interval(value: str) -> str:
    value = value.replace(" ", "").replace("–", "-")
    if not _INTERVAL.fullmatch(value):
        raise ValueError(f"opening interval must look like 09:00-18:00 (end may be 24:00): {value}")
    start, end = value.split("-")
    if _minutes(start) >= _minutes(end):
        raise ValueError(
            f"opening interval {value} ends before it starts; split a night across two days"
        )
    return value


Interval = Annotated[str, AfterValidator(_interval)]


class OpeningHours(BaseModel):
    """Per weekday, the intervals the channel is open; a day not listed is closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = DEFAULT_ZONE
    week: dict[Weekday, list[Interval]] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @classmethod
    def always(cls, timezone: str = DEFAULT_ZONE) -> OpeningHours:
        return cls(timezone=timezone, week={day: ["00:00-24:00"] for day in WEEKDAYS})

    @classmethod
    def from_text(cls, specs: list[str], timezone: str = DEFAULT_ZONE) -> OpeningHours:
        """``["mon-fri 09:00-18:00", "sat 10:00-12:00,13:00-16:00"]`` as typed on the command
        line: days (a range or a comma list) and intervals; days not named are closed."""
        week: dict[str, list[str]] = {}
        for spec in specs:
            days_text, _, intervals = spec.strip().partition(" ")
            days: list[str] = []
            for part in days_text.lower().split(","):
                first, _, last = part.partition("-")
                if first not in WEEKDAYS or (last and last not in WEEKDAYS):
                    raise ValueError(f"{spec!r}: days are mon … sun, e.g. mon-fri or sat,sun")
                start = WEEKDAYS.index(first)
                end = WEEKDAYS.index(last) if last else start
                days.extend(WEEKDAYS[start : end + 1])
            for day in days:
                week.setdefault(day, []).extend(
                    i for i in intervals.replace(" ", "").split(",") if i
                )
        return cls.model_validate({"timezone": timezone, "week": week})

    def local(self, at: float) -> datetime:
        return datetime.fromtimestamp(at, ZoneInfo(self.timezone))

    def is_open(self, at: float) -> bool:
        local = self.local(at)
        minute = local.hour * 60 + local.minute
        for interval in self.week.get(WEEKDAYS[local.weekday()], []):
            start, end = interval.split("-")
            if _minutes(start) <= minute < _minutes(end):
                return True
        return False

    def describe(self) -> str:
        """``mon–fri 09:00-18:00; sat 10:00-16:00; sun closed`` (consecutive equal days merged)."""
        parts: list[str] = []
        i = 0
        while i < len(WEEKDAYS):
            hours = self.week.get(WEEKDAYS[i], [])
            j = i
            while j + 1 < len(WEEKDAYS) and self.week.get(WEEKDAYS[j + 1], []) == hours:
                j += 1
            days = WEEKDAYS[i] if i == j else f"{WEEKDAYS[i]}–{WEEKDAYS[j]}"
            parts.append(f"{days} {', '.join(hours) if hours else 'closed'}")
            i = j + 1
        return "; ".join(parts) + f" ({self.timezone})"


def local_time(at: float, zone: str = DEFAULT_ZONE) -> str:
    """A moment as a clerk reads it: ``2026-11-21 23:05 Asia/Shanghai``."""
    return f"{datetime.fromtimestamp(at, ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


class ChannelIn(BaseModel):
    """A new channel. Without ``id`` the next free number of its kind is given (``OUT007``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ChannelKind
    name: SafeText = Field(min_length=1, max_length=60)
    city: SafeText = Field(min_length=1, max_length=40, pattern=r"^[^/]+$")
    area: SafeText = Field(min_length=1, max_length=40, pattern=r"^[^/]+$")
    hours: OpeningHours = Field(default_factory=OpeningHours)
    id: ChannelId | None = None


class ChannelChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: SafeText | None = Field(None, min_length=1, max_length=60)
    hours: OpeningHours | None = None
    active: bool | None = None


@dataclass(frozen=True)
class Channel:
    id: str
    kind: ChannelKind
    name: str
    city: str
    area: str
    hours: OpeningHours
    active: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "name": self.name,
            "city": self.city,
            "area": self.area,
            "hours": self.hours.model_dump(),
            "hours_text": self.hours.describe(),
            "active": self.active,
        }
