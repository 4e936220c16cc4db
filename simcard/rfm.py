"""Remote file management (ETSI TS 102 226): command scripts and what the card answers.

An RFM script is a list of C-APDUs for the RFM application addressed by the TAR:
- compact format (§5.1): the APDUs back to back, each `CLA INS P1 P2 P3 [data]`; the card
  answers with the number of commands executed, the status word of the last one and the
  response data of the last one (`01 9000 …`);
- expanded format (§5.2): a command scripting template `AA` of C-APDU TLVs `22`; the card
  answers with a response scripting template `AB` holding `80` (number of commands executed)
  and one R-APDU TLV `23` (data + SW) per command — so READs earlier in the script return
  their data too. The indefinite-length variants (`AE`/`AF`, `80 … 00 00`) are read as well.
The card stops at the first command that fails; the answer says how far it got.

TARs (TS 101 220 reserves B00000–B0FFFF for RFM): sysmocom cards answer B00010 with the UICC
file system (the MF) selected and B00011 with ADF.USIM selected (pySim's test notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from simcard.tlv import TlvError, encode_length, parse, parse_one, tlv

TAR_UICC_RFM = bytes.fromhex("b00010")
TAR_USIM_RFM = bytes.fromhex("b00011")

_COMMAND_TEMPLATE, _COMMAND_TEMPLATE_INDEFINITE = 0xAA, 0xAE
_RESPONSE_TEMPLATE, _RESPONSE_TEMPLATE_INDEFINITE = 0xAB, 0xAF
C_APDU, R_APDU = 0x22, 0x23
NUMBER_EXECUTED = 0x80
IMMEDIATE_ACTION_RESPONSE, BAD_FORMAT, SCRIPT_CHAINING_RESPONSE = 0x81, 0x90, 0x83
BAD_FORMAT_REASONS = {1: "unknown tag", 2: "wrong length", 3: "length missing"}


class Format(Enum):
    COMPACT = "compact"
    EXPANDED = "expanded"


class RfmError(ValueError):
    """An RFM script or answer that cannot be read; `bad_format` is the TS 102 226 reason code
    (1 unknown tag, 2 wrong length, 3 length missing) a card reports for a script."""

    def __init__(self, message: str, bad_format: int = 2) -> None:
        super().__init__(message)
        self.bad_format = bad_format


# -- building commands ------------------------------------------------------------------------


def _apdu(ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    out = bytes([0x00, ins, p1, p2])
    if data:
        out += bytes([len(data)]) + data
    if le is not None:
        out += bytes([le & 0xFF])
    return out


def select(fid: int) -> bytes:
    """SELECT by FID without FCP (P2 0C): nothing to fetch, the script goes on."""
    return _apdu(0xA4, 0x00, 0x0C, fid.to_bytes(2, "big"))


def select_path(*fids: int) -> list[bytes]:
    return [select(fid) for fid in fids]


def read_binary(length: int, offset: int = 0) -> bytes:
    return _apdu(0xB0, offset >> 8, offset & 0xFF, le=length)


def update_binary(data: bytes, offset: int = 0) -> bytes:
    if not 0 < len(data) <= 255:
        raise ValueError("UPDATE BINARY carries 1-255 bytes")
    return _apdu(0xD6, offset >> 8, offset & 0xFF, data)


def read_record(number: int, length: int) -> bytes:
    return _apdu(0xB2, number, 0x04, le=length)


def update_record(number: int, data: bytes) -> bytes:
    return _apdu(0xDC, number, 0x04, data)


def script(
    apdus: Sequence[bytes], fmt: Format = Format.COMPACT, *, indefinite: bool = False
) -> bytes:
    """The RFM command data for `apdus` in the chosen format."""
    if not apdus:
        raise ValueError("an RFM script needs at least one command")
    if fmt is Format.COMPACT:
        return b"".join(apdus)
    body = b"".join(tlv(C_APDU, apdu) for apdu in apdus)
    if indefinite:
        return bytes([_COMMAND_TEMPLATE_INDEFINITE, 0x80]) + body + b"\x00\x00"
    return tlv(_COMMAND_TEMPLATE, body)


# INS of the commands whose P3 is Le (case 2): in the compact format nothing else tells a card
# where an APDU ends.
_P3_IS_LE = frozenset({0xB0, 0xB2, 0xC0, 0xF2, 0xCA, 0x12})


@dataclass(frozen=True)
class Script:
    """A script as the card reads it: its format, the C-APDUs, the indefinite form or not."""

    fmt: Format
    apdus: tuple[bytes, ...]
    indefinite: bool = False


def read_script(data: bytes) -> Script:
    """Split RFM command data into C-APDUs (the card's side). An expanded script starts with
    its template tag AA/AE; anything else is compact."""
    if data[:1] in (bytes([_COMMAND_TEMPLATE]), bytes([_COMMAND_TEMPLATE_INDEFINITE])):
        try:
            tag, body = parse_one(data, indefinite_ok=True)
            apdus = []
            for inner, value in parse(body):
                if inner != C_APDU:
                    raise RfmError(f"unknown tag {inner:02X} in the command script", 1)
                apdus.append(value)
        except TlvError as exc:
            raise RfmError(f"command script: {exc}", 2) from None
        return Script(Format.EXPANDED, tuple(apdus), tag == _COMMAND_TEMPLATE_INDEFINITE)
    apdus, i = [], 0
    while i < len(data):
        if i + 5 > len(data):
            raise RfmError(
                f"compact script: {len(data) - i} bytes left, not a whole APDU header", 3
            )
        p3 = data[i + 4]
        end = i + 5 + (0 if data[i + 1] in _P3_IS_LE else p3)
        if end > len(data):
            raise RfmError(f"compact script: APDU at byte {i} announces {p3} bytes, fewer follow")
        apdus.append(data[i:end])
        i = end
    return Script(Format.COMPACT, tuple(apdus))


# -- reading answers --------------------------------------------------------------------------


@dataclass(frozen=True)
class RApdu:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw >> 8 in (0x90, 0x91, 0x61)


@dataclass(frozen=True)
class RfmResult:
    """What the RFM application did: commands executed and their answers.

    Compact answers carry only the last R-APDU; expanded ones all of them. `problem` is the
    card's complaint about the script itself (bad format, immediate action or chaining error).
    """

    executed: int
    responses: tuple[RApdu, ...] = field(default=())
    problem: str = ""

    @property
    def last(self) -> RApdu | None:
        return self.responses[-1] if self.responses else None

    def completed(self, commands: int) -> bool:
        """All `commands` ran and the last one succeeded."""
        last = self.last
        return not self.problem and self.executed == commands and last is not None and last.ok


def read_result(data: bytes, fmt: Format) -> RfmResult:
    """The RFM part of a PoR's response data."""
    if fmt is Format.COMPACT:
        if len(data) < 3:
            raise RfmError(f"compact RFM answer of {len(data)} bytes (at least 3 expected)")
        sw = int.from_bytes(data[1:3], "big")
        return RfmResult(data[0], (RApdu(data[3:], sw),))
    try:
        tag, body = parse_one(data, indefinite_ok=True)
        if tag not in (_RESPONSE_TEMPLATE, _RESPONSE_TEMPLATE_INDEFINITE):
            raise RfmError(f"expanded RFM answer starts with {tag:02X}, not AB/AF")
        executed, responses, problem = None, [], ""
        for inner, value in parse(body):
            if inner == NUMBER_EXECUTED:
                executed = value[0] if value else 0
            elif inner == R_APDU:
                if len(value) < 2:
                    raise RfmError("R-APDU without a status word")
                responses.append(RApdu(value[:-2], int.from_bytes(value[-2:], "big")))
            elif inner == BAD_FORMAT:
                reason = BAD_FORMAT_REASONS.get(value[0] if value else 0, "unknown reason")
                problem = f"bad format: {reason}"
            elif inner == IMMEDIATE_ACTION_RESPONSE:
                problem = f"immediate action error {value.hex()}"
            elif inner == SCRIPT_CHAINING_RESPONSE:
                problem = f"script chaining error {value.hex()}"
    except TlvError as exc:
        raise RfmError(f"expanded RFM answer: {exc}") from None
    return RfmResult(len(responses) if executed is None else executed, tuple(responses), problem)


def expanded_response(
    responses: Sequence[RApdu],
    *,
    problem: tuple[int, bytes] | None = None,
    indefinite: bool = False,
) -> bytes:
    """A response scripting template (the card's side of the expanded format)."""
    body = tlv(NUMBER_EXECUTED, bytes([len(responses)]))
    body += b"".join(tlv(R_APDU, r.data + r.sw.to_bytes(2, "big")) for r in responses)
    if problem is not None:
        body += tlv(*problem)
    if indefinite:
        return bytes([_RESPONSE_TEMPLATE_INDEFINITE, 0x80]) + body + b"\x00\x00"
    return bytes([_RESPONSE_TEMPLATE]) + encode_length(len(body)) + body


def compact_response(executed: int, last: RApdu) -> bytes:
    """The compact answer (the card's side): count, last SW, last response data."""
    return bytes([executed]) + last.sw.to_bytes(2, "big") + last.data
