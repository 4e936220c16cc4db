"""The store's group commit: jobs of one batch commit together, and fail alone."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from gateway.store import Conflict, OrderState, SqliteStore
from tests.gateway.orders_factory import open_account


async def test_one_failing_job_does_not_sink_its_batch(store: SqliteStore) -> None:
    await store.accept(open_account("a"))
    results = await asyncio.gather(
        store.accept(open_account("b", n=2)),
        store.accept(open_account("a", product="voice-only")),  # same id, other body
        store.accept(open_account("c", n=3)),
        return_exceptions=True,
    )
    assert isinstance(results[1], Conflict)
    assert [r.id for r in await store.list_orders()] == ["c", "b", "a"]


async def test_a_batch_is_durable_when_its_futures_resolve(store: SqliteStore) -> None:
    await asyncio.gather(*(store.accept(open_account(f"o{i}", n=i)) for i in range(1, 50)))
    # Read through an independent connection: what was acknowledged is on disk.
    with sqlite3.connect(store.path) as other:
        count = other.execute("SELECT count(*) FROM orders WHERE state='accepted'").fetchone()[0]
    assert count == 49
    assert (await store.counts()) == {OrderState.ACCEPTED.value: 49}


async def test_unknown_order_is_none(store: SqliteStore) -> None:
    assert await store.get("nope") is None
    with pytest.raises(KeyError):
        await store.run(lambda conn: store._get(conn, "nope"))
