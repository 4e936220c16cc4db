"""The card station: writing a blank card, reading it back as a view, and the proof.

The card is the USIM emulator in-process; the authentication centre is a stand-in that
computes vectors with Milenage from the keys it is given (the real AuC is tested with the HLR
emulator elsewhere), so the station's own logic — RES against XRES — is what is tested here.
"""

from __future__ import annotations

import secrets

import pytest

from adapters.cards.card_station import CardStationAdapter, pcsc_station
from emulators.usim.card import UsimCard
from gateway.operations import AuthVector, Lookup, Outcome, ProveAuthentication, WriteCard
from simcard.errors import NoCardError
from simcard.milenage import Milenage
from simcard.transport import InProcessTransport

KI = "465b5ce8b199b49faa5f0a2ee238a6bc"  # TS 35.208 set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
IMSI = "460001234567890"


class StandInAuc:
    """Computes a vector the way an AuC does (SEQ rising by 32 per vector, AMF 8000)."""

    def __init__(self, ki: str, opc: str) -> None:
        self.milenage = Milenage(bytes.fromhex(ki), bytes.fromhex(opc))
        self.seq = 0

    async def auth_vector(self, imsi: str) -> AuthVector:
        if imsi != IMSI:
            raise LookupError(f"no authentication data for {imsi}")
        self.seq += 1
        sqn = (self.seq << 5).to_bytes(6, "big")
        rand, amf = secrets.token_bytes(16), b"\x80\x00"
        res, ck, ik, _, _ = self.milenage.f2345(rand)
        return AuthVector(
            rand=rand.hex(),
            autn=self.milenage.autn(rand, sqn, amf).hex(),
            xres=res.hex(),
            ck=ck.hex(),
            ik=ik.hex(),
        )


class ResyncingAuc(StandInAuc):
    """A stand-in AuC that also takes a card's AUTS, as an HLR's AuC does."""

    resyncs = 0

    async def resync(self, imsi: str, rand: str, auts: str) -> None:
        sqn_ms = self.milenage.sqn_from_auts(bytes.fromhex(rand), bytes.fromhex(auts))
        assert sqn_ms is not None, "AUTS must verify"
        self.seq = int.from_bytes(sqn_ms, "big") >> 5
        self.resyncs += 1


def write_op(**over: object) -> WriteCard:
    fields = dict(
        iccid="8986001234567890120",
        imsi=IMSI,
        ki=KI,
        opc=OPC,
        msisdn="8613800000001",
        spn="provgw",
        adm1="12345678",
    )
    return WriteCard.model_validate(fields | over)


def station(card: UsimCard | None, auc: object = None) -> CardStationAdapter:
    def transport() -> InProcessTransport:
        if card is None:
            raise NoCardError("no card in 'counter reader'")
        return InProcessTransport(card)

    return pcsc_station(
        "counter-1",
        reader="counter reader",
        auc=lambda ne: auc if ne == "hlr1" else None,  # type: ignore[return-value,arg-type]
        transport=transport,
    )


async def test_write_then_read_back_then_prove() -> None:
    card = UsimCard.blank()
    st = station(card, StandInAuc(KI, OPC))
    written = await st.execute(write_op())
    assert written.outcome is Outcome.OK, written.text
    assert 'KI="****"' in written.command and KI not in written.command
    view = await st.read(Lookup(imsi=IMSI))
    assert view.exists and view.imsi == IMSI
    proof = await st.execute(ProveAuthentication(imsi=IMSI, ne="hlr1"))
    assert proof.outcome is Outcome.OK and "RES equals" in proof.text


async def test_proof_fails_when_card_and_network_hold_different_keys() -> None:
    card = UsimCard.blank()
    st = station(card, StandInAuc("00" * 16, OPC))  # the network holds another Ki
    assert (await st.execute(write_op())).outcome is Outcome.OK
    proof = await st.execute(ProveAuthentication(imsi=IMSI, ne="hlr1"))
    assert proof.outcome is Outcome.PERMANENT
    assert "different keys" in proof.text


async def test_a_card_that_is_not_blank_is_refused() -> None:
    card = UsimCard.blank()
    st = station(card, StandInAuc(KI, OPC))
    assert (await st.execute(write_op())).outcome is Outcome.OK
    again = await st.execute(write_op(imsi="460001234567891"))
    assert again.outcome is Outcome.PERMANENT and "blank" in again.text


async def test_no_card_in_the_reader_is_worth_retrying() -> None:
    reply = await station(None).execute(write_op())
    assert reply.outcome is Outcome.TRANSIENT and "insert a blank card" in reply.text


@pytest.mark.parametrize(("ne", "code"), [("hlr9", "no-auc"), ("hlr1", "no-auth-data")])
async def test_proof_without_vector_is_refused(ne: str, code: str) -> None:
    st = station(UsimCard.blank(), StandInAuc(KI, OPC))
    other = "460001234567899" if ne == "hlr1" else IMSI
    reply = await st.execute(ProveAuthentication(imsi=other, ne=ne))
    assert reply.outcome is Outcome.PERMANENT and reply.code == code


async def test_wrong_adm1_is_never_retried() -> None:
    card = UsimCard.blank(adm1="87654321")
    reply = await station(card).execute(write_op())
    assert reply.outcome is Outcome.PERMANENT and reply.code == "adm-rejected"


async def test_a_card_ahead_of_the_network_is_resynchronised_then_proven() -> None:
    card = UsimCard.blank()
    first = station(card, StandInAuc(KI, OPC))
    assert (await first.execute(write_op())).outcome is Outcome.OK
    for _ in range(3):  # the card has seen vectors up to SEQ 3
        assert (await first.execute(ProveAuthentication(imsi=IMSI, ne="hlr1"))).ok
    behind = ResyncingAuc(KI, OPC)  # a network whose SEQ starts again at 1
    proof = await station(card, behind).execute(ProveAuthentication(imsi=IMSI, ne="hlr1"))
    assert proof.outcome is Outcome.OK, proof.text
    assert behind.resyncs == 1


async def test_a_card_ahead_of_a_network_that_cannot_resync_is_refused() -> None:
    card = UsimCard.blank()
    first = station(card, StandInAuc(KI, OPC))
    assert (await first.execute(write_op())).outcome is Outcome.OK
    for _ in range(2):
        assert (await first.execute(ProveAuthentication(imsi=IMSI, ne="hlr1"))).ok
    proof = await station(card, StandInAuc(KI, OPC)).execute(
        ProveAuthentication(imsi=IMSI, ne="hlr1")
    )
    assert proof.outcome is Outcome.PERMANENT and "cannot resynchronise" in proof.text
