"""A per-NE command rate cap (token bucket, in its virtual-scheduling form).

Operators cap what a gateway may send an NE (a worked example in the reference caps an HLR at
20 commands/s). The bucket keeps one number, the theoretical arrival time of the next command,
so a caller learns its delay in O(1) without a background task or a lock, and delays do not
drift however late the event loop wakes a sleeper.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """At most ``rate`` commands per second on average, with bursts of up to ``burst``."""

    __slots__ = ("_clock", "_interval", "_next", "_tolerance")

    def __init__(
        self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive (leave the bucket out for no limit)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Take the next slot; returns how many seconds the caller must wait before using it."""
        now = self._clock()
        slot = max(self._next, now)
        self._next = slot + self._interval
        return max(0.0, slot - self._tolerance - now)

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0.0:
            await asyncio.sleep(delay)
