"""SMPP 3.4 on the SMSC's side of the wire: commands, statuses, and PDU bodies as field tables.

Each body is a table of (name, kind) rows taken from the specification (section 4); one
decoder and one encoder walk any table, so a body's layout is written down once and can be
checked against the specification line by line. The gateway's adapter has its own codec
(`adapters.smpp.pdu`) on purpose: each side checks the other.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

HEADER_SIZE = 16
MAX_COMMAND_LENGTH = 64 * 1024
SHORT_MESSAGE_MAX = 254


class Cmd(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
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

    @property
    def response(self) -> Cmd:
        return Cmd(self | 0x80000000)


class Status(IntEnum):
    """The command_status values the emulator answers with (SMPP 3.4, 5.1.3)."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RINVESMCLASS = 0x43
    ESME_RTHROTTLED = 0x58
    ESME_RX_T_APPN = 0x64
    ESME_RINVOPTPARSTREAM = 0xC0


def status_label(code: int) -> str:
    try:
        return Status(code).name
    except ValueError:
        return f"0x{code:08X}"


class Kind(IntEnum):
    U8 = 1
    CSTRING = 2
    SHORT_MESSAGE = 3  # sm_length (one octet) then that many octets


# (name, kind, maximum C-string size including the NUL)
Row = tuple[str, Kind, int]

BIND: tuple[Row, ...] = (
    ("system_id", Kind.CSTRING, 16),
    ("password", Kind.CSTRING, 9),
    ("system_type", Kind.CSTRING, 13),
    ("interface_version", Kind.U8, 0),
    ("addr_ton", Kind.U8, 0),
    ("addr_npi", Kind.U8, 0),
    ("address_range", Kind.CSTRING, 41),
)
BIND_RESP: tuple[Row, ...] = (("system_id", Kind.CSTRING, 16),)
SHORT_MESSAGE: tuple[Row, ...] = (
    ("service_type", Kind.CSTRING, 6),
    ("source_addr_ton", Kind.U8, 0),
    ("source_addr_npi", Kind.U8, 0),
    ("source_addr", Kind.CSTRING, 21),
    ("dest_addr_ton", Kind.U8, 0),
    ("dest_addr_npi", Kind.U8, 0),
    ("destination_addr", Kind.CSTRING, 21),
    ("esm_class", Kind.U8, 0),
    ("protocol_id", Kind.U8, 0),
    ("priority_flag", Kind.U8, 0),
    ("schedule_delivery_time", Kind.CSTRING, 17),
    ("validity_period", Kind.CSTRING, 17),
    ("registered_delivery", Kind.U8, 0),
    ("replace_if_present_flag", Kind.U8, 0),
    ("data_coding", Kind.U8, 0),
    ("sm_default_msg_id", Kind.U8, 0),
    ("short_message", Kind.SHORT_MESSAGE, 0),
)
MESSAGE_ID: tuple[Row, ...] = (("message_id", Kind.CSTRING, 65),)

# Optional parameters (TLVs) the emulator reads or writes.
TAG_RECEIPTED_MESSAGE_ID = 0x001E
TAG_MESSAGE_PAYLOAD = 0x0424
TAG_MESSAGE_STATE = 0x0427
TAG_SC_INTERFACE_VERSION = 0x0210


class Malformed(ValueError):
    """A body that does not match its table; the message says which field."""


@dataclass
class Body:
    """A decoded body: the table's fields by name, plus optional parameters by tag."""

    values: dict[str, int | str | bytes] = field(default_factory=dict)
    tlvs: dict[int, bytes] = field(default_factory=dict)

    def text(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def number(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int)
        return value

    def octets(self, name: str) -> bytes:
        value = self.values[name]
        assert isinstance(value, bytes)
        return value


def decode(table: tuple[Row, ...], data: bytes) -> Body:
    body = Body()
    at = 0
    for name, kind, size in table:
        if kind is Kind.CSTRING:
            end = data.find(b"\x00", at, at + size)
            if end < 0:
                raise Malformed(f"{name}: not NUL-terminated within {size} octets")
            try:
                body.values[name] = data[at:end].decode("ascii")
            except UnicodeDecodeError:
                raise Malformed(f"{name}: not ASCII") from None
            at = end + 1
            continue
        if at >= len(data):
            raise Malformed(f"{name}: missing")
        if kind is Kind.U8:
            body.values[name] = data[at]
            at += 1
        else:
            length = data[at]
            if length > SHORT_MESSAGE_MAX or at + 1 + length > len(data):
                raise Malformed(f"{name}: sm_length {length} does not fit")
            body.values[name] = data[at + 1 : at + 1 + length]
            at += 1 + length
    while at < len(data):
        if at + 4 > len(data):
            raise Malformed("optional parameters: truncated header")
        tag, length = struct.unpack_from(">HH", data, at)
        if at + 4 + length > len(data):
            raise Malformed(f"optional parameter 0x{tag:04X}: truncated value")
        body.tlvs[tag] = data[at + 4 : at + 4 + length]
        at += 4 + length
    return body


def encode(
    table: tuple[Row, ...],
    values: dict[str, int | str | bytes],
    tlvs: dict[int, bytes] | None = None,
) -> bytes:
    out = bytearray()
    for name, kind, size in table:
        value = values.get(name, 0 if kind is Kind.U8 else "" if kind is Kind.CSTRING else b"")
        if kind is Kind.CSTRING:
            assert isinstance(value, str) and len(value) < size, name
            out += value.encode("ascii") + b"\x00"
        elif kind is Kind.U8:
            assert isinstance(value, int), name
            out.append(value)
        else:
            assert isinstance(value, bytes) and len(value) <= SHORT_MESSAGE_MAX, name
            out.append(len(value))
            out += value
    for tag, raw in (tlvs or {}).items():
        out += struct.pack(">HH", tag, len(raw)) + raw
    return bytes(out)


def pdu(command_id: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return struct.pack(">IIII", HEADER_SIZE + len(body), command_id, status, sequence) + body
