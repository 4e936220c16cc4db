"""The vpcd link against a stand-in vpcd (a plain TCP server in the test): framing, control
codes, the split length/payload writes Debian's vpcd makes, and reconnecting."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest

from emulators.usim.card import UsimCard
from emulators.usim.vpcd import VpcdLink


class FakeVpcd:
    """The server side of the vpcd protocol, driven step by step by the test."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(5)
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.server.accept()
        self.conn.settimeout(5)

    def send(self, payload: bytes, *, split: bool = False) -> None:
        assert self.conn is not None
        header = struct.pack(">H", len(payload))
        if split:  # as vpcd 3.3 does: length and payload in two writes
            self.conn.sendall(header)
            self.conn.sendall(payload)
        else:
            self.conn.sendall(header + payload)

    def receive(self) -> bytes:
        assert self.conn is not None
        (n,) = struct.unpack(">H", self._exactly(2))
        return self._exactly(n)

    def _exactly(self, n: int) -> bytes:
        assert self.conn is not None
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            assert chunk, "link closed"
            data += chunk
        return data

    def drop(self) -> None:
        assert self.conn is not None
        self.conn.close()
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    fake = FakeVpcd()
    yield fake
    fake.close()


@pytest.fixture
def events() -> list[bool]:
    """What the link reported through on_change (True: connected)."""
    return []


@pytest.fixture
def link(vpcd: FakeVpcd, events: list[bool]) -> Iterator[VpcdLink]:
    lnk = VpcdLink(UsimCard.blank(), vpcd.port, on_change=events.append)
    lnk.start()
    vpcd.accept()
    assert lnk.wait_connected(5)
    yield lnk
    lnk.stop()


def test_atr_power_and_apdus(vpcd: FakeVpcd, link: VpcdLink) -> None:
    vpcd.send(b"\x04")
    assert vpcd.receive() == link.card.atr
    vpcd.send(b"\x01")  # power on: no answer expected; next frame answers the APDU
    vpcd.send(bytes.fromhex("00A40004022FE2"), split=True)
    response = vpcd.receive()
    assert response[-2:] == b"\x90\x00" and response[0] == 0x62
    vpcd.send(bytes.fromhex("00B000000A"), split=True)
    assert vpcd.receive() == b"\xff" * 10 + b"\x90\x00"


def test_two_frames_in_one_segment(vpcd: FakeVpcd, link: VpcdLink) -> None:
    assert vpcd.conn is not None
    vpcd.conn.sendall(b"\x00\x01\x04" + b"\x00\x07" + bytes.fromhex("00A4000C023F00"))
    assert vpcd.receive() == link.card.atr
    assert vpcd.receive() == b"\x90\x00"


def test_reset_forgets_verification(vpcd: FakeVpcd, link: VpcdLink) -> None:
    vpcd.send(bytes.fromhex("0020000A083132333435363738"))
    assert vpcd.receive() == b"\x90\x00"
    vpcd.send(b"\x02")
    vpcd.send(bytes.fromhex("0020000A"))
    assert vpcd.receive() == b"\x63\xc3"


def test_reconnects_after_vpcd_drops_the_connection(
    vpcd: FakeVpcd, link: VpcdLink, events: list[bool]
) -> None:
    vpcd.drop()
    vpcd.accept()  # the link comes back by itself
    vpcd.send(b"\x04")
    assert vpcd.receive() == link.card.atr
    assert events == [True, False, True]


def test_stop_pulls_the_card(vpcd: FakeVpcd, link: VpcdLink) -> None:
    link.stop()
    assert not link.connected
    assert vpcd.conn is not None
    assert vpcd.conn.recv(1) == b""  # connection closed: vpcd sees the card gone
