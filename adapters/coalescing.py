"""TCP connections for asyncssh whose writes are coalesced per event-loop turn.

asyncssh sends an empty SSH_MSG_IGNORE packet before every data packet, and hands each packet
to the transport separately: two `send()` system calls per MML command. On the machines
provgw runs on a system call costs tens of microseconds, more than the whole MML codec. This
transport gathers what is written during one turn of the event loop and sends it with one
call, like TCP_CORK without its 200 ms timer. Nothing is delayed beyond the current turn.

It plugs in through asyncssh's ``tunnel`` argument: any object with a ``create_connection``
coroutine may carry the SSH connection; this one carries it over a plain TCP connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class _CoalescingTransport(asyncio.Transport):
    """Wraps a real transport; `write` buffers until the end of the loop turn."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(inner.get_extra_info("extra", None))
        self._inner = inner
        self._loop = loop
        self._chunks: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._chunks.append(bytes(data))
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if self._chunks and not self._inner.is_closing():
            data = b"".join(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
            self._inner.write(data)
        self._chunks.clear()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        self._flush()
        self._inner.close()

    def abort(self) -> None:
        self._chunks.clear()
        self._inner.abort()

    def write_eof(self) -> None:
        self._flush()
        self._inner.write_eof()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + sum(len(c) for c in self._chunks)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()


class _Relay(asyncio.Protocol):
    """The protocol the event loop sees; it hands asyncssh the coalescing transport."""

    def __init__(self, target: asyncio.Protocol) -> None:
        self.target = target
        self.transport: _CoalescingTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = _CoalescingTransport(transport, asyncio.get_running_loop())
        self.target.connection_made(self.transport)

    def data_received(self, data: bytes) -> None:
        self.target.data_received(data)

    def eof_received(self) -> bool | None:
        return self.target.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.target.connection_lost(exc)

    def pause_writing(self) -> None:
        self.target.pause_writing()

    def resume_writing(self) -> None:
        self.target.resume_writing()


class CoalescingTcp:
    """Pass as ``asyncssh.connect(…, tunnel=CoalescingTcp())``."""

    async def create_connection(
        self, session_factory: Callable[[], Any], host: str, port: int
    ) -> tuple[asyncio.Transport, Any]:
        loop = asyncio.get_running_loop()
        _, relay = await loop.create_connection(lambda: _Relay(session_factory()), host, port)
        assert relay.transport is not None
        return relay.transport, relay.target
