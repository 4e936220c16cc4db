"""The emulator's authentication centre: GEN AUTHVEC and MOD AUTHSQN, in-process.

Vectors are checked against 3GPP TS 35.208 test set 1; SQN arithmetic against the figures of
TS 33.102 Annex C.3.2 as osmo-hlr applies it (SEQ ‖ 5-bit IND).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulators.cli import emulate
from emulators.hlr import AuthCentre, HlrEmulator
from emulators.hlr.auc import IND_BITS
from emulators.hlr.state import SQN_LIMIT
from emulators.hlr.statefile import StateFile
from simcard.milenage import Milenage

from .conftest import IMSI, IMSI2, KI, LOGIN, OPC, Desk, add_ki

H = bytes.fromhex
# TS 35.208 test set 1 (K and OPc as in conftest).
RAND = "23553CBE9637A89D218AE64DAE47BF35"
SQN = 0xFF9BB4D0B607
RES = "A54211D5E3BA50BF"
CK = "B40BA9A3C58B2A05BBF0D987B21BF8CB"
IK = "F769BCD751044604127672711C6D3441"
MAC_A = "4A9FFAC354DFAFB3"
AUTN = "55F328B43577" + "B9B9" + MAC_A  # (SQN ⊕ AK) ‖ AMF ‖ MAC-A, AK = aa689c648370
GEN = f'GEN AUTHVEC:HLRSN=1,IMSI="{IMSI}";'
SIM_KI = (
    'ADD KI:HLRSN=1,IMSI="{imsi}",OPERTYPE=ADD,KIVALUE="{ki}",K4SNO=0,CARDTYPE=SIM,ALG=COMP128_1;'
)


def desk_for(auc: AuthCentre | None = None) -> Desk:
    desk = Desk(HlrEmulator(port=0, auc=auc))
    desk.ok(LOGIN, add_ki())
    return desk


def sqn(desk: Desk, imsi: str = IMSI) -> int:
    value: int = desk.emulator.state.snapshot()["ki"][imsi]["sqn"]
    return value


def resync(rand: str, auts: bytes) -> str:
    return f'MOD AUTHSQN:HLRSN=1,IMSI="{IMSI}",RAND="{rand}",AUTS="{auts.hex()}";'


def card_auts(rand: str, sqn_ms: int, ki: str = KI) -> bytes:
    """What a card holding `ki` answers when its highest accepted SQN is `sqn_ms`."""
    return Milenage(H(ki), H(OPC)).auts(H(rand), sqn_ms.to_bytes(6, "big"))


def test_vector_of_test_set_1() -> None:
    """Forced RAND, AMF b9b9 and SQN ff9bb4d0b607 (slot 7, one SEQ after the stored SQN)."""
    desk = desk_for(AuthCentre(amf="b9b9", ind=SQN & 31, rand=lambda: H(RAND)))
    desk.emulator.state.set_sqn(IMSI, SQN - (1 << IND_BITS))
    reply = desk.send(GEN)
    assert reply.code == 0 and reply.reports == 1
    assert list(reply.fields.items()) == [
        ("IMSI", IMSI),
        ("RAND", RAND),
        ("XRES", RES),
        ("CK", CK),
        ("IK", IK),
        ("AUTN", AUTN),
    ]
    assert sqn(desk) == SQN


def test_sqn_steps_one_seq_per_vector_in_the_ind_slot() -> None:
    """osmo-hlr, ind-bitlen 5, IND 1: SQNs 0x21, 0x41, 0x61 (SEQ 1, 2, 3)."""
    desk = desk_for(AuthCentre(ind=1))
    seen = []
    for _ in range(3):
        desk.ok(GEN)
        seen.append(sqn(desk))
    assert seen == [0x21, 0x41, 0x61]


def test_default_amf_ind_and_random_rand() -> None:
    desk = desk_for()
    first, second = desk.send(GEN).fields, desk.send(GEN).fields
    assert first["RAND"] != second["RAND"]
    ak = Milenage(H(KI), H(OPC)).f2345(H(second["RAND"]))[3]
    autn = H(second["AUTN"])
    assert int.from_bytes(bytes(a ^ b for a, b in zip(autn[:6], ak, strict=True))) == 2 << 5
    assert autn[6:8] == b"\x00\x00"  # AMF 0000, separation bit clear: a 2G/3G HLR's vector


def test_sqn_is_per_ki_record_and_restarts_with_a_new_ki() -> None:
    desk = desk_for()
    desk.ok(add_ki(IMSI2), GEN, GEN, f'GEN AUTHVEC:HLRSN=1,IMSI="{IMSI2}";')
    assert (sqn(desk), sqn(desk, IMSI2)) == (64, 32)
    desk.ok(f'RMV KI:HLRSN=1,IMSI="{IMSI}";', add_ki())
    assert sqn(desk) == 0


@pytest.mark.parametrize(
    ("command", "code"),
    [
        ('GEN AUTHVEC:HLRSN=1,IMSI="460001234567899";', 3007),  # no KI loaded
        ('GEN AUTHVEC:HLRSN=1,IMSI="46000123456789";', 1002),  # 14 digits
        ("GEN AUTHVEC:HLRSN=1,IMSI=460001234567890;", 1002),  # not quoted
        ("GEN AUTHVEC:HLRSN=1;", 1001),
        (f'GEN AUTHVEC:HLRSN=1,IMSI="{IMSI}",NUM=2;', 1001),
        (f'MOD AUTHSQN:HLRSN=1,IMSI="{IMSI}",RAND="{RAND}",AUTS="00";', 1002),
        (f'MOD AUTHSQN:HLRSN=1,IMSI="{IMSI}",AUTS="{"00" * 14}";', 1001),
        (f'MOD AUTHSQN:HLRSN=1,IMSI="{IMSI2}",RAND="{RAND}",AUTS="{"00" * 14}";', 3007),
    ],
)
def test_refusals_change_nothing(command: str, code: int) -> None:
    desk = desk_for()
    assert desk.code(command) == code
    assert sqn(desk) == 0


def test_commands_need_a_login() -> None:
    desk = Desk(HlrEmulator(port=0))
    assert desk.code(GEN) == 1006


@pytest.mark.parametrize(
    "load",
    [
        SIM_KI.format(imsi=IMSI2, ki=KI),
        add_ki(IMSI2).replace(f',OPCVALUE="{OPC}"', ""),  # Milenage without OPc
    ],
    ids=["comp128", "no-opc"],
)
def test_a_ki_that_gives_no_umts_vector_is_refused_clearly(load: str) -> None:
    desk = desk_for()
    desk.ok(load)
    reply = desk.send(f'GEN AUTHVEC:HLRSN=1,IMSI="{IMSI2}";')
    assert (reply.code, reply.text) == (3015, "ERR3015:KI not usable for UMTS authentication")
    auts = resync(RAND, bytes(14)).replace(IMSI, IMSI2)
    assert desk.code(auts) == 3015


def test_used_up_sequence_numbers_are_refused() -> None:
    desk = desk_for()
    desk.emulator.state.set_sqn(IMSI, SQN_LIMIT - 1)
    assert desk.code(GEN) == 3015
    assert sqn(desk) == SQN_LIMIT - 1


def test_resync_moves_the_counter_to_the_cards_sqn() -> None:
    """TS 33.102 §6.3.5: SQN_MS from AUTS, MAC-S checked, next vector one SEQ beyond."""
    desk = desk_for()
    card_sqn = (100 << IND_BITS) | 3
    desk.ok(resync(RAND, card_auts(RAND, card_sqn)))
    assert sqn(desk) == card_sqn
    desk.ok(GEN)
    assert sqn(desk) == 101 << IND_BITS


def test_resync_never_moves_the_counter_back() -> None:
    desk = desk_for()
    desk.ok(GEN, GEN, GEN)  # SEQ 3
    desk.ok(resync(RAND, card_auts(RAND, (2 << IND_BITS) | 31)))
    assert sqn(desk) == 3 << IND_BITS


@pytest.mark.parametrize("damage", ["mac-s", "other-ki", "other-rand"])
def test_resync_with_an_auts_that_does_not_verify_is_refused(damage: str) -> None:
    desk = desk_for()
    auts = card_auts(RAND, 100 << IND_BITS, ki="00" * 16 if damage == "other-ki" else KI)
    if damage == "mac-s":
        auts = auts[:-1] + bytes([auts[-1] ^ 1])
    rand = "00" * 16 if damage == "other-rand" else RAND
    reply = desk.send(resync(rand, auts))
    assert (reply.code, reply.text) == (3016, "ERR3016:AUTS verification failed")
    assert sqn(desk) == 0


def test_resync_to_the_last_possible_sqn_is_refused() -> None:
    desk = desk_for()
    assert desk.code(resync(RAND, card_auts(RAND, SQN_LIMIT - 1))) == 3015
    assert sqn(desk) == 0


def test_vector_commands_are_provisioning_commands_for_fault_injection() -> None:
    desk = desk_for()
    desk.emulator.faults.update(error_rate=1.0)
    assert desk.code(GEN) == 5001
    assert sqn(desk) == 0  # an injected error is answered without executing


def test_exp_state_shows_the_sqn_and_no_key() -> None:
    desk = desk_for()
    desk.ok(GEN)
    state = json.loads(desk.send("EXP STATE:;").fields["STATE"])
    assert state["ki"][IMSI]["sqn"] == 32
    assert state["ki"][IMSI]["ki"] == state["ki"][IMSI]["opc"] == "****"


async def test_sqn_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "hlr.json"
    async with HlrEmulator(port=0, state_file=path) as first:
        Desk(first).ok(LOGIN, add_ki(), GEN, GEN)
    data = json.loads(path.read_text())
    assert data["version"] == 3 and data["ki"][IMSI]["sqn"] == 64
    async with HlrEmulator(port=0, state_file=path) as second:
        desk = Desk(second)
        desk.ok(LOGIN, GEN)
        assert sqn(desk) == 96


def test_a_version_1_state_file_loads_with_sqn_0(tmp_path: Path) -> None:
    path = tmp_path / "hlr.json"
    record = {"imsi": IMSI, "cardtype": "USIM", "alg": "MILENAGE", "k4sno": 0, "ki": KI}
    path.write_text(json.dumps({"version": 1, "ki": {IMSI: {**record, "opc": OPC}}}))
    emulator = HlrEmulator(port=0)
    assert StateFile(path, emulator.state).load()
    assert emulator.state.snapshot()["ki"][IMSI]["sqn"] == 0


@pytest.mark.parametrize("bad", [-1, SQN_LIMIT, True, "32"])
def test_restore_refuses_a_bad_sqn_naming_it(bad: object) -> None:
    desk = desk_for()
    data = desk.emulator.state.snapshot(reveal_secrets=True)
    data["ki"][IMSI]["sqn"] = bad
    with pytest.raises(ValueError, match=f"ki.{IMSI}.sqn"):
        desk.emulator.state.restore(data)
    assert sqn(desk) == 0


@pytest.mark.parametrize(
    ("options", "field"),
    [({"amf": "80"}, "amf"), ({"amf": "80zz"}, "amf"), ({"ind": 32}, "ind"), ({"ind": -1}, "ind")],
)
def test_auc_settings_are_checked(options: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        AuthCentre(**options)  # type: ignore[arg-type]


def test_cli_options_set_the_auc(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[HlrEmulator] = []

    def run(emulator: HlrEmulator, listening: object, *, as_json: bool) -> None:
        started.append(emulator)

    monkeypatch.setattr("emulators.hlr.cli.run", run)
    result = CliRunner().invoke(emulate, ["hlr", "--amf", "8000", "--ind", "3"])
    assert result.exit_code == 0, result.output
    assert (started[0].auc.amf, started[0].auc.ind) == (b"\x80\x00", 3)


def test_cli_refuses_a_bad_amf_naming_it() -> None:
    result = CliRunner().invoke(emulate, ["hlr", "--amf", "80zz"])
    assert result.exit_code == 1
    assert "amf: expected 4 hexadecimal digits" in result.output
