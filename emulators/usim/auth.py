"""AUTHENTICATE: the card side of 3G AKA and of the GSM challenge.

Keys come from the sysmoISIM-SJA2 key files (layout.KEY_FILE_SIZE bytes: config, Ki, OP/OPc).
The 3G context checks MAC-A, then SQN freshness against the IND array (TS 33.102 Annex C.2.2,
SEQ > SEQ_MS[IND]; the optional Δ and age-limit checks are not made), and answers RES/CK/IK/Kc
or a resynchronisation token AUTS carrying the highest SQN accepted so far.
The GSM context runs COMP128 v1/v2/v3 when the 2G key file says so, else Milenage with the
c2/c3 conversion (TS 33.102 §6.8.1.2), as a USIM does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from comp128.comp128v1 import Comp128v1
from comp128.comp128v23 import Comp128v23

from emulators.usim.layout import KEY_FILE_SIZE
from emulators.usim.state import SqnState
from emulators.usim.status import Sw
from simcard.milenage import Milenage, c2, c3, opc_from_op

COMP128V1, COMP128V2, COMP128V3, MILENAGE = 1, 2, 3, 4
_VALUE_IS_OPC = 0x10


@dataclass(frozen=True)
class KeyFile:
    """One key file decoded: algorithm (config bits 0-3), Ki, and OPc (derived if OP)."""

    algorithm: int
    ki: bytes = field(repr=False)
    opc: bytes = field(repr=False)

    @classmethod
    def parse(cls, data: bytes) -> KeyFile:
        if len(data) != KEY_FILE_SIZE:
            raise ValueError(f"key file must be {KEY_FILE_SIZE} bytes")
        config, ki, op = data[0], data[1:17], data[17:33]
        opc = op if config & _VALUE_IS_OPC else opc_from_op(ki, op)
        return cls(config & 0x0F, ki, opc)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _lv(*values: bytes) -> bytes:
    return b"".join(bytes([len(v)]) + v for v in values)


def authenticate_3g(key: KeyFile, sqn_state: SqnState, rand: bytes, autn: bytes) -> bytes:
    """The response data of AUTHENTICATE P2=81: `DB …` on success, `DC 0E AUTS` on sync failure.

    Raises CardError `9862` when MAC-A does not check, `6985` when the key file is not set
    up for Milenage. Updates `sqn_state` (the caller persists it) only on success.
    """
    if key.algorithm != MILENAGE:
        raise Sw.CONDITIONS_NOT_SATISFIED.error()
    m = Milenage(key.ki, key.opc)
    res, ck, ik, ak, _ = m.f2345(rand)
    sqn, amf, mac = _xor(autn[:6], ak), autn[6:8], autn[8:16]
    if m.f1(rand, sqn, amf)[0] != mac:
        raise Sw.AUTH_MAC_FAILURE.error()
    sqn_value = int.from_bytes(sqn, "big")
    if not sqn_state.fresh(sqn_value):
        auts = m.auts(rand, sqn_state.highest.to_bytes(6, "big"))
        return b"\xdc" + _lv(auts)
    sqn_state.accept(sqn_value)
    return b"\xdb" + _lv(res, ck, ik, c3(ck, ik))


def authenticate_gsm(key: KeyFile, rand: bytes) -> tuple[bytes, bytes]:
    """(SRES, Kc) for RAND."""
    if key.algorithm == COMP128V1:
        sres, kc = Comp128v1().comp128v1(bytearray(key.ki), bytearray(rand))
    elif key.algorithm == COMP128V2:
        sres, kc = Comp128v23().comp128v2(bytearray(key.ki), bytearray(rand))
    elif key.algorithm == COMP128V3:
        sres, kc = Comp128v23().comp128v3(bytearray(key.ki), bytearray(rand))
    elif key.algorithm == MILENAGE:
        res, ck, ik, _, _ = Milenage(key.ki, key.opc).f2345(rand)
        return c2(res), c3(ck, ik)
    else:
        raise Sw.CONDITIONS_NOT_SATISFIED.error()
    return bytes(sres), bytes(kc)


def gsm_context_response(sres: bytes, kc: bytes) -> bytes:
    """TS 31.102 §7.1.2.1 GSM security context: LV-coded SRES and Kc."""
    return _lv(sres, kc)
