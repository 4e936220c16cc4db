"""Codecs for the numbers on a card: ICCID, IMSI, MSISDN and the SMS centre in EF.SMSP.

Encodings follow TS 102 221 / TS 31.102 as pySim writes them (byte for byte), so a card written
here reads back in pySim-read and the other way round. An empty string stands for a file or
record that was never written (all FF).
"""

from __future__ import annotations

from simcard.codec import PAD, Codec, check_digits, is_blank, swap_bcd, unswap_bcd

# TS 24.008 §10.5.4.7: extension bit set, type of number, numbering plan 1 (E.164).
TON_NPI_INTERNATIONAL = 0x91
TON_NPI_UNKNOWN = 0x81
_TON_INTERNATIONAL = 1


class Iccid(Codec[str]):
    """EF.ICCID (MF/2FE2): 10 bytes, nibble-swapped digits, F-padded to 20 digits."""

    field = "EF.ICCID"
    size = 10
    vectors = (
        ("988812010000407643f3", "8988211000000467343"),
        ("98681000000000000002", "89860100000000000020"),
    )

    def _encode(self, value: str, size: int | None) -> bytes:
        check_digits(self, value, "ICCID", 18, 20)
        return swap_bcd(value.ljust(20, "f"))

    def _decode(self, data: bytes) -> str:
        if is_blank(data[:10]):
            return ""
        return unswap_bcd(data[:10]).rstrip("f")


class Imsi(Codec[str]):
    """EF.IMSI (ADF.USIM/6F07, DF.GSM/6F07): length byte, then parity nibble + digits swapped.

    The first nibble is 1 (identity type IMSI) with bit 3 set when the number of digits is odd.
    """

    field = "EF.IMSI"
    size = 9
    vectors = (
        ("080910100000001020", "001010000000102"),
        ("0831011410325476f8", "31041012345678"),
        ("ffffffffffffffffff", ""),
    )

    def _encode(self, value: str, size: int | None) -> bytes:
        if not value:
            return bytes([PAD]) * 9
        check_digits(self, value, "IMSI", 6, 15)
        odd = len(value) % 2
        nibbles = f"{(odd << 3) | 1:x}{value}".ljust(16, "f")
        return bytes([(len(value) + 2) // 2]) + swap_bcd(nibbles)

    def _decode(self, data: bytes) -> str:
        if is_blank(data):
            return ""
        length = data[0]
        if not 1 <= length <= 8:
            raise self.error(f"length byte {length:#04x} out of range")
        nibbles = unswap_bcd(data[1 : 1 + length])
        odd = (int(nibbles[0], 16) >> 3) & 1
        digits = nibbles[1:].rstrip("f")
        if len(digits) != 2 * length - 1 - (0 if odd else 1):
            raise self.error("length byte and parity disagree with the digits")
        return digits


def _encode_number(codec: Codec[str], value: str, max_digits: int) -> tuple[int, bytes]:
    """(TON/NPI, BCD digits) for a dialling number; a leading + makes it international."""
    international = value.startswith("+")
    digits = value[1:] if international else value
    check_digits(codec, digits, "number", 1, max_digits)
    return (TON_NPI_INTERNATIONAL if international else TON_NPI_UNKNOWN), swap_bcd(digits)


def _decode_number(ton_npi: int, bcd: bytes) -> str:
    digits = unswap_bcd(bcd).rstrip("f")
    return ("+" if (ton_npi >> 4) & 0x07 == _TON_INTERNATIONAL else "") + digits


class Msisdn(Codec[str]):
    """One EF.MSISDN record (DF.TELECOM/6F40, ADF.USIM/6F40), TS 31.102 §4.4.2.3.

    Alpha identifier (record length − 14, left FF), BCD length (digit bytes + 1), TON/NPI,
    10 BCD bytes F-padded, capability and extension record ids (FF FF). A number without `+`
    is written with TON/NPI 81 (pySim-prog writes B1); both read back as the same number.
    """

    field = "EF.MSISDN"
    vectors = (
        ("07917777366341f3ffffffffffff", "+77776336143"),
        ("ff" * 20 + "07917777366341f3ffffffffffff", "+77776336143"),
        ("06811032547698ffffffffffffff", "0123456789"),
        ("ff" * 14, ""),
    )

    def _encode(self, value: str, size: int | None) -> bytes:
        size = 14 if size is None else size
        if size < 14:
            raise self.error(f"records of {size} bytes are too short (14 at least)")
        if not value:
            return bytes([PAD]) * size
        ton_npi, bcd = _encode_number(self, value, 20)
        tail = bytes([len(bcd) + 1, ton_npi]) + bcd.ljust(10, b"\xff") + b"\xff\xff"
        return bytes([PAD]) * (size - 14) + tail

    def _decode(self, data: bytes) -> str:
        if len(data) < 14:
            raise self.error(f"records of {len(data)} bytes are too short (14 at least)")
        tail = data[-14:]
        if tail[0] == PAD:
            return ""
        if not 1 <= tail[0] <= 11:
            raise self.error(f"BCD length {tail[0]} out of range")
        return _decode_number(tail[1], tail[2 : 1 + tail[0]])


class Smsp(Codec[str]):
    """One EF.SMSP record (DF.TELECOM/6F42): only the SMS centre address is used.

    The 28-byte tail is parameter indicators `E1` (SC address, PID, DCS, VP present; no
    destination), 12 bytes of unused destination address, the SC address (length of TON/NPI +
    digits, TON/NPI, 10 BCD bytes), PID 00, DCS 00, VP 00 — left-padded with FF to the record
    length (52 on sysmocom cards), as pySim-prog builds it.
    """

    field = "EF.SMSP"
    vectors = (
        (
            "e1" + "ff" * 12 + "0891683108100005f0ffffff" + "000000",
            "+8613800100500",
        ),
        ("ff" * 24 + "e1" + "ff" * 12 + "0581005155f5ffffffffffff" + "000000", "0015555"),
        ("ff" * 28, ""),
    )
    _TAIL = 28
    _SC_ABSENT = 0x02

    def _encode(self, value: str, size: int | None) -> bytes:
        size = self._TAIL if size is None else size
        if size < self._TAIL:
            raise self.error(f"records of {size} bytes are too short ({self._TAIL} at least)")
        if not value:
            return bytes([PAD]) * size
        ton_npi, bcd = _encode_number(self, value, 20)
        address = bytes([len(bcd) + 1, ton_npi]) + bcd.ljust(10, b"\xff")
        tail = b"\xe1" + bytes([PAD]) * 12 + address + b"\x00\x00\x00"
        return bytes([PAD]) * (size - self._TAIL) + tail

    def _decode(self, data: bytes) -> str:
        if len(data) < self._TAIL:
            raise self.error(f"records of {len(data)} bytes are too short")
        tail = data[-self._TAIL :]
        if is_blank(tail) or tail[0] & self._SC_ABSENT:
            return ""
        address = tail[13:25]
        if address[0] == PAD or address[0] < 1:
            return ""
        return _decode_number(address[1], address[2 : 1 + address[0]])
