"""The number pool's rows: blocks, numbers and their states, and the pool's settings.

A hold lapses by itself: nothing rewrites the row when it expires — every query reads a held
number whose expiry has passed as being in the state it had before (``prior_state``,
`EFFECTIVE_STATE`). Every change of a number is one ``UPDATE … WHERE <the state it must be
in>`` whose row count says whether it happened: the database runs writers to one row one at a
time (SQLite the whole file, PostgreSQL the row lock, re-checking the WHERE on the row it
waited for), so of any number of clerks in any number of gateway processes trying at the same
moment, exactly one changes the row and the others find it taken.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Literal

from gateway.resources.numbers import (
    DAY,
    BlockIn,
    NumberKind,
    NumberRecord,
    NumberState,
    PoolSettings,
)
from gateway.store.tx import Tx

EFFECTIVE_STATE = "(CASE WHEN state='held' AND hold_until<=:now THEN prior_state ELSE state END)"
"""SQL: the state a number row is in *now* (binds ``:now``)."""

_AVAILABLE = (
    f"({EFFECTIVE_STATE}='unused' OR ({EFFECTIVE_STATE}='recycled' AND recycled_at<=:cool))"
)
_SELECT = (
    "SELECT msisdn, kind, block, "  # noqa: S608
    + EFFECTIVE_STATE
    + " AS estate, state_since, recycled_at, location, hold_operator, hold_channel,"
    " hold_until, reserved_for, order_id FROM numbers"
)
_HOLD = (
    f"UPDATE numbers SET state='held', prior_state={EFFECTIVE_STATE},"  # noqa: S608 - fixed SQL
    " hold_token=:token, hold_operator=:op, hold_channel=:ch, hold_until=:until,"
    f" state_since=:now WHERE msisdn=:m AND ({_AVAILABLE}"
    f" OR ({EFFECTIVE_STATE}='reserved' AND reserved_for=:customer))"
    " AND (SELECT count(*) FROM numbers WHERE state='held' AND hold_operator=:op"
    " AND hold_until>:now) < :max"
)

Transition = Literal["recycle", "reserve", "unreserve", "disable", "enable"]
_ASSIGNMENTS: dict[Transition, str] = {
    "recycle": "state='recycled', recycled_at=:now, order_id=NULL",
    "reserve": "state='reserved', reserved_for=:customer",
    "unreserve": "state='unused', reserved_for=NULL",
    "disable": "state='disabled', reserved_for=NULL",
    "enable": "state=CASE WHEN recycled_at > :cool THEN 'recycled' ELSE 'unused' END",
}
_SETTINGS_DEFAULTS = PoolSettings()


def settings(tx: Tx) -> PoolSettings:
    rows = tx.execute("SELECT key, value FROM number_settings ORDER BY key").fetchall()
    return _settings(tuple((k, v) for k, v in rows))


@functools.lru_cache(maxsize=64)
def _settings(stored: tuple[tuple[str, Any], ...]) -> PoolSettings:
    """The settings the stored rows make. Every open account's intake and completion look a
    number up, so the model is kept per set of rows (it is frozen; a change is new rows)."""
    return PoolSettings.model_validate(_SETTINGS_DEFAULTS.model_dump() | dict(stored))


def save_settings(tx: Tx, new: PoolSettings) -> None:
    tx.executemany(
        "INSERT INTO number_settings (key, value) VALUES (?,?)"
        " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
        list(new.model_dump().items()),
    )


def _record(row: Any, pool: PoolSettings) -> NumberRecord:
    state = NumberState(row[3])
    held = state is NumberState.HELD
    reusable = (
        row[5] + pool.recycle_cooldown_days * DAY
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


def _params(now: float, pool: PoolSettings, **extra: Any) -> dict[str, Any]:
    return {"now": now, "cool": now - pool.recycle_cooldown_days * DAY, **extra}


def find(tx: Tx, msisdn: str, now: float) -> NumberRecord | None:
    """The number as it is at ``now``, or None when the pool does not manage it."""
    pool = settings(tx)
    row = tx.execute(f"{_SELECT} WHERE msisdn=:m", _params(now, pool, m=msisdn)).fetchone()
    return None if row is None else _record(row, pool)


def _after(prefix: str) -> str | None:
    """The first digit string above every string starting with ``prefix`` (None: none is)."""
    stripped = prefix.rstrip("9")
    return stripped[:-1] + str(int(stripped[-1]) + 1) if stripped else None


def search(
    tx: Tx,
    *,
    now: float,
    mask: str | None = None,
    contains: str | None = None,
    state: NumberState | None = None,
    available: bool = False,
    kind: NumberKind | None = None,
    location: str | None = None,
    limit: int = 100,
) -> list[NumberRecord]:
    """Numbers in order. ``mask`` is digits with ``?`` for any one digit (``138????8888``);
    ``contains`` a run of digits anywhere in the number."""
    clauses: list[str] = []
    extra: dict[str, Any] = {"limit": limit}
    if mask is not None:
        clauses.append("msisdn LIKE :like")
        extra["like"] = mask.replace("?", "_")
        # The mask's leading digits as a range, so that both databases search the key's index.
        prefix = mask.split("?", 1)[0]
        if prefix:
            clauses.append("msisdn >= :low")
            extra["low"] = prefix
            if (high := _after(prefix)) is not None:
                clauses.append("msisdn < :high")
                extra["high"] = high
    if contains is not None:
        clauses.append("msisdn LIKE :contains")
        extra["contains"] = f"%{contains}%"
    if state is not None:
        clauses.append(f"{EFFECTIVE_STATE}=:state")
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
    pool = settings(tx)
    sql = f"{_SELECT}{where} ORDER BY msisdn LIMIT :limit"
    return [_record(r, pool) for r in tx.execute(sql, _params(now, pool, **extra)).fetchall()]


def first_in_range(tx: Tx, first: str, last: str) -> tuple[str, str] | None:
    """A number (and its block) from ``first`` to ``last`` (of their length) in the pool."""
    row = tx.execute(
        "SELECT msisdn, block FROM numbers WHERE msisdn BETWEEN ? AND ?"
        " AND length(msisdn)=? ORDER BY msisdn LIMIT 1",
        (first, last, len(first)),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def add_block(tx: Tx, block: BlockIn, numbers: Iterator[str], *, by: str, now: float) -> None:
    """The block and each of its numbers, unused. A number in the pool already makes the
    insert fail (its key), so two processes importing overlapping blocks never both succeed."""
    assert block.first is not None and block.last is not None
    tx.execute(
        "INSERT INTO number_blocks (id, kind, first, last, count, imported_by,"
        " imported_at) VALUES (?,?,?,?,?,?,?)",
        (block.block_id, block.kind.value, block.first, block.last, block.count, by, now),
    )
    kind, block_id = block.kind.value, block.block_id
    tx.executemany(
        "INSERT INTO numbers (msisdn, kind, block, state, state_since) VALUES (?,?,?,'unused',?)",
        ((n, kind, block_id, now) for n in numbers),
    )


def hold(
    tx: Tx,
    msisdn: str,
    *,
    token: str,
    operator: str,
    channel: str,
    until: float,
    now: float,
    customer: str | None,
) -> bool:
    """Pre-occupy the number if it is available now (or reserved for ``customer``) and the
    operator holds fewer than the pool allows; False if not (nothing changed)."""
    # The operator's holds are counted under their row's lock, taken by an update that changes
    # nothing: on PostgreSQL a second hold by the same operator in another process waits here
    # for the first to commit, and its count (a statement later, a fresh snapshot) sees it.
    # (SQLite holds the whole database's write lock already.)
    tx.execute("UPDATE operators SET updated_at=updated_at WHERE id=?", (operator,))
    pool = settings(tx)
    params = _params(
        now,
        pool,
        m=msisdn,
        token=token,
        op=operator,
        ch=channel,
        until=until,
        customer=customer,
        max=pool.max_holds_per_operator,
    )
    return tx.execute(_HOLD, params).rowcount == 1


def release(tx: Tx, msisdn: str, token: str) -> bool:
    """The held number back in the state it was in, if ``token`` is still its hold's."""
    cur = tx.execute(
        "UPDATE numbers SET state=prior_state, prior_state=NULL, hold_token=NULL,"
        " hold_operator=NULL, hold_channel=NULL, hold_until=NULL"
        " WHERE msisdn=? AND state='held' AND hold_token=?",
        (msisdn, token),
    )
    return cur.rowcount == 1


def take_into_use(tx: Tx, msisdn: str, order_id: str, *, operator: str, now: float) -> bool:
    """The number held by ``operator`` (a lapsed hold nobody else took still counts) becomes
    in use by ``order_id``; False if it is not held by them."""
    cur = tx.execute(
        "UPDATE numbers SET state='in_use', order_id=?, prior_state=NULL, hold_token=NULL,"
        " hold_operator=NULL, hold_channel=NULL, hold_until=NULL, reserved_for=NULL,"
        " state_since=? WHERE msisdn=? AND state='held' AND hold_operator=?",
        (order_id, now, msisdn, operator),
    )
    return cur.rowcount == 1


def transition(
    tx: Tx,
    msisdn: str,
    change: Transition,
    allowed: tuple[NumberState, ...],
    *,
    now: float,
    customer: str | None = None,
) -> bool:
    """Change the number by ``change`` if it is in one of ``allowed`` now (a hold is dropped);
    False if it is not (nothing changed)."""
    states = ",".join(f"'{NumberState(s).value}'" for s in allowed)
    # The assignment and the states are this module's fixed text; values are bound.
    cur = tx.execute(
        f"UPDATE numbers SET {_ASSIGNMENTS[change]}, state_since=:now, prior_state=NULL,"  # noqa: S608
        " hold_token=NULL, hold_operator=NULL, hold_channel=NULL, hold_until=NULL"
        f" WHERE msisdn=:m AND {EFFECTIVE_STATE} IN ({states})",
        _params(now, settings(tx), m=msisdn, customer=customer),
    )
    return cur.rowcount == 1


def block_ids(tx: Tx) -> set[str]:
    return {r[0] for r in tx.execute("SELECT id FROM number_blocks")}
