"""SMS text for SMPP: GSM 7-bit where the text allows, UCS-2 otherwise, split into parts.

Why each choice:

* **GSM 03.38 first.** A GSM part holds 160 characters, a UCS-2 part 70; Latin text that fits
  the GSM alphabet (with its extension table: ``€ [ ] { } ^ ~ \\ |`` and form feed, each sent as
  ESC + code and so counting as two) costs less than half as many parts.
* **Unpacked septets.** In SMPP, ``data_coding`` 0 means "the SMSC's default alphabet"; SMSCs
  take GSM 03.38 one character per octet and pack the septets themselves for the air
  interface, so no fill bits are needed after the concatenation header.
* **UCS-2 as UTF-16BE.** Chinese needs ``data_coding`` 8. Characters beyond the BMP (emoji)
  take two code units, as handsets encode them; a pair is never split across parts.
* **Concatenation with an 8-bit reference** (``05 00 03 ref total seq``, ``esm_class`` 0x40):
  the information element every handset understands. With it a part carries 153 GSM
  characters or 67 UCS-2 code units; an escape pair is never split across parts either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

# 3GPP TS 23.038 default alphabet, code points 0x00-0x7F. 0x1B is the escape to the extension
# table, not a character, and is left out of the encoding map below.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_ESCAPE = 0x1B
GSM_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

_GSM_CODES: dict[str, bytes] = {
    char: bytes([code]) for code, char in enumerate(GSM_BASIC) if code != GSM_ESCAPE
}
_GSM_CODES.update({char: bytes([GSM_ESCAPE, code]) for char, code in GSM_EXTENSION.items()})

MAX_PARTS = 255  # the concatenation header counts parts in one octet


class DataCoding(IntEnum):
    """SMPP ``data_coding`` values the adapter sends."""

    GSM7 = 0x00
    UCS2 = 0x08


@dataclass(frozen=True)
class _Limits:
    single: int  # octets of user data in an unsplit message
    part: int  # octets of text in one part after the 6-octet header


_LIMITS = {
    DataCoding.GSM7: _Limits(single=160, part=153),  # one octet per septet
    DataCoding.UCS2: _Limits(single=140, part=134),  # 70 and 67 code units of two octets
}

UDHI = 0x40  # esm_class bit: short_message starts with a user data header


@dataclass(frozen=True)
class EncodedSms:
    """A text ready for ``submit_sm``: one ``short_message`` per part."""

    data_coding: DataCoding
    esm_class: int
    parts: tuple[bytes, ...]

    @property
    def segments(self) -> int:
        return len(self.parts)


def gsm_chunks(text: str) -> list[bytes] | None:
    """Each character's GSM 03.38 code (one octet, or ESC + code); None if one has none."""
    codes = _GSM_CODES
    chunks = []
    for char in text:
        code = codes.get(char)
        if code is None:
            return None
        chunks.append(code)
    return chunks


def ucs2_chunks(text: str) -> list[bytes]:
    """Each character as UTF-16BE: two octets, four for a surrogate pair."""
    return [char.encode("utf-16-be") for char in text]


def encode(text: str, reference: int, max_parts: int = MAX_PARTS) -> EncodedSms:
    """The parts of ``text``: GSM 7-bit if every character has a code there, else UCS-2.

    ``reference`` (0-255) goes into every part's concatenation header; it must be the same for
    every part of one message and should differ between messages in flight to one handset.
    Raises `ValueError` naming ``text`` when it is empty or needs more than ``max_parts``.
    """
    if not text:
        raise ValueError("text: empty")
    if not 0 <= reference <= 0xFF:
        raise ValueError("reference: expected 0-255")
    chunks = gsm_chunks(text)
    coding = DataCoding.GSM7
    if chunks is None:
        chunks, coding = ucs2_chunks(text), DataCoding.UCS2
    limits = _LIMITS[coding]
    if sum(len(chunk) for chunk in chunks) <= limits.single:
        return EncodedSms(coding, 0, (b"".join(chunks),))
    bodies = _pack(chunks, limits.part)
    if len(bodies) > min(max_parts, MAX_PARTS):
        raise ValueError(f"text: needs {len(bodies)} parts, at most {max_parts} allowed")
    total = len(bodies)
    parts = tuple(
        bytes((5, 0, 3, reference, total, seq)) + body for seq, body in enumerate(bodies, 1)
    )
    return EncodedSms(coding, UDHI, parts)


def _pack(chunks: list[bytes], size: int) -> list[bytes]:
    """Fill parts of at most ``size`` octets greedily, never splitting one character's chunk."""
    bodies: list[bytes] = []
    current = bytearray()
    for chunk in chunks:
        if len(current) + len(chunk) > size:
            bodies.append(bytes(current))
            current.clear()
        current += chunk
    bodies.append(bytes(current))
    return bodies


_GSM_EXTENSION_CHARS = {code: char for char, code in GSM_EXTENSION.items()}


def decode(data_coding: int, octets: bytes) -> str | None:
    """The text of a received message body (user data header already removed), or None when
    the coding is not text: GSM 03.38 one character per octet (0, as SMSCs pass it over
    SMPP), IA5 (1), Latin-1 (3), UCS-2 as UTF-16BE (8). An unknown escape is a space (TS 23.038);
    an octet beyond 7 bits in GSM text, or an odd UCS-2 length, makes it no text (None)."""
    if data_coding == DataCoding.GSM7:
        chars, escaped = [], False
        for code in octets:
            if code > 0x7F:
                return None
            if escaped:
                chars.append(_GSM_EXTENSION_CHARS.get(code, " "))
                escaped = False
            elif code == GSM_ESCAPE:
                escaped = True
            else:
                chars.append(GSM_BASIC[code])
        return "".join(chars)
    if data_coding == 0x01:
        return octets.decode("ascii", errors="replace")
    if data_coding == 0x03:
        return octets.decode("latin-1")
    if data_coding == DataCoding.UCS2 and len(octets) % 2 == 0:
        return octets.decode("utf-16-be", errors="replace")
    return None
