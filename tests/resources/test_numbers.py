"""The number pool: blocks, states, holds and their expiry, reservation, use, recycling."""

from __future__ import annotations

import sqlite3

import pytest
from pydantic import ValidationError

from gateway.resources import audit
from gateway.resources.number_pool import take_into_use
from gateway.resources.numbers import (
    DAY,
    BlockIn,
    NumberKind,
    NumberState,
)
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Unavailable
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from tests.resources.conftest import Clock

M = "13900000042"


@pytest.fixture
async def pool(res: Resources) -> Resources:
    await res.numbers.import_block(BlockIn(prefix="139000000"), by="engineer1")  # 100 numbers
    return res


async def test_prefix_block_holds_every_number_of_the_prefix(pool: Resources) -> None:
    found = await pool.numbers.search(pattern="139000000??", limit=1000)
    assert [r.msisdn for r in found] == [f"139000000{i:02d}" for i in range(100)]
    assert {r.state for r in found} == {NumberState.UNUSED}
    assert found[0].block == "13900000000-13900000099"


async def test_range_block_and_other_kinds(res: Resources) -> None:
    assert (
        await res.numbers.import_block(BlockIn(first="13912340000", last="13912340999"), by="e")
        == 1000
    )
    ports = BlockIn(kind=NumberKind.SMS_PORT, prefix="1065888", length=10)
    assert await res.numbers.import_block(ports, by="e") == 1000
    found = await res.numbers.search(kind=NumberKind.SMS_PORT, limit=2)
    assert [r.msisdn for r in found] == ["1065888000", "1065888001"]


async def test_overlapping_block_is_refused_whole(pool: Resources, store: SqliteStore) -> None:
    with pytest.raises(Unavailable, match="13900000050 is in the pool already"):
        await pool.numbers.import_block(BlockIn(first="13900000050", last="13900000150"), by="e")
    count = await store.run(lambda c: c.execute("SELECT count(*) FROM numbers").fetchone()[0])
    assert count == 100, "nothing of the refused block was imported"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"prefix": "23800"}, "11 digits starting 13–19"),
        ({"first": "13900000010", "last": "13900000001"}, "last must not be below first"),
        ({"first": "1390000001", "last": "13900000010"}, "11 digits starting 13–19"),
        ({"kind": "sms_port", "first": "106500", "last": "1065001"}, "same number of digits"),
        ({"prefix": "13", "length": 11}, "at most 1,000,000"),
        ({}, "give a prefix"),
        ({"prefix": "139", "first": "13900000000"}, "not both"),
    ],
)
def test_bad_blocks_are_refused_with_a_reason(data: dict[str, str], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        BlockIn.model_validate(data)


async def test_a_hold_excludes_everyone_else(pool: Resources) -> None:
    hold = await pool.numbers.hold(M, "clerk1", "OUT001")
    assert hold.expires_at == pool.clock() + 30 * 60
    with pytest.raises(Unavailable, match=r"held \(预占\) by clerk1 on OUT001 until"):
        await pool.numbers.hold(M, "clerk2", "OUT002")
    with pytest.raises(Unavailable, match=r"held .* by you"):
        await pool.numbers.hold(M, "clerk1", "OUT001")
    record = await pool.numbers.get(M)
    assert (record.state, record.held_by, record.hold_channel) == (
        NumberState.HELD,
        "clerk1",
        "OUT001",
    )


async def test_a_hold_lapses_by_itself(pool: Resources, clock: Clock) -> None:
    first = await pool.numbers.hold(M, "clerk1", "OUT001")
    clock.advance(30 * 60 - 1)
    assert (await pool.numbers.get(M)).state is NumberState.HELD
    assert not await pool.numbers.search(pattern=M, available=True)
    clock.advance(1)
    record = await pool.numbers.get(M)
    assert record.state is NumberState.UNUSED and record.held_by is None
    assert [r.msisdn for r in await pool.numbers.search(pattern=M, available=True)] == [M]
    second = await pool.numbers.hold(M, "clerk2", "OUT001")
    assert second.operator == "clerk2"
    assert not await pool.numbers.release(first), "a lapsed hold taken by another is not ours"
    assert (await pool.numbers.get(M)).held_by == "clerk2"


async def test_release_gives_the_number_back(pool: Resources) -> None:
    hold = await pool.numbers.hold(M, "clerk1", "OUT001")
    assert not await pool.numbers.release_token(M, "not-the-token")
    assert await pool.numbers.release(hold)
    assert (await pool.numbers.get(M)).state is NumberState.UNUSED
    assert not await pool.numbers.release(hold), "releasing twice changes nothing"


async def test_holds_per_operator_are_limited(pool: Resources) -> None:
    await pool.numbers.change_settings({"max_holds_per_operator": 2}, by="admin1")
    await pool.numbers.hold("13900000001", "clerk1", "OUT001")
    await pool.numbers.hold("13900000002", "clerk1", "OUT001")
    with pytest.raises(NotAllowed, match="holds 2 numbers already"):
        await pool.numbers.hold("13900000003", "clerk1", "OUT001")
    await pool.numbers.hold("13900000003", "clerk2", "OUT001")


async def test_a_reserved_number_is_held_only_for_its_customer(
    pool: Resources, store: SqliteStore
) -> None:
    await store.run(
        lambda c: c.execute(
            "INSERT INTO customers (id, kind, id_type, id_number, name, created_by, created_at,"
            " updated_at) VALUES (7, 'person', 'resident_id', 'X', 'Li', 't', 0, 0)"
        )
    )
    with pytest.raises(NotFound):
        await pool.numbers.reserve(M, 8, by="clerk1")
    reserved = await pool.numbers.reserve(M, 7, by="clerk1")
    assert (reserved.state, reserved.reserved_for) == (NumberState.RESERVED, "7")
    with pytest.raises(Unavailable, match=r"reserved .* for another customer"):
        await pool.numbers.hold(M, "clerk2", "OUT001")
    with pytest.raises(Unavailable):
        await pool.numbers.hold(M, "clerk2", "OUT001", for_customer=8)
    hold = await pool.numbers.hold(M, "clerk2", "OUT001", for_customer=7)
    assert await pool.numbers.release(hold)
    assert (await pool.numbers.get(M)).state is NumberState.RESERVED, "back to reserved"


async def test_take_into_use_commits_with_the_order(pool: Resources, store: SqliteStore) -> None:
    await pool.numbers.hold(M, "clerk1", "OUT001")
    now = pool.clock()

    def completes(conn: sqlite3.Connection) -> None:
        take_into_use(conn, M, "order-1", operator="clerk1", now=now)
        conn.execute("INSERT INTO lines (msisdn, data) VALUES (?, '{}')", (M,))

    await store.run(completes)
    record = await pool.numbers.get(M)
    assert (record.state, record.order_id) == (NumberState.IN_USE, "order-1")
    await store.run(lambda c: take_into_use(c, M, "order-1", operator="clerk1", now=now))

    def other_order(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO lines (msisdn, data) VALUES ('13900000043', '{}')")
        take_into_use(conn, M, "order-2", operator="clerk1", now=now)

    with pytest.raises(Unavailable, match="in use"):
        await store.run(other_order)
    line = await store.run(
        lambda c: c.execute("SELECT 1 FROM lines WHERE msisdn='13900000043'").fetchone()
    )
    assert line is None, "the failed job rolled back with it"


async def test_take_into_use_needs_this_operators_hold(pool: Resources) -> None:
    with pytest.raises(Unavailable, match="not held by clerk1"):
        await pool.numbers.take_into_use(M, "o1", operator="clerk1")
    await pool.numbers.hold(M, "clerk2", "OUT001")
    with pytest.raises(Unavailable, match="not held by clerk1"):
        await pool.numbers.take_into_use(M, "o1", operator="clerk1")


async def test_a_lapsed_hold_nobody_took_can_still_be_used(pool: Resources, clock: Clock) -> None:
    await pool.numbers.hold(M, "clerk1", "OUT001")
    clock.advance(3600)
    await pool.numbers.take_into_use(M, "o1", operator="clerk1")
    assert (await pool.numbers.get(M)).state is NumberState.IN_USE


async def test_recycled_numbers_cool_down_before_reuse(pool: Resources, clock: Clock) -> None:
    await pool.numbers.hold(M, "clerk1", "OUT001")
    await pool.numbers.take_into_use(M, "o1", operator="clerk1")
    recycled = await pool.numbers.recycle(M, by="engineer1")
    assert recycled.state is NumberState.RECYCLED
    assert recycled.reusable_from == clock() + 90 * DAY
    clock.advance(90 * DAY - 60)
    with pytest.raises(Unavailable, match=r"recycled \(回收\) and cools down until"):
        await pool.numbers.hold(M, "clerk1", "OUT001")
    assert not await pool.numbers.search(pattern=M, available=True)
    clock.advance(60)
    assert [r.msisdn for r in await pool.numbers.search(pattern=M, available=True)] == [M]
    hold = await pool.numbers.hold(M, "clerk1", "OUT001")
    assert await pool.numbers.release(hold)
    assert (await pool.numbers.get(M)).state is NumberState.RECYCLED


async def test_cool_down_is_configurable(pool: Resources, clock: Clock) -> None:
    await pool.numbers.change_settings({"recycle_cooldown_days": 1}, by="admin1")
    await pool.numbers.hold(M, "clerk1", "OUT001")
    await pool.numbers.take_into_use(M, "o1", operator="clerk1")
    await pool.numbers.recycle(M, by="engineer1")
    clock.advance(DAY)
    await pool.numbers.hold(M, "clerk1", "OUT001")


async def test_only_numbers_in_use_are_recycled(pool: Resources) -> None:
    with pytest.raises(Unavailable, match="cannot recycle: number 13900000042 is unused"):
        await pool.numbers.recycle(M, by="engineer1")


async def test_disabled_numbers_cannot_be_held(pool: Resources, clock: Clock) -> None:
    await pool.numbers.disable(M, by="engineer1")
    with pytest.raises(Unavailable, match=r"disabled \(禁用\)"):
        await pool.numbers.hold(M, "clerk1", "OUT001")
    assert (await pool.numbers.enable(M, by="engineer1")).state is NumberState.UNUSED
    await pool.numbers.hold(M, "clerk1", "OUT001")
    with pytest.raises(Unavailable, match="cannot disable"):
        await pool.numbers.disable(M, by="engineer1")


async def test_enabling_keeps_a_recycled_number_cooling(pool: Resources) -> None:
    await pool.numbers.hold(M, "clerk1", "OUT001")
    await pool.numbers.take_into_use(M, "o1", operator="clerk1")
    await pool.numbers.recycle(M, by="e")
    await pool.numbers.disable(M, by="e")
    assert (await pool.numbers.enable(M, by="e")).state is NumberState.RECYCLED


async def test_search_by_mask_and_by_digits(res: Resources) -> None:
    for prefix in ("1380000", "1381234"):
        await res.numbers.import_block(BlockIn(prefix=prefix), by="e")
    mask = await res.numbers.search(pattern="138****8888", limit=1000)
    assert [r.msisdn for r in mask] == ["13800008888", "13812348888"]
    digits = await res.numbers.search(contains="6666", limit=1000)
    assert [r.msisdn for r in digits] == ["13800006666", "13812346666"]
    eights = await res.numbers.search(contains="888", limit=1000)
    # 888x and x888 in the last four digits, 8888 once: 19 a block
    assert len(eights) == 2 * 19 and all("888" in r.msisdn for r in eights)
    with pytest.raises(Invalid, match="pattern"):
        await res.numbers.search(pattern="138%")
    with pytest.raises(Invalid, match="contains"):
        await res.numbers.search(contains="6a")


async def test_a_mask_finds_its_numbers_and_no_others_whatever_its_leading_digits(
    res: Resources,
) -> None:
    """The mask's leading digits bound the search (a key range): it must reach exactly up to
    the next prefix, also when they end in 9s (13999… → 14…) or are all 9s."""
    for block in (
        BlockIn(first="13899999990", last="13900000009"),
        BlockIn(first="13999999990", last="14000000009"),
    ):
        await res.numbers.import_block(block, by="e")

    async def found(pattern: str) -> list[str]:
        return [r.msisdn for r in await res.numbers.search(pattern=pattern, limit=1000)]

    assert await found("1389999999?") == [f"1389999999{d}" for d in range(10)]
    assert await found("1399999999*") == [f"1399999999{d}" for d in range(10)]
    assert await found("139999999?9") == ["13999999999"]
    assert await found("1400000000?") == [f"1400000000{d}" for d in range(10)]
    assert await found("?????????09") == ["13900000009", "14000000009"]
    assert await found("13900000009") == ["13900000009"]


async def test_search_by_state(pool: Resources) -> None:
    await pool.numbers.hold("13900000001", "clerk1", "OUT001")
    await pool.numbers.disable("13900000002", by="e")
    held = await pool.numbers.search(state=NumberState.HELD)
    assert [r.msisdn for r in held] == ["13900000001"]
    available = await pool.numbers.search(available=True, limit=1000)
    assert len(available) == 98


async def test_settings_changes_are_audited_and_validated(
    pool: Resources, store: SqliteStore
) -> None:
    with pytest.raises(Invalid, match="hold_minutes"):
        await pool.numbers.change_settings({"hold_minutes": 0}, by="admin1")
    await pool.numbers.change_settings({"hold_minutes": 5}, by="admin1")
    hold = await pool.numbers.hold(M, "clerk1", "OUT001")
    assert hold.expires_at == pool.clock() + 300
    (entry,) = await audit.entries(store, operator="admin1")
    assert entry.action == "change number pool settings"
    assert entry.detail["before"]["hold_minutes"] == 30
    assert entry.detail["after"]["hold_minutes"] == 5


async def test_unknown_numbers_are_not_found(pool: Resources) -> None:
    with pytest.raises(NotFound, match="not in the pool"):
        await pool.numbers.hold("13700000000", "clerk1", "OUT001")
