"""The Osmocom CTRL protocol: commands, answers, and a pipelining asyncio client.

CTRL is ASCII over IPA (`adapters.osmo_hlr.ipa`, proto 0xEE, extension 0x00): ``SET <id> <var>
<value>`` and ``GET <id> <var>``, answered by ``SET_REPLY``/``GET_REPLY <id> <var> <value>`` or
``ERROR <id> <reason>``; no handshake. Answers carry the request id, so one connection carries
many requests at once — the client writes a batch in one go and matches the answers by id, and
an answer that comes after its request timed out is dropped rather than given to another.

Nothing here knows osmo-hlr; `adapters.osmo_hlr.mapping` says what to send.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from adapters.osmo_hlr import ipa
from adapters.transport_failures import Garbled, LostAfterSending, NoAnswer, NotSent

log = logging.getLogger(__name__)

MASK = "****"
# Keys are 32 hex digits; IMSIs and numbers never exceed 15 digits, LMSIs are 8 hex digits. Any
# run of 16 or more hex digits in CTRL text is therefore key material.
_KEY_MATERIAL = re.compile(r"[0-9A-Fa-f]{16,}")


def mask(text: str) -> str:
    """``text`` with key material replaced by ``****`` (applied to everything that leaves)."""
    return _KEY_MATERIAL.sub(MASK, text)


@dataclass(frozen=True, slots=True)
class Command:
    """One CTRL command; ``shown_value`` is the value as logs and plans show it (keys masked)."""

    verb: Literal["GET", "SET"]
    var: str
    value: str = field(default="", repr=False)  # may hold keys
    shown_value: str | None = None

    def wire(self, request_id: int) -> bytes:
        text = f"{self.verb} {request_id} {self.var}"
        return ipa.ctrl(f"{text} {self.value}" if self.verb == "SET" else text)

    def shown(self) -> str:
        if self.verb == "GET":
            return f"GET {self.var}"
        value = self.value if self.shown_value is None else self.shown_value
        return f"SET {self.var} {value}"


class CtrlReply(NamedTuple):
    """One CTRL answer. ``kind`` is GET_REPLY, SET_REPLY, ERROR or TRAP; for ERROR, ``var`` is
    empty and ``value`` holds the reason."""

    kind: str
    id: str
    var: str
    value: str

    def text(self) -> str:
        """The answer as it came (without the id), keys masked."""
        if self.kind == "ERROR":
            return f"ERROR {self.value}"
        return mask(f"{self.kind} {self.var} {self.value}")


def parse_reply(text: str) -> CtrlReply | None:
    """A CTRL answer taken apart; None when it is not one (the caller logs and drops it)."""
    kind, _, rest = text.partition(" ")
    if kind == "ERROR":
        request_id, _, reason = rest.partition(" ")
        return CtrlReply(kind, request_id, "", reason)
    if kind in ("GET_REPLY", "SET_REPLY", "TRAP"):
        request_id, _, rest = rest.partition(" ")
        var, _, value = rest.partition(" ")
        if request_id and var:
            return CtrlReply(kind, request_id, var, value)
    return None


class _Link(asyncio.Protocol):
    """One TCP connection to CTRL: frames in, answers handed to the futures waiting for them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.transport: asyncio.Transport | None = None
        self.pending: dict[str, asyncio.Future[CtrlReply]] = {}
        self.lost = False
        self._decoder = ipa.Decoder()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            frames = self._decoder.feed(data)
        except ipa.FramingError as exc:
            log.warning("%s: IPA framing lost (%s); dropping the connection", self.name, exc)
            self.abort()
            return
        for frame in frames:
            if frame.proto == ipa.Proto.OSMO and frame.ext == ipa.Ext.CTRL:
                self._answer(frame.payload.decode("ascii", "replace"))
            elif ipa.ccm_type(frame) == ipa.Ccm.PING:
                self.write(ipa.ccm(ipa.Ccm.PONG))

    def _answer(self, text: str) -> None:
        reply = parse_reply(text)
        if reply is None:
            log.warning("%s: not a CTRL answer: %r", self.name, mask(text)[:200])
            return
        waiter = self.pending.pop(reply.id, None)
        if waiter is None:
            if reply.kind != "TRAP":
                log.info("%s: answer to no pending request: %s", self.name, reply.text()[:200])
            return
        if not waiter.done():
            waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if exc is not None:
            log.warning("%s: CTRL connection lost: %s", self.name, exc)
        pending, self.pending = self.pending, {}
        for waiter in pending.values():
            if not waiter.done():
                waiter.set_exception(LostAfterSending(f"connection closed: {exc or 'by the peer'}"))

    def write(self, data: bytes) -> None:
        if self.transport is None or self.lost or self.transport.is_closing():
            raise NotSent("connection closed")
        self.transport.write(data)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _expire(link: _Link, waiters: dict[str, asyncio.Future[CtrlReply]]) -> None:
    for request_id, waiter in waiters.items():
        link.pending.pop(request_id, None)  # a late answer is dropped, never misattributed
        if not waiter.done():
            waiter.set_exception(NoAnswer("no answer in time"))


def _settle(link: _Link, waiters: dict[str, asyncio.Future[CtrlReply]]) -> None:
    """After a batch ended, early or not: forget what is still pending and mark the failures
    of the others as seen (only the first one is raised)."""
    for request_id, waiter in waiters.items():
        if not waiter.done():
            link.pending.pop(request_id, None)
            waiter.cancel()
        elif not waiter.cancelled():
            waiter.exception()


class CtrlClient:
    """A pipelining CTRL client: one connection, re-established with backoff when lost.

    `exchange` sends a batch of commands in one write and returns their answers in order;
    concurrent callers share the connection, their answers matched by request id.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        name: str = "ctrl",
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        depth: int = 256,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.name = name
        self.timeout = timeout
        self._connect_timeout = connect_timeout
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._slots = asyncio.Semaphore(depth)
        self._link: _Link | None = None
        self._connecting = asyncio.Lock()
        self._failures = 0
        self._retry_at = 0.0
        self._next_id = 0
        self._closed = False

    async def exchange(self, commands: Sequence[Command]) -> list[CtrlReply]:
        """Send ``commands`` together and return their answers in order.

        Raises `NotSent` (nothing went out), `LostAfterSending` or `NoAnswer` (some may have
        run), `Garbled` (an answer about another variable); all from `adapters.transport_failures`.
        """
        async with self._slots:
            if self._closed:
                raise NotSent("client is closed")
            link = await self._connected()
            loop = asyncio.get_running_loop()
            waiters: dict[str, asyncio.Future[CtrlReply]] = {}
            wire = bytearray()
            for command in commands:
                self._next_id = self._next_id % 2_000_000_000 + 1
                request_id = str(self._next_id)
                waiters[request_id] = loop.create_future()
                wire += command.wire(self._next_id)
            link.write(bytes(wire))
            link.pending.update(waiters)
            timer = loop.call_later(self.timeout, _expire, link, waiters)
            try:
                replies = [await waiter for waiter in waiters.values()]
            finally:
                timer.cancel()
                _settle(link, waiters)
        for command, reply in zip(commands, replies, strict=True):
            if reply.kind != "ERROR" and reply.var != command.var:
                raise Garbled(f"answer about {reply.var} to a command about {command.var}")
        return replies

    async def _connected(self) -> _Link:
        link = self._link
        if link is not None and not link.lost:
            return link
        async with self._connecting:
            link = self._link
            if link is not None and not link.lost:
                return link
            now = time.monotonic()
            if now < self._retry_at:
                raise NotSent(
                    f"{self.name} unavailable; next attempt in {self._retry_at - now:.1f}s"
                )
            loop = asyncio.get_running_loop()
            try:
                _, fresh = await asyncio.wait_for(
                    loop.create_connection(lambda: _Link(self.name), self.host, self.port),
                    self._connect_timeout,
                )
            except (OSError, TimeoutError) as exc:
                self._failures += 1
                wait = min(self._backoff * 2 ** (self._failures - 1), self._backoff_max)
                self._retry_at = time.monotonic() + wait
                reason = str(exc) or "timed out"
                log.warning(
                    "%s: cannot connect to CTRL %s:%d (attempt %d): %s",
                    self.name,
                    self.host,
                    self.port,
                    self._failures,
                    reason,
                )
                raise NotSent(f"cannot connect to {self.host}:{self.port}: {reason}") from None
            self._failures = 0
            self._link = fresh
            log.info("%s: connected to CTRL %s:%d", self.name, self.host, self.port)
            return fresh

    async def close(self) -> None:
        """Close the connection; commands still waiting see it as lost."""
        self._closed = True
        link, self._link = self._link, None
        if link is not None and link.transport is not None:
            link.transport.close()
