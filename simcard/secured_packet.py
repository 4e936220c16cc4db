"""SCP80 secured packets over SMS: the command packet, the response packet (PoR) and the SPI.

ETSI TS 102 225 (structure and security) with 3GPP TS 31.115 (the SMS dialect):

    command packet   CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) | CNTR(5) PCNTR(1) RC/CC/DS data
    response (PoR)   RPL(2) RHL(1) TAR(3) | CNTR(5) PCNTR(1) status(1) RC/CC/DS data

The part after `|` is what ciphering covers (when the SPI asks for it), padded with zeros to
the cipher's block size; PCNTR counts the padding. In SMS the command packet follows the user
data header `02 70 00` (IEI 70, the command packet identifier) and the PoR `02 71 00`.
What the checksum covers differs between the two, as sysmoISIM-SJA5 cards compute it (pySim's
known answers, tests/simcard/test_scp80.py): for a command, CPL through the (padded) data with
the checksum left out; for a PoR, the user data header `02 71 00` too.

Both directions are here: the sender wraps commands and unwraps PoRs; a card (the emulator,
which computes exactly what a real card computes) unwraps commands and wraps PoRs. A card that
finds a packet it cannot trust (unknown TAR or keys, bad padding, wrong checksum) answers with
an unsecured PoR — no checksum, not ciphered — which `unwrap_response` accepts only as an
error report (`Por.authenticated` false), never as a success.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from simcard.ota_keys import Checksum, KeySet, OtaKeyError

COMMAND_UDH = bytes([0x02, 0x70, 0x00])  # UDHL 2, IEI 70 (CPI), length 0
RESPONSE_UDH = bytes([0x02, 0x71, 0x00])  # UDHL 2, IEI 71 (RPI), length 0
COUNTER_MAX = (1 << 40) - 1
_HEADER = 13  # SPI(2) KIc KID TAR(3) CNTR(5) PCNTR — the command header without its checksum
_RESPONSE_HEADER = 10  # TAR(3) CNTR(5) PCNTR status


class SecuredPacketError(ValueError):
    """A packet that cannot be built or read; `status` is the PoR status a card answers."""

    def __init__(self, message: str, status: PorStatus) -> None:
        super().__init__(message)
        self.status = status


class Integrity(IntEnum):
    """SPI byte 1 b2b1 (and byte 2 b4b3 for the PoR): what protects the packet."""

    NONE = 0
    RC = 1
    CC = 2
    DS = 3


class CounterMode(IntEnum):
    """SPI byte 1 b5b4: how the receiving entity treats CNTR (TS 102 225 §5.1.1)."""

    NONE = 0  # no counter
    AVAILABLE = 1  # counter available, no replay or sequence checking
    HIGHER = 2  # process only if higher than the card's counter
    NEXT = 3  # process only if exactly one higher than the card's counter


class PorMode(IntEnum):
    """SPI byte 2 b2b1: whether a PoR is sent."""

    NONE = 0
    ALWAYS = 1
    ON_ERROR = 2


class PorStatus(IntEnum):
    """Response status codes, TS 102 225 table 5.5 and TS 31.115 (0B, 0C)."""

    OK = 0x00
    CHECKSUM_FAILED = 0x01  # RC/CC/DS failed
    COUNTER_LOW = 0x02
    COUNTER_HIGH = 0x03
    COUNTER_BLOCKED = 0x04
    CIPHERING_ERROR = 0x05
    SECURITY_ERROR = 0x06  # unidentified security error
    INSUFFICIENT_MEMORY = 0x07
    MORE_TIME = 0x08
    TAR_UNKNOWN = 0x09
    INSUFFICIENT_SECURITY = 0x0A
    RESPONSE_BY_SMS_SUBMIT = 0x0B  # actual response data follows in an SMS-SUBMIT
    RESPONSE_BY_USSD = 0x0C  # actual response data follows by USSD

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    PorStatus.OK: "PoR OK",
    PorStatus.CHECKSUM_FAILED: "RC/CC/DS failed: the card did not accept the checksum",
    PorStatus.COUNTER_LOW: "counter low: the card has seen this counter or a higher one",
    PorStatus.COUNTER_HIGH: "counter high: more than one above the card's counter",
    PorStatus.COUNTER_BLOCKED: "counter blocked: the card's counter is exhausted",
    PorStatus.CIPHERING_ERROR: "ciphering error: the card could not decipher the packet",
    PorStatus.SECURITY_ERROR: "unidentified security error (e.g. no such key set on the card)",
    PorStatus.INSUFFICIENT_MEMORY: "insufficient memory to process the message",
    PorStatus.MORE_TIME: "more time needed: the card is still processing",
    PorStatus.TAR_UNKNOWN: "TAR unknown: no application on the card has this TAR",
    PorStatus.INSUFFICIENT_SECURITY: "insufficient security level for the addressed application",
    PorStatus.RESPONSE_BY_SMS_SUBMIT: "the actual response follows in an SMS-SUBMIT",
    PorStatus.RESPONSE_BY_USSD: "the actual response follows by USSD",
}
UNSECURED_STATUSES = frozenset(
    {
        PorStatus.CHECKSUM_FAILED,
        PorStatus.CIPHERING_ERROR,
        PorStatus.SECURITY_ERROR,
        PorStatus.TAR_UNKNOWN,
    }
)
"""Errors found before the card could trust the keys: their PoR is neither signed nor
ciphered."""


@dataclass(frozen=True)
class Spi:
    """The two security parameter indication bytes (TS 102 225 §5.1.1, TS 31.115 §4.2)."""

    integrity: Integrity = Integrity.CC
    ciphered: bool = True
    counter: CounterMode = CounterMode.HIGHER
    por: PorMode = PorMode.ALWAYS
    por_integrity: Integrity = Integrity.CC
    por_ciphered: bool = True
    por_by_submit: bool = False  # PoR in an SMS-SUBMIT rather than the SMS-DELIVER-REPORT

    def encode(self) -> bytes:
        first = self.integrity | (0x04 if self.ciphered else 0) | self.counter << 3
        second = (
            self.por
            | self.por_integrity << 2
            | (0x10 if self.por_ciphered else 0)
            | (0x20 if self.por_by_submit else 0)
        )
        return bytes([first, second])

    @classmethod
    def decode(cls, data: bytes) -> Spi:
        first, second = data[0], data[1]
        por = second & 0x03
        if por == 3:
            raise SecuredPacketError("SPI: PoR coding 11 is reserved", PorStatus.SECURITY_ERROR)
        return cls(
            Integrity(first & 0x03),
            bool(first & 0x04),
            CounterMode(first >> 3 & 0x03),
            PorMode(por),
            Integrity(second >> 2 & 0x03),
            bool(second & 0x10),
            bool(second & 0x20),
        )


def _checksum_algorithm(keys: KeySet | None, integrity: Integrity) -> Checksum | None:
    """What protects a packet: nothing, a CRC (no key needed) or the key set's checksum."""
    if integrity is Integrity.NONE:
        return None
    if integrity is Integrity.DS:
        raise SecuredPacketError(
            "digital signatures (DS) are not supported", PorStatus.SECURITY_ERROR
        )
    if integrity is Integrity.RC:
        return keys.checksum if keys is not None and keys.checksum.is_crc else Checksum.CRC32
    if keys is None:
        raise SecuredPacketError("no key set with this version", PorStatus.SECURITY_ERROR)
    if keys.checksum.is_crc:
        raise SecuredPacketError(
            "the SPI asks for a cryptographic checksum but the key set has only a CRC",
            PorStatus.SECURITY_ERROR,
        )
    return keys.checksum


def _pad(length: int, keys: KeySet, ciphered: bool) -> int:
    return -length % keys.ciphering.block_size if ciphered else 0


@dataclass(frozen=True)
class CommandPacket:
    """A command packet as the card reads it: who it is for and what it carries."""

    spi: Spi
    kic: int
    kid: int
    tar: bytes
    counter: int
    data: bytes


def wrap_command(keys: KeySet, spi: Spi, tar: bytes, counter: int, data: bytes) -> bytes:
    """The command packet from CPL on (the SMS user data header `02 70 00` goes before it)."""
    if len(tar) != 3:
        raise ValueError("TAR must be 3 bytes")
    if not 0 <= counter <= COUNTER_MAX:
        raise ValueError(f"counter must fit in 5 bytes (0..{COUNTER_MAX})")
    algorithm = _checksum_algorithm(keys, spi.integrity)
    checksum_len = algorithm.length if algorithm else 0
    pad = _pad(6 + checksum_len + len(data), keys, spi.ciphered)
    kid = (
        keys.kid_byte
        if not (algorithm and algorithm.is_crc)
        else (keys.version << 4 | algorithm.kid_nibble)
    )
    head = bytes([_HEADER + checksum_len]) + spi.encode() + bytes([keys.kic_byte, kid]) + tar
    counters = counter.to_bytes(5, "big") + bytes([pad])
    body = data + bytes(pad)
    cpl = (len(head) + len(counters) + checksum_len + len(body)).to_bytes(2, "big")
    checksum = algorithm.compute(keys.kid, cpl + head + counters + body) if algorithm else b""
    secured = counters + checksum + body
    if spi.ciphered:
        secured = keys.ciphering.encrypt(keys.kic, secured)
    return cpl + head + secured


def read_command_header(packet: bytes) -> tuple[Spi, int, int, bytes]:
    """SPI, KIc, KID and TAR of a command packet — what a card needs to find the keys."""
    if len(packet) < 2 + 1 + 7:
        raise SecuredPacketError("command packet shorter than its header", PorStatus.SECURITY_ERROR)
    cpl = int.from_bytes(packet[:2], "big")
    if cpl != len(packet) - 2:
        raise SecuredPacketError(
            f"CPL says {cpl} bytes follow, {len(packet) - 2} do", PorStatus.SECURITY_ERROR
        )
    spi = Spi.decode(packet[3:5])
    return spi, packet[5], packet[6], packet[7:10]


def unwrap_command(packet: bytes, keys: KeySet | None) -> CommandPacket:
    """A card's reading of a command packet (CPL on): deciphered, checksum verified.

    `keys` is the card's key set named by KIc/KID (None when the card has none: then only an
    unprotected packet can be read). Raises SecuredPacketError with the PoR status to answer.
    Counters are the caller's business (`check_counter`), as is the TAR.
    """
    spi, kic, kid, tar = read_command_header(packet)
    chl = packet[2]
    if spi.ciphered and keys is None:
        raise SecuredPacketError("no key set with this version", PorStatus.SECURITY_ERROR)
    algorithm = _card_checksum(keys, spi.integrity, kid)
    checksum_len = algorithm.length if algorithm else 0
    if chl != _HEADER + checksum_len:
        raise SecuredPacketError(f"CHL {chl} does not fit the SPI", PorStatus.SECURITY_ERROR)
    secured = packet[10:]
    if spi.ciphered:
        assert keys is not None
        if kic & 0x0F not in (0, keys.ciphering.value):
            raise SecuredPacketError(
                "KIc names another algorithm than the card's key", PorStatus.SECURITY_ERROR
            )
        try:
            secured = keys.ciphering.decrypt(keys.kic, secured)
        except OtaKeyError as exc:
            raise SecuredPacketError(str(exc), PorStatus.CIPHERING_ERROR) from None
    if len(secured) < 6 + checksum_len:
        raise SecuredPacketError(
            "secured data shorter than CNTR, PCNTR and checksum", PorStatus.CIPHERING_ERROR
        )
    counters, checksum, body = (
        secured[:6],
        secured[6 : 6 + checksum_len],
        secured[6 + checksum_len :],
    )
    pad = counters[5]
    if pad > len(body) or any(body[len(body) - pad :]):
        raise SecuredPacketError(
            f"padding counter {pad} does not match the data", PorStatus.CIPHERING_ERROR
        )
    if algorithm is not None:
        expected = algorithm.compute(keys.kid if keys else b"", packet[:10] + counters + body)
        if expected != checksum:
            raise SecuredPacketError("checksum does not verify", PorStatus.CHECKSUM_FAILED)
    return CommandPacket(
        spi, kic, kid, tar, int.from_bytes(counters[:5], "big"), body[: len(body) - pad]
    )


def _card_checksum(keys: KeySet | None, integrity: Integrity, kid: int) -> Checksum | None:
    """The checksum a card verifies: the CRC the KID names (no key needed), or the key set's
    cryptographic checksum, which the KID must name (or leave implicit)."""
    nibble = kid & 0x0F
    if integrity is Integrity.RC:
        try:
            return Checksum.for_kid(nibble or Checksum.CRC32.kid_nibble, crc=True)
        except OtaKeyError as exc:
            raise SecuredPacketError(str(exc), PorStatus.SECURITY_ERROR) from None
    algorithm = _checksum_algorithm(keys, integrity)
    if algorithm is None or keys is None:
        return algorithm
    if nibble not in (0, keys.checksum.kid_nibble):
        raise SecuredPacketError(
            "KID names another algorithm than the card's key", PorStatus.SECURITY_ERROR
        )
    return keys.checksum


def check_counter(mode: CounterMode, received: int, card: int) -> PorStatus | None:
    """The card's replay rule: None to proceed, else the PoR status to refuse with.

    The card's counter at its maximum blocks every counted packet: counters never wrap.
    """
    if mode in (CounterMode.NONE, CounterMode.AVAILABLE):
        return None
    if card >= COUNTER_MAX:
        return PorStatus.COUNTER_BLOCKED
    if received <= card:
        return PorStatus.COUNTER_LOW
    if mode is CounterMode.NEXT and received != card + 1:
        return PorStatus.COUNTER_HIGH
    return None


@dataclass(frozen=True)
class Por:
    """A proof of receipt: status, the counter it answers, the response data (RFM results).

    `authenticated` says the PoR's checksum verified (or none was asked for); an unsecured
    error PoR is readable but proves nothing about the card's keys.
    """

    tar: bytes
    counter: int
    status: PorStatus
    data: bytes = b""
    authenticated: bool = True

    @property
    def ok(self) -> bool:
        return self.status is PorStatus.OK


def wrap_response(keys: KeySet | None, spi: Spi, por: Por) -> bytes:
    """The PoR as SMS user data, `02 71 00` first (a card's side).

    Statuses the card cannot vouch for (UNSECURED_STATUSES) go out unsigned and in clear.
    """
    secure = por.status not in UNSECURED_STATUSES
    if keys is None and (spi.por_ciphered or spi.por_integrity is Integrity.CC):
        secure = False  # nothing to sign or cipher with: an unsecured report
    algorithm = _checksum_algorithm(keys, spi.por_integrity) if secure else None
    ciphered = secure and spi.por_ciphered
    checksum_len = algorithm.length if algorithm else 0
    pad = _pad(7 + checksum_len + len(por.data), keys, ciphered) if keys else 0
    body = por.data + bytes(pad)
    rhl = _RESPONSE_HEADER + checksum_len
    rpl = (1 + rhl + len(body)).to_bytes(2, "big")
    counters = por.counter.to_bytes(5, "big") + bytes([pad, por.status])
    head = rpl + bytes([rhl]) + por.tar
    checksum = b""
    if algorithm is not None:
        checksum = algorithm.compute(
            keys.kid if keys else b"", RESPONSE_UDH + head + counters + body
        )
    secured = counters + checksum + body
    if ciphered and keys is not None:
        secured = keys.ciphering.encrypt(keys.kic, secured)
    return RESPONSE_UDH + head + secured


def unwrap_response(user_data: bytes, keys: KeySet, spi: Spi) -> Por:
    """Read a PoR (SMS user data from `02 71 00` on) with the key set of the command it
    answers, deciphering and verifying as the command's SPI asked.

    Raises SecuredPacketError (status CHECKSUM_FAILED or CIPHERING_ERROR) when the PoR does
    not verify: a forged or garbled PoR never reads as a success.
    """
    if user_data[:3] != RESPONSE_UDH:
        raise SecuredPacketError(
            "not a response packet (no 02 71 00 header)", PorStatus.SECURITY_ERROR
        )
    packet = user_data[3:]
    if len(packet) < 3 + _RESPONSE_HEADER:
        raise SecuredPacketError(
            "response packet shorter than its header", PorStatus.SECURITY_ERROR
        )
    rpl, rhl = int.from_bytes(packet[:2], "big"), packet[2]
    if rpl != len(packet) - 2:
        raise SecuredPacketError(
            f"RPL says {rpl} bytes follow, {len(packet) - 2} do", PorStatus.SECURITY_ERROR
        )
    tar, secured = packet[3:6], packet[6:]
    algorithm = _checksum_algorithm(keys, spi.por_integrity)
    protected = algorithm is not None or spi.por_ciphered
    if protected and rhl == _RESPONSE_HEADER and len(secured) == 7 and secured[6] != 0:
        # an error the card could not (or would not) secure: readable, proves nothing
        return Por(
            tar, int.from_bytes(secured[:5], "big"), _status(secured[6]), authenticated=False
        )
    checksum_len = algorithm.length if algorithm else 0
    if rhl != _RESPONSE_HEADER + checksum_len:
        raise SecuredPacketError(f"RHL {rhl} does not fit the SPI", PorStatus.CHECKSUM_FAILED)
    if spi.por_ciphered:
        try:
            secured = keys.ciphering.decrypt(keys.kic, secured)
        except OtaKeyError as exc:
            raise SecuredPacketError(str(exc), PorStatus.CIPHERING_ERROR) from None
    counters, checksum = secured[:7], secured[7 : 7 + checksum_len]
    body = secured[7 + checksum_len :]
    pad = counters[5]
    if pad > len(body) or any(body[len(body) - pad :]):
        raise SecuredPacketError("PoR padding does not match its data", PorStatus.CIPHERING_ERROR)
    if algorithm is not None:
        expected = algorithm.compute(keys.kid, RESPONSE_UDH + packet[:6] + counters + body)
        if expected != checksum:
            raise SecuredPacketError("PoR checksum does not verify", PorStatus.CHECKSUM_FAILED)
    status = _status(counters[6])
    return Por(tar, int.from_bytes(counters[:5], "big"), status, body[: len(body) - pad])


def _status(value: int) -> PorStatus:
    try:
        return PorStatus(value)
    except ValueError:
        raise SecuredPacketError(
            f"unknown PoR status {value:02X}", PorStatus.SECURITY_ERROR
        ) from None
