"""Proving what is on a card: read-back comparison and the AUTHENTICATE challenge.

Ki and OPc can never be read back from a real card, so the only proof that a card holds the
profile's keys is to challenge it: build RAND/AUTN from the profile's Ki/OPc with a fresh SQN
(exactly what an HLR/AuC does), let the card check the MAC and answer, and compare RES/CK/IK
with our own Milenage — then the GSM context (SRES/Kc), which on sysmocom cards exercises the
other key file. `challenge()` is the card half on its own, for a vector that came from the
network (an HLR's RAND/AUTN/XRES) when an account is opened.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from simcard.a3a8 import comp128v1
from simcard.errors import (
    AuthenticationRejectedError,
    FileMissingError,
    StatusWordError,
    VerificationError,
)
from simcard.milenage import Milenage, c2, c3
from simcard.models import CardModel, FileWrite
from simcard.profile import CardProfile, pin_code
from simcard.session import SW_OK, CardSession, describe_sw
from simcard.transport import Transport

CONTEXT_GSM, CONTEXT_3G = 0x80, 0x81
IND_BITS = 5  # TS 33.102 Annex C.3.2, as osmo-hlr uses it
PROOF_IND = (1 << IND_BITS) - 1
"""The IND slot our proofs use: the last one, which HLRs hand out last (they number their
VLRs/SGSNs from 0), so the network's first vectors stay fresh after a proof."""
PROOF_AMF = b"\x80\x00"  # separation bit set, as an EPS network sends it
_SW_SYNC_OR_MAC = 0x9862


@dataclass(frozen=True)
class AuthResult:
    """A 3G AUTHENTICATE answer: RES/CK/IK (and Kc), or a sync failure carrying AUTS."""

    res: bytes = b""
    ck: bytes = field(default=b"", repr=False)
    ik: bytes = field(default=b"", repr=False)
    kc: bytes | None = field(default=None, repr=False)
    auts: bytes | None = None

    @property
    def sync_failure(self) -> bool:
        return self.auts is not None


@dataclass(frozen=True)
class GsmResult:
    sres: bytes
    kc: bytes = field(repr=False)


def _session(card: Transport | CardSession) -> CardSession:
    return card if isinstance(card, CardSession) else CardSession(card)


def _lv_fields(data: bytes) -> list[bytes]:
    fields, i = [], 0
    while i < len(data):
        n = data[i]
        fields.append(data[i + 1 : i + 1 + n])
        i += 1 + n
    return fields


def challenge(card: Transport | CardSession, rand: bytes, autn: bytes) -> AuthResult:
    """AUTHENTICATE in the 3G context with a given RAND/AUTN (from us or from an HLR).

    Raises AuthenticationRejectedError on a MAC failure (the card's keys differ from the ones
    that built AUTN); a sync failure is an answer, not an error: `result.auts` is set.
    """
    if len(rand) != 16 or len(autn) != 16:
        raise ValueError("RAND and AUTN must be 16 bytes each")
    data, sw = _session(card).authenticate(CONTEXT_3G, b"\x10" + rand + b"\x10" + autn)
    if sw == _SW_SYNC_OR_MAC:
        raise AuthenticationRejectedError(
            "card rejected AUTN (MAC failure): it holds other keys than the challenge's"
        )
    if sw != SW_OK:
        raise StatusWordError("AUTHENTICATE (3G)", sw, describe_sw(sw))
    if data[:1] == b"\xdc":
        return AuthResult(auts=_lv_fields(data[1:])[0])
    if data[:1] != b"\xdb":
        raise StatusWordError("AUTHENTICATE (3G)", sw, f"unknown answer tag {data[:1].hex()}")
    parts = _lv_fields(data[1:])
    if len(parts) < 3:
        raise StatusWordError("AUTHENTICATE (3G)", sw, "answer without RES/CK/IK")
    return AuthResult(parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else None)


def gsm_challenge(card: Transport | CardSession, rand: bytes) -> GsmResult:
    """AUTHENTICATE in the GSM context: SRES and Kc for RAND (TS 31.102 §7.1.2.1)."""
    if len(rand) != 16:
        raise ValueError("RAND must be 16 bytes")
    data, sw = _session(card).authenticate(CONTEXT_GSM, b"\x10" + rand)
    if sw != SW_OK:
        raise StatusWordError("AUTHENTICATE (GSM)", sw, describe_sw(sw))
    if len(data) == 14 and data[0] == 4 and data[5] == 8:
        return GsmResult(data[1:5], data[6:14])
    if len(data) == 12:
        return GsmResult(data[:4], data[4:])
    raise StatusWordError("AUTHENTICATE (GSM)", sw, f"unexpected answer of {len(data)} bytes")


@dataclass(frozen=True)
class Proof:
    """What the key proof established: the SQN accepted, and whether a resync was needed."""

    sqn: int
    resynchronised: bool
    contexts: tuple[str, ...]


def next_sqn(sqn_ms: int, ind: int = PROOF_IND) -> int:
    """The first SQN in slot `ind` fresher than the card's highest accepted SQN."""
    return (((sqn_ms >> IND_BITS) + 1) << IND_BITS) | ind


def prove_keys(
    card: Transport | CardSession, profile: CardProfile, *, sqn: int | None = None
) -> Proof:
    """Challenge the card with the profile's keys (3G, then GSM context); raise on mismatch.

    A sync failure is resolved once: SQN_MS is recovered from AUTS (checking its MAC-S, which
    itself proves the keys) and the challenge repeated with the next fresh SQN.
    """
    session = _session(card)
    rand = secrets.token_bytes(16)
    problems: list[str] = []
    contexts: list[str] = []
    resynced = False
    sqn = next_sqn(0) if sqn is None else sqn
    ki, opc = profile.ki_bytes, profile.opc_bytes
    if profile.algorithm == "milenage":
        assert opc is not None
        m = Milenage(ki, opc)
        try:
            result = challenge(session, rand, m.autn(rand, sqn.to_bytes(6, "big"), PROOF_AMF))
            if result.sync_failure:
                assert result.auts is not None
                sqn_ms = m.sqn_from_auts(rand, result.auts)
                if sqn_ms is None:
                    raise VerificationError(["AUTS from the card does not verify (MAC-S)"])
                sqn, resynced = next_sqn(int.from_bytes(sqn_ms, "big")), True
                result = challenge(session, rand, m.autn(rand, sqn.to_bytes(6, "big"), PROOF_AMF))
        except AuthenticationRejectedError:
            raise VerificationError(
                ["3G AUTHENTICATE: MAC failure — the card's Ki/OPc differ"]
            ) from None
        if result.sync_failure:
            raise VerificationError(["3G AUTHENTICATE: still out of sync after a resync"])
        res, ck, ik, _, _ = m.f2345(rand)
        expected = {"RES": res, "CK": ck, "IK": ik}
        got = {"RES": result.res, "CK": result.ck, "IK": result.ik}
        problems += [f"3G AUTHENTICATE: {k} differs" for k in expected if expected[k] != got[k]]
        if result.kc is not None and result.kc != c3(ck, ik):
            problems.append("3G AUTHENTICATE: Kc differs from c3(CK, IK)")
        contexts.append("3G")
        sres, kc = c2(res), c3(ck, ik)
    else:
        sres, kc = comp128v1(ki, rand)
    gsm = gsm_challenge(session, rand)
    if gsm.sres != sres:
        problems.append("GSM AUTHENTICATE: SRES differs")
    if gsm.kc != kc:
        problems.append("GSM AUTHENTICATE: Kc differs")
    contexts.append("GSM")
    if problems:
        raise VerificationError(problems)
    return Proof(sqn, resynced, tuple(contexts))


def read_back(session: CardSession, write: FileWrite, size: int) -> bytes:
    """The current content of the file (or record) a write targets, `size` bytes."""
    if write.record:
        return session.read_record(write.path, write.record)
    return session.read_binary(write.path, size)


def compare(write: FileWrite, expected: bytes, found: bytes) -> str | None:
    """A problem description when `found` differs (secrets are never shown), else None."""
    if found == expected:
        return None
    if write.secret:
        return f"{write.name}: differs"
    return f"{write.name}: card has {found.hex()}, profile needs {expected.hex()}"


@dataclass(frozen=True)
class VerifyReport:
    """The result of `verify_card`: files compared, files absent, the key proof."""

    checked: tuple[str, ...]
    absent: tuple[str, ...]
    proof: Proof
    apdus: int


def verify_card(
    card: Transport | CardSession, profile: CardProfile, model: CardModel
) -> VerifyReport:
    """Read every file the model writes for `profile`, compare, then prove the keys.

    Key files are skipped (unreadable on real cards); AUTHENTICATE stands in for them. Raises
    VerificationError listing every difference.
    """
    session = _session(card)
    start = session.transport.apdu_count
    if profile.pin1 is not None:
        session.verify_pin1(pin_code(profile.pin1.get_secret_value()))
    problems, checked, absent = [], [], []
    for write in model.plan(profile):
        if write.secret:
            continue
        try:
            fcp = session.select(write.path)
        except FileMissingError:
            if write.optional:
                absent.append(write.name)
                continue
            problems.append(f"{write.name}: no such file on the card")
            continue
        size = fcp.record_length if write.record else fcp.size
        expected = write.content(size)
        found = read_back(session, write, size)
        problem = compare(write, expected, found)
        if problem:
            problems.append(problem)
        checked.append(write.name)
    try:
        proof = prove_keys(session, profile)
    except VerificationError as exc:
        problems += exc.problems
        raise VerificationError(problems) from None
    if problems:
        raise VerificationError(problems)
    return VerifyReport(tuple(checked), tuple(absent), proof, session.transport.apdu_count - start)
