"""The emulator's own reading of SMPP bodies, user data headers, alphabets and part sizes."""

from __future__ import annotations

from datetime import datetime

import pytest

from emulators.smsc import protocol
from emulators.smsc.store import Part, reassemble
from emulators.smsc.text import Concatenation, Unreadable, decode, fits_one_sms, split_header

# A bind_transceiver body laid out by hand from SMPP 3.4 section 4.1.5.
BIND_BODY = b"provgw\x00secret\x00\x00\x34\x01\x01\x00"


def test_bind_body_fields() -> None:
    body = protocol.decode(protocol.BIND, BIND_BODY)
    assert body.values == {
        "system_id": "provgw",
        "password": "secret",
        "system_type": "",
        "interface_version": 0x34,
        "addr_ton": 1,
        "addr_npi": 1,
        "address_range": "",
    }
    assert protocol.encode(protocol.BIND, body.values) == BIND_BODY


def test_short_message_body_with_optional_parameters_round_trips() -> None:
    values: dict[str, int | str | bytes] = {
        "source_addr_ton": 5,
        "source_addr": "provgw",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": "8613800138000",
        "esm_class": 0x40,
        "registered_delivery": 1,
        "data_coding": 8,
        "short_message": bytes.fromhex("0500030102014f60"),
    }
    tlvs = {0x1400: b"order-1#1/2", protocol.TAG_MESSAGE_STATE: b"\x02"}
    body = protocol.decode(
        protocol.SHORT_MESSAGE, protocol.encode(protocol.SHORT_MESSAGE, values, tlvs)
    )
    assert body.tlvs == tlvs
    assert body.octets("short_message") == values["short_message"]
    assert body.text("destination_addr") == "8613800138000"
    assert body.number("esm_class") == 0x40


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"provgw-much-too-long-system-id\x00", "system_id"),
        (b"provgw\x00secret\x00\x00", "interface_version"),
    ],
)
def test_malformed_bodies_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(protocol.Malformed, match=f"^{field}:"):
        protocol.decode(protocol.BIND, raw)


def test_an_sm_length_beyond_the_body_is_malformed() -> None:
    values: dict[str, int | str | bytes] = {"destination_addr": "1", "short_message": b"abc"}
    raw = protocol.encode(protocol.SHORT_MESSAGE, values)
    with pytest.raises(protocol.Malformed, match="short_message"):
        protocol.decode(protocol.SHORT_MESSAGE, raw[:-1])


def test_gsm_default_alphabet_and_extension_table() -> None:
    # 3GPP TS 23.038: 0x00 @, 0x01 £, 0x24 ¤, 0x5F §, 0x7F à; ESC 0x65 €, ESC 0x3C [, ESC 0x40 |
    assert decode(0, bytes.fromhex("00 01 24 5f 7f 1b65 1b3c 1b40")) == "@£¤§à€[|"


def test_an_unknown_extension_code_reads_as_a_space() -> None:
    assert decode(0, b"a\x1b\x41b") == "a b"


def test_ucs2_latin1_and_binary() -> None:
    assert decode(8, bytes.fromhex("4f60597d")) == "你好"
    assert decode(3, b"caf\xe9") == "café"
    assert decode(4, b"\x01\x02") == "0102"
    with pytest.raises(Unreadable, match="odd"):
        decode(8, b"\x4f")
    with pytest.raises(Unreadable, match="0x80"):
        decode(0, b"\x80")


def test_concatenation_headers_8_and_16_bit() -> None:
    assert split_header(0x40, bytes.fromhex("050003ab0302") + b"xy") == (
        Concatenation(0xAB, 3, 2),
        b"xy",
        6,
    )
    assert split_header(0x40, bytes.fromhex("06 08 04 1234 02 01") + b"z") == (
        Concatenation(0x1234, 2, 1),
        b"z",
        7,
    )
    assert split_header(0x00, b"\x05\x00\x03") == (None, b"\x05\x00\x03", 0)
    with pytest.raises(Unreadable):
        split_header(0x40, b"\x09\x00\x03")
    with pytest.raises(Unreadable, match="part 4 of 3"):
        split_header(0x40, bytes.fromhex("050003010304"))


@pytest.mark.parametrize(
    ("coding", "header", "octets", "fits"),
    [
        (0, 0, 160, True),
        (0, 0, 161, False),
        (0, 6, 153, True),  # 7 septets of header + 153
        (0, 6, 154, False),
        (8, 0, 140, True),
        (8, 6, 134, True),
        (8, 6, 136, False),
    ],
)
def test_part_sizes_on_the_air_interface(coding: int, header: int, octets: int, fits: bool) -> None:
    assert fits_one_sms(coding, header, b"a" * octets) is fits


def _part(seq: int, ref: int = 1, total: int = 3, text: str = "") -> Part:
    return Part(
        message_id=f"id{ref}-{seq}",
        system_id="provgw",
        source="provgw",
        destination="8613800138000",
        data_coding=0,
        text=text or f"<{seq}>",
        concatenation=Concatenation(ref, total, seq),
        submitted=datetime(2026, 1, 1),
    )


def test_parts_out_of_order_are_put_back_together() -> None:
    (message,) = reassemble([_part(3), _part(1), _part(2)])
    assert message.complete and message.text == "<1><2><3>"
    assert message.message_ids == ["id1-1", "id1-2", "id1-3"]


def test_a_reference_coming_round_again_starts_a_new_message() -> None:
    messages = reassemble(
        [_part(1, total=2), _part(2, total=2), _part(1, total=2), _part(2, total=2, text="!")]
    )
    assert [m.text for m in messages] == ["<1><2>", "<1>!"]


def test_a_missing_part_leaves_the_message_incomplete() -> None:
    (message,) = reassemble([_part(1), _part(3)])
    assert not message.complete and message.as_dict()["segments"] == 3
