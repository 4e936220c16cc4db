"""The number pool (号码资源, M4/M5): blocks of numbers and the state of each.

States: unused 未用, disabled 禁用, recycled 回收 (back from a cancelled line; reusable only after
a cool-down), held 预占 (pre-occupied by a clerk for a customer at the counter, C1-F5, until an
expiry), reserved 预定 (booked for a registered customer), in use 在用.

A hold lapses by itself: nothing rewrites the row when it expires — every query reads a held
number whose expiry has passed as being in the state it had before (``prior_state``). Taking a
number is one ``UPDATE … WHERE <available>``: SQLite serialises writers, so of any number of
clerks trying at the same moment, in this process or another one on the same file, exactly one
changes the row; the others find it taken.
"""

from __future__ import annotations

import functools
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.identifiers import Msisdn
from gateway.resources import audit
from gateway.resources.channels import local_time
from gateway.resources.fees import Fee, FeeSchedule
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Unavailable
from gateway.store import SqliteStore, Tx

MAX_BLOCK = 1_000_000
DAY = 86400.0
_MSISDN: TypeAdapter[str] = TypeAdapter(Msisdn)
_PATTERN = re.compile(r"[0-9*?]{1,20}")
_CONTAINS = re.compile(r"[0-9]{1,20}")
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


# The state a row is in *now*: a held number whose hold has lapsed is back in its prior state.
_EFFECTIVE = "(CASE WHEN state='held' AND hold_until<=:now THEN prior_state ELSE state END)"
_AVAILABLE = f"({_EFFECTIVE}='unused' OR ({_EFFECTIVE}='recycled' AND recycled_at<=:cool))"
_SELECT = (
    "SELECT msisdn, kind, block, "  # noqa: S608
    + _EFFECTIVE
    + " AS estate, state_since, recycled_at, location, hold_operator, hold_channel,"
    " hold_until, reserved_for, order_id FROM numbers"
)
# One statement decides who gets the number: SQLite runs writers one at a time, and a writer
# whose WHERE no longer matches changes nothing.
_HOLD = (
    f"UPDATE numbers SET state='held', prior_state={_EFFECTIVE},"  # noqa: S608 - fixed SQL
    " hold_token=:token, hold_operator=:op, hold_channel=:ch, hold_until=:until,"
    f" state_since=:now WHERE msisdn=:m AND ({_AVAILABLE}"
    f" OR ({_EFFECTIVE}='reserved' AND reserved_for=:customer))"
    " AND (SELECT count(*) FROM numbers WHERE state='held' AND hold_operator=:op"
    " AND hold_until>:now) < :max"
)
_SETTINGS_DEFAULTS = PoolSettings()


def load_settings(conn: Tx) -> PoolSettings:
    rows = conn.execute("SELECT key, value FROM number_settings ORDER BY key").fetchall()
    return _settings(tuple(rows))


@functools.lru_cache(maxsize=64)
def _settings(stored: tuple[tuple[str, Any], ...]) -> PoolSettings:
    """The settings the stored rows make. Every open account's intake and completion look a
    number up, so the model is kept per set of rows (it is frozen; a change is new rows)."""
    return PoolSettings.model_validate(_SETTINGS_DEFAULTS.model_dump() | dict(stored))


def _record(row: tuple[Any, ...], settings: PoolSettings) -> NumberRecord:
    state = NumberState(row[3])
    held = state is NumberState.HELD
    reusable = (
        row[5] + settings.recycle_cooldown_days * DAY
        if state is NumberState.RECYCLED and row[5] is not None
        else None
    )
    return NumberRecord(
        msisdn=row[0],
        kind=NumberKind(row[1]),
        block=row[2],
        state=state,
        since=row[4],
        location=row[6],
        held_by=row[7] if held else None,
        hold_channel=row[8] if held else None,
        hold_until=row[9] if held else None,
        reserved_for=row[10] if state is NumberState.RESERVED or held else None,
        order_id=row[11] if state is NumberState.IN_USE else None,
        reusable_from=reusable,
    )


def _params(now: float, settings: PoolSettings, **extra: Any) -> dict[str, Any]:
    return {"now": now, "cool": now - settings.recycle_cooldown_days * DAY, **extra}


def _load(conn: Tx, msisdn: str, now: float) -> NumberRecord:
    record = find(conn, msisdn, now)
    if record is None:
        raise NotFound(f"number {msisdn} is not in the pool", field="msisdn")
    return record


def find(conn: Tx, msisdn: str, now: float) -> NumberRecord | None:
    """Inside a store job: the number, or None when the pool does not manage it."""
    settings = load_settings(conn)
    row = conn.execute(f"{_SELECT} WHERE msisdn=:m", _params(now, settings, m=msisdn)).fetchone()
    return None if row is None else _record(row, settings)


def _why_not(record: NumberRecord, operator: str | None = None) -> str:
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


def take_into_use(conn: Tx, msisdn: str, order_id: str, *, operator: str, now: float) -> None:
    """Inside a store job: the number held by ``operator`` becomes in use by ``order_id`` —
    call it in the job that completes the order, so both commit together. A hold that has
    lapsed but was not taken by anyone else still counts. Running it again for the same order
    changes nothing; anything else raises `Unavailable` (and the job rolls back)."""
    cur = conn.execute(
        "UPDATE numbers SET state='in_use', order_id=?, prior_state=NULL, hold_token=NULL,"
        " hold_operator=NULL, hold_channel=NULL, hold_until=NULL, reserved_for=NULL,"
        " state_since=? WHERE msisdn=? AND state='held' AND hold_operator=?",
        (order_id, now, msisdn, operator),
    )
    if cur.rowcount == 1:
        return
    record = _load(conn, msisdn, now)
    if record.state is NumberState.IN_USE and record.order_id == order_id:
        return
    raise Unavailable(f"{_why_not(record, operator)}: it is not held by {operator}", field="msisdn")


class NumberPool:
    """The pool: import, search, hold and release, reserve, disable, use and recycle."""

    def __init__(self, store: SqliteStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    # -- settings ------------------------------------------------------------------------

    async def settings(self) -> PoolSettings:
        return await self.store.run(load_settings)

    async def change_settings(self, changes: dict[str, Any], *, by: str) -> PoolSettings:
        now = self.clock()

        def job(conn: Tx) -> PoolSettings:
            before = load_settings(conn)
            try:
                after = PoolSettings.model_validate(before.model_dump() | changes)
            except ValidationError as exc:
                raise Invalid.from_validation(exc) from None
            conn.executemany(
                "INSERT INTO number_settings (key, value) VALUES (?,?)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                list(after.model_dump().items()),
            )
            audit.record(
                conn,
                at=now,
                operator=by,
                action="change number pool settings",
                outcome="done",
                detail={"before": before.model_dump(), "after": after.model_dump()},
            )
            return after

        return await self.store.run(job)

    # -- stock ---------------------------------------------------------------------------

    async def import_block(self, block: BlockIn, *, by: str) -> int:
        """Put every number of the block into the pool as unused, in one transaction; refused
        whole if any of them is in the pool already."""
        now = self.clock()
        first, last = block.first, block.last
        assert first is not None and last is not None

        def job(conn: Tx) -> int:
            clash = conn.execute(
                "SELECT msisdn, block FROM numbers WHERE msisdn BETWEEN ? AND ?"
                " AND length(msisdn)=? LIMIT 1",
                (first, last, len(first)),
            ).fetchone()
            if clash is not None:
                raise Unavailable(
                    f"number {clash[0]} is in the pool already (block {clash[1]}):"
                    " nothing was imported",
                    field="prefix" if block.prefix else "first",
                )
            conn.execute(
                "INSERT INTO number_blocks (id, kind, first, last, count, imported_by,"
                " imported_at) VALUES (?,?,?,?,?,?,?)",
                (block.block_id, block.kind.value, first, last, block.count, by, now),
            )
            kind, block_id = block.kind.value, block.block_id
            conn.executemany(
                "INSERT INTO numbers (msisdn, kind, block, state, state_since)"
                " VALUES (?,?,?,'unused',?)",
                ((n, kind, block_id, now) for n in block.numbers()),
            )
            return block.count

        return await self.store.run(job)

    async def get(self, msisdn: str) -> NumberRecord:
        now = self.clock()
        return await self.store.run(lambda conn: _load(conn, msisdn, now))

    async def find(self, msisdn: str) -> NumberRecord | None:
        """Like `get`, but None for a number the pool does not manage (no exception: a
        raising job makes its whole group commit run again, one savepoint per job)."""
        now = self.clock()
        return await self.store.run(lambda conn: find(conn, msisdn, now))

    async def search(
        self,
        *,
        pattern: str | None = None,
        contains: str | None = None,
        state: NumberState | None = None,
        available: bool = False,
        kind: NumberKind | None = None,
        location: str | None = None,
        limit: int = 100,
    ) -> list[NumberRecord]:
        """Numbers matching a mask (``138****8888``: ``*`` or ``?`` is any one digit), holding
        a run of digits (``contains="666"``), in a state, or available to hold now."""
        clauses: list[str] = []
        extra: dict[str, Any] = {"limit": limit}
        if pattern is not None:
            if not _PATTERN.fullmatch(pattern):
                raise Invalid("a pattern is digits with * or ? for any digit", field="pattern")
            clauses.append("msisdn GLOB :glob")
            extra["glob"] = pattern.replace("*", "?")
        if contains is not None:
            if not _CONTAINS.fullmatch(contains):
                raise Invalid("contains must be 1 to 20 digits", field="contains")
            clauses.append("instr(msisdn, :contains) > 0")
            extra["contains"] = contains
        if state is not None:
            clauses.append(f"{_EFFECTIVE}=:state")
            extra["state"] = state.value
        if available:
            clauses.append(_AVAILABLE)
        if kind is not None:
            clauses.append("kind=:kind")
            extra["kind"] = kind.value
        if location is not None:
            clauses.append("location=:location")
            extra["location"] = location
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        now = self.clock()

        def job(conn: Tx) -> tuple[PoolSettings, list[Any]]:
            settings = load_settings(conn)
            sql = f"{_SELECT}{where} ORDER BY msisdn LIMIT :limit"
            return settings, conn.execute(sql, _params(now, settings, **extra)).fetchall()

        settings, rows = await self.store.run(job)
        return [_record(r, settings) for r in rows]

    # -- the counter ---------------------------------------------------------------------

    async def hold(
        self, msisdn: str, operator: str, channel: str, *, for_customer: int | None = None
    ) -> Hold:
        """Pre-occupy (预占) a number for the counter. Succeeds for one caller only: the number
        must be unused, recycled past its cool-down, a lapsed hold, or reserved for
        ``for_customer``; and the operator may not hold more than the configured number."""
        now = self.clock()
        token = secrets.token_urlsafe(16)

        def job(conn: Tx) -> Hold:
            settings = load_settings(conn)
            until = now + settings.hold_minutes * 60
            params = _params(
                now,
                settings,
                m=msisdn,
                token=token,
                op=operator,
                ch=channel,
                until=until,
                customer=str(for_customer) if for_customer is not None else None,
                max=settings.max_holds_per_operator,
            )
            cur = conn.execute(_HOLD, params)
            if cur.rowcount == 1:
                return Hold(msisdn, operator, channel, token, until)
            record = _load(conn, msisdn, now)
            if record.state in (NumberState.UNUSED, NumberState.RECYCLED) and (
                record.reusable_from is None or record.reusable_from <= now
            ):
                raise NotAllowed(
                    f"operator {operator} holds {settings.max_holds_per_operator} numbers"
                    " already (the limit): release one first",
                    field="msisdn",
                )
            raise Unavailable(_why_not(record, operator), field="msisdn")

        return await self.store.run(job)

    async def release(self, hold: Hold) -> bool:
        """Give a held number back (to the state it was in). False if the hold is no longer
        this one (it lapsed and someone else took the number, or it is in use)."""
        return await self.release_token(hold.msisdn, hold.token)

    async def release_token(self, msisdn: str, token: str) -> bool:
        """`release` for a client that kept only the number and the hold's token."""

        def job(conn: Tx) -> bool:
            cur = conn.execute(
                "UPDATE numbers SET state=prior_state, prior_state=NULL, hold_token=NULL,"
                " hold_operator=NULL, hold_channel=NULL, hold_until=NULL"
                " WHERE msisdn=? AND state='held' AND hold_token=?",
                (msisdn, token),
            )
            return cur.rowcount == 1

        return await self.store.run(job)

    async def take_into_use(self, msisdn: str, order_id: str, *, operator: str) -> None:
        """`take_into_use` in a transaction of its own."""
        now = self.clock()
        await self.store.run(
            lambda conn: take_into_use(conn, msisdn, order_id, operator=operator, now=now)
        )

    async def recycle(self, msisdn: str, *, by: str) -> NumberRecord:
        """A number whose line was cancelled comes back (回收); it may be held again only after
        the cool-down."""
        return await self._transition(
            msisdn,
            "state='recycled', recycled_at=:now, order_id=NULL",
            (NumberState.IN_USE,),
            by=by,
            action="recycle",
        )

    async def reserve(self, msisdn: str, customer_id: int, *, by: str) -> NumberRecord:
        """Book (预定) an available number for a registered customer."""

        def check(conn: Tx) -> None:
            if (
                conn.execute("SELECT 1 FROM customers WHERE id=?", (customer_id,)).fetchone()
                is None
            ):
                raise NotFound(f"no customer {customer_id}", field="customer")

        return await self._transition(
            msisdn,
            "state='reserved', reserved_for=:customer",
            (NumberState.UNUSED, NumberState.RECYCLED),
            by=by,
            action="reserve",
            customer=str(customer_id),
            check=check,
        )

    async def unreserve(self, msisdn: str, *, by: str) -> NumberRecord:
        return await self._transition(
            msisdn,
            "state='unused', reserved_for=NULL",
            (NumberState.RESERVED,),
            by=by,
            action="unreserve",
        )

    async def disable(self, msisdn: str, *, by: str) -> NumberRecord:
        return await self._transition(
            msisdn,
            "state='disabled', reserved_for=NULL",
            (NumberState.UNUSED, NumberState.RECYCLED, NumberState.RESERVED),
            by=by,
            action="disable",
            cooling_ok=True,
        )

    async def enable(self, msisdn: str, *, by: str) -> NumberRecord:
        """A disabled number becomes unused again — or recycled, if it was recycled and its
        cool-down has not ended."""
        return await self._transition(
            msisdn,
            "state=CASE WHEN recycled_at > :cool THEN 'recycled' ELSE 'unused' END",
            (NumberState.DISABLED,),
            by=by,
            action="enable",
        )

    async def _transition(
        self,
        msisdn: str,
        assignment: str,
        allowed: tuple[NumberState, ...],
        *,
        by: str,
        action: str,
        customer: str | None = None,
        check: Callable[[Tx], None] | None = None,
        cooling_ok: bool = False,
    ) -> NumberRecord:
        """Move a number from one of ``allowed`` (its state now) by ``assignment``; audited.
        A recycled number still cooling down moves only if ``cooling_ok``."""
        now = self.clock()
        states = ",".join(f"'{s.value}'" for s in allowed)

        def job(conn: Tx) -> NumberRecord:
            if check is not None:
                check(conn)
            settings = load_settings(conn)
            record = _load(conn, msisdn, now)
            cooling = record.reusable_from is not None and record.reusable_from > now
            if record.state not in allowed or (
                record.state is NumberState.RECYCLED and cooling and not cooling_ok
            ):
                raise Unavailable(f"cannot {action}: {_why_not(record)}", field="msisdn")
            # ``assignment`` and ``states`` are fixed text from this class; values are bound.
            conn.execute(
                f"UPDATE numbers SET {assignment}, state_since=:now, prior_state=NULL,"  # noqa: S608
                " hold_token=NULL, hold_operator=NULL, hold_channel=NULL, hold_until=NULL"
                f" WHERE msisdn=:m AND {_EFFECTIVE} IN ({states})",
                _params(now, settings, m=msisdn, customer=customer),
            )
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"{action} number {msisdn}",
                outcome="done",
                detail={"from": record.state.value},
            )
            return _load(conn, msisdn, now)

        return await self.store.run(job)


def price(schedule: FeeSchedule, records: list[NumberRecord]) -> list[dict[str, Any]]:
    """Records with their selection fee (for listings)."""
    return [r.as_dict(schedule.fee(r.msisdn)) for r in records]
