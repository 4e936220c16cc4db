"""Personalising a blank card from a profile, in as few APDUs as the card allows.

Per file: one SELECT (the FCP gives the size, so nothing is read to learn it), one UPDATE of
the whole file, one READ to compare — then AUTHENTICATE proves the keys. The ADM code is
presented once; a refusal stops everything (three wrong tries lock a card for good). If the
card leaves the reader or refuses a command part-way, the error lists what was and was not
written: a half-written card is never reported as done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from simcard.codec import is_blank
from simcard.errors import (
    CardLayerError,
    CardNotBlankError,
    FileMissingError,
    HalfWrittenCardError,
    VerificationError,
    WrongCardError,
)
from simcard.files import FilePath
from simcard.identities import Iccid
from simcard.models import CardModel, FileWrite, detect
from simcard.profile import CardProfile, ProfileError
from simcard.session import CardSession
from simcard.transport import Transport
from simcard.verifier import Proof, compare, prove_keys, read_back

ICCID_PATH = FilePath.parse("MF/2FE2")


@dataclass(frozen=True)
class CardReport:
    """A card written, read back and proven: what was done and what it cost.

    `iccid` is the ICCID the card carries afterwards: the profile's when this model has it
    written (`iccid_written`), else the card's own as read before writing ("" when blank) —
    an SJA2 keeps the ICCID it was made with, so nothing may claim it was written.
    """

    model: str
    iccid: str
    imsi: str
    written: tuple[str, ...]
    skipped: tuple[str, ...]
    proof: Proof | None
    apdus: int
    elapsed_ms: float
    iccid_written: bool = True

    def summary(self) -> str:
        """One line saying what was written and what the card already had."""
        proof = "verified by AUTHENTICATE" if self.proof else "read back (keys not proven)"
        if self.iccid_written:
            return f"{self.model}: ICCID {self.iccid}, IMSI {self.imsi} written and {proof}"
        kept = (
            f"ICCID {self.iccid} is the card's own (this model keeps it)"
            if self.iccid
            else "ICCID not written (this model keeps its own, and this card's is blank)"
        )
        return f"{self.model}: IMSI {self.imsi} written and {proof}; {kept}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "iccid": self.iccid,
            "iccid_written": self.iccid_written,
            "imsi": self.imsi,
            "written": list(self.written),
            "skipped": list(self.skipped),
            "verified": self.proof is not None,
            "sqn": self.proof.sqn if self.proof else None,
            "resynchronised": self.proof.resynchronised if self.proof else None,
            "apdus": self.apdus,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def write_card(
    transport: Transport,
    profile: CardProfile,
    *,
    model: CardModel | None = None,
    adm1: bytes | None = None,
    expect_blank: bool = True,
    prove: bool = True,
) -> CardReport:
    """Write `profile` to the card behind `transport`, read every file back, prove the keys.

    `model` defaults to the one matching the ATR; `adm1` (8 bytes as sent) to the profile's.
    Raises ProfileError, UnknownCardError, WrongCardError, AdmRejectedError or
    CardNotBlankError before anything is written, HalfWrittenCardError once something was.
    """
    started, first_apdu = time.perf_counter(), transport.apdu_count
    atr = transport.atr or transport.connect()
    model = model or detect(atr)
    try:
        plan = model.plan(profile)
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    adm = adm1 or profile.adm1_code
    if adm is None:
        raise ProfileError("adm1: the card's ADM1 is needed to write it")
    session = CardSession(transport)
    iccid = profile.iccid if model.writes_iccid else _check_iccid(session, profile, model)
    session.verify_adm(adm)
    written, skipped = _write_all(session, plan, expect_blank=expect_blank)
    proof = None
    if prove:
        try:
            proof = prove_keys(session, profile)
        except VerificationError:
            raise
        except CardLayerError as exc:
            raise HalfWrittenCardError(written, ["key proof (AUTHENTICATE)"], exc) from exc
    return CardReport(
        model.name,
        iccid,
        profile.imsi,
        tuple(written),
        tuple(skipped),
        proof,
        transport.apdu_count - first_apdu,
        (time.perf_counter() - started) * 1000,
        iccid_written=model.writes_iccid,
    )


def _check_iccid(session: CardSession, profile: CardProfile, model: CardModel) -> str:
    """On cards whose ICCID stays as made, make sure the profile is for this very card;
    returns the card's ICCID ("" when its EF.ICCID is blank)."""
    on_card = Iccid().decode(session.read_binary(ICCID_PATH, Iccid.size))
    if on_card and on_card != profile.iccid:
        raise WrongCardError(
            f"this {model.name} has ICCID {on_card}, the profile is for {profile.iccid} "
            "(the ICCID of this model cannot be rewritten)"
        )
    return on_card


def _write_all(
    session: CardSession, plan: list[FileWrite], *, expect_blank: bool
) -> tuple[list[str], list[str]]:
    written: list[str] = []
    skipped: list[str] = []
    blank_checked = not expect_blank
    for i, write in enumerate(plan):
        try:
            try:
                fcp = session.select(write.path)
            except FileMissingError:
                if not write.optional:
                    raise
                skipped.append(write.name)
                continue
            size = fcp.record_length if write.record else fcp.size
            data = write.content(size)
            if not blank_checked and write.label == "IMSI":
                _check_blank(session, write, size)
                blank_checked = True
            if write.record:
                session.update_record(write.path, write.record, data)
            else:
                session.update_binary(write.path, data)
            written.append(write.name)
            if not write.secret:
                problem = compare(write, data, read_back(session, write, size))
                if problem:
                    raise VerificationError([problem])
        except (CardLayerError, ValueError) as exc:
            if not written:
                raise
            rest = [w.name for w in plan[i:] if w.name not in written]
            raise HalfWrittenCardError(written, rest, exc) from exc
    return written, skipped


def _check_blank(session: CardSession, write: FileWrite, size: int) -> None:
    current = read_back(session, write, size)
    if not is_blank(current):
        raise CardNotBlankError(
            f"card is not blank: {write.name} already holds {current.hex()} "
            "(write with expect_blank=False / --not-blank to overwrite)"
        )
