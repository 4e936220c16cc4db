"""The authentication centre: UMTS vectors from the stored Ki/OPc, and SQN resynchronisation.

A real AuC computes exactly this (Milenage, TS 35.206), so the emulator uses the same
`simcard.milenage` the card emulator does; the MML command that asks for a vector is provgw's
lab extension (a real HLR hands vectors out over MAP/Diameter, see the contract).

Sequence numbers follow TS 33.102 Annex C.3.2 as osmo-hlr applies it: SQN = SEQ ‖ IND with a
5-bit IND; each vector takes the next SEQ of the card (one counter per KI record, kept in the
state) and the AuC's fixed IND slot. A card that has seen a higher SQN answers with AUTS; the
resynchronisation of TS 33.102 §6.3.5 recovers its SQN_MS, checks MAC-S and moves the counter
up to it, so the next vector is fresh.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from emulators.hlr.codes import CommandError, Outcome
from emulators.hlr.state import SQN_LIMIT, AuthRecord, HlrState
from simcard.milenage import Milenage

IND_BITS = 5
"""The IND length osmo-hlr uses by default (ind-bitlen 5): SEQ steps by 32 in the SQN."""
DEFAULT_AMF = "0000"
"""AMF of a 2G/3G HLR's vectors, as osmo-hlr sends it: the separation bit (AMF bit 0, set
only in EPS vectors, TS 33.401 Annex H) is clear; an HSS would send 8000."""

_AMF = re.compile(r"[0-9A-Fa-f]{4}\Z")


def random_rand() -> bytes:
    """A RAND from the operating system's CSPRNG, as an AuC must draw it."""
    return secrets.token_bytes(16)


@dataclass(frozen=True)
class Vector:
    """One UMTS authentication vector (quintuplet). XRES, CK and IK never show in a repr."""

    rand: bytes
    xres: bytes = field(repr=False)
    ck: bytes = field(repr=False)
    ik: bytes = field(repr=False)
    autn: bytes


def next_sqn(sqn: int, ind: int) -> int:
    """The SQN after `sqn` in slot `ind`: one SEQ further (Annex C.3.2).

    Raises NO_UMTS_AUTH when the 43-bit SEQ is used up: no fresher vector can exist.
    """
    following = (((sqn >> IND_BITS) + 1) << IND_BITS) | ind
    if following >= SQN_LIMIT:
        raise CommandError(Outcome.NO_UMTS_AUTH, "SQN: sequence numbers used up for this KI")
    return following


class AuthCentre:
    """Vector generation and resynchronisation for the KI records of an `HlrState`.

    `amf` is 4 hex digits; `ind` the IND slot of every vector (0–31: one requester, the
    provisioning gateway, so one slot; 31 is left to the card writer's own proof);
    `rand` makes the 16-byte RANDs (random by default; tests inject fixed ones).
    """

    def __init__(
        self,
        *,
        amf: str = DEFAULT_AMF,
        ind: int = 0,
        rand: Callable[[], bytes] = random_rand,
    ) -> None:
        if not _AMF.match(amf):
            raise ValueError("amf: expected 4 hexadecimal digits (16 bits), e.g. 0000 or 8000")
        if isinstance(ind, bool) or not 0 <= ind < 1 << IND_BITS:
            raise ValueError(f"ind: expected an IND slot from 0 to {(1 << IND_BITS) - 1}")
        self.amf = bytes.fromhex(amf)
        self.ind = ind
        self._rand = rand

    def vector(self, state: HlrState, imsi: str) -> Vector:
        """A fresh vector for `imsi`, its SQN recorded in the state.

        RECORD_NOT_DEFINED without a KI; NO_UMTS_AUTH for a 2G SIM or a KI without OPc.
        """
        record = state.auth(imsi)
        milenage = _milenage(record)
        sqn = next_sqn(record.sqn, self.ind)
        rand = self._rand()
        autn = milenage.autn(rand, sqn.to_bytes(6, "big"), self.amf)
        xres, ck, ik, _, _ = milenage.f2345(rand)
        state.set_sqn(imsi, sqn)
        return Vector(rand=rand, xres=xres, ck=ck, ik=ik, autn=autn)

    def resynchronise(self, state: HlrState, imsi: str, rand: bytes, auts: bytes) -> None:
        """Take the card's SQN_MS from AUTS (TS 33.102 §6.3.5) so the next vector is fresh.

        MAC-S is always checked (AUTS_INVALID when it fails, nothing changes), even where
        §6.3.5 would skip it because the AuC's SQN is already ahead of the card's: a bad AUTS
        means the card and the HLR disagree, which is worth saying. The counter only ever
        moves up.
        """
        record = state.auth(imsi)
        sqn_ms = _milenage(record).sqn_from_auts(rand, auts)
        if sqn_ms is None:
            raise CommandError(
                Outcome.AUTS_INVALID, f"AUTS: MAC-S does not verify with this RAND and {imsi}'s KI"
            )
        card = int.from_bytes(sqn_ms, "big")
        if record.sqn >> IND_BITS >= card >> IND_BITS:
            return  # the next vector's SEQ already exceeds the card's
        next_sqn(card, self.ind)  # a fresher SQN must exist before the counter moves
        state.set_sqn(imsi, card)


def _milenage(record: AuthRecord) -> Milenage:
    if record.alg != "MILENAGE":
        raise CommandError(
            Outcome.NO_UMTS_AUTH, f"IMSI: {record.imsi} has ALG={record.alg}, a 2G SIM"
        )
    if record.opc is None:
        raise CommandError(Outcome.NO_UMTS_AUTH, f"IMSI: {record.imsi} has no OPc loaded")
    return Milenage(bytes.fromhex(record.ki), bytes.fromhex(record.opc))
