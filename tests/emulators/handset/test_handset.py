"""The emulated handset on the SMSC emulator, its card in-process: SMS-PP download to the card
and the PoR back as MO, the inbox, the menu, text from the subscriber, a card reset, the
control API. (`tests/integration/test_ota_path.py` does it all through pcscd and a gateway.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.smpp.pdu import ShortMessage
from emulators.handset import Handset
from emulators.handset.api import HandsetApi
from emulators.smsc import Faults, SmscEmulator
from emulators.usim.card import UsimCard
from simcard.errors import CardRemovedError
from simcard.ota import OtaCard, prepare, read_por
from simcard.ota_counters import SqliteCounters
from simcard.reader import read_card
from simcard.transport import InProcessTransport
from tests.emulators.smsc.test_routing import eventually
from tests.emulators.smsc.test_server import DELIVER_SM, RESP, SUBMIT_SM, Esme, bound, submit_body
from tests.emulators.usim.test_usim_ota import AES, ICCID, ROAMING, oplmn_update
from tests.emulators.usim.test_usim_toolkit import MENU, personalise

MSISDN, SERVICE, OTA = "8613800138001", "10086", "10658800"


class ResettingTransport(InProcessTransport):
    """The card reset by someone else once, before the next command (as a second PC/SC client
    ending its connection with a reset does)."""

    reset_pending = False

    def _exchange(self, apdu: bytes) -> bytes:
        if self.reset_pending:
            self.reset_pending = False
            self.card.power_on()
            raise CardRemovedError("card reset by another program")
        return super()._exchange(apdu)


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(
        port=0, admin_port=None, faults=Faults(receipt_delay_ms=1), service_numbers=(SERVICE, OTA)
    ) as emu:
        yield emu


@pytest.fixture
def card() -> UsimCard:
    card = UsimCard.blank(ota_keys=[AES])
    personalise(card, MENU)
    return card


@pytest.fixture
async def phone(smsc: SmscEmulator, card: UsimCard) -> AsyncIterator[Handset]:
    handset = Handset(MSISDN, ResettingTransport(card), ("127.0.0.1", smsc.handset_port))
    await handset.start()
    await handset.link.wait_attached(5)
    yield handset
    await handset.stop()


async def next_mo(esme: Esme) -> ShortMessage:
    """The next deliver_sm that is not a receipt, answered."""
    while True:
        command, _, sequence, body = await esme.read()
        assert command == DELIVER_SM
        esme.send(DELIVER_SM | RESP, sequence, b"\0")
        message = ShortMessage.decode(body)
        if message.esm_class & 0x3C != 0x04:
            return message


def submit_data(user_data: bytes, *, to: str = MSISDN) -> bytes:
    return (
        b"\0" + b"\x00\x01" + OTA.encode() + b"\0" + b"\x01\x01" + to.encode() + b"\0"
        + bytes((0x40, 0x7F, 0)) + b"\0\0" + bytes((0, 0, 0xF6, 0, len(user_data))) + user_data
    )  # fmt: skip


async def test_a_secured_packet_goes_to_the_card_and_its_por_comes_back_as_mo(
    smsc: SmscEmulator, phone: Handset, card: UsimCard, tmp_path: Path
) -> None:
    esme = await bound(smsc)
    request = prepare(
        OtaCard(ICCID, AES), oplmn_update(), SqliteCounters(tmp_path / "c"), reference=1
    )
    for n, user_data in enumerate(request.messages, start=2):
        assert (await esme.ask(SUBMIT_SM, n, submit_data(user_data)))[:2] == (SUBMIT_SM | RESP, 0)
    por = await next_mo(esme)
    assert (por.source.addr, por.destination.addr) == (MSISDN, OTA)
    assert (por.protocol_id, por.data_coding, por.esm_class) == (0x7F, 0xF6, 0x40)
    outcome = read_por(request, por.short_message)
    assert outcome.done, outcome.describe()
    oplmn = read_card(InProcessTransport(card))["files"]["oplmnwact"]["value"]
    assert [entry["plmn"] for entry in oplmn[:2]] == [str(e.plmn) for e in ROAMING]
    assert phone.counters.downloads == 1 and phone.inbox == []
    await eventually(lambda: len(phone.sent) == 1)  # recorded once the SMSC's report is in
    assert (phone.sent[0].by, phone.sent[0].destination) == ("card", OTA)
    await esme.close()


async def test_text_lands_in_the_inbox_and_a_full_inbox_refuses(
    smsc: SmscEmulator, phone: Handset
) -> None:
    esme = await bound(smsc)
    for sequence, (seq, text) in enumerate([(1, b"Your number "), (2, b"is ready")], start=2):
        header = bytes.fromhex(f"0500032a02{seq:02x}")
        await esme.ask(SUBMIT_SM, sequence, submit_body(header + text, to=MSISDN, esm_class=0x40))
    await eventually(lambda: len(phone.inbox) == 1)
    [message] = phone.inbox
    assert (message.originator, message.text, message.parts) == (
        "provgw",
        "Your number is ready",
        2,
    )
    phone.inbox_size = 1
    await esme.ask(SUBMIT_SM, 4, submit_body("满了".encode("utf-16-be"), to=MSISDN, coding=8))
    await eventually(lambda: phone.counters.refused == 1)
    assert len(phone.inbox) == 1
    await esme.close()


async def test_a_menu_selection_sends_its_sms_through_the_smsc(
    smsc: SmscEmulator, phone: Handset
) -> None:
    assert phone.menu is not None and phone.menu.title == "中国移动"
    esme = await bound(smsc)
    [sent] = await phone.select_menu(1)
    assert (sent.destination, sent.text, sent.by, sent.error) == (SERVICE, "CXHF", "card", None)
    mo = await next_mo(esme)
    assert (mo.source.addr, mo.destination.addr, mo.short_message) == (MSISDN, SERVICE, b"CXHF")
    assert [m.text for m in smsc.messages(SERVICE)] == ["CXHF"]
    await esme.close()


async def test_the_subscriber_texts_and_a_reset_card_is_taken_up_again(
    smsc: SmscEmulator, phone: Handset
) -> None:
    esme = await bound(smsc)
    [sent] = await phone.send_text(SERVICE, "SQXZ#王五#110101199003074578")
    assert sent.message_id and sent.by == "user"
    mo = await next_mo(esme)
    assert mo.short_message.decode("utf-16-be") == "SQXZ#王五#110101199003074578"
    assert isinstance(phone.transport, ResettingTransport)
    phone.transport.reset_pending = True
    [again] = await phone.select_menu(2)  # TERMINAL PROFILE again, then the selection
    assert again.text == "KTLL1G" and phone.counters.card_resets == 1
    await esme.close()


async def test_the_control_api(smsc: SmscEmulator, phone: Handset) -> None:
    api = HandsetApi(phone)
    port = await api.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            status = (await http.get("/status")).json()
            assert (status["msisdn"], status["attached"]) == (MSISDN, True)
            assert (await http.get("/menu")).json()["items"][0] == {"id": 1, "text": "话费查询"}
            selected = await http.post("/menu/2")
            assert selected.json()["sent"][0]["text"] == "KTLL1G"
            assert (await http.post("/menu/9")).status_code == 404
            texted = await http.post("/sms", json={"to": SERVICE, "text": "CXXZ"})
            assert texted.status_code == 200 and texted.json()["sent"][0]["to"] == SERVICE
            for body, field in [({"to": "x", "text": "t"}, "to:"), ({"to": SERVICE}, "text:")]:
                response = await http.post("/sms", json=body)
                assert (response.status_code, response.json()["error"][: len(field)]) == (
                    400,
                    field,
                )
            assert [m["by"] for m in (await http.get("/sent")).json()["messages"]] == [
                "card",
                "user",
            ]
            assert (await http.delete("/inbox")).json() == {"cleared": 0}
    finally:
        await api.stop()
