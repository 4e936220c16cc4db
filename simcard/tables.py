"""Bit-map files: the USIM and SIM service tables and the access control classes.

Services and classes are held as sets of numbers, so a profile can say "services 19, 20, 21"
rather than a hex string; the codecs place the bits as TS 31.102 §4.2.8 (UST: one bit per
service), TS 51.011 §10.3.7 (SST: two bits per service, allocated and activated) and TS 31.102
§4.2.15 (ACC: class n is bit n of a big-endian 16-bit word) define them.
"""

from __future__ import annotations

from simcard.codec import Codec


class Ust(Codec[frozenset[int]]):
    """EF.UST (ADF.USIM/6F38): service n is bit (n−1)%8 of byte (n−1)//8; unused bits 0."""

    field = "EF.UST"
    vectors = (
        ("01", frozenset({1})),
        ("8001", frozenset({8, 9})),
        ("0008000000000000000040", frozenset({12, 87})),
    )

    def _encode(self, value: frozenset[int], size: int | None) -> bytes:
        if any(n < 1 for n in value):
            raise self.error("service numbers start at 1")
        needed = (max(value, default=0) + 7) // 8
        length = needed if size is None else size
        if needed > length:
            raise self.error(f"service {max(value)} does not fit in {length} bytes")
        out = bytearray(length)
        for n in value:
            out[(n - 1) // 8] |= 1 << ((n - 1) % 8)
        return bytes(out)

    def _decode(self, data: bytes) -> frozenset[int]:
        return frozenset(
            8 * i + bit + 1 for i, b in enumerate(data) for bit in range(8) if b >> bit & 1
        )


class Sst(Codec[frozenset[int]]):
    """EF.SST (DF.GSM/6F38): four services per byte, bit pair (allocated, activated).

    The set holds the services both allocated and activated — what a phone may use.
    """

    field = "EF.SST"
    vectors = (
        ("ff", frozenset({1, 2, 3, 4})),
        ("0f", frozenset({1, 2})),
        ("030c", frozenset({1, 6})),
    )

    def _encode(self, value: frozenset[int], size: int | None) -> bytes:
        if any(n < 1 for n in value):
            raise self.error("service numbers start at 1")
        needed = (max(value, default=0) + 3) // 4
        length = needed if size is None else size
        if needed > length:
            raise self.error(f"service {max(value)} does not fit in {length} bytes")
        out = bytearray(length)
        for n in value:
            out[(n - 1) // 4] |= 0b11 << (2 * ((n - 1) % 4))
        return bytes(out)

    def _decode(self, data: bytes) -> frozenset[int]:
        return frozenset(
            4 * i + pair + 1
            for i, b in enumerate(data)
            for pair in range(4)
            if b >> (2 * pair) & 3 == 3
        )


class Acc(Codec[frozenset[int]]):
    """EF.ACC (6F78): access control classes 0-15; class n is bit n of the 16-bit value."""

    field = "EF.ACC"
    size = 2
    vectors = (
        ("0004", frozenset({2})),
        ("0001", frozenset({0})),
        ("0200", frozenset({9})),
        ("c000", frozenset({14, 15})),
    )

    def _encode(self, value: frozenset[int], size: int | None) -> bytes:
        if any(not 0 <= n <= 15 for n in value):
            raise self.error("access classes are 0 to 15")
        return sum(1 << n for n in value).to_bytes(2, "big")

    def _decode(self, data: bytes) -> frozenset[int]:
        word = int.from_bytes(data[:2], "big")
        return frozenset(n for n in range(16) if word >> n & 1)


def acc_for_imsi(imsi: str) -> frozenset[int]:
    """The common rule for ordinary subscribers: class = last digit of the IMSI (0-9)."""
    return frozenset({int(imsi[-1])})
