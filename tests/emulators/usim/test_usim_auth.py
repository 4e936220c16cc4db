"""AUTHENTICATE against the 3GPP test data: 3G AKA, SQN resynchronisation, GSM contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.usim.card import UsimCard
from simcard.milenage import Milenage
from tests.emulators.usim.usim_terminal import Terminal

H = bytes.fromhex
# TS 35.208 test set 1 (also TS 55.205 GSM set 1 for SRES/Kc)
K = H("465b5ce8b199b49faa5f0a2ee238a6bc")
OP = H("cdc202d5123e20f62b6d676ac72cb318")
OPC = H("cd63cb71954a9f4e48a5994e37a02baf")
RAND = H("23553cbe9637a89d218ae64dae47bf35")
SQN = H("ff9bb4d0b607")
AMF = H("b9b9")
AUTN = H("55f328b43577b9b94a9ffac354dfafb3")  # (SQN ⊕ AK) ‖ AMF ‖ MAC-A of set 1
RES = H("a54211d5e3ba50bf")
CK = H("b40ba9a3c58b2a05bbf0d987b21bf8cb")
IK = H("f769bcd751044604127672711c6d3441")
KC = H("eae4be823af9a08b")  # TS 55.205 set 1 Kc = c3(CK, IK)
SRES = H("46f8416a")  # TS 55.205 set 1 SRES#1 = c2(RES)
USIM = "00 A4 04 0C 07 A0000000871002"


def personalise(term: Terminal, *, config: int, ki: bytes, op: bytes, key_file: str) -> None:
    """Write a key file the way pySim does for a sysmoISIM-SJA2 (config, Ki, OP/OPc)."""
    term.adm()
    path = ("7FFF", "AF20") if key_file == "usim" else ("A515", "6F20")
    term.select(*path)
    term.ok(f"00 D6 00 00 01 {config:02X}")
    term.ok(f"00 D6 00 01 10 {ki.hex()}")
    term.ok(f"00 D6 00 11 10 {op.hex()}")
    term.card.power_on()
    term.ok(USIM)


def authenticate(term: Terminal, rand: bytes, autn: bytes) -> tuple[bytes, int]:
    return term.send(f"00 88 00 81 22 10 {rand.hex()} 10 {autn.hex()} 00")


def lv_fields(data: bytes) -> list[bytes]:
    fields, i = [], 0
    while i < len(data):
        fields.append(data[i + 1 : i + 1 + data[i]])
        i += 1 + data[i]
    return fields


@pytest.fixture
def usim(term: Terminal) -> Terminal:
    personalise(term, config=0x14, ki=K, op=OPC, key_file="usim")
    return term


def test_3g_context_answers_test_set_1(usim: Terminal) -> None:
    data, sw = authenticate(usim, RAND, AUTN)
    assert sw == 0x9000
    assert data[0] == 0xDB
    assert lv_fields(data[1:]) == [RES, CK, IK, KC]


def test_op_in_key_file_is_turned_into_opc(term: Terminal) -> None:
    personalise(term, config=0x04, ki=K, op=OP, key_file="usim")
    data, sw = authenticate(term, RAND, AUTN)
    assert (data[0], sw) == (0xDB, 0x9000)
    assert lv_fields(data[1:])[0] == RES


def test_wrong_mac_is_refused(usim: Terminal) -> None:
    forged = AUTN[:-1] + bytes([AUTN[-1] ^ 1])
    assert authenticate(usim, RAND, forged) == (b"", 0x9862)


def test_replayed_sqn_gives_auts_that_resynchronises(usim: Terminal) -> None:
    assert authenticate(usim, RAND, AUTN)[1] == 0x9000
    data, sw = authenticate(usim, RAND, AUTN)  # same SQN again: not fresh
    assert sw == 0x9000 and data[:2] == H("dc0e")
    m = Milenage(K, OPC)
    sqn_ms = m.sqn_from_auts(RAND, data[2:16])
    assert sqn_ms == SQN  # the card reports the highest SQN it accepted
    # The HLR resumes from SQN_MS: next SEQ in the same IND slot is accepted.
    next_sqn = (int.from_bytes(sqn_ms, "big") + 32).to_bytes(6, "big")
    data, sw = authenticate(usim, RAND, m.autn(RAND, next_sqn, AMF))
    assert (data[0], sw) == (0xDB, 0x9000)


def test_ind_slots_are_checked_separately(usim: Terminal) -> None:
    m = Milenage(K, OPC)

    def sqn(seq: int, ind: int) -> bytes:
        return (seq << 5 | ind).to_bytes(6, "big")

    assert authenticate(usim, RAND, m.autn(RAND, sqn(10, 3), AMF))[0][0] == 0xDB
    assert authenticate(usim, RAND, m.autn(RAND, sqn(5, 4), AMF))[0][0] == 0xDB  # other IND
    assert authenticate(usim, RAND, m.autn(RAND, sqn(9, 3), AMF))[0][0] == 0xDC  # older SEQ
    assert authenticate(usim, RAND, m.autn(RAND, sqn(11, 3), AMF))[0][0] == 0xDB


def test_sqn_array_survives_reload(tmp_path: Path) -> None:
    store = tmp_path / "card.json"
    term = Terminal(UsimCard.blank(store))
    personalise(term, config=0x14, ki=K, op=OPC, key_file="usim")
    assert authenticate(term, RAND, AUTN)[1] == 0x9000
    reloaded = Terminal(UsimCard.load(store))
    reloaded.ok(USIM)
    assert authenticate(reloaded, RAND, AUTN)[0][:2] == H("dc0e")


def test_authenticate_needs_the_usim_selected_and_pin1(usim: Terminal) -> None:
    usim.card.power_on()
    assert authenticate(usim, RAND, AUTN)[1] == 0x6985  # USIM not selected
    usim.ok(USIM)
    usim.ok("00 28 00 01 08 31323334FFFFFFFF")  # enable PIN1 (verifies it too)
    usim.card.power_on()
    usim.ok(USIM)
    assert authenticate(usim, RAND, AUTN)[1] == 0x6982
    assert usim.sw("00 88 00 82 11 10" + RAND.hex()) == 0x6982  # checked before P2


@pytest.mark.parametrize(
    "apdu",
    [
        "00 88 00 81 11 10" + RAND.hex(),  # no AUTN
        "00 88 00 81 12 10" + RAND.hex() + "00",  # empty AUTN
        "00 88 00 81 11 20" + RAND.hex(),  # length byte overruns
    ],
)
def test_malformed_challenge(usim: Terminal, apdu: str) -> None:
    assert usim.sw(apdu) == 0x6A80


def test_gsm_context_with_milenage_gives_c2_c3(term: Terminal) -> None:
    personalise(term, config=0x14, ki=K, op=OPC, key_file="2g")
    data = term.ok(f"00 88 00 80 11 10 {RAND.hex()} 00")
    assert lv_fields(data) == [SRES, KC]


def test_gsm_context_with_comp128v1(term: Terminal) -> None:
    # Known answer also used by osmo-hlr's tests for COMP128v1.
    ki, rand = H("eb215756028d60e3275e613320aec880"), H("39fa2f4e3d523d8619a73b4f65c3e14d")
    personalise(term, config=0x01, ki=ki, op=bytes(16), key_file="2g")
    data = term.ok(f"00 88 00 80 11 10 {rand.hex()} 00")
    assert lv_fields(data) == [H("429d5b27"), H("241a5b16aeb8e400")]


def test_run_gsm_algorithm_in_the_gsm_class(term: Terminal) -> None:
    personalise(term, config=0x14, ki=K, op=OPC, key_file="2g")
    assert term.sw("A0 A4 00 00 02 7F20") == 0x9F16
    assert term.send(f"A0 88 00 00 10 {RAND.hex()}") == (b"", 0x9F0C)
    assert term.ok("A0 C0 00 00 0C") == SRES + KC


def test_comp128_key_cannot_run_3g(term: Terminal) -> None:
    personalise(term, config=0x01, ki=K, op=OPC, key_file="usim")
    assert authenticate(term, RAND, AUTN)[1] == 0x6985
