"""Status events for live views (server-sent events) and the order bus (MQTT).

In-process fan-out only: the store is the truth, so a subscriber that falls behind simply
loses events (its queue is bounded) and re-reads the store. A listener (the bus's outbox) is
called with every event as it happens and loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any


class EventHub:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._queue_size = queue_size
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def publish(self, event: dict[str, Any]) -> None:
        for listener in self._listeners:
            listener(event)
        for q in self._queues:
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._queues.add(q)
        try:
            yield q
        finally:
            self._queues.discard(q)

    @contextlib.contextmanager
    def listening(self, listener: Callable[[dict[str, Any]], None]) -> Iterator[None]:
        """Call ``listener`` with every event, in order, while the block runs; it must not
        block or raise (it runs inside the engine's publish)."""
        self._listeners.append(listener)
        try:
            yield
        finally:
            self._listeners.remove(listener)
