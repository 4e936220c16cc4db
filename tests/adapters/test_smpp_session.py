"""The SMPP client against a scripted SMSC: generic_nack, keep-alive both ways, the SMSC's
unbind, mobile-originated messages, a garbled stream, responses out of order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.smpp.client import SmppClient, SmppSettings
from adapters.smpp.pdu import (
    Address,
    Command,
    Pdu,
    ShortMessage,
    Status,
    frames,
    message_id_body,
)
from gateway.operations import Outcome

Script = Callable[["_Connection", Pdu], None]


class _Connection(asyncio.Protocol):
    def __init__(self, smsc: FakeSmsc) -> None:
        self.smsc = smsc
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.smsc.connections.append(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        for pdu in frames(self.buffer):
            self.smsc.received.append(pdu)
            if pdu.command_id == Command.BIND_TRANSCEIVER:
                self.send(Pdu(Command.BIND_TRANSCEIVER_RESP, 0, pdu.sequence, b"FAKE\0"))
            else:
                self.smsc.script(self, pdu)

    def send(self, pdu: Pdu) -> None:
        assert self.transport is not None
        self.transport.write(pdu.encode())


class FakeSmsc:
    """Binds anyone; every other PDU goes to ``script``; remembers what it received."""

    def __init__(self) -> None:
        self.received: list[Pdu] = []
        self.connections: list[_Connection] = []
        self.script: Script = answer_everything
        self.port = 0
        self._server: asyncio.Server | None = None

    def commands(self, command_id: int) -> list[Pdu]:
        return [pdu for pdu in self.received if pdu.command_id == command_id]

    async def __aenter__(self) -> FakeSmsc:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for connection in self.connections:
            assert connection.transport is not None
            connection.transport.abort()


def answer_everything(connection: _Connection, pdu: Pdu) -> None:
    if pdu.command_id == Command.SUBMIT_SM:
        body = message_id_body(f"m{pdu.sequence}")
        connection.send(Pdu(Command.SUBMIT_SM_RESP, 0, pdu.sequence, body))
    elif not pdu.is_response:
        connection.send(Pdu(pdu.command_id | 0x80000000, 0, pdu.sequence))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSmsc]:
    async with FakeSmsc() as smsc:
        yield smsc


def settings(fake: FakeSmsc, **overrides: Any) -> SmppSettings:
    values: dict[str, Any] = {
        "port": fake.port,
        "system_id": "provgw",
        "password": "secret",
        "reconnect_backoff": 0.01,
        "submit_timeout": 2.0,
    }
    values.update(overrides)
    return SmppSettings(**values)


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - what the fake received; no event to wait on
            await asyncio.sleep(0.005)


async def test_a_generic_nack_to_a_submit_is_a_permanent_refusal(fake: FakeSmsc) -> None:
    def nack(connection: _Connection, pdu: Pdu) -> None:
        if pdu.command_id == Command.SUBMIT_SM:
            connection.send(Pdu(Command.GENERIC_NACK, Status.ESME_RINVCMDID, pdu.sequence))
        else:
            answer_everything(connection, pdu)

    fake.script = nack
    async with SmppClient(settings(fake)) as client:
        result = await client.submit("8613800138000", "hi", sender="provgw", reference="r")
    assert (result.outcome, result.code, result.text) == (
        Outcome.PERMANENT,
        "ESME_RINVCMDID",
        "generic_nack",
    )
    assert len(fake.commands(Command.SUBMIT_SM)) == 1


async def test_enquire_link_goes_out_every_interval(fake: FakeSmsc) -> None:
    async with SmppClient(settings(fake, enquire_link_interval=0.01)) as client:
        await eventually(lambda: len(fake.commands(Command.ENQUIRE_LINK)) >= 3)
        assert client.stats.binds == 1


async def test_an_unanswered_enquire_link_drops_the_bind_and_binds_again(fake: FakeSmsc) -> None:
    fake.script = lambda connection, pdu: None  # answers nothing but binds
    config = settings(fake, enquire_link_interval=0.01, response_timeout=0.05)
    async with SmppClient(config) as client:
        await eventually(lambda: len(fake.commands(Command.BIND_TRANSCEIVER)) >= 2)
        # The fake records a bind before it answers it: the client counts it a moment later.
        await eventually(lambda: client.stats.binds >= 2)


async def test_the_smscs_enquire_link_and_unbind_are_answered(fake: FakeSmsc) -> None:
    async with SmppClient(settings(fake)) as client:
        await client.wait_bound(2)
        first = fake.connections[0]
        first.send(Pdu(Command.ENQUIRE_LINK, 0, 41))
        await eventually(lambda: bool(fake.commands(Command.ENQUIRE_LINK_RESP)))
        first.send(Pdu(Command.UNBIND, 0, 42))
        await eventually(lambda: len(fake.commands(Command.BIND_TRANSCEIVER)) == 2)
        result = await client.submit("8613800138000", "hi", sender="provgw", reference="r")
    assert [p.sequence for p in fake.commands(Command.ENQUIRE_LINK_RESP)] == [41]
    assert [p.sequence for p in fake.commands(Command.UNBIND_RESP)] == [42]
    assert result.ok


async def test_a_mobile_originated_message_is_refused(fake: FakeSmsc) -> None:
    mo = ShortMessage(Address(1, 1, "8613800138000"), Address(0, 1, "10086"), b"STOP")
    async with SmppClient(settings(fake)) as client:
        await client.wait_bound(2)
        fake.connections[0].send(Pdu(Command.DELIVER_SM, 0, 7, mo.encode()))
        await eventually(lambda: bool(fake.commands(Command.DELIVER_SM_RESP)))
    (answer,) = fake.commands(Command.DELIVER_SM_RESP)
    assert (answer.sequence, answer.status) == (7, Status.ESME_RX_P_APPN)
    assert client.stats.receipts == 0


async def test_a_garbled_stream_drops_the_bind(fake: FakeSmsc) -> None:
    async with SmppClient(settings(fake)) as client:
        await client.wait_bound(2)
        transport = fake.connections[0].transport
        assert transport is not None
        transport.write(b"\x00\x00\x00\x03garbage-garbage-")
        await eventually(lambda: len(fake.commands(Command.BIND_TRANSCEIVER)) == 2)
        assert client.stats.binds == 2


async def test_responses_out_of_order_are_matched_by_sequence_number(fake: FakeSmsc) -> None:
    held: list[Pdu] = []

    def reverse(connection: _Connection, pdu: Pdu) -> None:
        if pdu.command_id != Command.SUBMIT_SM:
            return answer_everything(connection, pdu)
        held.append(pdu)
        if len(held) == 3:
            for request in reversed(held):
                text = ShortMessage.decode(request.body).short_message.decode()
                body = message_id_body(f"id-{text}")
                connection.send(Pdu(Command.SUBMIT_SM_RESP, 0, request.sequence, body))
        return None

    fake.script = reverse
    async with SmppClient(settings(fake)) as client:
        results = await asyncio.gather(
            *(client.submit("8613800138000", t, sender="provgw", reference=t) for t in "abc")
        )
    assert [r.message_ids for r in results] == [("id-a",), ("id-b",), ("id-c",)]
