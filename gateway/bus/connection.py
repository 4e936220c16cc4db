"""One MQTT 5 session with the broker, driven by the asyncio event loop.

paho-mqtt 2.x directly, not aiomqtt: aiomqtt 2.x acknowledges a QoS 1 message (PUBACK) as
soon as it enters its queue, before the handler has run, and has no manual acknowledgement
(that comes with aiomqtt 3, not released). paho has ``manual_ack=True``: the gateway sends the
PUBACK itself once the order is durable in the store, or refused. paho's socket callbacks put
its socket on this loop (no network thread, so every paho call happens on the loop thread).

A connection is used once: when it is lost, ``lost`` completes and every publish waiting for
its PUBACK fails with `ConnectionLost`; the caller makes a new one (same client id, so the
broker's session — subscriptions, unacknowledged orders — carries over).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

MISC_INTERVAL_S = 1.0  # paho's housekeeping: keep-alive pings, a silent broker noticed


class ConnectionLost(ConnectionError):
    """The broker connection ended (or never came up); what was not acknowledged is unsent."""


class PublishRefused(Exception):
    """The broker refused a message (MQTT 5 PUBACK reason ≥ 0x80: not authorised by its ACL,
    say)."""

    def __init__(self, topic: str, reason: str) -> None:
        super().__init__(f"the broker refused the message to {topic}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Endpoint:
    """Who connects where: the broker, the credentials, the session to resume."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 0  # 0: the session ends with the connection
    receive_maximum: int = 256
    clean_start: bool = False


MessageHandler = Callable[[mqtt.MQTTMessage], None]


class Connection:
    """Connect with `open`; then `subscribe`, `publish`, `ack`; `close` at the end."""

    def __init__(
        self,
        endpoint: Endpoint,
        on_message: MessageHandler | None = None,
        *,
        manual_ack: bool = False,
    ) -> None:
        """``manual_ack``: messages received are acknowledged only by `ack` (the gateway's
        intake); otherwise paho acknowledges each on arrival (a client following statuses)."""
        self.endpoint = endpoint
        self._loop = asyncio.get_running_loop()
        self.lost: asyncio.Future[str] = self._loop.create_future()
        self._connected: asyncio.Future[bool] = self._loop.create_future()
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._topics: dict[int, str] = {}
        self._quota = 65535
        self._held: deque[tuple[str, bytes, int, Properties | None, asyncio.Future[None]]] = deque()
        self._subscribed: dict[int, asyncio.Future[list[ReasonCode]]] = {}
        self._misc: asyncio.Task[None] | None = None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=endpoint.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
            reconnect_on_failure=False,
        )
        if endpoint.username is not None:
            client.username_pw_set(endpoint.username, endpoint.password)
        # Flow control is ours (`_quota`, from the CONNACK): paho's own limit cannot follow the
        # broker's, and it scans every queued message on each PUBACK.
        client.max_inflight_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        if on_message is not None:
            client.on_message = lambda _c, _u, message: on_message(message)
        self._client = client

    # -- life cycle ----------------------------------------------------------------------

    async def open(self, timeout_s: float = 10.0) -> bool:
        """Connect and wait for the CONNACK; whether the broker still had our session.
        Raises `ConnectionLost` if the broker cannot be reached or refuses us."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.endpoint.session_expiry_s
        props.ReceiveMaximum = self.endpoint.receive_maximum
        clean = self.endpoint.clean_start
        try:
            # A TCP connect to the broker's address: short, so done on the loop.
            self._client.connect(
                self.endpoint.host,
                self.endpoint.port,
                self.endpoint.keepalive_s,
                clean_start=clean,
                properties=props,
            )
        except (OSError, ValueError) as exc:
            self._lose(f"cannot reach the broker at {self.where}: {exc}")
            raise ConnectionLost(self.lost.result()) from None
        self._misc = self._loop.create_task(self._housekeeping(), name="mqtt-misc")
        try:
            async with asyncio.timeout(timeout_s):
                return await asyncio.shield(self._connected)
        except TimeoutError:
            self._lose(f"no CONNACK from {self.where} within {timeout_s:g} s")
            self._client.disconnect()
            raise ConnectionLost(self.lost.result()) from None

    @property
    def where(self) -> str:
        return f"{self.endpoint.host}:{self.endpoint.port}"

    async def close(self) -> None:
        """Disconnect cleanly (the broker keeps the session for its expiry interval)."""
        if not self.lost.done():
            self._client.disconnect()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await asyncio.shield(self.lost)
        self._lose("closed")
        if self._misc is not None:
            self._misc.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._misc

    async def _housekeeping(self) -> None:
        while not self.lost.done():
            await asyncio.sleep(MISC_INTERVAL_S)
            self._client.loop_misc()

    # -- operations ----------------------------------------------------------------------

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe and wait for the SUBACK; raises if the broker refuses the filter."""
        rc, mid = self._client.subscribe(topic, qos)
        if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise ConnectionLost(f"cannot subscribe to {topic}: {mqtt.error_string(rc)}")
        fut: asyncio.Future[list[ReasonCode]] = self._loop.create_future()
        self._subscribed[mid] = fut
        codes = await self._until_lost(fut)
        if any(code.is_failure for code in codes):
            raise PublishRefused(topic, ", ".join(str(c) for c in codes))

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        properties: Properties | None = None,
    ) -> asyncio.Future[None]:
        """Send a message; the future completes on the broker's PUBACK (at once for QoS 0)
        and fails with `ConnectionLost` or `PublishRefused`. Messages go out in call order."""
        fut: asyncio.Future[None] = self._loop.create_future()
        if self.lost.done():
            fut.set_exception(ConnectionLost(self.lost.result()))
        elif qos > 0 and (self._held or len(self._acks) >= self._quota):
            self._held.append((topic, payload, qos, properties, fut))  # sent on a PUBACK
        else:
            self._send(topic, payload, qos, properties, fut)
        return fut

    def _send(
        self,
        topic: str,
        payload: bytes,
        qos: int,
        properties: Properties | None,
        fut: asyncio.Future[None],
    ) -> None:
        info = self._client.publish(topic, payload, qos=qos, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            fut.set_exception(ConnectionLost(f"not sent: {mqtt.error_string(info.rc)}"))
        elif qos == 0:
            fut.set_result(None)
        else:
            self._acks[info.mid] = fut
            self._topics[info.mid] = topic

    def ack(self, message: mqtt.MQTTMessage) -> None:
        """Acknowledge a received message (PUBACK): the broker forgets it."""
        if message.qos > 0 and not self.lost.done():
            self._client.ack(message.mid, message.qos)

    async def _until_lost(self, fut: asyncio.Future[Any]) -> Any:
        done, _ = await asyncio.wait({fut, self.lost}, return_when=asyncio.FIRST_COMPLETED)
        if fut in done:
            return fut.result()
        fut.cancel()
        raise ConnectionLost(self.lost.result())

    # -- paho's callbacks (all on the loop thread) ---------------------------------------

    def _lose(self, why: str) -> None:
        if not self.lost.done():
            self.lost.set_result(why)
        if not self._connected.done():
            self._connected.set_exception(ConnectionLost(why))
            self._connected.exception()  # retrieved: `open` may not be waiting any more
        acks, self._acks = self._acks, {}
        held = [entry[-1] for entry in self._held]
        self._held.clear()
        for fut in [*acks.values(), *held]:
            if not fut.done():
                fut.set_exception(ConnectionLost(why))

    def _on_connect(
        self, client: mqtt.Client, _u: Any, flags: mqtt.ConnectFlags, rc: ReasonCode, props: Any
    ) -> None:
        # As many QoS 1 messages in flight as the broker takes: its Receive Maximum (none
        # announced: 65,535, MQTT 5 §3.2.2.3.3).
        self._quota = int(getattr(props, "ReceiveMaximum", None) or 65535)
        if rc.is_failure:
            self._lose(f"the broker at {self.where} refused the connection: {rc}")
        elif not self._connected.done():
            self._connected.set_result(flags.session_present)

    def _on_disconnect(
        self, _c: mqtt.Client, _u: Any, _f: mqtt.DisconnectFlags, rc: ReasonCode, _p: Any
    ) -> None:
        self._lose(f"disconnected from {self.where}: {rc}")

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, rc: ReasonCode, _p: Any) -> None:
        fut = self._acks.pop(mid, None)
        topic = self._topics.pop(mid, "")
        if self._held and len(self._acks) < self._quota:
            self._send(*self._held.popleft())
        if fut is None or fut.done():
            return
        if rc.is_failure:
            fut.set_exception(PublishRefused(topic, str(rc)))
        else:
            fut.set_result(None)

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, codes: list[ReasonCode], _p: Any
    ) -> None:
        fut = self._subscribed.pop(mid, None)
        if fut is not None and not fut.done():
            fut.set_result(codes)

    def _on_socket_open(self, client: mqtt.Client, _u: Any, sock: Any) -> None:
        # paho leaves Nagle's algorithm on: each small message would wait for the broker's
        # delayed ACK (40 ms here) before going out.
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._loop.add_reader(sock, client.loop_read)

    def _on_socket_close(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        self._loop.remove_reader(sock)
        self._loop.remove_writer(sock)
        self._lose(f"connection to {self.where} closed")

    def _on_register_write(self, client: mqtt.Client, _u: Any, sock: Any) -> None:
        self._loop.add_writer(sock, client.loop_write)

    def _on_unregister_write(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        self._loop.remove_writer(sock)


def user_properties(message: mqtt.MQTTMessage) -> dict[str, str]:
    props = getattr(message, "properties", None)
    return dict(getattr(props, "UserProperty", None) or [])


def response_of(message: mqtt.MQTTMessage) -> tuple[str | None, bytes | None]:
    """The MQTT 5 request/response fields of a message: its response topic and correlation
    data (both None when the sender wants no answer)."""
    props = getattr(message, "properties", None)
    return getattr(props, "ResponseTopic", None), getattr(props, "CorrelationData", None)


def message_properties(
    *,
    correlation: bytes | None = None,
    response_topic: str | None = None,
    user: dict[str, str] | None = None,
) -> Properties | None:
    """PUBLISH properties, or None when there are none."""
    if correlation is None and response_topic is None and not user:
        return None
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if correlation is not None:
        props.CorrelationData = correlation
    if response_topic is not None:
        props.ResponseTopic = response_topic
    if user:
        props.UserProperty = list(user.items())
    return props


def forget(fut: asyncio.Future[None]) -> None:
    """Done callback of a publish whose outcome nobody waits for (retrieves its error)."""
    if not fut.cancelled():
        fut.exception()
