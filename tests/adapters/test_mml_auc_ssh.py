"""The proof of an open account: a vector from the HLR emulator over real SSH, and a card.

The card is the USIM emulator, written by the card library with the keys the HLR was
provisioned with; it computes RES on its own. RES == XRES shows that the card and the network
hold the same Ki/OPc; a card with other keys must reject the AUTN; a card that is ahead of the
HLR's SQN answers AUTS, and after the HLR's resynchronisation the next vector is accepted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from adapters.huawei_mml.mml_ssh import MmlOverSsh, MmlSshSettings
from adapters.network_element import AuthenticationCentre
from emulators.hlr import Account, HlrEmulator
from emulators.hlr.commands import COMMANDS
from emulators.usim.card import UsimCard
from gateway.operations import AuthVector, LoadAuth, Operation, Outcome, RemoveAuth
from simcard.errors import AuthenticationRejectedError
from simcard.profile import CardProfile
from simcard.transport import InProcessTransport
from simcard.verifier import AuthResult, challenge
from simcard.writer import write_card

IMSI = "460001234567890"
KI = "465b5ce8b199b49faa5f0a2ee238a6bc"  # TS 35.208 test set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
OTHER_KI = "0f" * 16
USER, PASSWORD = "gw", "ssh-secret-1"


@pytest.fixture
async def emu() -> AsyncIterator[HlrEmulator]:
    async with HlrEmulator(port=0, users={USER: Account(PASSWORD)}) as emulator:
        yield emulator


def settings(port: int) -> MmlSshSettings:
    return MmlSshSettings(
        port=port,
        username=USER,
        password=PASSWORD,
        operator=USER,
        operator_password=PASSWORD,
        host_key_policy="accept-any",
        command_timeout=2.0,
        connect_timeout=2.0,
    )


@pytest.fixture
async def hlr(emu: HlrEmulator) -> AsyncIterator[MmlOverSsh]:
    async with MmlOverSsh(settings(emu.port)) as adapter:
        yield adapter


async def ok(hlr: MmlOverSsh, op: Operation) -> None:
    reply = await hlr.execute(op)
    assert reply.outcome is Outcome.OK, reply


def card_with(ki: str) -> UsimCard:
    """A blank card written (and self-proven) by the card library with `ki` and OPC."""
    card = UsimCard.blank()
    profile = CardProfile.create(
        {
            "iccid": "8988211000000467343",
            "imsi": IMSI,
            "ki": ki,
            "opc": OPC,
            "spn": "provgw",
            "msisdn": "+8613800000001",
            "smsc": "+8613800100500",
            "adm1": "12345678",
        }
    )
    write_card(connected(card), profile)
    return card


def connected(card: UsimCard) -> InProcessTransport:
    transport = InProcessTransport(card)
    transport.connect()
    return transport


def challenged(card: UsimCard, vector: AuthVector) -> AuthResult:
    return challenge(connected(card), bytes.fromhex(vector.rand), bytes.fromhex(vector.autn))


def hlr_sqn(emu: HlrEmulator) -> int:
    sqn: int = emu.state.snapshot()["ki"][IMSI]["sqn"]
    return sqn


def test_is_an_authentication_centre() -> None:
    assert isinstance(MmlOverSsh(settings(22)), AuthenticationCentre)


async def test_card_answers_the_hlr_vector_with_xres(emu: HlrEmulator, hlr: MmlOverSsh) -> None:
    await ok(hlr, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    card = card_with(KI)
    vector = await hlr.auth_vector(IMSI)
    assert hlr_sqn(emu) == 32  # SEQ 1 in IND slot 0
    result = challenged(card, vector)
    assert not result.sync_failure
    assert result.res.hex() == vector.xres
    assert (result.ck.hex(), result.ik.hex()) == (vector.ck, vector.ik)


async def test_card_with_another_ki_rejects_the_autn(hlr: MmlOverSsh) -> None:
    await ok(hlr, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    card = card_with(OTHER_KI)
    with pytest.raises(AuthenticationRejectedError, match="MAC failure"):
        challenged(card, await hlr.auth_vector(IMSI))


async def test_card_ahead_of_the_hlr_is_resynchronised(emu: HlrEmulator, hlr: MmlOverSsh) -> None:
    await ok(hlr, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    card = card_with(KI)
    for _ in range(3):
        assert not challenged(card, await hlr.auth_vector(IMSI)).sync_failure
    await ok(hlr, RemoveAuth(imsi=IMSI))  # keys loaded again: the HLR's SQN starts over
    await ok(hlr, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    stale = await hlr.auth_vector(IMSI)  # SEQ 1, the card is at SEQ 3
    answer = challenged(card, stale)
    assert answer.sync_failure and answer.auts is not None
    await hlr.resync(IMSI, stale.rand, answer.auts.hex())
    assert hlr_sqn(emu) == 3 << 5  # the card's highest SQN, recovered from AUTS
    fresh = await hlr.auth_vector(IMSI)
    assert challenged(card, fresh).res.hex() == fresh.xres


async def test_resync_with_a_bad_auts_is_refused(emu: HlrEmulator, hlr: MmlOverSsh) -> None:
    await ok(hlr, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    vector = await hlr.auth_vector(IMSI)
    with pytest.raises(ValueError, match=r"auts: .* refused the AUTS .*ERR3016"):
        await hlr.resync(IMSI, vector.rand, "00" * 14)
    assert hlr_sqn(emu) == 32


async def test_no_auth_data_is_a_lookup_error(hlr: MmlOverSsh) -> None:
    with pytest.raises(LookupError, match=f"no authentication data for IMSI {IMSI}"):
        await hlr.auth_vector(IMSI)
    with pytest.raises(LookupError, match="no authentication data"):
        await hlr.resync(IMSI, "00" * 16, "00" * 14)


async def test_a_2g_sim_gives_no_umts_vector(hlr: MmlOverSsh) -> None:
    await ok(hlr, LoadAuth(imsi=IMSI, ki=KI, algorithm="comp128v1"))
    with pytest.raises(LookupError, match=r"no UMTS vector .*ERR3015"):
        await hlr.auth_vector(IMSI)


async def test_bad_imsi_is_refused_before_sending(hlr: MmlOverSsh) -> None:
    with pytest.raises(ValueError, match="imsi: expected 15 digits"):
        await hlr.auth_vector("46000")


async def test_an_hlr_without_the_extension_cannot_be_asked(
    hlr: MmlOverSsh, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(COMMANDS, "GEN AUTHVEC")  # a real HLR9820: no such MML
    with pytest.raises(ConnectionError, match="1001"):
        await hlr.auth_vector(IMSI)


async def test_an_unreachable_hlr_cannot_be_asked(emu: HlrEmulator) -> None:
    port = emu.port
    await emu.stop()
    async with MmlOverSsh(settings(port)) as hlr:
        with pytest.raises(ConnectionError, match="not-sent"):
            await hlr.auth_vector(IMSI)


async def test_vector_secrets_stay_out_of_logs(
    hlr: MmlOverSsh, caplog: pytest.LogCaptureFixture
) -> None:
    await ok(hlr, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    caplog.set_level(logging.DEBUG)
    vector = await hlr.auth_vector(IMSI)
    logged = caplog.text.lower()
    assert "gen authvec" in logged  # the debug line is there, masked
    for secret in (vector.xres, vector.ck, vector.ik):
        assert secret not in logged
    assert vector.rand in logged
