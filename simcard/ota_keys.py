"""OTA key sets and what they compute: the KIc/KID coding, ciphers and checksums of SCP80.

ETSI TS 102 225 §5.1.2–5.1.3 (as 3GPP TS 31.115 uses it over SMS). The KIc byte names the
ciphering algorithm and key version; the KID byte the checksum algorithm (a cryptographic
checksum, CC, or a redundancy check, RC) and key version:

| KIc / KID low nibble | KIc (ciphering)            | KID for CC             | KID for RC |
|---|---|---|---|
| 0x0                  | known implicitly           | known implicitly       | implicit   |
| 0x1                  | DES-CBC                    | DES CBC-MAC            | CRC16      |
| 0x5                  | 3DES-CBC, two keys         | 3DES CBC-MAC, two keys | CRC32      |
| 0x9                  | 3DES-CBC, three keys       | 3DES CBC-MAC, 3 keys   |            |
| 0xD                  | DES-ECB                    | (reserved)             |            |
| 0x2                  | AES-CBC (128/192/256)      | AES-CMAC               |            |

High nibble: the key version number (1–15) of the key set. Block ciphers run with a zero IV;
ciphering pads with zeros to the block size (the packet's PCNTR says how many), the DES MACs
pad with zeros internally (the padding is not sent), AES-CMAC needs no padding. The checksum
is 8 bytes (the last CBC block for DES/3DES, CMAC truncated for AES), the RC 2 or 4 bytes
(CRC-16 and CRC-32 of ISO/IEC 13239, as HDLC and zlib compute them). pySim's SCP80 code
agrees; its known answers from sysmoISIM-SJA5 cards are in tests/simcard/test_scp80.py.

DES and two-key 3DES are legacy but still what most deployed cards use; `cryptography` keeps
TripleDES in its `decrepit` module for that reason.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from enum import Enum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

CC_LENGTH = 8


class OtaKeyError(ValueError):
    """A key or algorithm that cannot be used: wrong length, unknown coding."""


class Ciphering(Enum):
    """KIc algorithms (low nibble of KIc)."""

    DES_CBC = 0x1
    TDES2_CBC = 0x5
    TDES3_CBC = 0x9
    DES_ECB = 0xD
    AES_CBC = 0x2

    @property
    def block_size(self) -> int:
        return 16 if self is Ciphering.AES_CBC else 8

    def check_key(self, key: bytes) -> None:
        wanted = {
            Ciphering.DES_CBC: (8,),
            Ciphering.DES_ECB: (8,),
            Ciphering.TDES2_CBC: (16,),
            Ciphering.TDES3_CBC: (24,),
            Ciphering.AES_CBC: (16, 24, 32),
        }[self]
        if len(key) not in wanted:
            raise OtaKeyError(f"KIc for {self.name} must be {' or '.join(map(str, wanted))} bytes")

    def encrypt(self, key: bytes, data: bytes) -> bytes:
        encryptor = self._cipher(key).encryptor()
        return encryptor.update(data) + encryptor.finalize()

    def decrypt(self, key: bytes, data: bytes) -> bytes:
        if len(data) % self.block_size:
            raise OtaKeyError(f"ciphertext is not whole {self.block_size}-byte blocks")
        decryptor = self._cipher(key).decryptor()
        return decryptor.update(data) + decryptor.finalize()

    def _cipher(self, key: bytes) -> Cipher[modes.CBC | modes.ECB]:
        self.check_key(key)
        # ECB only because TS 102 225 defines a DES-ECB KIc coding that old cards may use.
        mode: modes.CBC | modes.ECB = (
            modes.ECB()  # noqa: S305
            if self is Ciphering.DES_ECB
            else modes.CBC(bytes(self.block_size))
        )
        if self is Ciphering.AES_CBC:
            return Cipher(algorithms.AES(key), mode)
        # Single DES is 3DES with K1 = K2 = K3, two-key 3DES is K3 = K1: spelt out as the
        # 24-byte key `cryptography` wants (it deprecates the short forms, not the maths).
        full = {8: key * 3, 16: key + key[:8]}.get(len(key), key)
        return Cipher(TripleDES(full), mode)


class Checksum(Enum):
    """KID algorithms: cryptographic checksums (CC) and redundancy checks (RC)."""

    DES_MAC = 0x1
    TDES2_MAC = 0x5
    TDES3_MAC = 0x9
    AES_CMAC = 0x2
    CRC16 = 0x11  # RC codings share KID values with the CCs; the SPI tells them apart
    CRC32 = 0x15

    @property
    def is_crc(self) -> bool:
        return self in (Checksum.CRC16, Checksum.CRC32)

    @property
    def kid_nibble(self) -> int:
        return self.value & 0x0F

    @property
    def length(self) -> int:
        return {Checksum.CRC16: 2, Checksum.CRC32: 4}.get(self, CC_LENGTH)

    def check_key(self, key: bytes) -> None:
        if self.is_crc:
            return
        cipher = {
            Checksum.DES_MAC: Ciphering.DES_CBC,
            Checksum.TDES2_MAC: Ciphering.TDES2_CBC,
            Checksum.TDES3_MAC: Ciphering.TDES3_CBC,
            Checksum.AES_CMAC: Ciphering.AES_CBC,
        }[self]
        try:
            cipher.check_key(key)
        except OtaKeyError as exc:
            raise OtaKeyError(str(exc).replace("KIc", "KID")) from None

    def compute(self, key: bytes, data: bytes) -> bytes:
        """The checksum of `data` (the DES MACs pad it with zeros to whole blocks first)."""
        self.check_key(key)
        if self is Checksum.CRC32:
            return zlib.crc32(data).to_bytes(4, "big")
        if self is Checksum.CRC16:
            return _crc16_x25(data).to_bytes(2, "big")
        if self is Checksum.AES_CMAC:
            mac = CMAC(algorithms.AES(key))
            mac.update(data)
            return mac.finalize()[:CC_LENGTH]
        padded = data + bytes(-len(data) % 8)
        cipher = {
            Checksum.DES_MAC: Ciphering.DES_CBC,
            Checksum.TDES2_MAC: Ciphering.TDES2_CBC,
            Checksum.TDES3_MAC: Ciphering.TDES3_CBC,
        }[self]
        return cipher.encrypt(key, padded)[-CC_LENGTH:]

    @classmethod
    def for_kid(cls, nibble: int, *, crc: bool) -> Checksum:
        value = nibble | (0x10 if crc else 0)
        try:
            return cls(value)
        except ValueError:
            kind = "RC" if crc else "CC"
            raise OtaKeyError(f"KID algorithm {nibble:X} is not a known {kind} coding") from None


def _crc16_x25(data: bytes) -> int:
    """CRC-16 of ISO/IEC 13239 (HDLC FCS): polynomial 0x1021 reflected, init and xorout FFFF."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


@dataclass(frozen=True)
class KeySet:
    """One OTA key set of a card: its version (KVN 1–15) with KIc and KID and their algorithms.

    Keys never appear in repr(); the gateway keeps them sealed like Ki.
    """

    version: int
    ciphering: Ciphering
    kic: bytes = field(repr=False)
    checksum: Checksum
    kid: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.version <= 15:
            raise OtaKeyError(f"key set version must be 1-15, got {self.version}")
        self.ciphering.check_key(self.kic)
        self.checksum.check_key(self.kid)

    @property
    def kic_byte(self) -> int:
        return self.version << 4 | self.ciphering.value

    @property
    def kid_byte(self) -> int:
        return self.version << 4 | self.checksum.kid_nibble

    @classmethod
    def tdes(cls, version: int, kic: bytes, kid: bytes) -> KeySet:
        """The common legacy set: 3DES two-key CBC for ciphering, 3DES two-key CBC-MAC."""
        return cls(version, Ciphering.TDES2_CBC, kic, Checksum.TDES2_MAC, kid)

    @classmethod
    def aes(cls, version: int, kic: bytes, kid: bytes) -> KeySet:
        """AES-CBC for ciphering, AES-CMAC for the checksum (128, 192 or 256-bit keys)."""
        return cls(version, Ciphering.AES_CBC, kic, Checksum.AES_CMAC, kid)
