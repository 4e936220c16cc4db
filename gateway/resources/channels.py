"""Channels (接口/渠道, M2): where a request comes from, numbered by kind, with opening hours.

Every request names its channel; without a known, active channel nothing is done. Opening
hours are a control in their own right: an outlet clerk may act only while the outlet is open,
so a stolen password is useless at night. Hours are kept per weekday in the channel's own time
zone (Asia/Shanghai unless said otherwise).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from gateway.identifiers import SafeText
from gateway.orders import ChannelId
from gateway.resources import audit
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.store import SqliteStore, Tx

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


_COLUMNS = "id, kind, name, city, area, hours, active"


@functools.lru_cache(maxsize=256)
def _hours(stored: str) -> OpeningHours:
    """Opening hours from their stored JSON. Every order's intake checks its channel's hours,
    so a parse is kept per text: a timetable that changes is a different text, and the model
    is frozen."""
    return OpeningHours.model_validate_json(stored)


def _channel(row: tuple[Any, ...]) -> Channel:
    return Channel(
        row[0],
        ChannelKind(row[1]),
        row[2],
        row[3],
        row[4],
        _hours(row[5]),
        bool(row[6]),
    )


def load_channel(conn: Tx, channel_id: str) -> Channel | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM channels WHERE id=?", (channel_id,)).fetchone()  # noqa: S608
    return _channel(row) if row else None


def _next_id(conn: Tx, kind: ChannelKind) -> str:
    rows = conn.execute("SELECT id FROM channels WHERE kind=?", (kind.value,)).fetchall()
    taken = [int(r[0][3:]) for r in rows if r[0][3:].isdigit()]
    return f"{kind.prefix}{max(taken, default=0) + 1:03d}"


class Channels:
    """The channel register."""

    def __init__(self, store: SqliteStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def create(self, new: ChannelIn, *, by: str) -> Channel:
        if new.id is not None and not re.fullmatch(rf"{new.kind.prefix}[0-9]{{3,}}", new.id):
            raise Invalid(
                f"a {new.kind.value} channel is numbered {new.kind.prefix} followed by digits"
                f" (e.g. {new.kind.prefix}001)",
                field="id",
            )
        now = self.clock()

        def job(conn: Tx) -> Channel:
            channel_id = new.id or _next_id(conn, new.kind)
            if load_channel(conn, channel_id) is not None:
                raise Unavailable(f"channel {channel_id} exists already", field="id")
            conn.execute(
                "INSERT INTO channels (id, kind, name, city, area, hours, active, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,1,?,?)",
                (
                    channel_id,
                    new.kind.value,
                    new.name,
                    new.city,
                    new.area,
                    new.hours.model_dump_json(),
                    now,
                    now,
                ),
            )
            audit.record(
                conn,
                at=now,
                operator=by,
                channel=channel_id,
                action="create channel",
                outcome="done",
                detail={"kind": new.kind.value, "city": new.city, "area": new.area},
            )
            return Channel(channel_id, new.kind, new.name, new.city, new.area, new.hours, True)

        return await self.store.run(job)

    async def get(self, channel_id: str) -> Channel:
        found = await self.store.run(lambda conn: load_channel(conn, channel_id))
        if found is None:
            raise NotFound(f"no channel {channel_id}", field="channel")
        return found

    async def all(self) -> list[Channel]:
        rows = await self.store.run(
            lambda conn: conn.execute(f"SELECT {_COLUMNS} FROM channels ORDER BY id").fetchall()  # noqa: S608
        )
        return [_channel(r) for r in rows]

    async def change(self, channel_id: str, change: ChannelChange, *, by: str) -> Channel:
        now = self.clock()

        def job(conn: Tx) -> Channel:
            before = load_channel(conn, channel_id)
            if before is None:
                raise NotFound(f"no channel {channel_id}", field="channel")
            after = Channel(
                before.id,
                before.kind,
                change.name if change.name is not None else before.name,
                before.city,
                before.area,
                change.hours if change.hours is not None else before.hours,
                change.active if change.active is not None else before.active,
            )
            conn.execute(
                "UPDATE channels SET name=?, hours=?, active=?, updated_at=? WHERE id=?",
                (after.name, after.hours.model_dump_json(), int(after.active), now, channel_id),
            )
            audit.record(
                conn,
                at=now,
                operator=by,
                channel=channel_id,
                action="change channel",
                outcome="done",
                detail={
                    "before": _comparable(before),
                    "after": _comparable(after),
                },
            )
            return after

        return await self.store.run(job)


def _comparable(channel: Channel) -> dict[str, Any]:
    return {"name": channel.name, "hours": channel.hours.model_dump(), "active": channel.active}
