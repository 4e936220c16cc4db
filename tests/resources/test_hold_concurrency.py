"""Many clerks, one number: exactly one hold wins, however close together they try.

Twice: many tasks through one store (one event loop, group commit puts them all in one
transaction), and several gateway processes' worth of stores — each its own thread, event loop
and SQLite connection on the same file, released together by a barrier — where SQLite's
write lock is all that stands between them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.resources.number_pool import NumberPool
from gateway.resources.numbers import BlockIn, Hold, NumberState
from gateway.resources.refusals import Unavailable
from gateway.resources.service import Resources
from tests.resources.gateways import in_gateways, in_one_gateway

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
    in_one_gateway(path, lambda res: res.numbers.import_block(BlockIn(prefix="139000000"), by="e"))
    per_gateway = 10

    async def clerks(res: Resources, g: int) -> list[Hold | None]:
        return list(
            await asyncio.gather(*(_try(res.numbers, f"g{g}-clerk{i}") for i in range(per_gateway)))
        )

    outcomes = in_gateways(path, 4, clerks)
    winners = [h for results in outcomes for h in results if h is not None]
    assert len(winners) == 1, f"{len(winners)} clerks hold the same number"

    async def holder(res: Resources) -> str | None:
        return (await res.numbers.get(M)).held_by

    assert in_one_gateway(path, holder) == winners[0].operator
