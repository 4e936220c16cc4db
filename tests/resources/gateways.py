"""Several gateway processes' worth of stores on one database, acting at the same moment.

Each "gateway" is a thread with its own event loop and its own store (its own connection to
the same SQLite file), all released together by a barrier: what stands between them is the
database alone, as between gateway processes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from gateway.resources.service import Resources
from gateway.store import SqliteStore
from gateway.vault import Vault
from tests.resources.conftest import FAST, KEY

T = TypeVar("T")


def in_gateways(
    path: Path, gateways: int, act: Callable[[Resources, int], Awaitable[T]]
) -> list[T]:
    """``act(resources, g)`` in each of ``gateways`` gateways at once; their results, in
    gateway order. An exception in any of them fails the caller."""
    barrier = threading.Barrier(gateways)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    async def gateway(g: int) -> T:
        async with SqliteStore(path, Vault(KEY)) as store:
            res = Resources.open(store, cost=FAST)
            await asyncio.to_thread(barrier.wait)
            return await act(res, g)

    def run(g: int) -> None:
        try:
            results[g] = asyncio.run(gateway(g))
        except BaseException as exc:  # reported below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(g,)) for g in range(gateways)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(results) == gateways, "a gateway did not finish"
    return [results[g] for g in range(gateways)]


def in_one_gateway(path: Path, act: Callable[[Resources], Awaitable[T]]) -> T:
    """``act(resources)`` in a gateway of its own (to set up, or to read back)."""

    async def gateway() -> T:
        async with SqliteStore(path, Vault(KEY)) as store:
            return await act(Resources.open(store, cost=FAST))

    return asyncio.run(gateway())
