"""A clock that stands still until the test moves it (`gateway.clock.Clock`)."""

from __future__ import annotations

import asyncio


class ManualClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []  # every wait asked for, in order
        self._waiting: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((self.now + seconds, fut))
        self._wake()
        await fut

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._wake()

    def _wake(self) -> None:
        due = [(at, fut) for at, fut in self._waiting if at <= self.now]
        self._waiting = [(at, fut) for at, fut in self._waiting if at > self.now]
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)

    @property
    def sleepers(self) -> int:
        """Waits not yet over (cancelled ones excluded)."""
        return sum(not fut.done() for _, fut in self._waiting)


async def settle(rounds: int = 50) -> None:
    """Let every task that can run, run (store commits take a few loop turns each)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
