"""Plugging an emulated card into pcscd's virtual reader (vsmartcard's vpcd).

vpcd listens on TCP (slot N on port 35963+N with the stock config) and the card connects to
it: inserting the card is connecting, pulling it is closing the connection. Frames are a
2-byte big-endian length and a payload; a 1-byte payload is a control code (00 power off,
01 power on, 02 reset, 04 "send your ATR"), anything longer is a command APDU answered with
the response APDU.

Latency: Debian 12's vpcd writes the length and the payload in two send() calls with Nagle
on, so the card's kernel would delay its ACK of the first ~40 ms and vpcd would not send the
second until then. The link sets TCP_NODELAY and re-arms TCP_QUICKACK (which Linux clears
again by itself) after every recv: ~0.1 ms per APDU instead of ~44 ms.

Each link runs in its own thread with blocking sockets, so a test or a tool can drive the
reader with blocking pyscard calls from any thread, asyncio or not, without deadlocking the
card behind it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Callable

from emulators.usim.card import UsimCard

VPCD_BASE_PORT = 0x8C7B  # 35963, the CHANNELID of Debian's /etc/reader.conf.d/vpcd
_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0x00, 0x01, 0x02, 0x04
_FIRST_RETRY, _MAX_RETRY = 0.05, 1.0

log = logging.getLogger(__name__)


class VpcdLink:
    """One card in one vpcd slot, reconnecting (with backoff) whenever vpcd goes away.

    `start()` inserts the card, `stop()` pulls it. `on_change(connected: bool)` is called
    from the link's thread whenever the connection to vpcd comes up or goes down.
    """

    def __init__(
        self,
        card: UsimCard,
        port: int = VPCD_BASE_PORT,
        host: str = "127.0.0.1",
        *,
        quickack: bool = True,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._quickack = quickack
        self._on_change = on_change
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("link already started")
        self._thread = threading.Thread(
            target=self._run, name=f"vpcd-{self.host}:{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Pull the card: close the connection and wait for the thread to end."""
        self._stopping.set()
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):  # already disconnected
                    self._sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _run(self) -> None:
        delay = _FIRST_RETRY
        while not self._stopping.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                self._stopping.wait(delay)
                delay = min(delay * 2, _MAX_RETRY)
                continue
            delay = _FIRST_RETRY
            with self._lock:
                self._sock = sock
            if self._stopping.is_set():  # stop() came between connect and registration
                sock.close()
                break
            try:
                self._serve(sock)
            except OSError as exc:
                log.debug("vpcd %s:%d: %s", self.host, self.port, exc)
            finally:
                with self._lock:
                    self._sock = None
                sock.close()
                if self._connected.is_set():
                    self._connected.clear()
                    self._notify(False)

    def _notify(self, connected: bool) -> None:
        if self._on_change is not None:
            self._on_change(connected)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._rearm(sock)
        self._connected.set()
        self._notify(True)
        buf = b""
        while True:
            chunk = sock.recv(65536)
            self._rearm(sock)
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 2:
                (length,) = struct.unpack_from(">H", buf)
                if len(buf) < 2 + length:
                    break
                payload, buf = buf[2 : 2 + length], buf[2 + length :]
                reply = self._answer(payload)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)

    def _rearm(self, sock: socket.socket) -> None:
        if self._quickack:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) != 1:
            return self.card.transmit(payload)
        code = payload[0]
        if code in (_POWER_ON, _RESET):
            self.card.power_on()
        elif code == _GET_ATR:
            return self.card.atr
        elif code != _POWER_OFF:
            log.warning("vpcd %s:%d: unknown control code %02X", self.host, self.port, code)
        return None
