"""The time the engine reads and waits on, as one object it is given.

Retries, breakers and deadlines all depend on time; taking it from an object lets a test run
them on a clock that stands still until the test moves it, and check the exact schedule
instead of measuring wall-clock gaps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (what is stored and shown)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock."""
        ...


class SystemClock:
    """The machine's clock."""

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


async def first_of(*waits: Awaitable[object]) -> None:
    """Return when the first of ``waits`` is done (a sleep on a clock, an event); cancel the
    others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
