"""The emulator checked with an independent SMPP client, smpplib (blocking, run in a thread)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from emulators.smsc import Faults, SmscEmulator

from .independent import smpplib

LONG = "您好，欢迎使用provgw移动。您的号码已开通，套餐已生效，祝您使用愉快！" * 3  # 2 UCS-2 parts


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=None, faults=Faults(receipt_delay_ms=1)) as emu:
        yield emu


def _session(port: int, text: str, encoding: int) -> dict[str, Any]:
    """bind_transceiver, send every part, collect responses and receipts, enquire_link, unbind."""
    lib = smpplib()
    client = lib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    sent: list[str] = []
    receipts: list[Any] = []
    client.set_message_sent_handler(lambda pdu: sent.append(pdu.message_id.decode()))
    client.set_message_received_handler(lambda pdu: receipts.append(pdu))
    client.connect()
    client.bind_transceiver(system_id="provgw", password="provgw")
    parts, coding, esm_class = lib.gsm.make_parts(text, encoding=encoding)
    for part in parts:
        client.send_message(
            source_addr_ton=5,
            source_addr="provgw",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="8613800138000",
            short_message=part,
            data_coding=coding,
            esm_class=esm_class,
            registered_delivery=1,
        )
    while len(sent) < len(parts) or len(receipts) < len(parts):
        client.read_once()
    client.send_pdu(lib.smpp.make_pdu("enquire_link", client=client))
    enquire = client.read_pdu()
    unbind = client.unbind()
    client.disconnect()
    return {
        "parts": len(parts),
        "coding": coding,
        "sent": sent,
        "receipts": receipts,
        "enquire": enquire.command,
        "unbind": unbind.command,
    }


async def test_a_long_ucs2_message_from_smpplib_is_reassembled_and_receipted(
    smsc: SmscEmulator,
) -> None:
    lib = smpplib()
    result = await asyncio.to_thread(_session, smsc.port, LONG, lib.consts.SMPP_ENCODING_ISO10646)
    assert (result["parts"], result["coding"]) == (2, 8)
    (message,) = smsc.messages("8613800138000")
    assert message.complete and message.text == LONG
    assert message.message_ids == result["sent"]
    receipted = [pdu.receipted_message_id.decode() for pdu in result["receipts"]]
    assert sorted(receipted) == sorted(result["sent"])
    assert all(pdu.esm_class == 0x04 for pdu in result["receipts"])
    assert all(b"stat:DELIVRD" in pdu.short_message for pdu in result["receipts"])
    assert (result["enquire"], result["unbind"]) == ("enquire_link_resp", "unbind_resp")


async def test_gsm_text_from_smpplib_reads_back_the_same(smsc: SmscEmulator) -> None:
    lib = smpplib()
    text = "Balance {12} [EUR] 5€ ~ok|^\\"  # smpplib's table differs from 23.038 only at §/`
    result = await asyncio.to_thread(_session, smsc.port, text, lib.consts.SMPP_ENCODING_DEFAULT)
    assert result["coding"] == 0
    assert [m.text for m in smsc.messages("8613800138000")] == [text]


async def test_smpplib_sees_a_wrong_password_refused(smsc: SmscEmulator) -> None:
    lib = smpplib()

    def bind() -> int:
        client = lib.client.Client("127.0.0.1", smsc.port, timeout=5, allow_unknown_opt_params=True)
        client.connect()
        try:
            client.bind_transceiver(system_id="provgw", password="wrong")
        except lib.exceptions.PDUError as exc:
            return int(exc.args[1])
        finally:
            client.disconnect()
        return 0

    assert await asyncio.to_thread(bind) == 0x0E  # ESME_RINVPASWD
