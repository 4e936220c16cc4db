"""The store on each back end: group commit, leases, claims and fencing, schema versions.

Every test runs against SQLite and PostgreSQL (the ``database`` fixture). "Two processes" are
two stores open on the same database, each with its own connection, as two gateway processes
have.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.store import (
    Conflict,
    Lease,
    LeaseLost,
    OrderState,
    OrderStore,
    SchemaTooNew,
    Tx,
    store_for,
)
from gateway.store.migrations import latest
from gateway.vault import Vault
from tests.gateway.conftest import KEY
from tests.gateway.orders_factory import open_account


def independent(database: str | Path, sql: str) -> list[Any]:
    """Rows read through a connection of its own, not the store's."""
    if isinstance(database, Path):
        with sqlite3.connect(database) as conn:
            return conn.execute(sql).fetchall()
    with psycopg.connect(database) as pg:
        return pg.execute(sql).fetchall()  # type: ignore[call-overload]


@pytest.fixture
async def other(database: str | Path) -> AsyncIterator[OrderStore]:
    """A second store on the same database: another gateway process."""
    async with store_for(database, Vault(KEY)) as s:
        yield s


async def test_one_failing_job_does_not_sink_its_batch(store: OrderStore) -> None:
    await store.accept(open_account("a"))
    results = await asyncio.gather(
        store.accept(open_account("b", n=2)),
        store.accept(open_account("a", product="voice-only")),  # same id, other body
        store.accept(open_account("c", n=3)),
        return_exceptions=True,
    )
    assert isinstance(results[1], Conflict)
    assert [r.id for r in await store.list_orders()] == ["c", "b", "a"]


async def test_a_job_that_swallows_a_failed_statement_fails_alone(store: OrderStore) -> None:
    """On PostgreSQL a failed statement spoils the transaction: a job that catches the error
    and carries on must not take its batch's commit down with it (nor report success)."""

    def sloppy(tx: Tx) -> str:
        with contextlib.suppress(Exception):  # this job is careless on purpose
            tx.execute("INSERT INTO no_such_table VALUES (1)")
        return "done"

    results = await asyncio.gather(
        store.accept(open_account("a")),
        store.run(sloppy),
        store.accept(open_account("b", n=2)),
        return_exceptions=True,
    )
    assert [r.id for r in await store.list_orders()] == ["b", "a"]
    if store.dialect == "postgresql":
        assert isinstance(results[1], Exception)
    else:
        assert results[1] == "done"  # SQLite carries on after a failed statement


async def test_a_batch_is_durable_when_its_futures_resolve(
    store: OrderStore, database: str | Path
) -> None:
    await asyncio.gather(*(store.accept(open_account(f"o{i}", n=i)) for i in range(1, 50)))
    # Read through an independent connection: what was acknowledged is committed.
    rows = independent(database, "SELECT count(*) FROM orders WHERE state='accepted'")
    assert rows[0][0] == 49
    assert (await store.counts()) == {OrderState.ACCEPTED.value: 49}


async def test_unknown_order_is_none(store: OrderStore) -> None:
    assert await store.get("nope") is None
    with pytest.raises(KeyError):
        await store.run(lambda conn: store._get(conn, "nope"))


async def test_an_accepted_order_is_leased_to_its_taker_at_epoch_one(store: OrderStore) -> None:
    rec, created = await store.accept(open_account("a"), lease_owner="gw-a")
    assert created and (rec.lease_owner, rec.lease_epoch) == ("gw-a", 1)
    again = await store.get("a")
    assert again is not None and (again.lease_owner, again.lease_epoch) == ("gw-a", 1)
    assert again.seq == rec.seq > 0


async def test_a_held_lease_is_not_taken_and_an_expired_one_is_at_the_next_epoch(
    store: OrderStore, other: OrderStore
) -> None:
    await store.accept(open_account("a"), lease_owner="gw-a", lease_seconds=0.3)
    assert await other.claim("gw-b", 30) == []
    assert await store.claim("gw-a", 0.3) == ["a"]  # its own: kept, same epoch
    rec = await store.get("a")
    assert rec is not None and rec.lease_epoch == 1
    await asyncio.sleep(0.4)
    assert await other.claim("gw-b", 30) == ["a"]
    rec = await other.get("a")
    assert rec is not None and (rec.lease_owner, rec.lease_epoch) == ("gw-b", 2)


async def test_a_stale_holder_records_no_intent_after_a_takeover(
    store: OrderStore, other: OrderStore
) -> None:
    await store.accept(open_account("a"), lease_owner="gw-a", lease_seconds=0.2)
    await asyncio.sleep(0.3)
    assert await other.claim("gw-b", 30) == ["a"]
    stale = Lease("gw-a", 1)
    for write in (
        lambda: store.intent("a", 0, "forward", lease=stale),
        lambda: store.set_note("a", "retrying", lease=stale),
        lambda: store.renew_lease("a", stale, 30),
        lambda: store.finish("a", OrderState.COMPLETED, None, lease=stale),
    ):
        with pytest.raises(LeaseLost, match="leased to gw-b"):
            await write()
    rec = await other.get("a")
    assert rec is not None
    assert rec.steps == [] and rec.note is None and rec.state is OrderState.ACCEPTED
    # The new holder writes under its own lease.
    await other.intent("a", 0, "forward", lease=Lease("gw-b", 2))
    rec = await other.get("a")
    assert rec is not None and [s.idx for s in rec.steps] == [0]


async def test_a_holder_retaking_its_own_expired_lease_moves_the_epoch(
    store: OrderStore,
) -> None:
    """A run that outlived its lease (a pause) may meanwhile have been replaced by another run
    of the same process: the epoch, not the owner's name, tells them apart."""
    await store.accept(open_account("a"), lease_owner="gw-a", lease_seconds=0.2)
    await asyncio.sleep(0.3)
    assert await store.claim("gw-a", 30) == ["a"]
    with pytest.raises(LeaseLost, match="epoch 2"):
        await store.intent("a", 0, "forward", lease=Lease("gw-a", 1))


async def test_two_processes_claiming_at_once_share_the_orders_without_overlap(
    store: OrderStore, other: OrderStore, database: str | Path
) -> None:
    for i in range(1, 61):
        await store.accept(open_account(f"o{i}", n=i))  # nobody's yet
    mine, theirs = await asyncio.gather(
        store.claim("gw-a", 30, limit=40), other.claim("gw-b", 30, limit=40)
    )
    assert set(mine).isdisjoint(theirs) and len(mine) + len(theirs) == 60
    owners = {r[0]: r[1] for r in independent(database, "SELECT id, lease_owner FROM orders")}
    assert all(owners[i] == "gw-a" for i in mine) and all(owners[i] == "gw-b" for i in theirs)


async def test_renewal_names_the_orders_still_held(store: OrderStore, other: OrderStore) -> None:
    await store.accept(open_account("a"), lease_owner="gw-a", lease_seconds=0.2)
    await store.accept(open_account("b", n=2), lease_owner="gw-a", lease_seconds=30)
    await asyncio.sleep(0.3)
    assert await other.claim("gw-b", 30) == ["a"]
    assert await store.renew_leases("gw-a", 30) == {"b"}


async def test_a_schema_newer_than_the_code_is_refused(database: str | Path) -> None:
    async with store_for(database, Vault(KEY)) as s:
        assert s.upgraded is not None and s.upgraded.after == latest(s.dialect)
        ahead = latest(s.dialect) + 1
        await s.run(
            lambda tx: tx.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (ahead, f"{ahead:04d}_from_the_future", time.time()),
            )
        )
    with pytest.raises(SchemaTooNew, match=f"version {ahead}, newer than this provgw knows"):
        async with store_for(database, Vault(KEY)):
            pass


async def test_opening_again_migrates_nothing(database: str | Path) -> None:
    opened: Callable[[], Any] = lambda: store_for(database, Vault(KEY))  # noqa: E731
    async with opened() as first:
        assert first.upgraded is not None and first.upgraded.before == 0
    async with opened() as second:
        assert second.upgraded is not None
        assert second.upgraded.applied == () and second.upgraded.before == latest(second.dialect)
