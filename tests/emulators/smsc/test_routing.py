"""Routing through the SMSC emulator: MT to attached handsets, MO to the ESME as deliver_sm
(window, retries, rejection, expiry), MO between handsets, the link's rules, POST /mo.

deliver_sm bodies are read with the gateway's own codec (`adapters.smpp.pdu`), which is
independent of the emulator's: each side checks the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from adapters.smpp.pdu import ShortMessage
from emulators.smsc import Faults, SmscEmulator
from emulators.smsc.outbox import DeliveryPolicy
from simcard.sms_pp import SmsSubmit, UserData

from .phone import Phone
from .test_server import DELIVER_SM, ENQUIRE_LINK, RESP, SUBMIT_SM, Esme, bound, submit_body

ALICE, BOB = "8613800138001", "8613800138002"
SERVICE, OTA = "10086", "10658800"
FAST = DeliveryPolicy(first_s=0.01, max_s=0.04, validity_s=60)


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(
        port=0,
        admin_port=0,
        faults=Faults(receipt_delay_ms=1),
        service_numbers=(SERVICE, OTA),
        delivery=FAST,
        deliver_window=3,
    ) as emu:
        yield emu


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def deliver_sm(esme: Esme) -> tuple[int, ShortMessage]:
    command, status, sequence, body = await esme.read()
    assert (command, status) == (DELIVER_SM, 0)
    return sequence, ShortMessage.decode(body)


def answer(esme: Esme, sequence: int, status: int = 0) -> None:
    esme.send(DELIVER_SM | RESP, sequence, b"\0", status=status)


async def test_mt_to_an_attached_handset_is_delivered_and_its_report_is_the_receipt(
    smsc: SmscEmulator,
) -> None:
    phone = await Phone.attach(smsc.handset_port, ALICE)
    esme = await bound(smsc)
    command, status, _, _ = await esme.ask(SUBMIT_SM, 2, submit_body(b"Hello", to=ALICE))
    assert (command, status) == (SUBMIT_SM | RESP, 0)
    sms = await phone.receive()
    # as on the air: the ESME's alphanumeric sender, GSM text packed (5 septets in 5 octets)
    assert (sms.originator, sms.pid, sms.dcs, sms.text_septets) == ("provgw", 0, 0, 5)
    assert sms.decoded_text() == "Hello" and len(sms.user_data) == 5
    _, receipt = await deliver_sm(esme)
    assert receipt.esm_class == 0x04 and b"stat:DELIVRD" in receipt.short_message
    assert smsc.stats.handset_delivered == 1
    await phone.close()
    await esme.close()


async def test_a_handset_refusing_makes_the_receipt_undeliverable(smsc: SmscEmulator) -> None:
    phone = await Phone.attach(smsc.handset_port, ALICE)
    esme = await bound(smsc)
    await esme.ask(SUBMIT_SM, 2, submit_body("你好".encode("utf-16-be"), to=ALICE, coding=8))
    sms = await phone.receive(ok=False, cause=22)
    assert (sms.dcs, sms.decoded_text()) == (0x08, "你好")
    _, receipt = await deliver_sm(esme)
    assert b"stat:UNDELIV" in receipt.short_message
    assert receipt.tlvs[0x0427] == b"\x05"  # message_state UNDELIVERABLE
    await phone.close()
    await esme.close()


async def test_messages_wait_for_a_handset_that_went_away(smsc: SmscEmulator) -> None:
    phone = await Phone.attach(smsc.handset_port, ALICE)
    await phone.close()
    await eventually(lambda: not smsc.core.handsets.links)
    esme = await bound(smsc)
    await esme.ask(SUBMIT_SM, 2, submit_body(b"while away", to=ALICE, receipt=0))
    assert smsc.status()["handset_waiting"] == 1
    again = await Phone.attach(smsc.handset_port, ALICE)
    assert (await again.receive()).decoded_text() == "while away"
    await eventually(lambda: smsc.stats.handset_delivered == 1)
    assert smsc.messages(ALICE)[0].parts[0].state == "DELIVRD"
    await again.close()
    await esme.close()


async def test_concatenated_mt_keeps_its_header_and_packs_after_the_fill_bits(
    smsc: SmscEmulator,
) -> None:
    phone = await Phone.attach(smsc.handset_port, ALICE)
    esme = await bound(smsc)
    header = bytes.fromhex("050003aa0201")
    await esme.ask(SUBMIT_SM, 2, submit_body(header + b"A" * 153, to=ALICE, esm_class=0x40))
    sms = await phone.receive()
    assert sms.udhi and sms.user_data[:6] == header and sms.text_septets == 153
    assert len(sms.user_data) == 140 and sms.decoded_text() == "A" * 153
    await phone.close()
    await esme.close()


async def test_mo_to_a_service_number_reaches_the_esme_as_deliver_sm(smsc: SmscEmulator) -> None:
    esme = await bound(smsc)
    phone = await Phone.attach(smsc.handset_port, ALICE)
    report = await phone.submit(SmsSubmit.text(SERVICE, "CXXZ#张三#110101199003074578"))
    assert report["ok"] is True and report["message_id"]
    sequence, mo = await deliver_sm(esme)
    assert (mo.source.addr, mo.source.ton, mo.destination.addr) == (ALICE, 1, SERVICE)
    assert (mo.esm_class, mo.protocol_id, mo.data_coding) == (0x00, 0, 0x08)
    assert mo.short_message.decode("utf-16-be") == "CXXZ#张三#110101199003074578"
    answer(esme, sequence)
    await eventually(lambda: smsc.stats.mo_delivered == 1)
    (stored,) = smsc.messages(SERVICE)
    assert (stored.origin, stored.parts[0].state, stored.source) == ("mobile", "DELIVRD", ALICE)
    await phone.close()
    await esme.close()


async def test_binary_mo_keeps_pid_dcs_and_header_and_gsm_text_is_unpacked(
    smsc: SmscEmulator,
) -> None:
    esme = await bound(smsc)
    phone = await Phone.attach(smsc.handset_port, ALICE)
    por = UserData(((0x71, b""),), bytes(range(20))).encode()
    await phone.submit(SmsSubmit(f"+{OTA}"[1:], por, pid=0x7F, dcs=0xF6, udhi=True))
    sequence, mo = await deliver_sm(esme)
    assert (mo.esm_class, mo.protocol_id, mo.data_coding) == (0x40, 0x7F, 0xF6)
    assert mo.short_message == por and mo.destination.addr == OTA
    answer(esme, sequence)
    await phone.submit(SmsSubmit.text(SERVICE, "BAL"))
    sequence, mo = await deliver_sm(esme)
    assert (mo.data_coding, mo.short_message) == (0x00, bytes([0x42, 0x41, 0x4C]))  # unpacked
    answer(esme, sequence)
    await phone.close()
    await esme.close()


async def test_mo_to_another_handset_is_delivered_to_it(smsc: SmscEmulator) -> None:
    alice = await Phone.attach(smsc.handset_port, ALICE)
    bob = await Phone.attach(smsc.handset_port, BOB)
    assert (await alice.submit(SmsSubmit.text(f"+{BOB}", "hi Bob")))["ok"]
    sms = await bob.receive()
    assert (sms.originator, sms.decoded_text()) == (f"+{ALICE}", "hi Bob")
    await eventually(lambda: smsc.stats.handset_delivered == 1)
    assert smsc.stats.mo_sent == 0  # no ESME involved
    await alice.close()
    await bob.close()


async def test_the_window_caps_unanswered_deliver_sm(smsc: SmscEmulator) -> None:
    esme = await bound(smsc)
    phone = await Phone.attach(smsc.handset_port, ALICE)
    for n in range(5):
        await phone.submit(SmsSubmit.text(SERVICE, f"m{n}"))
    first = [await deliver_sm(esme) for _ in range(3)]  # the window: 3
    await esme.ask(ENQUIRE_LINK, 99)  # nothing more came before the answer to this
    assert smsc.stats.mo_sent == 3 and smsc.stats.max_deliver_outstanding == 3
    for sequence, _ in first:
        answer(esme, sequence)
    rest = [await deliver_sm(esme) for _ in range(2)]
    assert [m.short_message for _, m in first + rest] == [f"m{n}".encode() for n in range(5)]
    for sequence, _ in rest:
        answer(esme, sequence)
    await eventually(lambda: smsc.stats.mo_delivered == 5)
    await phone.close()
    await esme.close()


async def test_a_refused_mo_is_retried_and_a_permanent_refusal_is_final(
    smsc: SmscEmulator,
) -> None:
    esme = await bound(smsc)
    phone = await Phone.attach(smsc.handset_port, ALICE)
    await phone.submit(SmsSubmit.text(SERVICE, "again"))
    for _ in range(2):
        sequence, mo = await deliver_sm(esme)
        answer(esme, sequence, status=0x64)  # ESME_RX_T_APPN: try later
    sequence, mo = await deliver_sm(esme)
    assert mo.short_message == b"again"
    answer(esme, sequence)
    await eventually(lambda: smsc.stats.mo_delivered == 1)
    await phone.submit(SmsSubmit.text(SERVICE, "never"))
    sequence, _ = await deliver_sm(esme)
    answer(esme, sequence, status=0x65)  # ESME_RX_P_APPN: never
    await eventually(lambda: smsc.stats.mo_rejected == 1)
    await esme.ask(ENQUIRE_LINK, 98)
    assert smsc.stats.mo_sent == 4 and smsc.status()["mo_pending"] == 0
    assert smsc.messages(SERVICE)[-1].parts[0].state == "REJECTD"
    await phone.close()
    await esme.close()


async def test_mo_waits_for_a_bind_and_for_an_answer_lost_with_one(smsc: SmscEmulator) -> None:
    phone = await Phone.attach(smsc.handset_port, ALICE)
    await phone.submit(SmsSubmit.text(SERVICE, "later"))
    assert smsc.status()["mo_pending"] == 1
    esme = await bound(smsc)
    await deliver_sm(esme)
    await esme.close()  # gone before answering: the SMSC cannot know it arrived
    esme = await bound(smsc)
    sequence, mo = await deliver_sm(esme)
    assert mo.short_message == b"later"
    answer(esme, sequence)
    await eventually(lambda: smsc.stats.mo_delivered == 1)
    await phone.close()
    await esme.close()


async def test_mo_nobody_takes_expires() -> None:
    policy = DeliveryPolicy(first_s=0.01, max_s=0.01, validity_s=0.05)
    async with SmscEmulator(
        port=0, admin_port=None, service_numbers=(SERVICE,), delivery=policy
    ) as smsc:
        phone = await Phone.attach(smsc.handset_port, ALICE)
        await phone.submit(SmsSubmit.text(SERVICE, "nobody"))
        await eventually(lambda: smsc.stats.mo_expired == 1)
        assert smsc.status()["mo_pending"] == 0
        assert smsc.messages(SERVICE)[0].parts[0].state == "EXPIRED"
        esme = await bound(smsc)
        assert (await esme.ask(ENQUIRE_LINK, 2))[0] == ENQUIRE_LINK | RESP  # no deliver_sm
        await phone.close()
        await esme.close()


async def test_barred_handsets_and_lost_mo(smsc: SmscEmulator) -> None:
    phone = await Phone.attach(smsc.handset_port, ALICE)
    smsc.bar(ALICE)
    report = await phone.submit(SmsSubmit.text(SERVICE, "x"))
    assert (report["ok"], report["cause"]) == (False, 8)  # operator determined barring
    smsc.unbar(ALICE)
    smsc.faults.update(mo_loss_rate=1.0)
    assert (await phone.submit(SmsSubmit.text(SERVICE, "lost")))["ok"]
    assert (smsc.stats.mo_lost, smsc.stats.mo_refused, smsc.messages(SERVICE)) == (1, 1, [])
    await phone.close()


async def test_the_link_refuses_what_is_not_its_protocol(smsc: SmscEmulator) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", smsc.handset_port)
    phone = Phone(reader, writer)
    phone.send({"type": "submit", "ref": 1, "tpdu": "00"})
    assert (await phone.read()) == {"type": "refused", "error": "type: attach first"}
    assert await phone.closed()
    phone = await Phone.attach(smsc.handset_port, ALICE)
    phone.send({"type": "submit", "ref": 1, "tpdu": "0100"})  # an SMS-SUBMIT cut short
    assert await phone.read() == {"type": "submit_report", "ref": 1, "ok": False, "cause": 96}
    phone.writer.write(b"not json\n")
    assert (await phone.read())["type"] == "refused"
    await phone.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", smsc.handset_port)
    bad = Phone(reader, writer)
    bad.send({"type": "attach", "msisdn": "+8613800138001"})
    assert (await bad.read())["error"].startswith("msisdn:")
    await bad.close()


async def test_post_mo_sends_as_a_handset_would(smsc: SmscEmulator) -> None:
    esme = await bound(smsc)
    url = f"http://127.0.0.1:{smsc.admin_port}"
    async with httpx.AsyncClient(base_url=url, auth=("provgw", "provgw")) as api:
        long = "查询话费" * 20  # 80 UCS-2 characters: two parts
        response = await api.post("/mo", json={"from": ALICE, "to": SERVICE, "text": long})
        assert response.status_code == 200 and len(response.json()["message_ids"]) == 2
        parts = [await deliver_sm(esme) for _ in range(2)]
        assert all(m.esm_class == 0x40 and m.data_coding == 8 for _, m in parts)
        headers = [m.short_message[:6] for _, m in parts]
        assert [h[:3] + h[4:] for h in headers] == [bytes.fromhex("0500030201"),
                                                    bytes.fromhex("0500030202")]  # fmt: skip
        assert headers[0][3] == headers[1][3]  # one reference
        text = b"".join(m.short_message[6:] for _, m in parts).decode("utf-16-be")
        assert text == long
        for sequence, _ in parts:
            answer(esme, sequence)
        binary = {"from": ALICE, "to": OTA, "data": "027100" + "ab" * 10, "pid": 127,
                  "dcs": 0xF6, "udhi": True}  # fmt: skip
        assert (await api.post("/mo", json=binary)).status_code == 200
        sequence, mo = await deliver_sm(esme)
        assert (mo.protocol_id, mo.data_coding, mo.esm_class) == (0x7F, 0xF6, 0x40)
        assert mo.short_message == bytes.fromhex("027100" + "ab" * 10)
        answer(esme, sequence)
        for bad, field in [
            ({"from": "abc", "to": SERVICE, "text": "x"}, "from:"),
            ({"from": ALICE, "to": SERVICE}, "text:"),
            ({"from": ALICE, "to": SERVICE, "data": "zz"}, "data:"),
            ({"from": ALICE, "to": SERVICE, "data": "00", "dcs": 0}, "dcs:"),
            ({"from": ALICE, "to": SERVICE, "text": "x", "colour": 1}, "colour:"),
        ]:
            response = await api.post("/mo", json=bad)
            assert (response.status_code, response.json()["error"][: len(field)]) == (400, field)
        await api.put(f"/barring/{ALICE}")
        refused = await api.post("/mo", json={"from": ALICE, "to": SERVICE, "text": "x"})
        assert refused.status_code == 409 and "RP cause 8" in refused.json()["error"]
        phone = await Phone.attach(smsc.handset_port, BOB)
        assert (await api.get("/handsets")).json() == {
            "handsets": [{"msisdn": BOB, "attached": True, "waiting": 0}]
        }
        await phone.close()
    assert smsc.stats.mo_received == 3 and smsc.stats.mo_refused == 1
    await esme.close()


async def test_an_outage_cuts_the_handsets_and_their_messages_wait(smsc: SmscEmulator) -> None:
    phone = await Phone.attach(smsc.handset_port, ALICE)
    smsc.faults.update(outage=True)
    assert await phone.closed()  # the link is cut with the binds
    with pytest.raises(OSError):
        await Phone.attach(smsc.handset_port, ALICE)  # refused while it lasts
    smsc.core.mobile_originated(BOB, SmsSubmit.text(ALICE, "after the outage"))
    smsc.faults.update(outage=False)
    await smsc.service_port.settled()
    again = await Phone.attach(smsc.handset_port, ALICE)  # the same port
    assert (await again.receive()).decoded_text() == "after the outage"
    await again.close()
