"""SMPP 3.4 PDUs as the gateway (an ESME) sends and receives them.

Only what an ESME needs: binds, submit_sm, deliver_sm (receipts), enquire_link, unbind,
generic_nack, and the optional parameters (TLVs) that go with them. The layout of every body
is the SMPP 3.4 specification's (section 4); C-octet strings are NUL-terminated ASCII with the
specification's maximum lengths, checked on encoding so that an SMSC never sees a field it
would have to cut.

The emulator (`emulators.smsc`) has its own codec on purpose: a misreading of the
specification in one cannot hide behind the same misreading in the other.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
MAX_PDU = 64 * 1024  # generous: a short_message is at most 254 octets, message_payload 64 KiB
RESPONSE_BIT = 0x80000000
MAX_SEQUENCE = 0x7FFFFFFF
INTERFACE_VERSION = 0x34


class Command(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015


class Status(IntEnum):
    """command_status values (SMPP 3.4, 5.1.3); the names are the specification's."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVESMCLASS = 0x43
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


def status_name(code: int) -> str:
    """``ESME_RTHROTTLED`` for 0x58; the hex value for codes the specification leaves to vendors."""
    try:
        return Status(code).name
    except ValueError:
        return f"0x{code:08X}"


class Tag(IntEnum):
    """Optional parameter tags the gateway reads or writes."""

    RECEIPTED_MESSAGE_ID = 0x001E
    USER_MESSAGE_REFERENCE = 0x0204
    MESSAGE_PAYLOAD = 0x0424
    MESSAGE_STATE = 0x0427
    SC_INTERFACE_VERSION = 0x0210


class PduError(ValueError):
    """Bytes that are not a well-formed PDU (or a field too long to send)."""


@dataclass(frozen=True, slots=True)
class Pdu:
    command_id: int
    status: int
    sequence: int
    body: bytes = b""

    def encode(self) -> bytes:
        return (
            HEADER.pack(HEADER.size + len(self.body), self.command_id, self.status, self.sequence)
            + self.body
        )

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)


def frames(buffer: bytearray) -> list[Pdu]:
    """Take every complete PDU off the front of ``buffer`` (which keeps the rest).

    Raises `PduError` when a length is impossible: the stream is then out of step for good.
    """
    pdus = []
    offset = 0
    available = len(buffer)
    while available - offset >= HEADER.size:
        length, command_id, status, sequence = HEADER.unpack_from(buffer, offset)
        if not HEADER.size <= length <= MAX_PDU:
            raise PduError(f"command_length {length} out of range")
        if available - offset < length:
            break
        body = bytes(buffer[offset + HEADER.size : offset + length])
        pdus.append(Pdu(command_id, status, sequence, body))
        offset += length
    del buffer[:offset]
    return pdus


@dataclass(frozen=True, slots=True)
class Address:
    ton: int
    npi: int
    addr: str


@dataclass(frozen=True)
class ShortMessage:
    """The body shared by submit_sm and deliver_sm (SMPP 3.4, 4.4.1 and 4.6.1)."""

    source: Address
    destination: Address
    short_message: bytes
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    service_type: str = ""
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    replace_if_present_flag: int = 0
    sm_default_msg_id: int = 0
    tlvs: dict[int, bytes] = field(default_factory=dict)

    def encode(self) -> bytes:
        if len(self.short_message) > 254:
            raise PduError("short_message: longer than 254 octets")
        out = bytearray()
        out += _cstring("service_type", self.service_type, 6)
        out += _address("source_addr", self.source, 21)
        out += _address("destination_addr", self.destination, 21)
        out += bytes((self.esm_class, self.protocol_id, self.priority_flag))
        out += _cstring("schedule_delivery_time", self.schedule_delivery_time, 17)
        out += _cstring("validity_period", self.validity_period, 17)
        out += bytes(
            (
                self.registered_delivery,
                self.replace_if_present_flag,
                self.data_coding,
                self.sm_default_msg_id,
                len(self.short_message),
            )
        )
        out += self.short_message
        out += encode_tlvs(self.tlvs)
        return bytes(out)

    @classmethod
    def decode(cls, body: bytes) -> ShortMessage:
        reader = _Reader(body)
        service_type = reader.cstring("service_type", 6)
        source = Address(reader.byte(), reader.byte(), reader.cstring("source_addr", 21))
        destination = Address(reader.byte(), reader.byte(), reader.cstring("destination_addr", 21))
        esm_class, protocol_id, priority_flag = reader.byte(), reader.byte(), reader.byte()
        schedule = reader.cstring("schedule_delivery_time", 17)
        validity = reader.cstring("validity_period", 17)
        registered, replace, coding, default_id = (reader.byte() for _ in range(4))
        message = reader.octets("short_message", reader.byte())
        return cls(
            source=source,
            destination=destination,
            short_message=message,
            esm_class=esm_class,
            registered_delivery=registered,
            data_coding=coding,
            service_type=service_type,
            protocol_id=protocol_id,
            priority_flag=priority_flag,
            schedule_delivery_time=schedule,
            validity_period=validity,
            replace_if_present_flag=replace,
            sm_default_msg_id=default_id,
            tlvs=reader.tlvs(),
        )


def bind_body(
    system_id: str,
    password: str,
    system_type: str = "",
    address_range: str = "",
    addr_ton: int = 0,
    addr_npi: int = 0,
) -> bytes:
    """The body of bind_transmitter/receiver/transceiver (4.1.1); the password is a secret:
    never log the result."""
    return (
        _cstring("system_id", system_id, 16)
        + _cstring("password", password, 9, secret=True)
        + _cstring("system_type", system_type, 13)
        + bytes((INTERFACE_VERSION, addr_ton, addr_npi))
        + _cstring("address_range", address_range, 41)
    )


def message_id_body(message_id: str) -> bytes:
    """The body of submit_sm_resp and deliver_sm_resp (the latter's message_id is empty)."""
    return _cstring("message_id", message_id, 65)


def decode_message_id(body: bytes) -> str:
    """message_id of a submit_sm_resp; empty when an error response left the body out."""
    return _Reader(body).cstring("message_id", 65) if body else ""


def decode_system_id(body: bytes) -> str:
    """system_id of a bind_*_resp (the SMSC's name); empty when the body was left out."""
    return _Reader(body).cstring("system_id", 16) if body else ""


def encode_tlvs(tlvs: dict[int, bytes]) -> bytes:
    return b"".join(struct.pack(">HH", tag, len(value)) + value for tag, value in tlvs.items())


def _cstring(name: str, value: str, size: int, *, secret: bool = False) -> bytes:
    """``value`` as a C-octet string of at most ``size`` octets including the NUL."""
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        raise PduError(f"{name}: ASCII only") from None
    if b"\0" in raw or len(raw) >= size:
        shown = "****" if secret else repr(value)
        raise PduError(f"{name}: {shown} longer than {size - 1} characters or with a NUL")
    return raw + b"\0"


def _address(name: str, address: Address, size: int) -> bytes:
    return bytes((address.ton, address.npi)) + _cstring(name, address.addr, size)


class _Reader:
    __slots__ = ("_at", "_body")

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._at = 0

    def byte(self) -> int:
        if self._at >= len(self._body):
            raise PduError("body ends early")
        value = self._body[self._at]
        self._at += 1
        return value

    def cstring(self, name: str, size: int) -> str:
        end = self._body.find(b"\0", self._at, self._at + size)
        if end < 0:
            raise PduError(f"{name}: no NUL within {size} octets")
        raw = self._body[self._at : end]
        self._at = end + 1
        return raw.decode("ascii", errors="replace")

    def octets(self, name: str, count: int) -> bytes:
        if self._at + count > len(self._body):
            raise PduError(f"{name}: body ends early")
        raw = self._body[self._at : self._at + count]
        self._at += count
        return raw

    def tlvs(self) -> dict[int, bytes]:
        tlvs = {}
        while self._at < len(self._body):
            if len(self._body) - self._at < 4:
                raise PduError("optional parameter: header cut short")
            tag, length = struct.unpack_from(">HH", self._body, self._at)
            self._at += 4
            tlvs[tag] = self.octets(f"optional parameter 0x{tag:04X}", length)
        return tlvs
