"""Status out: every state change of every order, whatever its intake, to
``provgw/status/{order_id}`` (QoS 1), through the outbox.

The engine announces each state change on its `EventHub` once the change is committed; the
`StatusOutbox` listens there (it loses none, unlike the live views' bounded queues) and writes
each as an outbox row, in the order the engine announced them. `StatusOutbox.drain` publishes
the rows oldest first over one connection — so one order's statuses reach the broker in order
— and deletes them when the broker has acknowledged them. After a reconnect the rows not yet
acknowledged are published again: delivery is at least once, and each status carries the time
of its change (``at``) for a consumer that must tell a repeat from news.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from gateway.bus.connection import Connection, ConnectionLost, PublishRefused, message_properties
from gateway.bus.topics import status_topic
from gateway.store import OrderStore, Tx, outbox
from gateway.store.outbox import Outgoing

log = logging.getLogger(__name__)

BATCH = 500  # rows published before their acknowledgements are awaited and the rows deleted


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def status_message(event: dict[str, Any]) -> Outgoing:
    """The status message of one engine event (``order_id``, ``state`` and what the engine
    adds: ``kind``, ``steps``, ``reason``, the ``ne`` waited for)."""
    body = dict(event)
    body.setdefault("at", time.time())
    return Outgoing(status_topic(str(event["order_id"])), encode(body))


class StatusOutbox:
    """Engine events and intake answers into the outbox; the outbox out to the broker."""

    def __init__(self, store: OrderStore, owner: str) -> None:
        self.store = store
        self.owner = owner
        self._buffer: list[Outgoing] = []
        self._writing: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._wake.set()  # rows left from before this process started
        self._next_adoption = 0.0  # when to look for rows a dead gateway left

    def event(self, event: dict[str, Any]) -> None:
        """`EventHub` listener: queue the event's status; the rows queued in one turn of the
        loop are written by one store job (so in the order the engine announced them)."""
        if "order_id" not in event or "state" not in event:
            return
        self._buffer.append(status_message(event))
        if len(self._buffer) == 1:
            task = asyncio.get_running_loop().create_task(self._write_buffer())
            self._writing.add(task)
            task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("status messages not recorded", exc_info=task.exception())

    async def _write_buffer(self) -> None:
        def job(conn: Tx) -> None:
            rows, self._buffer = self._buffer, []
            outbox.add(conn, self.owner, rows, time.time())

        await self.store.run(job)
        self._wake.set()

    async def put(self, messages: Sequence[Outgoing]) -> None:
        """Record messages durably (returns once committed); published soon after."""
        now = time.time()
        await self.store.run(lambda conn: outbox.add(conn, self.owner, messages, now))
        self._wake.set()

    async def settled(self) -> None:
        """Wait until every event heard so far is in the outbox (tests, shutdown)."""
        while self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)

    async def drain(self, conn: Connection) -> None:
        """Publish outbox rows over ``conn`` until it is lost (raises `ConnectionLost`)."""
        while True:
            # Woken by new rows, and now and then to adopt rows a dead gateway left.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(outbox.STALE_S / 3):
                    await self._wake.wait()
            self._wake.clear()
            while rows := await self.store.run(self._take):
                acks = [
                    conn.publish(
                        q.message.topic,
                        q.message.payload,
                        properties=message_properties(
                            correlation=q.message.correlation, user=q.message.user
                        ),
                    )
                    for q in rows
                ]
                results = await asyncio.gather(*acks, return_exceptions=True)
                lost = next((r for r in results if isinstance(r, ConnectionLost)), None)
                done: list[int] = []
                for q, r in zip(rows, results, strict=True):
                    if isinstance(r, PublishRefused):
                        # Kept, it would be refused for ever: on record in the log instead.
                        log.warning("status message dropped: %s", r)
                    if r is None or isinstance(r, PublishRefused):
                        done.append(q.id)
                await self.store.run(functools.partial(outbox.remove, ids=done))
                if lost is not None:
                    raise lost

    def _take(self, conn: Tx) -> list[outbox.Queued]:
        now = time.time()
        if now >= self._next_adoption:
            self._next_adoption = now + outbox.STALE_S / 3
            outbox.adopt(conn, self.owner, now)
        return outbox.take(conn, self.owner, BATCH)
