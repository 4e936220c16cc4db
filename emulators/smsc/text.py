"""Reading what an ESME submitted: the user data header, the alphabet, and whether it fits.

The emulator checks as a real SMSC would that every part fits the 140 octets of one SMS on
the air interface, so a client that splits wrongly is refused here rather than believed.
"""

from __future__ import annotations

from dataclasses import dataclass

# 3GPP TS 23.038, default alphabet by code point, then the extension table reached by 0x1B.
_DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
_ESC = 0x1B

AIR_OCTETS = 140  # user data of one SMS on the air interface


@dataclass(frozen=True)
class Concatenation:
    reference: int
    total: int
    seq: int


class Unreadable(ValueError):
    """User data the emulator cannot make sense of; the message says why."""


def split_header(esm_class: int, payload: bytes) -> tuple[Concatenation | None, bytes, int]:
    """(concatenation info, text octets, header length) of a short_message.

    Without the UDHI bit (0x40) there is no header. With it, the header's information elements
    are read; 8-bit (IEI 0) and 16-bit (IEI 8) concatenation references are understood.
    """
    if not esm_class & 0x40:
        return None, payload, 0
    if not payload or payload[0] + 1 > len(payload):
        raise Unreadable("user data header longer than the message")
    size = payload[0] + 1
    header, at = payload[1:size], 0
    concat = None
    while at < len(header):
        if at + 2 > len(header) or at + 2 + header[at + 1] > len(header):
            raise Unreadable("user data header: element cut short")
        iei, length = header[at], header[at + 1]
        data = header[at + 2 : at + 2 + length]
        if iei == 0x00 and length == 3:
            concat = Concatenation(data[0], data[1], data[2])
        elif iei == 0x08 and length == 4:
            concat = Concatenation(int.from_bytes(data[:2], "big"), data[2], data[3])
        at += 2 + length
    if concat is not None and not 1 <= concat.seq <= concat.total:
        raise Unreadable(f"concatenation: part {concat.seq} of {concat.total}")
    return concat, payload[size:], size


def decode(data_coding: int, octets: bytes) -> str:
    """The text of a part: GSM 03.38 one character per octet (0), IA5 (1), Latin-1 (3),
    UCS-2/UTF-16BE (8); anything else is shown as hex."""
    if data_coding == 0x00:
        return _gsm(octets)
    if data_coding == 0x01:
        return octets.decode("ascii", errors="replace")
    if data_coding == 0x03:
        return octets.decode("latin-1")
    if data_coding == 0x08:
        if len(octets) % 2:
            raise Unreadable("UCS-2 text of an odd number of octets")
        return octets.decode("utf-16-be", errors="replace")
    return octets.hex()


def fits_one_sms(data_coding: int, header_octets: int, text_octets: bytes) -> bool:
    """Whether a part fits 140 octets once the SMSC packs it for the air interface: GSM
    characters as 7-bit septets after the header (padded to a septet boundary), others as
    they are."""
    if data_coding == 0x00:
        header_septets = -(-header_octets * 8 // 7)
        return header_septets + len(text_octets) <= AIR_OCTETS * 8 // 7
    return header_octets + len(text_octets) <= AIR_OCTETS


def _gsm(octets: bytes) -> str:
    chars = []
    escaped = False
    for code in octets:
        if code > 0x7F:
            raise Unreadable(f"GSM 7-bit text with octet 0x{code:02X}")
        if escaped:
            chars.append(_EXTENSION.get(code, " "))  # 23.038: unknown extension → space
            escaped = False
        elif code == _ESC:
            escaped = True
        else:
            chars.append(_DEFAULT_ALPHABET[code])
    return "".join(chars)
