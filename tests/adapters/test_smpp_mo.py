"""Mobile-originated messages into the SMPP client, against the SMSC emulator over TCP: whole
messages to the handler, deliver_sm_resp only once it accepted them, redelivery otherwise;
binary submits; the probe. And the assembler on its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.smpp.client import SmppClient
from adapters.smpp.mo import MoAssembler, MobileOriginated, MoError
from adapters.smpp.pdu import Address, ShortMessage
from emulators.smsc import Faults, SmscEmulator
from emulators.smsc.air import text_submits
from emulators.smsc.outbox import DeliveryPolicy
from simcard.sms_pp import IEI_RESPONSE_PACKET, SmsSubmit, segment
from tests.adapters.test_smpp_client import eventually, settings

ALICE, SERVICE, OTA = "8613800138001", "10086", "10658800"


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(
        port=0,
        admin_port=None,
        faults=Faults(receipt_delay_ms=5),
        service_numbers=(SERVICE, OTA),
        delivery=DeliveryPolicy(first_s=0.02, max_s=0.05, validity_s=30),
    ) as emu:
        yield emu


def send(smsc: SmscEmulator, sms: SmsSubmit) -> None:
    """As if the handset ALICE had sent it (the SMSC's own entry point for MO)."""
    assert isinstance(smsc.core.mobile_originated(ALICE, sms), str)


async def bound(client: SmppClient) -> None:
    await client.wait_bound(5)


async def test_an_mo_text_reaches_the_handler_and_is_answered_only_after_it(
    smsc: SmscEmulator,
) -> None:
    seen: list[MobileOriginated] = []
    release = asyncio.Event()

    async def handler(message: MobileOriginated) -> None:
        seen.append(message)
        await release.wait()

    async with SmppClient(settings(smsc), on_mo=handler) as client:
        await bound(client)
        send(smsc, SmsSubmit.text(SERVICE, "CXXZ#李四#110101199003074578"))
        await eventually(lambda: bool(seen))
        await asyncio.sleep(0.05)
        assert smsc.stats.mo_delivered == 0  # the handler has not returned: no answer yet
        release.set()
        await eventually(lambda: smsc.stats.mo_delivered == 1)
    [message] = seen
    assert (message.source, message.destination, message.parts) == (ALICE, SERVICE, 1)
    assert message.text == "CXXZ#李四#110101199003074578" and not message.udhi
    assert client.stats.mo_messages == 1


async def test_a_handler_that_fails_gets_the_message_again(smsc: SmscEmulator) -> None:
    calls: list[str | None] = []

    async def handler(message: MobileOriginated) -> None:
        calls.append(message.text)
        if len(calls) == 1:
            raise RuntimeError("database away")

    async with SmppClient(settings(smsc), on_mo=handler) as client:
        await bound(client)
        send(smsc, SmsSubmit.text(SERVICE, "SQXZ"))
        await eventually(lambda: smsc.stats.mo_delivered == 1)
    assert calls == ["SQXZ", "SQXZ"] and smsc.stats.mo_sent == 2


async def test_a_gateway_dying_mid_handler_loses_nothing(smsc: SmscEmulator) -> None:
    started = asyncio.Event()

    async def stuck(message: MobileOriginated) -> None:
        started.set()
        await asyncio.Event().wait()  # the gateway dies before it is done

    client = SmppClient(settings(smsc), on_mo=stuck)
    await bound(client)
    send(smsc, SmsSubmit.text(SERVICE, "CXXZ"))
    await asyncio.wait_for(started.wait(), 5)
    await client.close()
    assert smsc.stats.mo_delivered == 0
    received: asyncio.Queue[MobileOriginated] = asyncio.Queue()
    async with SmppClient(settings(smsc), on_mo=received.put) as again:
        await bound(again)
        message = await asyncio.wait_for(received.get(), 5)
        await eventually(lambda: smsc.stats.mo_delivered == 1)
    assert message.text == "CXXZ"


async def test_concatenated_text_and_a_concatenated_por_arrive_whole(smsc: SmscEmulator) -> None:
    received: asyncio.Queue[MobileOriginated] = asyncio.Queue()
    long = "携号转网资格查询，" * 10  # 90 UCS-2 characters: two parts
    async with SmppClient(settings(smsc), on_mo=received.put) as client:
        await bound(client)
        for sms in _text_parts(SERVICE, long):
            send(smsc, sms)
        text = await asyncio.wait_for(received.get(), 5)
        packet = bytes(range(256)) + bytes(40)  # a PoR too long for one SMS
        for user_data in segment(packet, IEI_RESPONSE_PACKET, reference=9):
            send(smsc, SmsSubmit(OTA, user_data, pid=0x7F, dcs=0xF6, udhi=True))
        por = await asyncio.wait_for(received.get(), 5)
        await eventually(lambda: smsc.stats.mo_delivered == 5)
    assert (text.text, text.parts, text.udhi) == (long, 2, False)
    assert (por.parts, por.protocol_id, por.data_coding, por.udhi) == (3, 0x7F, 0xF6, True)
    assert por.header == ((IEI_RESPONSE_PACKET, b""),) and por.text is None
    assert por.user_data == b"\x02\x71\x00" + packet  # the PoR as one message would carry it


async def test_parts_of_a_message_that_never_completes_go_back_to_the_smsc(
    smsc: SmscEmulator,
) -> None:
    received: list[MobileOriginated] = []

    async def handler(message: MobileOriginated) -> None:
        received.append(message)

    [first, _] = _text_parts(SERVICE, "x" * 200)
    async with SmppClient(settings(smsc, mo_reassembly_timeout=0.05), on_mo=handler) as client:
        await bound(client)
        send(smsc, first)
        await eventually(lambda: smsc.stats.mo_sent >= 2)  # handed back, and sent again
    assert received == [] and smsc.stats.mo_delivered == 0


async def test_without_a_handler_mo_are_refused_for_good(smsc: SmscEmulator) -> None:
    async with SmppClient(settings(smsc)) as client:
        await bound(client)
        send(smsc, SmsSubmit.text(SERVICE, "anyone?"))
        await eventually(lambda: smsc.stats.mo_rejected == 1)
    assert client.stats.mo_parts == 1


async def test_binary_submit_keeps_pid_dcs_and_header(smsc: SmscEmulator) -> None:
    parts = segment(bytes(200), 0x70, reference=3)
    async with SmppClient(settings(smsc)) as client:
        result = await client.submit_data(
            ALICE, parts, sender=OTA, reference="ota/1", protocol_id=0x7F, data_coding=0xF6
        )
        for bad, field in [({"parts": []}, "parts"), ({"protocol_id": 256}, "protocol_id")]:
            arguments: dict[str, Any] = {"parts": parts, "protocol_id": 0x7F, **bad}
            with pytest.raises(ValueError, match=field):
                await client.submit_data(
                    ALICE, sender=OTA, reference="r", data_coding=0xF6, **arguments
                )
    assert result.ok and result.segments == 2 and result.data_coding == 0xF6
    stored = smsc.store.parts
    assert [(p.protocol_id, p.esm_class, p.payload) for p in stored] == [
        (0x7F, 0x40, parts[0]),
        (0x7F, 0x40, parts[1]),
    ]
    assert all(not p.receipt for p in stored) and stored[0].source_ton == 0  # a short code


async def test_probe_tells_a_live_smsc_from_a_dead_one() -> None:
    smsc = SmscEmulator(port=0, admin_port=None)
    await smsc.start()
    async with SmppClient(settings(smsc, bind_timeout=0.5, reconnect_backoff=0.05)) as client:
        await client.probe()
        await smsc.stop()
        with pytest.raises((ConnectionError, TimeoutError)):
            await client.probe()


def _text_parts(to: str, text: str) -> list[SmsSubmit]:
    return text_submits(to, text, reference=42)


def short(source: str, payload: bytes, *, udhi: bool = True) -> ShortMessage:
    return ShortMessage(
        Address(1, 1, source), Address(0, 1, SERVICE), payload, esm_class=0x40 if udhi else 0
    )


H = bytes.fromhex


def test_the_assembler_holds_parts_and_lets_go_of_stale_and_lost_ones() -> None:
    joiner: MoAssembler[str] = MoAssembler()
    first = short(ALICE, H("050003070201") + b"he")
    assert joiner.add("a1", first, 0.0).message is None
    again = joiner.add("a1-again", first, 1.0)  # the SMSC sent the same part once more
    assert again.message is None and again.superseded == ("a1",)
    done = joiner.add("a2", short(ALICE, H("050003070202") + b"llo"), 2.0)
    assert done.message is not None and done.tokens == ("a1-again", "a2")
    assert (done.message.user_data, done.message.udhi, done.message.parts) == (b"hello", False, 2)
    joiner.add("b1", short(ALICE, H("050003080201") + b"x"), 10.0)
    joiner.add("b1-other", short("8613800138009", H("050003080201") + b"x"), 10.0)  # not b's
    assert joiner.held() == 2 and joiner.stale(older_than=10.0) == []
    assert sorted(joiner.stale(older_than=10.5)) == ["b1", "b1-other"]
    joiner.add("c1", short(ALICE, H("050003090201") + b"x"), 20.0)
    joiner.forget(lambda token: token.startswith("c"))
    assert joiner.held() == 0
    single = joiner.add("f", short(ALICE, b"plain", udhi=False), 0.0)
    assert single.message is not None and single.message.user_data == b"plain"
    assert single.tokens == ("f",)
    for broken in (H("0a0003"), H("050003070203") + b"x"):  # header too long; part 3 of 2
        with pytest.raises(MoError):
            joiner.add("bad", short(ALICE, broken), 0.0)
