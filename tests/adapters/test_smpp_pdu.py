"""The adapter's SMPP codec (adapters.smpp.pdu), checked against smpplib's independent one."""

from __future__ import annotations

from datetime import datetime

import pytest

from adapters.smpp.client import parse_receipt
from adapters.smpp.pdu import (
    Address,
    Command,
    Pdu,
    PduError,
    ShortMessage,
    Tag,
    bind_body,
    decode_message_id,
    frames,
    message_id_body,
    status_name,
)
from tests.emulators.smsc.independent import smpplib


class _Sequences:
    """What smpplib asks of a client when it builds a PDU."""

    def next_sequence(self) -> int:
        return 1


def submit(**overrides: object) -> ShortMessage:
    fields: dict[str, object] = {
        "source": Address(5, 0, "provgw"),
        "destination": Address(1, 1, "8613800138000"),
        "short_message": b"hi",
        "registered_delivery": 1,
    }
    fields.update(overrides)
    return ShortMessage(**fields)  # type: ignore[arg-type]


def test_submit_sm_matches_smpplib_byte_for_byte() -> None:
    lib = smpplib()
    theirs = lib.smpp.make_pdu(
        "submit_sm",
        source_addr_ton=5,
        source_addr="provgw",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="8613800138000",
        short_message=b"hi",
        registered_delivery=1,
        client=_Sequences(),
    ).generate()
    ours = Pdu(Command.SUBMIT_SM, 0, 1, submit().encode()).encode()
    assert ours == theirs


def test_bind_transceiver_matches_smpplib() -> None:
    lib = smpplib()
    theirs = lib.smpp.make_pdu(
        "bind_transceiver", system_id="provgw", password="secret", client=_Sequences()
    ).generate()
    ours = Pdu(Command.BIND_TRANSCEIVER, 0, 1, bind_body("provgw", "secret")).encode()
    assert ours == theirs


def test_smpplib_reads_our_long_message_part_with_tlvs() -> None:
    lib = smpplib()
    part = bytes.fromhex("050003ab0201") + "你好".encode("utf-16-be")
    ours = submit(short_message=part, esm_class=0x40, data_coding=8, tlvs={0x0204: b"\x00\x2a"})
    raw = Pdu(Command.SUBMIT_SM, 0, 9, ours.encode()).encode()
    parsed = lib.smpp.parse_pdu(raw, client=_Sequences())
    assert parsed.command == "submit_sm"
    assert parsed.sequence == 9
    assert parsed.short_message == part
    assert (parsed.esm_class, parsed.data_coding) == (0x40, 8)
    assert parsed.user_message_reference == 42


def test_a_receipt_built_by_smpplib_is_understood() -> None:
    lib = smpplib()
    raw = lib.smpp.make_pdu(
        "deliver_sm",
        source_addr="8613800138000",
        destination_addr="provgw",
        esm_class=4,
        short_message=b"id:0 stat:ENROUTE",
        receipted_message_id="ab12",
        message_state=2,
        client=_Sequences(),
    ).generate()
    (pdu,) = frames(bytearray(raw))
    message = ShortMessage.decode(pdu.body)
    assert message.tlvs[Tag.RECEIPTED_MESSAGE_ID] == b"ab12\x00"
    receipt = parse_receipt(message)  # the parameters win over the text
    assert (receipt.message_id, receipt.state, receipt.delivered) == ("ab12", "DELIVRD", True)
    assert receipt.handset == "8613800138000"


def test_receipt_text_of_smpp_34_appendix_b() -> None:
    text = (
        b"id:0123456789 sub:001 dlvrd:001 submit date:0610191018 done date:0610191023 "
        b"stat:UNDELIV err:001 Text:stat:DELIVRD fake"
    )
    receipt = parse_receipt(submit(short_message=text, esm_class=4))
    assert receipt.message_id == "0123456789"
    assert (receipt.state, receipt.error, receipt.delivered) == ("UNDELIV", "001", False)
    assert receipt.submitted == datetime(2006, 10, 19, 10, 18)
    assert receipt.done == datetime(2006, 10, 19, 10, 23)


def test_short_message_round_trip() -> None:
    original = submit(
        short_message=b"\x1b\x65" * 10,
        service_type="CMT",
        validity_period="000001000000000R",
        tlvs={0x1400: b"order-1#1/1"},
    )
    assert ShortMessage.decode(original.encode()) == original


def test_frames_reassemble_pdus_split_anywhere() -> None:
    stream = b"".join(
        Pdu(Command.SUBMIT_SM_RESP, 0, seq, message_id_body(f"id{seq}")).encode()
        for seq in (1, 2, 3)
    )
    buffer = bytearray()
    seen = []
    for at in range(0, len(stream), 5):
        buffer += stream[at : at + 5]
        seen += frames(buffer)
    assert [(p.sequence, decode_message_id(p.body)) for p in seen] == [
        (1, "id1"),
        (2, "id2"),
        (3, "id3"),
    ]
    assert buffer == bytearray()


@pytest.mark.parametrize("length", [0, 15, 70_000])
def test_an_impossible_command_length_is_an_error(length: int) -> None:
    with pytest.raises(PduError, match="command_length"):
        frames(bytearray(length.to_bytes(4, "big") + bytes(12)))


def test_field_limits_name_the_field_and_mask_the_password() -> None:
    with pytest.raises(PduError, match=r"^destination_addr:"):
        submit(destination=Address(1, 1, "1" * 21)).encode()
    with pytest.raises(PduError, match=r"^password: \*\*\*\* longer") as caught:
        bind_body("provgw", "too-long-secret")
    assert "too-long-secret" not in str(caught.value)


def test_truncated_bodies_are_errors() -> None:
    body = submit().encode()
    with pytest.raises(PduError):
        ShortMessage.decode(body[:-1])
    with pytest.raises(PduError, match="optional parameter"):
        ShortMessage.decode(body + b"\x14\x00\x00\x05ab")


def test_status_names() -> None:
    assert status_name(0x58) == "ESME_RTHROTTLED"
    assert status_name(0x14) == "ESME_RMSGQFUL"
    assert status_name(0x401) == "0x00000401"
