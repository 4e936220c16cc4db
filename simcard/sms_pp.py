"""Short messages as OTA carries them: SMS-DELIVER and SMS-SUBMIT TPDUs, user data headers,
and concatenation of secured packets that do not fit one message (3GPP TS 23.040, TS 31.115).

A secured command packet travels in the TP-UD of an SMS-DELIVER with TP-PID 7F (USIM data
download) and TP-DCS F6 (class 2, 8-bit data), behind a user data header with IEI 70 (command
packet identifier); the PoR comes back behind IEI 71. A packet longer than one message (140
octets of user data, header included) is split into concatenated messages (IEI 00, 8-bit
reference); the 70/71 element rides in the first segment only, as TS 23.040 places the SIM
toolkit security headers. The receiving side reassembles by reference (`Reassembler`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from simcard.text import gsm_decode, gsm_encode

PID_USIM_DATA_DOWNLOAD = 0x7F
DCS_CLASS2_8BIT = 0xF6
MAX_USER_DATA = 140
IEI_CONCAT_8BIT, IEI_CONCAT_16BIT = 0x00, 0x08
IEI_COMMAND_PACKET, IEI_RESPONSE_PACKET = 0x70, 0x71
_UDHI = 0x40


class SmsError(ValueError):
    """A TPDU or user data that cannot be built or read."""


# -- addresses and time stamps ----------------------------------------------------------------


def encode_address(number: str) -> bytes:
    """TP-OA/TP-DA: digit count, TON/NPI (91 international with "+", else 81), BCD digits."""
    digits = number[1:] if number.startswith("+") else number
    if not digits.isdigit() or len(digits) > 20:
        raise SmsError(f"address must be up to 20 digits, optionally after '+': {number!r}")
    ton_npi = 0x91 if number.startswith("+") else 0x81
    padded = digits + ("F" if len(digits) % 2 else "")
    bcd = bytes(int(padded[i + 1] + padded[i], 16) for i in range(0, len(padded), 2))
    return bytes([len(digits), ton_npi]) + bcd


def encode_originator(originator: str) -> bytes:
    """TP-OA: a number (`encode_address`), or an alphanumeric sender such as an operator's
    name — up to 11 GSM characters, packed, TON/NPI D0 (TS 23.040 §9.1.2.5)."""
    digits = originator[1:] if originator.startswith("+") else originator
    if digits.isdigit():
        return encode_address(originator)
    septets = gsm_encode(originator)
    if septets is None or not 0 < len(septets) <= 11:
        raise SmsError(f"an alphanumeric address has 1-11 GSM characters: {originator!r}")
    semi_octets = -(-len(septets) * 7 // 4)  # the length counts the semi-octets in use
    return bytes([semi_octets, 0xD0]) + pack_septets(septets)


def decode_address(data: bytes) -> tuple[str, int]:
    """(number, bytes used) from an address field; alphanumeric addresses decode as text."""
    if len(data) < 2:
        raise SmsError("address field truncated")
    count, ton_npi = data[0], data[1]
    size = 2 + (count + 1) // 2
    if len(data) < size:
        raise SmsError("address field truncated")
    raw = data[2:size]
    if ton_npi & 0x70 == 0x50:  # alphanumeric (TON 101): packed GSM 7-bit
        return gsm_decode(unpack_septets(raw, count * 4 // 7)), size
    digits = "".join(f"{b & 0x0F:x}{b >> 4:x}" for b in raw)[:count]
    return ("+" if ton_npi & 0x70 == 0x10 else "") + digits.upper(), size


def timestamp(when: dt.datetime) -> bytes:
    """TP-SCTS: year … second as swapped BCD, then the zone in quarter hours."""
    offset = when.utcoffset() or dt.timedelta(0)
    quarters = int(offset.total_seconds() // 900)
    fields = [when.year % 100, when.month, when.day, when.hour, when.minute, when.second]
    out = bytes((v % 10) << 4 | v // 10 for v in fields)
    zone = (abs(quarters) % 10) << 4 | abs(quarters) // 10 | (0x08 if quarters < 0 else 0)
    return out + bytes([zone])


# -- alphabets --------------------------------------------------------------------------------


def alphabet(dcs: int) -> str:
    """ "7bit", "8bit" or "ucs2" as TS 23.038 codes it in TP-DCS."""
    if dcs & 0xF0 == 0xF0:
        return "8bit" if dcs & 0x04 else "7bit"
    if dcs & 0xC0 == 0x00:
        return {0: "7bit", 1: "8bit", 2: "ucs2"}.get(dcs >> 2 & 0x03, "8bit")
    return "8bit"


def pack_septets(septets: bytes, fill: int = 0) -> bytes:
    """GSM 7-bit packing (TS 23.038 §6.1.2.1), after `fill` zero bits (UDH alignment)."""
    value, bits = 0, fill
    for s in septets:
        value |= (s & 0x7F) << bits
        bits += 7
    return value.to_bytes((bits + 7) // 8, "little") if bits else b""


def unpack_septets(data: bytes, count: int, fill: int = 0) -> bytes:
    value = int.from_bytes(data, "little") >> fill
    return bytes((value >> (7 * i)) & 0x7F for i in range(count))


# -- user data headers ------------------------------------------------------------------------


@dataclass(frozen=True)
class UserData:
    """TP-UD split into its header elements (IEI, data) and the payload after them."""

    elements: tuple[tuple[int, bytes], ...]
    payload: bytes

    def element(self, iei: int) -> bytes | None:
        return next((data for i, data in self.elements if i == iei), None)

    def encode(self) -> bytes:
        header = b"".join(bytes([iei, len(data)]) + data for iei, data in self.elements)
        return (bytes([len(header)]) + header if self.elements else b"") + self.payload


def split_user_data(user_data: bytes) -> UserData:
    """Header elements and payload of TP-UD that starts with a user data header."""
    if not user_data:
        raise SmsError("user data header missing")
    udhl = user_data[0]
    if 1 + udhl > len(user_data):
        raise SmsError("user data header longer than the user data")
    elements, i = [], 1
    while i < 1 + udhl:
        if i + 2 > 1 + udhl or i + 2 + user_data[i + 1] > 1 + udhl:
            raise SmsError("user data header element overruns the header")
        n = user_data[i + 1]
        elements.append((user_data[i], user_data[i + 2 : i + 2 + n]))
        i += 2 + n
    return UserData(tuple(elements), user_data[1 + udhl :])


# -- TPDUs ------------------------------------------------------------------------------------


def _user_data_fields(dcs: int, user_data: bytes, udhi: bool, text_septets: int | None) -> bytes:
    """TP-UDL and TP-UD. For 7-bit data `user_data` is header + packed text and the length
    counts septets; `text_septets` says how many the text has."""
    if alphabet(dcs) != "7bit":
        if len(user_data) > MAX_USER_DATA:
            raise SmsError(f"user data of {len(user_data)} octets exceeds {MAX_USER_DATA}")
        return bytes([len(user_data)]) + user_data
    header_septets = 0
    if udhi:
        header_octets = 1 + user_data[0]
        header_septets = (header_octets * 8 + 6) // 7
    return bytes([header_septets + (text_septets or 0)]) + user_data


def _text_septets(dcs: int, udl: int, user_data: bytes, udhi: bool) -> int | None:
    """The septets of 7-bit text that TP-UDL counts beyond the header (None for 8-bit/UCS-2);
    `SmsError` when the octets that follow do not match TP-UDL."""
    if alphabet(dcs) != "7bit":
        if len(user_data) != udl:
            raise SmsError(f"TP-UDL says {udl} octets, {len(user_data)} follow")
        return None
    header_septets = ((1 + user_data[0]) * 8 + 6) // 7 if udhi and user_data else 0
    if udl < header_septets or len(user_data) != (udl * 7 + 7) // 8:
        raise SmsError(f"TP-UDL says {udl} septets, {len(user_data)} octets follow")
    return udl - header_septets


def _decoded_text(user_data: bytes, dcs: int, udhi: bool, septets: int | None) -> str:
    """The text of TP-UD (its header skipped); 8-bit data as hex."""
    body, fill = user_data, 0
    if udhi:
        header = 1 + body[0]
        fill = (7 - header * 8 % 7) % 7
        body = body[header:]
    kind = alphabet(dcs)
    if kind == "7bit":
        return gsm_decode(unpack_septets(body, septets or 0, fill))
    if kind == "ucs2":
        return body.decode("utf-16-be", errors="replace")
    return body.hex()


def text_user_data(text: str, header: bytes = b"") -> tuple[int, bytes, int | None]:
    """(TP-DCS, TP-UD, septets) for `text` behind an optional user data header (UDHL
    included): GSM 7-bit packed after the header's fill bits when every character has a code,
    else UCS-2. `SmsError` when it does not fit one message."""
    septets = gsm_encode(text)
    if septets is None:
        user_data = header + text.encode("utf-16-be")
        if len(user_data) > MAX_USER_DATA:
            raise SmsError(f"{len(user_data)} octets of UCS-2 user data exceed {MAX_USER_DATA}")
        return 0x08, user_data, None
    fill = (7 - len(header) * 8 % 7) % 7 if header else 0
    user_data = header + pack_septets(septets, fill)
    header_septets = (len(header) * 8 + 6) // 7
    if header_septets + len(septets) > MAX_USER_DATA * 8 // 7:
        raise SmsError(f"{len(septets)} GSM characters do not fit one message")
    return 0x00, user_data, len(septets)


@dataclass(frozen=True)
class SmsDeliver:
    """SMS-DELIVER (SC → MS). `user_data` is TP-UD as sent: header included when `udhi`;
    `text_septets` is set for 7-bit text (TP-UDL counts septets then)."""

    originator: str
    user_data: bytes
    pid: int = PID_USIM_DATA_DOWNLOAD
    dcs: int = DCS_CLASS2_8BIT
    scts: bytes = field(default=bytes(7))
    udhi: bool = True
    more_messages: bool = False
    text_septets: int | None = None

    def encode(self) -> bytes:
        first = 0x00 | (0 if self.more_messages else 0x04) | (_UDHI if self.udhi else 0)
        return (
            bytes([first])
            + encode_originator(self.originator)
            + bytes([self.pid, self.dcs])
            + self.scts
            + _user_data_fields(self.dcs, self.user_data, self.udhi, self.text_septets)
        )

    @classmethod
    def decode(cls, tpdu: bytes) -> SmsDeliver:
        if not tpdu or tpdu[0] & 0x03 != 0x00:
            raise SmsError("not an SMS-DELIVER (TP-MTI)")
        originator, used = decode_address(tpdu[1:])
        i = 1 + used
        if len(tpdu) < i + 10:
            raise SmsError("SMS-DELIVER truncated")
        pid, dcs, scts, udl = tpdu[i], tpdu[i + 1], tpdu[i + 2 : i + 9], tpdu[i + 9]
        user_data = tpdu[i + 10 :]
        udhi = bool(tpdu[0] & _UDHI)
        septets = _text_septets(dcs, udl, user_data, udhi)
        return cls(originator, user_data, pid, dcs, scts, udhi, not tpdu[0] & 0x04, septets)

    def decoded_text(self) -> str:
        """The message text (user data header skipped)."""
        return _decoded_text(self.user_data, self.dcs, self.udhi, self.text_septets)

    @property
    def is_data_download(self) -> bool:
        """USIM data download (PID 7F) in class 2: for the card, by ENVELOPE (TS 31.111)."""
        return self.pid == PID_USIM_DATA_DOWNLOAD and _message_class(self.dcs) == 2


def _message_class(dcs: int) -> int | None:
    if dcs & 0xF0 == 0xF0 or (dcs & 0xC0 == 0x00 and dcs & 0x10):
        return dcs & 0x03
    return None


@dataclass(frozen=True)
class SmsSubmit:
    """SMS-SUBMIT (MS → SC), no validity period. `text_septets` is set for 7-bit text."""

    destination: str
    user_data: bytes
    pid: int = 0x00
    dcs: int = 0x04
    reference: int = 0
    udhi: bool = False
    text_septets: int | None = None

    def encode(self) -> bytes:
        first = 0x01 | (_UDHI if self.udhi else 0)
        return (
            bytes([first, self.reference & 0xFF])
            + encode_address(self.destination)
            + bytes([self.pid, self.dcs])
            + _user_data_fields(self.dcs, self.user_data, self.udhi, self.text_septets)
        )

    @classmethod
    def decode(cls, tpdu: bytes) -> SmsSubmit:
        if len(tpdu) < 2 or tpdu[0] & 0x03 != 0x01:
            raise SmsError("not an SMS-SUBMIT (TP-MTI)")
        destination, used = decode_address(tpdu[2:])
        i = 2 + used
        vpf = tpdu[0] >> 3 & 0x03
        vp_len = {0: 0, 2: 1}.get(vpf, 7)
        if len(tpdu) < i + 3 + vp_len:
            raise SmsError("SMS-SUBMIT truncated")
        pid, dcs = tpdu[i], tpdu[i + 1]
        udl = tpdu[i + 2 + vp_len]
        user_data = tpdu[i + 3 + vp_len :]
        udhi = bool(tpdu[0] & _UDHI)
        septets = _text_septets(dcs, udl, user_data, udhi)
        return cls(destination, user_data, pid, dcs, tpdu[1], udhi, septets)

    @classmethod
    def text(cls, destination: str, text: str, *, reference: int = 0) -> SmsSubmit:
        """A plain text message: GSM 7-bit when every character has a code, else UCS-2."""
        dcs, user_data, septets = text_user_data(text)
        return cls(destination, user_data, dcs=dcs, reference=reference, text_septets=septets)

    def decoded_text(self) -> str:
        """The message text (user data header skipped)."""
        return _decoded_text(self.user_data, self.dcs, self.udhi, self.text_septets)


# -- secured packets in one or more messages --------------------------------------------------


def segment(packet: bytes, iei: int, reference: int) -> list[bytes]:
    """TP-UD of each message carrying `packet` behind IEI 70 (command) or 71 (response)."""
    single = UserData(((iei, b""),), packet).encode()
    if len(single) <= MAX_USER_DATA:
        return [single]
    first_room = MAX_USER_DATA - 1 - 5 - 2  # UDHL, concatenation element, 70/71 element
    room = MAX_USER_DATA - 1 - 5
    chunks = [packet[:first_room]]
    chunks += [packet[i : i + room] for i in range(first_room, len(packet), room)]
    if len(chunks) > 255:
        raise SmsError(f"a packet of {len(packet)} bytes needs more than 255 messages")
    out = []
    for seq, chunk in enumerate(chunks, start=1):
        elements: list[tuple[int, bytes]] = [
            (IEI_CONCAT_8BIT, bytes([reference & 0xFF, len(chunks), seq]))
        ]
        if seq == 1:
            elements.append((iei, b""))
        out.append(UserData(tuple(elements), chunk).encode())
    return out


@dataclass(frozen=True)
class Assembled:
    """A whole packet: the 70/71 element it came with (None for neither) and its bytes."""

    iei: int | None
    packet: bytes

    def single_message_form(self) -> bytes:
        """The packet as one message would carry it: `02 70 00`/`02 71 00` + packet."""
        return UserData(((self.iei, b""),) if self.iei is not None else (), self.packet).encode()


@dataclass
class Reassembler:
    """Collects concatenated segments (per sender and reference) until a packet is whole."""

    _pending: dict[tuple[str, int, int], dict[int, UserData]] = field(default_factory=dict)

    def add(self, user_data: bytes, sender: str = "") -> Assembled | None:
        """Feed the TP-UD of one message; the whole packet once its last segment arrived."""
        ud = split_user_data(user_data)
        concat = ud.element(IEI_CONCAT_8BIT)
        key_ref: int
        if concat is not None and len(concat) == 3:
            key_ref, total, seq = concat[0], concat[1], concat[2]
        else:
            concat16 = ud.element(IEI_CONCAT_16BIT)
            if concat16 is None or len(concat16) != 4:
                return _assembled([ud])
            key_ref, total, seq = int.from_bytes(concat16[:2], "big"), concat16[2], concat16[3]
        if not 1 <= seq <= total:
            raise SmsError(f"segment {seq} of {total}")
        parts = self._pending.setdefault((sender, key_ref, total), {})
        parts[seq] = ud
        if len(parts) < total:
            return None
        del self._pending[(sender, key_ref, total)]
        return _assembled([parts[i] for i in range(1, total + 1)])

    def pending(self) -> int:
        return len(self._pending)


def _assembled(parts: Sequence[UserData]) -> Assembled:
    iei = next(
        (
            i
            for part in parts
            for i, _ in part.elements
            if i in (IEI_COMMAND_PACKET, IEI_RESPONSE_PACKET)
        ),
        None,
    )
    return Assembled(iei, b"".join(part.payload for part in parts))
