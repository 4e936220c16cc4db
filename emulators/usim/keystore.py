"""The card's OTA key sets and counters, kept where a sysmoISIM-SJA2 keeps them.

pySim's model of the SJA2 (pySim/sysmocom_sja2.py) names two records files in DF.SYSTEM
(A515): EF.0348_KEY (6F22) and EF.0348_COUNT (6F23). A key record is security domain (1),
key set version (1), a key byte — bit 8 MAC length (0: 8 bytes), bit 7 algorithm (0 DES,
1 AES), bits 6–4 key length / 8, bits 2–1 key type (0 KIc, 1 KID, 2 KIK) — and the key. A
counter record is security domain, key set version and the 5-byte counter. Being files, they
are persisted with the rest of the card and can be personalised with ADM1 like any file; the
key file is never readable.

Which algorithm a key serves follows from its type, AES bit and length: DES keys of 8, 16 or
24 bytes are single DES, two-key and three-key 3DES (CBC ciphering, CBC-MAC checksum); AES
keys are AES-CBC and AES-CMAC.
"""

from __future__ import annotations

from simcard.ota_keys import Checksum, Ciphering, KeySet

KEY_FILE = "3F00/A515/6F22"
COUNTER_FILE = "3F00/A515/6F23"
SECURITY_DOMAIN = 0x00
_KIC, _KID = 0, 1
_AES = 0x40


def key_records(keys: KeySet) -> list[bytes]:
    """The KIc and KID records of a key set (for personalising a card)."""
    aes = keys.ciphering is Ciphering.AES_CBC

    def record(key_type: int, key: bytes) -> bytes:
        kind = (_AES if aes else 0) | (len(key) // 8) << 3 | key_type
        return bytes([SECURITY_DOMAIN, keys.version, kind]) + key

    return [record(_KIC, keys.kic), record(_KID, keys.kid)]


def _records(content: bytes, length: int) -> list[bytes]:
    return [content[i : i + length] for i in range(0, len(content), length)]


def find_keys(content: bytes, record_length: int, version: int) -> KeySet | None:
    """The key set `version` of the key file, None when it lacks the KIc or the KID."""
    found: dict[int, tuple[bool, bytes]] = {}
    for record in _records(content, record_length):
        if record[0] != SECURITY_DOMAIN or record[1] != version:
            continue
        kind = record[2]
        key = record[3 : 3 + (kind >> 3 & 0x07) * 8]
        found[kind & 0x03] = (bool(kind & _AES), key)
    if _KIC not in found or _KID not in found:
        return None
    (kic_aes, kic), (kid_aes, kid) = found[_KIC], found[_KID]
    try:
        ciphering = Ciphering.AES_CBC if kic_aes else _DES_CIPHERING[len(kic)]
        checksum = Checksum.AES_CMAC if kid_aes else _DES_CHECKSUM[len(kid)]
        return KeySet(version, ciphering, kic, checksum, kid)
    except (KeyError, ValueError):
        return None  # a record the card cannot use is as good as none


_DES_CIPHERING = {8: Ciphering.DES_CBC, 16: Ciphering.TDES2_CBC, 24: Ciphering.TDES3_CBC}
_DES_CHECKSUM = {8: Checksum.DES_MAC, 16: Checksum.TDES2_MAC, 24: Checksum.TDES3_MAC}


def counter(content: bytes, record_length: int, version: int) -> int:
    """The card's counter for key set `version` (0 before the first counted packet)."""
    for record in _records(content, record_length):
        if record[0] == SECURITY_DOMAIN and record[1] == version:
            return int.from_bytes(record[2:7], "big")
    return 0


def with_counter(content: bytes, record_length: int, version: int, value: int) -> bytes:
    """The counter file with key set `version` at `value` (its record, or the first free one).

    Raises ValueError when every record belongs to another key set.
    """
    records = _records(content, record_length)
    new = bytes([SECURITY_DOMAIN, version]) + value.to_bytes(5, "big")
    new = new.ljust(record_length, b"\xff")
    for i, record in enumerate(records):
        if record[0] == SECURITY_DOMAIN and record[1] == version:
            records[i] = new
            return b"".join(records)
    for i, record in enumerate(records):
        if record == b"\xff" * record_length:
            records[i] = new
            return b"".join(records)
    raise ValueError("no room in EF.0348_COUNT for another key set's counter")
