"""Tag-length-value coding as the card toolkit and remote file management use it.

One-byte tags throughout (BER-TLV tags such as AA/AB of TS 102 226 and the COMPREHENSION-TLV
tags of TS 102 223, whose top bit is the "comprehension required" flag — compare with
`simple_tag`). Lengths in the definite forms of ISO/IEC 8825-1 (`7F`, `81 xx`, `82 xxxx`);
the indefinite form (`80` … `00 00`) for the two expanded-format templates that may use it.
"""

from __future__ import annotations

from collections.abc import Iterator

INDEFINITE = 0x80


class TlvError(ValueError):
    """Data that is not a well-formed TLV sequence (truncated, bad length form)."""


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n <= 0xFF:
        return bytes([0x81, n])
    if n <= 0xFFFF:
        return bytes([0x82]) + n.to_bytes(2, "big")
    raise TlvError(f"length {n} does not fit two bytes")


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def simple_tag(tag: int) -> int:
    """A COMPREHENSION-TLV tag without its comprehension-required bit (TS 102 223 §7.1.1)."""
    return tag & 0x7F


def _length(data: bytes, i: int) -> tuple[int, int]:
    """(length, index of the value) for the length field at `i`."""
    if i >= len(data):
        raise TlvError("length missing")
    first = data[i]
    if first < 0x80:
        return first, i + 1
    count = first & 0x7F
    if first == INDEFINITE or count > 2 or i + 1 + count > len(data):
        raise TlvError(f"unsupported or truncated length field {first:02X}")
    return int.from_bytes(data[i + 1 : i + 1 + count], "big"), i + 1 + count


def parse(data: bytes, *, padded: bool = False) -> Iterator[tuple[int, bytes]]:
    """(tag, value) for each TLV of a sequence; raises TlvError on anything malformed.

    `padded`: the sequence fills a record and ends at the first FF where a tag would be."""
    i = 0
    while i < len(data):
        tag = data[i]
        if padded and tag == 0xFF:
            return
        n, start = _length(data, i + 1)
        if start + n > len(data):
            raise TlvError(f"value of tag {tag:02X} overruns the data ({n} bytes announced)")
        yield tag, data[start : start + n]
        i = start + n


def parse_one(data: bytes, *, indefinite_ok: bool = False) -> tuple[int, bytes]:
    """The single TLV `data` consists of. With `indefinite_ok`, `tag 80 … 00 00` is accepted
    and its content returned without the end-of-contents marker."""
    if len(data) < 2:
        raise TlvError("no TLV")
    if indefinite_ok and data[1] == INDEFINITE:
        if data[-2:] != b"\x00\x00":
            raise TlvError(f"indefinite-length {data[0]:02X} without its end-of-contents 00 00")
        return data[0], data[2:-2]
    items = list(parse(data))
    if len(items) != 1:
        raise TlvError(f"expected one TLV, found {len(items)}")
    return items[0]
