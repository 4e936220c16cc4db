"""IPA framing, the Osmocom multiplex under CTRL and GSUP, and its identity exchange (CCM).

Every IPA frame is ``len(2, big-endian) | proto(1) | body``, where ``len`` counts the body only.
Osmocom's own protocols share proto 0xEE and put one more byte, the extension, first in the
body: 0x00 for CTRL, 0x05 for GSUP. Proto 0xFE is CCM, the connection management that pings
and asks a peer who it is (ID_GET / ID_RESP).

Pure functions and one incremental decoder; no I/O, so that both the CTRL and the GSUP client
parse frames the same way and the framing can be tested byte by byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import NamedTuple

HEADER_LEN = 3
MAX_BODY = 0xFFFF


class Proto(IntEnum):
    CCM = 0xFE
    OSMO = 0xEE


class Ext(IntEnum):
    """The extension byte that opens the body of an Osmocom (0xEE) frame."""

    CTRL = 0x00
    GSUP = 0x05


class Ccm(IntEnum):
    """CCM message types (the first body byte of a 0xFE frame)."""

    PING = 0x00
    PONG = 0x01
    ID_GET = 0x04
    ID_RESP = 0x05
    ID_ACK = 0x06


class IdTag(IntEnum):
    """Identity tags a peer may ask for in ID_GET and answers in ID_RESP."""

    SERNR = 0x00
    UNITNAME = 0x01
    LOCATION1 = 0x02
    LOCATION2 = 0x03
    EQUIPVERS = 0x04
    SWVERSION = 0x05
    IPADDR = 0x06
    MACADDR = 0x07
    UNIT = 0x08


class Frame(NamedTuple):
    """One decoded frame. ``ext`` is set for Osmocom frames only; ``payload`` follows it."""

    proto: int
    ext: int | None
    payload: bytes


def ccm_type(frame: Frame) -> int | None:
    """The CCM message type of a CCM frame (`Ccm`); None for any other frame."""
    return frame.payload[0] if frame.proto == Proto.CCM and frame.payload else None


class FramingError(ValueError):
    """The byte stream does not hold IPA frames; the connection cannot be trusted any more."""


def encode(proto: int, payload: bytes, ext: int | None = None) -> bytes:
    """One frame; ``ext`` (for proto 0xEE) is written before the payload and counted in len."""
    body = payload if ext is None else bytes((ext,)) + payload
    if len(body) > MAX_BODY:
        raise ValueError(f"IPA body of {len(body)} bytes exceeds {MAX_BODY}")
    return len(body).to_bytes(2, "big") + bytes((proto,)) + body


def ctrl(text: str) -> bytes:
    """A CTRL frame carrying one ASCII command."""
    return encode(Proto.OSMO, text.encode("ascii"), Ext.CTRL)


def gsup(message: bytes) -> bytes:
    """A GSUP frame carrying one encoded GSUP message."""
    return encode(Proto.OSMO, message, Ext.GSUP)


def ccm(kind: Ccm, data: bytes = b"") -> bytes:
    return encode(Proto.CCM, bytes((kind,)) + data)


class Decoder:
    """Turns a byte stream, fed in arbitrary pieces, into frames."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        buffer = self._buffer
        buffer += data
        frames: list[Frame] = []
        at = 0
        end = len(buffer)
        while end - at >= HEADER_LEN:
            size = (buffer[at] << 8) | buffer[at + 1]
            stop = at + HEADER_LEN + size
            if stop > end:
                break
            proto = buffer[at + 2]
            body = bytes(buffer[at + HEADER_LEN : stop])
            at = stop
            if proto == Proto.OSMO:
                if not body:
                    raise FramingError("Osmocom IPA frame without its extension byte")
                frames.append(Frame(proto, body[0], body[1:]))
            else:
                frames.append(Frame(proto, None, body))
        del buffer[:at]
        return frames


def requested_tags(id_get: bytes) -> list[int]:
    """The tags an ID_GET body (after its type byte) asks for: pairs of (length 1, tag)."""
    if len(id_get) % 2:
        raise FramingError("ID_GET body has an odd length")
    tags = []
    for i in range(0, len(id_get), 2):
        if id_get[i] != 1:
            raise FramingError(f"ID_GET entry of length {id_get[i]}, expected 1")
        tags.append(id_get[i + 1])
    return tags


def id_resp(identity: Mapping[IdTag, str] | Iterable[tuple[IdTag, str]]) -> bytes:
    """An ID_RESP frame: per item a 16-bit length (tag + value + NUL), the tag, the value, NUL.

    Only the items given are sent; osmo-hlr needs UNIT and SERNR (SERNR names the GSUP peer).
    """
    items = identity.items() if isinstance(identity, Mapping) else identity
    body = bytearray()
    for tag, value in items:
        raw = value.encode("ascii") + b"\x00"
        body += (1 + len(raw)).to_bytes(2, "big") + bytes((tag,)) + raw
    return ccm(Ccm.ID_RESP, bytes(body))
