"""An upstream system's side of the bus: publish orders, follow their statuses.

`provgw bus submit` and `provgw bus watch`, the benchmark and the tests use it. An order is
published to ``provgw/orders/{channel}`` with a response topic of the client's own
(``provgw/replies/{client id}``) and the order id as correlation data; the client subscribes to
the orders' status topics *before* publishing, so it misses none of them. A publish the broker
did not acknowledge is sent again after reconnecting: the gateway's intake is idempotent on the
order id, so a repeat is harmless.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from gateway.bus.connection import (
    Connection,
    Endpoint,
    forget,
    message_properties,
    user_properties,
)
from gateway.bus.topics import DEAD_LETTER_PREFIX, order_topic, status_topic

TERMINAL = frozenset({"completed", "failed", "compensated", "refused"})
REPLIES_PREFIX = "provgw/replies/"
RESEND_AFTER_S = 5.0


def replies_topic(endpoint: Endpoint) -> str:
    """Where the gateway answers this client: under its user name, so a broker ACL can let
    each upstream system read only its own answers (``pattern read provgw/replies/%u/#``)."""
    return f"{REPLIES_PREFIX}{endpoint.username or 'anonymous'}/{endpoint.client_id}"


@dataclass
class Followed:
    """What the client has heard of one order: the answer to its publish and its statuses."""

    order_id: str
    answer: dict[str, Any] | None = None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    body: dict[str, Any] | None = None  # as published by this client, which waits for the answer

    @property
    def final(self) -> dict[str, Any] | None:
        """The terminal status, once there is one: the refusal, a terminal status heard, or an
        answer that says the order had ended already (sent again after its statuses went by)."""
        heard = next((s for s in reversed(self.statuses) if s.get("state") in TERMINAL), None)
        if heard is None and self.answer is not None and self.answer.get("state") in TERMINAL:
            return self.answer
        return heard


class BusClient:
    """``async with BusClient(endpoint) as c``: `submit` orders, `wait` for their ends, or
    `watch` every status as it comes (``on_status``)."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        on_status: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.on_status = on_status
        self.followed: dict[str, Followed] = {}
        self.dead_letters: list[tuple[bytes, dict[str, str]]] = []  # (message, reason, topic)
        self._conn: Connection | None = None

    async def __aenter__(self) -> BusClient:
        self._conn = Connection(self.endpoint, self._on_message)
        await self._conn.open()
        await self._conn.subscribe(replies_topic(self.endpoint))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            await self._conn.close()

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "use the client as an async context manager"
        return self._conn

    async def follow(self, topic_filter: str) -> None:
        """Subscribe to statuses (``provgw/status/+`` for all, or one order's topic)."""
        await self.connection.subscribe(topic_filter)

    async def submit(self, orders: Iterable[dict[str, Any]], *, each: bool = True) -> None:
        """Publish orders (as ``POST /orders`` bodies); waits for the broker's PUBACKs.
        ``each``: subscribe to each order's status topic first (else the caller follows
        ``provgw/status/+``)."""
        published = []
        for body in orders:
            order_id = str(body.get("order_id", ""))
            self.followed.setdefault(order_id, Followed(order_id)).body = body
            if each:
                await self.follow(status_topic(order_id))
            published.append(self.publish(body))
        await asyncio.gather(*published)

    def publish(self, body: dict[str, Any] | bytes, *, channel: str | None = None) -> Any:
        """Publish one order message; the future of its PUBACK."""
        if isinstance(body, bytes):
            payload, order_id = body, ""
        else:
            payload = json.dumps(body, ensure_ascii=False).encode()
            order_id = str(body.get("order_id", ""))
            channel = channel or str(body.get("channel", ""))
        props = message_properties(
            correlation=order_id.encode(), response_topic=replies_topic(self.endpoint)
        )
        return self.connection.publish(order_topic(channel or ""), payload, properties=props)

    async def wait(
        self, order_ids: Iterable[str], *, resend_after_s: float | None = RESEND_AFTER_S
    ) -> dict[str, Followed]:
        """Wait until each order is terminal or refused. An order this client published that
        has had no answer for ``resend_after_s`` is published again (same order id): the
        broker's PUBACK only says the broker has it, and a broker can lose it (Mosquitto 2.0,
        restarted, drops what arrives for a shared subscription before a member is back)."""
        wanted = [self.followed.setdefault(i, Followed(i)) for i in order_ids]
        waiting = asyncio.gather(*(f.done.wait() for f in wanted))
        while True:
            try:
                async with asyncio.timeout(resend_after_s):
                    await asyncio.shield(waiting)
                return {f.order_id: f for f in wanted}
            except TimeoutError:
                for f in wanted:
                    if f.answer is None and f.body is not None:
                        # Its PUBACK or refusal is of no more use than the first's.
                        self.publish(f.body).add_done_callback(forget)

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        if message.topic.startswith(DEAD_LETTER_PREFIX):
            self.dead_letters.append((bytes(message.payload), user_properties(message)))
            return
        try:
            body = json.loads(message.payload)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        order_id = str(body.get("order_id") or "")
        if message.topic.startswith(REPLIES_PREFIX):
            props = getattr(message, "properties", None)
            correlation = getattr(props, "CorrelationData", b"") or b""
            order_id = order_id or correlation.decode(errors="replace")
            followed = self.followed.setdefault(order_id, Followed(order_id))
            followed.answer = body
        else:
            followed = self.followed.setdefault(order_id, Followed(order_id))
            followed.statuses.append(body)
            if self.on_status is not None:
                self.on_status(message.topic, body)
        if followed.final is not None and (followed.answer is not None or followed.body is None):
            followed.done.set()
