"""SMS TPDUs, user data headers and the concatenation of secured packets (TS 23.040)."""

from __future__ import annotations

import datetime as dt

import pytest

from simcard import sms_pp
from simcard.sms_pp import (
    Reassembler,
    SmsDeliver,
    SmsError,
    SmsSubmit,
    decode_address,
    encode_address,
    pack_septets,
    segment,
    split_user_data,
    unpack_septets,
)
from simcard.text import gsm_encode

H = bytes.fromhex


def test_addresses() -> None:
    assert encode_address("+8613800100500").hex() == "0d91683108100005f0"
    assert encode_address("12345678").hex() == "088121436587"  # as in pySim's SMS-DELIVER vector
    assert decode_address(H("0d91683108100005f0")) == ("+8613800100500", 9)
    assert decode_address(H("0b812143658709f1")) == ("12345678901", 8)
    with pytest.raises(SmsError):
        encode_address("+86-138")


def test_alphanumeric_originators() -> None:
    # TS 23.040 §9.1.2.5: TON 101 (D0), GSM 7-bit packed, the length in semi-octets in use
    raw = sms_pp.encode_originator("provgw")  # 6 septets = 42 bits = 11 semi-octets
    assert raw[:2] == H("0bd0") and raw[2:] == pack_septets(gsm_encode("provgw") or b"")
    assert decode_address(raw) == ("provgw", 8)
    assert decode_address(sms_pp.encode_originator("ChinaMobile"))[0] == "ChinaMobile"
    assert sms_pp.encode_originator("+8613800100500") == encode_address("+8613800100500")
    for bad in ("", "TwelveLetter", "中国移动"):
        with pytest.raises(SmsError):
            sms_pp.encode_originator(bad)
    with pytest.raises(SmsError):
        decode_address(b"\x05")


def test_septet_packing() -> None:
    septets = gsm_encode("hellohello")
    assert septets is not None
    assert pack_septets(septets).hex() == "e8329bfd4697d9ec37"  # the TS 23.038 textbook example
    assert unpack_septets(H("e8329bfd4697d9ec37"), 10) == septets


def test_sms_deliver_round_trip_and_class() -> None:
    when = dt.datetime(2022, 7, 25, 0, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    sms = SmsDeliver("+8613800100500", H("027000") + b"packet", scts=sms_pp.timestamp(when))
    raw = sms.encode()
    assert raw[0] == 0x44  # UDHI, no more messages
    assert SmsDeliver.decode(raw).scts == H("22705200000023")  # 22-07-25 00:00:00 +08:00
    assert SmsDeliver.decode(raw) == sms
    assert sms.is_data_download
    assert not SmsDeliver("123", b"hi", pid=0, dcs=0x04, udhi=False).is_data_download


def test_sms_submit_text_in_gsm_and_ucs2() -> None:
    gsm = SmsSubmit.text("10086", "BAL")
    raw = gsm.encode()
    assert raw.hex() == "0100" + "05810180f6" + "0000" + "03" + "c22013"  # 3 septets packed
    again = SmsSubmit.decode(raw)
    assert again.decoded_text() == "BAL" and again.destination == "10086"
    chinese = SmsSubmit.text("10086", "查余额")
    assert chinese.dcs == 0x08 and SmsSubmit.decode(chinese.encode()).decoded_text() == "查余额"


def test_sms_deliver_with_gsm_text_known_answer() -> None:
    # The SMS-DELIVER of the GSM 03.40 tutorials ("How are you?" from +31641600986), without
    # the SMSC address the modem puts in front of the TPDU.
    tpdu = H("040b911346610089f60000208062917314080cc8f71d14969741f977fd07")
    sms = SmsDeliver.decode(tpdu)
    assert (sms.originator, sms.pid, sms.dcs, sms.text_septets) == ("+31641600986", 0, 0, 12)
    assert sms.decoded_text() == "How are you?" and not sms.is_data_download
    assert sms.encode() == tpdu


def test_text_behind_a_concatenation_header_is_packed_after_fill_bits() -> None:
    header = H("050003070201")  # 6 octets = 48 bits: one fill bit to the septet boundary
    dcs, user_data, septets = sms_pp.text_user_data("hellohello", header)
    assert (dcs, septets) == (0x00, 10) and user_data[:6] == header
    sms = SmsDeliver("10086", user_data, pid=0, dcs=dcs, udhi=True, text_septets=septets)
    again = SmsDeliver.decode(sms.encode())
    assert again.encode()[-len(user_data) - 1] == 7 + 10  # TP-UDL: header septets + text
    assert again.decoded_text() == "hellohello" and again.text_septets == 10
    assert sms_pp.text_user_data("查余额", header)[:2] == (
        0x08,
        header + "查余额".encode("utf-16-be"),
    )
    with pytest.raises(SmsError):
        sms_pp.text_user_data("x" * 161)
    with pytest.raises(SmsError, match="TP-UDL says 13 septets"):  # more than the octets hold
        SmsDeliver.decode(H("040b911346610089f60000208062917314080dc8f71d14969741f977fd07"))


def test_one_message_carries_a_small_packet() -> None:
    [ud] = segment(b"\x01" * 137, 0x70, reference=5)
    assert ud[:3] == H("027000") and len(ud) == 140
    assembled = Reassembler().add(ud)
    assert assembled is not None and assembled.iei == 0x70 and assembled.packet == b"\x01" * 137


def test_long_packets_are_concatenated_and_reassembled_in_any_order() -> None:
    packet = bytes(range(256)) * 2
    parts = segment(packet, 0x71, reference=9)
    assert len(parts) == 4 and all(len(p) <= 140 for p in parts)
    first = split_user_data(parts[0])
    assert first.element(0x00) == bytes([9, 4, 1]) and first.element(0x71) == b""
    assert split_user_data(parts[1]).element(0x71) is None  # 70/71 in the first segment only
    joiner = Reassembler()
    assert joiner.add(parts[2], "x") is None
    assert joiner.add(parts[0], "x") is None
    assert joiner.add(parts[0], "y") is None  # another sender, same reference: kept apart
    assert joiner.add(parts[3], "x") is None
    whole = joiner.add(parts[1], "x")
    assert whole is not None and whole.packet == packet and whole.iei == 0x71
    assert whole.single_message_form()[:3] == H("027100")
    assert joiner.pending() == 1


def test_sixteen_bit_references_are_understood() -> None:
    parts = [H("080804010202017000") + b"ab", H("06080401020202") + b"cd"]
    joiner = Reassembler()
    assert joiner.add(parts[0]) is None
    whole = joiner.add(parts[1])
    assert whole is not None and whole.packet == b"abcd" and whole.iei == 0x70


@pytest.mark.parametrize("ud", [H("05000301"), H("0300"), b""])
def test_broken_headers_are_refused(ud: bytes) -> None:
    with pytest.raises(SmsError):
        split_user_data(ud)
