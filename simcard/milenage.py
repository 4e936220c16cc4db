"""Milenage (3GPP TS 35.206) and the GSM conversion functions c2/c3 (TS 33.102 §6.8.1.2).

Shared by the card writer's verifier (computing a challenge from a profile's keys) and the
card emulator (a real card computes the same thing). AES-128 comes from `cryptography`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# TS 35.206 §4.1: rotation amounts r1..r5 (bits) and constants c1..c5 (128-bit).
_R = (64, 0, 32, 64, 96)
_C = tuple((v).to_bytes(16, "big") for v in (0, 1, 2, 4, 8))


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _rot(x: bytes, bits: int) -> bytes:
    n = bits // 8
    return x[n:] + x[:n]


def _aes(key: bytes) -> object:
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - single block E_K


def _encrypt(encryptor: object, block: bytes) -> bytes:
    return encryptor.update(block)  # type: ignore[attr-defined,no-any-return]


def opc_from_op(k: bytes, op: bytes) -> bytes:
    """OPc = E_K(OP) ⊕ OP."""
    _check(k, "K")
    _check(op, "OP")
    return _xor(_encrypt(_aes(k), op), op)


def _check(value: bytes, name: str, length: int = 16) -> None:
    if len(value) != length:
        raise ValueError(f"{name} must be {length} bytes, got {len(value)}")


@dataclass(frozen=True)
class AkaVector:
    """What f1–f5 produce for one RAND (all byte strings, sizes as in TS 35.206)."""

    mac_a: bytes  # 8
    mac_s: bytes  # 8
    res: bytes  # 8
    ck: bytes  # 16
    ik: bytes  # 16
    ak: bytes  # 6
    ak_star: bytes  # 6


class Milenage:
    """The Milenage functions for one subscriber key K and operator constant OPc."""

    def __init__(self, k: bytes, opc: bytes) -> None:
        _check(k, "K")
        _check(opc, "OPc")
        self._opc = opc
        self._enc = _aes(k)

    def _temp(self, rand: bytes) -> bytes:
        _check(rand, "RAND")
        return _encrypt(self._enc, _xor(rand, self._opc))

    def _out(self, temp: bytes, i: int) -> bytes:
        """OUTi for i in 2..5: E_K(rot(TEMP ⊕ OPc, ri) ⊕ ci) ⊕ OPc."""
        block = _xor(_rot(_xor(temp, self._opc), _R[i - 1]), _C[i - 1])
        return _xor(_encrypt(self._enc, block), self._opc)

    def f1(self, rand: bytes, sqn: bytes, amf: bytes) -> tuple[bytes, bytes]:
        """(MAC-A, MAC-S) for SQN (6 bytes) and AMF (2 bytes)."""
        _check(sqn, "SQN", 6)
        _check(amf, "AMF", 2)
        temp = self._temp(rand)
        in1 = sqn + amf + sqn + amf
        block = _xor(_xor(temp, _rot(_xor(in1, self._opc), _R[0])), _C[0])
        out1 = _xor(_encrypt(self._enc, block), self._opc)
        return out1[:8], out1[8:]

    def f2345(self, rand: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes]:
        """(RES, CK, IK, AK, AK*) for RAND."""
        temp = self._temp(rand)
        out2 = self._out(temp, 2)
        return out2[8:], self._out(temp, 3), self._out(temp, 4), out2[:6], self._out(temp, 5)[:6]

    def vector(self, rand: bytes, sqn: bytes, amf: bytes) -> AkaVector:
        mac_a, mac_s = self.f1(rand, sqn, amf)
        res, ck, ik, ak, ak_star = self.f2345(rand)
        return AkaVector(mac_a, mac_s, res, ck, ik, ak, ak_star)

    def autn(self, rand: bytes, sqn: bytes, amf: bytes) -> bytes:
        """AUTN = (SQN ⊕ AK) ‖ AMF ‖ MAC-A, as the HLR/AuC sends it."""
        mac_a, _ = self.f1(rand, sqn, amf)
        _, _, _, ak, _ = self.f2345(rand)
        return _xor(sqn, ak) + amf + mac_a

    def auts(self, rand: bytes, sqn_ms: bytes) -> bytes:
        """AUTS = (SQN_MS ⊕ AK*) ‖ MAC-S with AMF 0000 (TS 33.102 §6.3.3), for resync."""
        _, mac_s = self.f1(rand, sqn_ms, b"\x00\x00")
        _, _, _, _, ak_star = self.f2345(rand)
        return _xor(sqn_ms, ak_star) + mac_s

    def sqn_from_auts(self, rand: bytes, auts: bytes) -> bytes | None:
        """The card's SQN_MS recovered from AUTS, or None if its MAC-S does not check."""
        _check(auts, "AUTS", 14)
        _, _, _, _, ak_star = self.f2345(rand)
        sqn_ms = _xor(auts[:6], ak_star)
        _, mac_s = self.f1(rand, sqn_ms, b"\x00\x00")
        return sqn_ms if mac_s == auts[6:] else None


def c2(res: bytes) -> bytes:
    """SRES from RES (TS 33.102 c2): XOR of the 4-byte words of RES."""
    if not 4 <= len(res) <= 16 or len(res) % 4:
        raise ValueError("RES must be 4 to 16 bytes in whole 32-bit words")
    sres = bytes(4)
    for i in range(0, len(res), 4):
        sres = _xor(sres, res[i : i + 4])
    return sres


def c3(ck: bytes, ik: bytes) -> bytes:
    """Kc from CK and IK (TS 33.102 c3): CK1⊕CK2⊕IK1⊕IK2 over 64-bit halves."""
    _check(ck, "CK")
    _check(ik, "IK")
    return _xor(_xor(ck[:8], ck[8:]), _xor(ik[:8], ik[8:]))
