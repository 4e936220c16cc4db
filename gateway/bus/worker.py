"""The gateway on the bus: connected, subscribed, taking orders in and publishing statuses —
and connected again, with backoff, whenever the broker goes away.

One connection at a time, with a stable client id, ``clean_start=False`` and a session expiry:
the broker keeps the shared subscription and the orders not yet acknowledged while the gateway
reconnects (or restarts), and hands them over again. Orders are taken in concurrently (their
accepts share the store's group commits) and acknowledged in the order they arrived (MQTT 5,
4.6), each once its outcome is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import paho.mqtt.client as mqtt

from gateway.backoff import Backoff
from gateway.bus.connection import (
    Connection,
    ConnectionLost,
    Endpoint,
    PublishRefused,
    forget,
    message_properties,
)
from gateway.bus.intake import Intake
from gateway.bus.status import StatusOutbox
from gateway.bus.topics import ORDERS_SHARED
from gateway.config import BusConfig, GatewayConfig
from gateway.engine import Engine

log = logging.getLogger(__name__)


def gateway_endpoint(config: BusConfig) -> Endpoint:
    return Endpoint(
        host=config.host,
        port=config.port,
        client_id=config.identifier(),
        username=config.username,
        password=config.secret(),
        keepalive_s=config.keepalive_s,
        session_expiry_s=config.session_expiry_s,
        receive_maximum=config.receive_maximum,
    )


class _Received:
    """A message being decided; acknowledged when it and every earlier one are."""

    __slots__ = ("decided", "message")

    def __init__(self, message: mqtt.MQTTMessage) -> None:
        self.message = message
        self.decided = False


class BusWorker:
    def __init__(self, config: BusConfig, engine: Engine, outbox: StatusOutbox) -> None:
        self.config = config
        self.engine = engine
        self.outbox = outbox
        self.intake = Intake(engine, config.max_order_bytes)
        self.endpoint = gateway_endpoint(config)
        self._conn: Connection | None = None
        self._received: deque[_Received] = deque()
        self._deciding: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Stay connected until cancelled."""
        backoff = Backoff(self.config.reconnect, random.Random())
        while True:
            try:
                await self._connected_once(backoff)
            except (ConnectionLost, PublishRefused) as exc:
                log.warning("order bus: %s", exc)
            except Exception:
                log.exception("order bus: failed; connecting again")
            await asyncio.sleep(backoff.next())

    async def _connected_once(self, backoff: Backoff) -> None:
        conn = Connection(self.endpoint, self._on_message, manual_ack=True)
        self._conn = conn
        self._received.clear()  # unacknowledged ones come again in the resumed session
        try:
            await conn.open()
            await conn.subscribe(ORDERS_SHARED, qos=1)
            backoff.reset()
            log.info("order bus: connected to %s as %s", conn.where, self.endpoint.client_id)
            drain = asyncio.create_task(self.outbox.drain(conn), name="bus-outbox")
            try:
                ends: set[asyncio.Future[Any]] = {drain, conn.lost}
                await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
            finally:
                drain.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionLost):
                    await drain
            raise ConnectionLost(conn.lost.result() if conn.lost.done() else "publishing failed")
        finally:
            await conn.close()

    async def settled(self) -> None:
        """Wait for the messages being decided and the statuses being recorded."""
        while self._deciding:
            await asyncio.gather(*self._deciding, return_exceptions=True)
        await self.outbox.settled()

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        received = _Received(message)
        self._received.append(received)
        conn = self._conn
        task = asyncio.get_running_loop().create_task(self._decide(received, conn))
        self._deciding.add(task)
        task.add_done_callback(self._deciding.discard)

    async def _decide(self, received: _Received, conn: Connection | None) -> None:
        message = received.message
        try:
            answer = await self.intake.decide(message.topic, bytes(message.payload))
            messages = self.intake.messages(message, answer)
            if answer.refused:
                await self.outbox.put(messages)  # nothing else records a refusal
            elif conn is not None:
                # An acceptance's answer is neither kept nor acknowledged (QoS 0): the order
                # is in the store and its "accepted" status in the outbox, and a sender who
                # missed the answer and sends the order again is answered again.
                for m in messages:
                    props = message_properties(correlation=m.correlation)
                    conn.publish(m.topic, m.payload, qos=0, properties=props).add_done_callback(
                        forget
                    )
        except Exception:
            # The store failed: no acknowledgement, so the broker hands the order over again
            # in the next session.
            log.exception("order bus: message on %s not taken in; reconnecting", message.topic)
            if conn is not None:
                await conn.close()
            return
        received.decided = True
        if conn is not self._conn or conn is None:
            return  # that connection is gone; the broker redelivers the message
        while self._received and self._received[0].decided:
            conn.ack(self._received.popleft().message)


@contextlib.asynccontextmanager
async def running_bus(config: BusConfig, engine: Engine) -> AsyncIterator[BusWorker]:
    """The gateway's bus worker for the block: statuses recorded from the engine's events,
    the connection kept up."""
    outbox = StatusOutbox(engine.store, engine.owner)
    worker = BusWorker(config, engine, outbox)
    with engine.events.listening(outbox.event):
        task = asyncio.create_task(worker.run(), name="order-bus")
        try:
            yield worker
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await worker.settled()


@contextlib.asynccontextmanager
async def bus_if_configured(config: GatewayConfig, engine: Engine) -> AsyncIterator[None]:
    """`running_bus` when the configuration has a ``[bus]`` section; nothing otherwise."""
    if config.bus is None:
        yield
        return
    async with running_bus(config.bus, engine):
        yield
