"""SCP80 secured packets against published known answers, and the card's rules around them.

Sources of the vectors:
- [SJA5] osmocom/pysim tests/unittests/test_ota.py, "SJA5 SAMPLE cards provisioned by
  execute_ipr.py": command packets accepted by sysmoISIM-SJA5 cards and the PoRs those cards
  sent back, 3DES two-key (KVN 3) and AES-128 (KVN 2), TAR B00011 (USIM RFM),
  SELECT MF `00a40004023f00` answered `6132`.
- [8988…285] the same file, class Test_SMS_3DES: PoRs from card 8988211000000467285 (3DES,
  KVN 3) — ciphered+signed, signed, plain; and command packets pySim computed for that key
  set (pySim leaves CPL out of unciphered command packets; the checksum it computes covers
  the CPL all the same, so with the CPL put back they are what a card expects).
- [FIPS 81] FIPS PUB 81, appendix B: DES of "Now is t" under 0123456789ABCDEF.
- [CRC] the CRC catalogue's check values over "123456789": CRC-32 CBF43926, CRC-16/X-25 906E.
- [RFC 4493] AES-CMAC example 2 (16-byte message), truncated to 8 bytes as SCP80 uses it.
"""

from __future__ import annotations

import pytest

from simcard.ota_keys import Checksum, Ciphering, KeySet, OtaKeyError
from simcard.secured_packet import (
    COUNTER_MAX,
    CounterMode,
    Integrity,
    Por,
    PorMode,
    PorStatus,
    SecuredPacketError,
    Spi,
    check_counter,
    unwrap_command,
    unwrap_response,
    wrap_command,
    wrap_response,
)

H = bytes.fromhex
SJA5_3DES = KeySet.tdes(
    3, H("300102030405060708090a0b0c0d0e0f"), H("301102030405060708090a0b0c0d0e0f")
)
SJA5_AES = KeySet.aes(
    2, H("200102030405060708090a0b0c0d0e0f"), H("201102030405060708090a0b0c0d0e0f")
)
CARD_285 = KeySet.tdes(
    3, H("C21DD66ACAC13CB3BC8B331B24AFB57B"), H("12110C78E678C25408233076AA033615")
)
USIM_RFM = H("B00011")
SELECT_MF = H("00a40004023f00")

# pySim's SPI dictionaries: no counter, ciphered command with CC; PoR required, as named
CIPHERED_CC = Spi(Integrity.CC, True, CounterMode.NONE, PorMode.ALWAYS, Integrity.CC, True)
UNCIPHERED_CC = Spi(Integrity.CC, True, CounterMode.NONE, PorMode.ALWAYS, Integrity.CC, False)
UNCIPHERED_NOCC = Spi(Integrity.CC, True, CounterMode.NONE, PorMode.ALWAYS, Integrity.NONE, False)

SJA5_VECTORS = [  # name, keys, spi, command packet, PoR user data (all [SJA5])
    (
        "3DES ciphered, PoR ciphered+CC",
        SJA5_3DES,
        CIPHERED_CC,
        "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f",
        "027100001c12b000118bb989492c632529326a2f4681feb37c825bc9021c9f6d0b",
    ),
    (
        "3DES ciphered, PoR CC",
        SJA5_3DES,
        UNCIPHERED_CC,
        "00201506093535b00011c49ac91ab8159ba5b83a54fb6385e0a5e31694f8b215fafc",
        "027100001612b0001100000000000000b5bcd6353a421fae016132",
    ),
    (
        "3DES ciphered, PoR plain",
        SJA5_3DES,
        UNCIPHERED_NOCC,
        "00201506013535b000113190be334900f52b025f3f7eddfe868e96ebf310023b7769",
        "027100000e0ab0001100000000000000016132",
    ),
    (
        "AES-128 ciphered, PoR ciphered+CC",
        SJA5_AES,
        CIPHERED_CC,
        "00281506192222b00011e87cceebb2d93083011ce294f93fc4d8de80da1abae8c37ca3e72ec4432e5058",
        "027100002412b00011ebc6b497e2cad7aedf36ace0e3a29b38853f0fe9ccde81913be5702b73abce1f",
    ),
]
COMPACT_6132 = H("016132")  # TS 102 226 compact response: 1 command, last SW 6132, no data


@pytest.mark.parametrize(
    ("name", "keys", "spi", "command", "por"),
    SJA5_VECTORS,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_command_packets_as_sja5_cards_accepted_them(
    name: str, keys: KeySet, spi: Spi, command: str, por: str
) -> None:
    assert wrap_command(keys, spi, USIM_RFM, 0, SELECT_MF).hex() == command
    packet = unwrap_command(H(command), keys)  # and read back as a card reads it
    assert (packet.tar, packet.counter, packet.data, packet.spi) == (USIM_RFM, 0, SELECT_MF, spi)


@pytest.mark.parametrize(
    ("name", "keys", "spi", "command", "por"),
    SJA5_VECTORS,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_pors_as_sja5_cards_sent_them(
    name: str, keys: KeySet, spi: Spi, command: str, por: str
) -> None:
    answer = unwrap_response(H(por), keys, spi)
    assert answer == Por(USIM_RFM, 0, PorStatus.OK, COMPACT_6132)
    assert wrap_response(keys, spi, answer).hex() == por  # what the emulated card sends


@pytest.mark.parametrize(
    ("spi", "por"),
    [
        (CIPHERED_CC, "027100001c12b000119660ebdb81be189b5e4389e9e7ab2bc0954f963ad869ed7c"),
        (UNCIPHERED_CC, "027100001612b000110000000000000055f47118381175fb01612f"),
        (UNCIPHERED_NOCC, "027100000e0ab000110000000000000001612f"),
    ],
)
def test_pors_of_card_8988211000000467285(spi: Spi, por: str) -> None:
    assert unwrap_response(H(por), CARD_285, spi) == Por(USIM_RFM, 0, PorStatus.OK, H("01612f"))


def test_a_por_whose_checksum_does_not_verify_is_refused() -> None:
    tampered = H("027100001612b000110000000000000055f47118381175fb02612f")  # 01 → 02 commands
    with pytest.raises(SecuredPacketError, match="checksum does not verify") as err:
        unwrap_response(tampered, CARD_285, UNCIPHERED_CC)
    assert err.value.status is PorStatus.CHECKSUM_FAILED


@pytest.mark.parametrize(
    ("spi", "expected"),
    [
        (
            Spi(Integrity.NONE, True, CounterMode.NONE, PorMode.ALWAYS, Integrity.CC, True),
            "00180d04193535b00000e3ec80a849b554421276af3883927c20",
        ),
        (
            Spi(Integrity.CC, False, CounterMode.NONE, PorMode.ALWAYS, Integrity.CC, True),
            "001d1502193535b00000000000000000072ea17bdb72060e00a40000023f00",
        ),
        (
            Spi(Integrity.NONE, False, CounterMode.NONE, PorMode.ALWAYS, Integrity.CC, True),
            "00150d00193535b0000000000000000000a40000023f00",
        ),
    ],
)
def test_command_packets_pysim_computed_for_card_8988211000000467285(
    spi: Spi, expected: str
) -> None:
    assert wrap_command(CARD_285, spi, H("b00000"), 0, H("00a40000023f00")).hex() == expected


def test_des_ecb_known_answer() -> None:
    assert Ciphering.DES_ECB.encrypt(H("0123456789abcdef"), b"Now is t").hex() == "3fa40e8a984d4815"
    assert Ciphering.DES_CBC.encrypt(H("0123456789abcdef"), b"Now is t").hex() == "3fa40e8a984d4815"


def test_crc_check_values() -> None:
    assert Checksum.CRC32.compute(b"", b"123456789").hex() == "cbf43926"
    assert Checksum.CRC16.compute(b"", b"123456789").hex() == "906e"


def test_aes_cmac_known_answer() -> None:
    key = H("2b7e151628aed2a6abf7158809cf4f3c")
    message = H("6bc1bee22e409f96e93d7e117393172a")
    assert Checksum.AES_CMAC.compute(key, message).hex() == "070a16b46b4d4144"


@pytest.mark.parametrize(
    "keys",
    [
        KeySet(
            1, Ciphering.DES_CBC, H("0123456789abcdef"), Checksum.DES_MAC, H("fedcba9876543210")
        ),
        KeySet(4, Ciphering.TDES3_CBC, bytes(range(24)), Checksum.TDES3_MAC, bytes(range(1, 25))),
        KeySet.aes(5, bytes(range(24)), bytes(range(32))),
        KeySet.aes(6, bytes(range(32)), bytes(range(16))),
        KeySet(7, Ciphering.DES_ECB, H("0123456789abcdef"), Checksum.CRC32, b""),
    ],
    ids=["DES", "3DES-3key", "AES-192", "AES-256", "DES-ECB+CRC32"],
)
def test_every_algorithm_round_trips_through_card_and_back(keys: KeySet) -> None:
    integrity = Integrity.RC if keys.checksum.is_crc else Integrity.CC
    spi = Spi(integrity, True, CounterMode.HIGHER, PorMode.ALWAYS, integrity, True)
    data = H("00b0000009" * 7)  # 35 bytes: padding needed for every block size
    packet = unwrap_command(wrap_command(keys, spi, USIM_RFM, 42, data), keys)
    assert (packet.counter, packet.data) == (42, data)
    por = Por(USIM_RFM, 42, PorStatus.OK, H("0190000102030405060708"))
    assert unwrap_response(wrap_response(keys, spi, por), keys, spi) == por


def test_rc_crc16_and_an_unprotected_packet() -> None:
    keys = KeySet(1, Ciphering.DES_CBC, bytes(8), Checksum.CRC16, b"")
    spi = Spi(Integrity.RC, False, CounterMode.NONE, PorMode.ON_ERROR, Integrity.RC, False)
    raw = wrap_command(keys, spi, USIM_RFM, 0, SELECT_MF)
    assert raw[6] == 0x11  # KID: KVN 1, CRC16
    assert unwrap_command(raw, keys).data == SELECT_MF
    corrupted = raw[:-1] + bytes([raw[-1] ^ 1])
    with pytest.raises(SecuredPacketError) as err:
        unwrap_command(corrupted, keys)
    assert err.value.status is PorStatus.CHECKSUM_FAILED
    assert unwrap_command(raw, None).data == SELECT_MF  # a CRC needs no key
    plain = Spi(Integrity.NONE, False, CounterMode.NONE, PorMode.NONE, Integrity.NONE, False)
    assert unwrap_command(wrap_command(keys, plain, USIM_RFM, 0, SELECT_MF), None).data == SELECT_MF


def test_a_card_refuses_what_it_cannot_trust() -> None:
    spi = CIPHERED_CC
    raw = wrap_command(SJA5_3DES, spi, USIM_RFM, 1, SELECT_MF)
    with pytest.raises(SecuredPacketError) as err:
        unwrap_command(raw, None)
    assert err.value.status is PorStatus.SECURITY_ERROR  # no such key set
    other = KeySet.tdes(3, bytes(16), bytes(16))
    with pytest.raises(SecuredPacketError) as err:
        unwrap_command(raw, other)  # deciphers to garbage: padding or checksum fails
    assert err.value.status in (PorStatus.CIPHERING_ERROR, PorStatus.CHECKSUM_FAILED)
    with pytest.raises(SecuredPacketError) as err:
        unwrap_command(raw, SJA5_AES)
    assert err.value.status is PorStatus.SECURITY_ERROR  # KIc says 3DES, the card's key is AES
    with pytest.raises(SecuredPacketError, match="CPL"):
        unwrap_command(raw + b"\x00", SJA5_3DES)


@pytest.mark.parametrize(
    ("mode", "received", "card", "status"),
    [
        (CounterMode.NONE, 0, 5, None),
        (CounterMode.AVAILABLE, 3, 5, None),
        (CounterMode.HIGHER, 6, 5, None),
        (CounterMode.HIGHER, 9, 5, None),
        (CounterMode.HIGHER, 5, 5, PorStatus.COUNTER_LOW),  # a replay
        (CounterMode.HIGHER, 4, 5, PorStatus.COUNTER_LOW),
        (CounterMode.NEXT, 6, 5, None),
        (CounterMode.NEXT, 7, 5, PorStatus.COUNTER_HIGH),
        (CounterMode.NEXT, 5, 5, PorStatus.COUNTER_LOW),
        (CounterMode.HIGHER, COUNTER_MAX, COUNTER_MAX, PorStatus.COUNTER_BLOCKED),
    ],
)
def test_counter_rules(
    mode: CounterMode, received: int, card: int, status: PorStatus | None
) -> None:
    assert check_counter(mode, received, card) == status


def test_unsecured_error_pors_read_as_errors_never_as_success() -> None:
    refusal = Por(USIM_RFM, 7, PorStatus.CHECKSUM_FAILED)
    raw = wrap_response(SJA5_3DES, CIPHERED_CC, refusal)
    assert raw.hex() == "027100000b0ab0001100000000070001"  # RHL 10: no checksum, in clear
    read = unwrap_response(raw, SJA5_3DES, CIPHERED_CC)
    assert read.status is PorStatus.CHECKSUM_FAILED and not read.authenticated and not read.ok
    forged_ok = raw[:-1] + b"\x00"  # the same shape claiming success does not verify
    with pytest.raises(SecuredPacketError):
        unwrap_response(forged_ok, SJA5_3DES, CIPHERED_CC)


def test_every_status_code_has_a_meaning_and_round_trips() -> None:
    for status in PorStatus:
        assert status.meaning
        por = Por(USIM_RFM, 1, status)
        assert (
            unwrap_response(wrap_response(SJA5_AES, CIPHERED_CC, por), SJA5_AES, CIPHERED_CC).status
            is status
        )


def test_spi_coding() -> None:
    spi = Spi(Integrity.CC, True, CounterMode.HIGHER, PorMode.ALWAYS, Integrity.CC, True, True)
    assert spi.encode() == H("1639")
    assert Spi.decode(H("1639")) == spi
    with pytest.raises(SecuredPacketError, match="reserved"):
        Spi.decode(H("1603"))


def test_bad_keys_and_arguments_are_refused_by_name() -> None:
    with pytest.raises(OtaKeyError, match="KIc for TDES2_CBC must be 16 bytes"):
        KeySet.tdes(1, bytes(8), bytes(16))
    with pytest.raises(OtaKeyError, match="KID for AES_CBC"):
        KeySet.aes(1, bytes(16), bytes(15))
    with pytest.raises(OtaKeyError, match="1-15"):
        KeySet.aes(0, bytes(16), bytes(16))
    with pytest.raises(ValueError, match="5 bytes"):
        wrap_command(SJA5_AES, CIPHERED_CC, USIM_RFM, COUNTER_MAX + 1, b"")
    assert "300102" not in repr(SJA5_3DES)


def test_a_card_without_the_key_set_answers_an_unsecured_report() -> None:
    """An unprotected packet naming a key set the card lacks is refused for its security
    level; with nothing to sign with, the card's PoR is unsecured and reads as such."""
    refusal = Por(USIM_RFM, 3, PorStatus.INSUFFICIENT_SECURITY)
    raw = wrap_response(None, CIPHERED_CC, refusal)
    assert raw[5] == 0x0A  # RHL 10: no checksum
    read = unwrap_response(raw, SJA5_AES, CIPHERED_CC)
    assert read.status is PorStatus.INSUFFICIENT_SECURITY and not read.authenticated
    with pytest.raises(SecuredPacketError, match="unknown PoR status"):
        unwrap_response(raw[:-1] + b"\x42", SJA5_AES, CIPHERED_CC)
