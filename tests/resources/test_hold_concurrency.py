"""Many clerks, one number: exactly one hold wins, however close together they try.

Twice: many tasks through one store (one event loop, group commit puts them all in one
transaction), and several gateway processes' worth of stores — each its own thread, event loop
and SQLite connection on the same file, released together by a barrier — where SQLite's
write lock is all that stands between them.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from gateway.resources.numbers import BlockIn, Hold, NumberPool, NumberState
from gateway.resources.refusals import Unavailable
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from gateway.vault import Vault
from tests.resources.conftest import KEY

M = "13900000007"
CLERKS = 40


async def _try(pool: NumberPool, clerk: str) -> Hold | None:
    try:
        return await pool.hold(M, clerk, "OUT001")
    except Unavailable:
        return None


async def test_many_clerks_in_one_gateway(res: Resources) -> None:
    await res.numbers.import_block(BlockIn(prefix="139000000"), by="e")
    results = await asyncio.gather(*(_try(res.numbers, f"clerk{i}") for i in range(CLERKS)))
    winners = [h for h in results if h is not None]
    assert len(winners) == 1
    record = await res.numbers.get(M)
    assert record.state is NumberState.HELD and record.held_by == winners[0].operator


def test_many_clerks_in_several_gateways_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"

    async def prepare() -> None:
        async with SqliteStore(path, Vault(KEY)) as store:
            await NumberPool(store).import_block(BlockIn(prefix="139000000"), by="e")

    asyncio.run(prepare())
    gateways, per_gateway = 4, 10
    barrier = threading.Barrier(gateways)
    outcomes: list[list[Hold | None]] = []
    errors: list[BaseException] = []

    async def gateway(g: int) -> list[Hold | None]:
        async with SqliteStore(path, Vault(KEY)) as store:
            pool = NumberPool(store)
            await asyncio.to_thread(barrier.wait)
            return list(
                await asyncio.gather(*(_try(pool, f"g{g}-clerk{i}") for i in range(per_gateway)))
            )

    def run(g: int) -> None:
        try:
            outcomes.append(asyncio.run(gateway(g)))
        except BaseException as exc:  # reported below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(g,)) for g in range(gateways)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    winners = [h for results in outcomes for h in results if h is not None]
    assert len(outcomes) == gateways
    assert len(winners) == 1, f"{len(winners)} clerks hold the same number"

    async def holder() -> str | None:
        async with SqliteStore(path, Vault(KEY)) as store:
            return (await NumberPool(store).get(M)).held_by

    assert asyncio.run(holder()) == winners[0].operator
