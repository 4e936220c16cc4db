"""Writer and verifier against the USIM emulator in-process (it computes RES on its own)."""

from __future__ import annotations

import pytest

from emulators.usim.card import UsimCard
from simcard.errors import (
    AdmRejectedError,
    AuthenticationRejectedError,
    CardNotBlankError,
    CardRemovedError,
    HalfWrittenCardError,
    VerificationError,
    WrongCardError,
)
from simcard.files import FilePath
from simcard.identities import Iccid
from simcard.milenage import Milenage
from simcard.models import PROVGW, SJA2
from simcard.profile import CardProfile
from simcard.reader import read_card
from simcard.session import CardSession
from simcard.verifier import challenge, gsm_challenge, verify_card
from simcard.writer import write_card
from tests.simcard.conftest import ADM1, KI, OPC, PROFILE_FIELDS, connected

H = bytes.fromhex


class Recording:
    """The emulator behind a tap that keeps every command APDU (a test double wrapper)."""

    def __init__(self, card: UsimCard, pull_after: int | None = None) -> None:
        self.card = card
        self.apdus: list[bytes] = []
        self.pull_after = pull_after

    def power_on(self) -> bytes:
        return self.card.power_on()

    def transmit(self, apdu: bytes) -> bytes:
        if self.pull_after is not None and len(self.apdus) >= self.pull_after:
            raise CardRemovedError("card removed from the test reader")
        self.apdus.append(apdu)
        return self.card.transmit(apdu)


@pytest.mark.parametrize(("model", "budget"), [("sja2", 59), ("provgw", 60)])
def test_blank_card_written_read_back_and_proven(
    profile: CardProfile, model: str, budget: int
) -> None:
    card = UsimCard.blank(model=model)
    report = write_card(connected(card), profile)
    assert report.proof is not None and report.proof.contexts == ("3G", "GSM")
    assert report.apdus == budget  # the target is <= 60 per card
    files = read_card(connected(card))["files"]
    assert files["usim_imsi"]["value"] == files["imsi"]["value"] == "001010000000102"
    assert files["spn"]["value"]["name"] == "Magic"
    assert files["msisdn"]["value"] == "+77776336143"
    assert files["smsp"]["value"] == "+8613800100500"
    assert files["ehplmn"]["value"] == ["001-01"]
    assert files["usim_ad"]["raw"] == "00000002"
    assert files["acc"]["raw"] == "0004"
    expected_iccid = "8988211000000467343" if model == "provgw" else ""
    assert files["iccid"]["value"] == expected_iccid  # SJA2: the ICCID is not rewritten


def test_key_files_hold_config_ki_opc(profile: CardProfile) -> None:
    card = UsimCard.blank()
    write_card(connected(card), profile)
    stored = card._state.files  # the emulator's EEPROM, inspected from outside
    expected = bytes([0x14]) + H(KI) + H(OPC)
    assert bytes(stored["3F00/A515/6F20"]) == bytes(stored["ADF.USIM/AF20"]) == expected


def test_rejected_adm_is_sent_once_and_never_retried(profile: CardProfile) -> None:
    card = Recording(UsimCard.blank(adm1="87654321"))
    with pytest.raises(AdmRejectedError) as info:
        write_card(connected(card), profile)  # type: ignore[arg-type]
    verifies = [a for a in card.apdus if a[1] == 0x20]
    assert len(verifies) == 1
    assert info.value.tries_left == 2
    assert "2 tries left" in str(info.value) and "Not retried" in str(info.value)
    assert ADM1 not in str(info.value)
    assert not [a for a in card.apdus if a[1] in (0xD6, 0xDC)]  # nothing written


def test_blocked_adm_says_so(profile: CardProfile) -> None:
    card = UsimCard.blank(adm1="87654321")
    for _ in range(3):
        with pytest.raises(AdmRejectedError):
            write_card(connected(card), profile)
    with pytest.raises(AdmRejectedError, match="blocked"):
        write_card(connected(card), profile)


def test_card_that_is_not_blank_is_refused(profile: CardProfile) -> None:
    card = UsimCard.blank()
    write_card(connected(card), profile)
    other = CardProfile.create({**PROFILE_FIELDS, "imsi": "001010000000103"})
    with pytest.raises(CardNotBlankError, match="not blank") as info:
        write_card(connected(card), other)
    assert "080910100000001020" in str(info.value)
    assert read_card(connected(card))["files"]["imsi"]["value"] == "001010000000102"
    write_card(connected(card), other, expect_blank=False)
    assert read_card(connected(card))["files"]["imsi"]["value"] == "001010000000103"


@pytest.mark.parametrize("pull_after", [8, 30, 52])
def test_card_pulled_mid_write_is_reported_half_written(
    profile: CardProfile, pull_after: int
) -> None:
    card = Recording(UsimCard.blank(model="provgw"), pull_after=pull_after)
    with pytest.raises(HalfWrittenCardError) as info:
        write_card(connected(card), profile)  # type: ignore[arg-type]
    err = info.value
    plan = [w.name for w in PROVGW.plan(profile)]
    assert err.written and err.not_written
    assert err.written + err.not_written == plan
    assert isinstance(err.cause, CardRemovedError)
    assert "HALF-WRITTEN" in str(err) and "IMSI (MF/7F20/6F07)" in str(err)


def test_card_pulled_during_the_proof_is_not_reported_done(profile: CardProfile) -> None:
    card = Recording(UsimCard.blank(model="provgw"), pull_after=58)
    with pytest.raises(HalfWrittenCardError) as info:
        write_card(connected(card), profile)  # type: ignore[arg-type]
    assert info.value.not_written == ["key proof (AUTHENTICATE)"]


def test_wrong_key_fails_verification(profile: CardProfile) -> None:
    card = UsimCard.blank()
    write_card(connected(card), profile)
    wrong = CardProfile.create({**PROFILE_FIELDS, "ki": "00" * 16})
    with pytest.raises(VerificationError, match="MAC failure"):
        verify_card(connected(card), wrong, PROVGW)


def test_card_holding_other_keys_than_written_fails(profile: CardProfile) -> None:
    """Keys corrupted on the card after writing: the proof catches it, not the read-back."""
    card = UsimCard.blank()
    write_card(connected(card), profile)
    session = CardSession(connected(card))
    session.verify_adm(ADM1.encode())
    session.update_binary(FilePath.parse("ADF.USIM/AF20"), bytes([0x14]) + bytes(16) + H(OPC))
    with pytest.raises(VerificationError, match="MAC failure"):
        verify_card(connected(card), profile, PROVGW)


def test_verify_resynchronises_once(profile: CardProfile) -> None:
    card = UsimCard.blank()
    first = write_card(connected(card), profile)
    again = verify_card(connected(card), profile, PROVGW)
    assert first.proof is not None and not first.proof.resynchronised
    assert again.proof.resynchronised and again.proof.sqn > first.proof.sqn


def test_sja2_refuses_a_profile_for_another_card(profile: CardProfile) -> None:
    card = UsimCard.blank(model="sja2")
    session = CardSession(connected(card))
    session.verify_adm(ADM1.encode())
    session.update_binary(FilePath.parse("MF/2FE2"), Iccid().encode("8988211000000467350"))
    with pytest.raises(WrongCardError, match="8988211000000467350"):
        write_card(connected(card), profile)
    assert SJA2.writes_iccid is False


def test_comp128v1_profile_is_proven_in_the_gsm_context() -> None:
    p = CardProfile.create({**PROFILE_FIELDS, "algorithm": "comp128v1", "opc": None})
    report = write_card(connected(UsimCard.blank()), p)
    assert report.proof is not None and report.proof.contexts == ("GSM",)


def test_challenge_with_a_network_vector(profile: CardProfile) -> None:
    """An HLR's RAND/AUTN/XRES: the card's RES must equal XRES."""
    card = UsimCard.blank()
    write_card(connected(card), profile, prove=False)
    hlr = Milenage(H(KI), H(OPC))
    rand = H("23553cbe9637a89d218ae64dae47bf35")
    sqn = (7 << 5).to_bytes(6, "big")
    result = challenge(connected(card), rand, hlr.autn(rand, sqn, b"\x80\x00"))
    xres, ck, ik, _, _ = hlr.f2345(rand)
    assert (result.res, result.ck, result.ik) == (xres, ck, ik)
    replay = challenge(connected(card), rand, hlr.autn(rand, sqn, b"\x80\x00"))
    assert replay.sync_failure and replay.auts is not None
    assert hlr.sqn_from_auts(rand, replay.auts) == sqn
    with pytest.raises(AuthenticationRejectedError):
        challenge(connected(card), rand, Milenage(bytes(16), H(OPC)).autn(rand, sqn, b"\0\0"))
    gsm = gsm_challenge(connected(card), rand)
    assert gsm.sres == H("46f8416a") and gsm.kc == H("eae4be823af9a08b")  # TS 55.205 set 1


def test_reading_a_pin1_protected_card(profile: CardProfile) -> None:
    card = UsimCard.blank()
    write_card(connected(card), profile)
    _, sw = connected(card).transmit(bytes.fromhex("002800010831323334ffffffff"))  # ENABLE PIN1
    assert sw == 0x9000
    locked = read_card(connected(card))["files"]["imsi"]
    assert locked["error"] == "not readable (6982)"
    unlocked = read_card(connected(card), pin1=b"1234\xff\xff\xff\xff")["files"]["imsi"]
    assert unlocked["value"] == "001010000000102"


def test_each_file_is_selected_once(profile: CardProfile) -> None:
    card = Recording(UsimCard.blank(model="sja2"))
    write_card(connected(card), profile)  # type: ignore[arg-type]
    selects = [a for a in card.apdus if a[1] == 0xA4]
    plan = SJA2.plan(profile)
    assert len(selects) == len(plan) + 2  # + EF.ICCID check + ADF.USIM by AID
    assert sum(1 for a in selects if a[2] == 0x04) == 1
