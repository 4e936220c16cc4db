"""The emulator's SMPP server byte by byte: binds, submits, receipts, errors, faults."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest

from emulators.smsc import Faults, SmscEmulator

BIND_TRANSMITTER, BIND_RECEIVER, BIND_TRANSCEIVER = 0x02, 0x01, 0x09
SUBMIT_SM, DELIVER_SM, UNBIND, ENQUIRE_LINK = 0x04, 0x05, 0x06, 0x15
RESP, GENERIC_NACK = 0x80000000, 0x80000000
TO = "8613800138000"


def bind_body(system_id: str = "provgw", password: str = "provgw") -> bytes:  # noqa: S107
    return system_id.encode() + b"\0" + password.encode() + b"\0" + b"\0" + b"\x34\x00\x00\0"


def submit_body(
    message: bytes,
    *,
    to: str = TO,
    esm_class: int = 0,
    coding: int = 0,
    receipt: int = 1,
    tlvs: bytes = b"",
) -> bytes:
    return (
        b"\0"  # service_type
        + b"\x05\x00provgw\0"
        + b"\x01\x01" + to.encode() + b"\0"
        + bytes((esm_class, 0, 0))
        + b"\0\0"  # schedule_delivery_time, validity_period
        + bytes((receipt, 0, coding, 0, len(message)))
        + message
        + tlvs
    )  # fmt: skip


class Esme:
    """A bare SMPP peer: writes PDUs, reads them back as (command, status, sequence, body)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Esme:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    def send(self, command: int, sequence: int, body: bytes = b"", status: int = 0) -> None:
        self.writer.write(struct.pack(">IIII", 16 + len(body), command, status, sequence) + body)

    async def read(self) -> tuple[int, int, int, bytes]:
        header = await asyncio.wait_for(self.reader.readexactly(16), 5)
        length, command, status, sequence = struct.unpack(">IIII", header)
        return command, status, sequence, await self.reader.readexactly(length - 16)

    async def ask(
        self, command: int, sequence: int, body: bytes = b""
    ) -> tuple[int, int, int, bytes]:
        self.send(command, sequence, body)
        return await self.read()

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 5) == b""

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=None, faults=Faults(receipt_delay_ms=1)) as emu:
        yield emu


@pytest.fixture
async def esme(smsc: SmscEmulator) -> AsyncIterator[Esme]:
    peer = await Esme.open(smsc.port)
    yield peer
    await peer.close()


async def bound(smsc: SmscEmulator, command: int = BIND_TRANSCEIVER) -> Esme:
    peer = await Esme.open(smsc.port)
    assert (await peer.ask(command, 1, bind_body()))[1] == 0
    return peer


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [("provgw", "wrong", 0x0E), ("nobody", "provgw", 0x0F)],
)
async def test_bind_refusals(esme: Esme, system_id: str, password: str, status: int) -> None:
    assert await esme.ask(BIND_TRANSCEIVER, 1, bind_body(system_id, password)) == (
        BIND_TRANSCEIVER | RESP,
        status,
        1,
        b"",  # no body with an error status (SMPP 3.4, 4.1.2)
    )


async def test_bind_answers_with_system_id_and_interface_version(esme: Esme) -> None:
    answer = await esme.ask(BIND_TRANSCEIVER, 7, bind_body())
    assert answer == (BIND_TRANSCEIVER | RESP, 0, 7, b"SMSC\0" + bytes.fromhex("0210000134"))
    assert (await esme.ask(BIND_TRANSCEIVER, 8, bind_body()))[1] == 0x05  # ESME_RALYBND


async def test_submit_needs_a_transmitting_bind(smsc: SmscEmulator, esme: Esme) -> None:
    assert (await esme.ask(SUBMIT_SM, 2, submit_body(b"hi")))[:3] == (SUBMIT_SM | RESP, 0x04, 2)
    receiver = await bound(smsc, BIND_RECEIVER)
    assert (await receiver.ask(SUBMIT_SM, 2, submit_body(b"hi")))[1] == 0x04
    await receiver.close()
    assert smsc.messages() == []


async def test_submit_then_receipt_as_deliver_sm(smsc: SmscEmulator) -> None:
    peer = await bound(smsc)
    command, status, sequence, body = await peer.ask(SUBMIT_SM, 5, submit_body(b"Hello"))
    assert (command, status, sequence) == (SUBMIT_SM | RESP, 0, 5)
    message_id = body.rstrip(b"\0").decode()
    command, status, sequence, receipt = await peer.read()
    assert (command, status) == (DELIVER_SM, 0)
    assert receipt[receipt.index(b"\x04") : receipt.index(b"\x04") + 1] == b"\x04"  # esm_class
    text = receipt[receipt.index(b"id:") :]
    assert text.startswith(f"id:{message_id} sub:001 dlvrd:001 submit date:".encode())
    assert b" stat:DELIVRD err:000 text:Hello" in text
    assert b"\x00\x1e" + bytes((0, len(message_id) + 1)) + message_id.encode() + b"\0" in receipt
    peer.send(DELIVER_SM | RESP, sequence, b"\0")
    await peer.ask(ENQUIRE_LINK, 6)  # the deliver_sm_resp has been read by now
    assert smsc.stats.receipts_acknowledged == 1
    await peer.close()


async def test_receipts_go_to_the_accounts_receiver_bind(smsc: SmscEmulator) -> None:
    transmitter = await bound(smsc, BIND_TRANSMITTER)
    receiver = await bound(smsc, BIND_RECEIVER)
    await transmitter.ask(SUBMIT_SM, 2, submit_body(b"one"))
    assert (await transmitter.ask(SUBMIT_SM, 3, submit_body(b"none", receipt=0)))[1] == 0
    command, _, _, body = await receiver.read()
    assert command == DELIVER_SM and b"text:one" in body
    assert (await transmitter.ask(ENQUIRE_LINK, 4))[0] == ENQUIRE_LINK | RESP
    assert smsc.stats.receipts_sent == 1  # none asked for the second
    await transmitter.close()
    await receiver.close()


async def test_garbage_gets_generic_nack_and_the_connection_closed(esme: Esme) -> None:
    esme.writer.write(struct.pack(">IIII", 3, 0, 0, 9))
    assert await esme.read() == (GENERIC_NACK, 0x02, 9, b"")  # ESME_RINVCMDLEN
    assert await esme.closed()


async def test_an_unknown_command_gets_generic_nack_and_the_bind_goes_on(esme: Esme) -> None:
    assert await esme.ask(0x00000099, 4) == (GENERIC_NACK, 0x03, 4, b"")  # ESME_RINVCMDID
    assert await esme.ask(ENQUIRE_LINK, 5) == (ENQUIRE_LINK | RESP, 0, 5, b"")


async def test_unbind_is_answered_then_the_connection_closed(smsc: SmscEmulator) -> None:
    peer = await bound(smsc)
    assert await peer.ask(UNBIND, 3) == (UNBIND | RESP, 0, 3, b"")
    assert await peer.closed()


@pytest.mark.parametrize(
    ("message", "esm_class", "coding"),
    [
        (b"a" * 161, 0, 0),  # 161 GSM characters in one part
        (bytes.fromhex("050003010201") + b"a" * 154, 0x40, 0),  # 154 after a header
        (bytes.fromhex("050003010201") + b"\x4f" * 136, 0x40, 8),  # 68 UCS-2 after a header
        (bytes.fromhex("090003"), 0x40, 0),  # header longer than the message
        (b"\x4f", 0, 8),  # half a UCS-2 character
    ],
)
async def test_parts_that_do_not_fit_or_read_are_refused(
    smsc: SmscEmulator, message: bytes, esm_class: int, coding: int
) -> None:
    peer = await bound(smsc)
    body = submit_body(message, esm_class=esm_class, coding=coding)
    assert (await peer.ask(SUBMIT_SM, 2, body))[1] == 0x01  # ESME_RINVMSGLEN
    await peer.close()
    assert smsc.messages() == []


async def test_a_barred_destination_is_refused_with_the_configured_status() -> None:
    async with SmscEmulator(
        port=0, admin_port=None, barred=["+" + TO], barred_status=0x401
    ) as smsc:
        peer = await bound(smsc)
        assert (await peer.ask(SUBMIT_SM, 2, submit_body(b"hi")))[1] == 0x401
        other = submit_body(b"hi", to="8613900139000")
        assert (await peer.ask(SUBMIT_SM, 3, other))[1] == 0
        await peer.close()
        assert [m.destination for m in smsc.messages()] == ["8613900139000"]


async def test_an_idempotency_key_seen_before_gets_the_first_message_id(smsc: SmscEmulator) -> None:
    peer = await bound(smsc)
    key = b"\x14\x00\x00\x09order-7#1"
    first = await peer.ask(SUBMIT_SM, 2, submit_body(b"hi", tlvs=key, receipt=0))
    again = await peer.ask(SUBMIT_SM, 3, submit_body(b"hi", tlvs=key, receipt=0))
    other = await peer.ask(SUBMIT_SM, 4, submit_body(b"hi", receipt=0))
    await peer.close()
    assert first[3] == again[3] != other[3]
    assert len(smsc.messages()) == 2 and smsc.stats.duplicates == 1


async def test_refusal_and_dropped_bind_faults(smsc: SmscEmulator) -> None:
    smsc.faults.update(refuse_rate=1.0, refuse_status=0x14)
    peer = await bound(smsc)
    assert (await peer.ask(SUBMIT_SM, 2, submit_body(b"hi")))[1] == 0x14
    smsc.faults.update(refuse_rate=0.0, drop_rate=1.0, drop_stage="received")
    peer.send(SUBMIT_SM, 3, submit_body(b"hi"))
    assert await peer.closed()
    assert smsc.messages() == [] and smsc.stats.drops == 1
    smsc.faults.update(drop_stage="stored")
    peer = await bound(smsc)
    peer.send(SUBMIT_SM, 4, submit_body(b"kept"))
    assert await peer.closed()
    assert [m.text for m in smsc.messages()] == ["kept"]


async def test_slow_responses_may_come_back_out_of_order(smsc: SmscEmulator) -> None:
    peer = await bound(smsc)
    smsc.faults.update(latency_ms=200)
    peer.send(SUBMIT_SM, 2, submit_body(b"slow", receipt=0))
    assert (await peer.ask(ENQUIRE_LINK, 3))[2] == 3  # not delayed; the submit is in
    smsc.faults.update(latency_ms=0)
    peer.send(SUBMIT_SM, 4, submit_body(b"fast", receipt=0))
    assert [(await peer.read())[2] for _ in range(2)] == [4, 2]
    assert smsc.stats.max_outstanding == 2
    await peer.close()


def test_fault_settings_are_checked_all_or_nothing() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match=r"^drop_rate:"):
        faults.update(refuse_rate=0.5, drop_rate=2)
    with pytest.raises(ValueError, match=r"^drop_stage:"):
        faults.update(drop_stage="later")
    with pytest.raises(ValueError, match=r"^bogus:"):
        faults.update(bogus=1)
    assert faults.refuse_rate == 0.0
    faults.update(refuse_rate=0.5, receipt_delay_ms=10)
    faults.clear()
    assert (faults.refuse_rate, faults.receipt_delay_ms) == (0.0, 10)


def test_bad_accounts_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^accounts:"):
        SmscEmulator(accounts={"provgw": "longer-than-8"})
