"""Text on the card: the GSM 7-bit default alphabet, UCS-2 (TS 102 221 Annex A) and EF.SPN.

Names go on the card as GSM default-alphabet characters, one per byte (unpacked, TS 23.038
§6.2.1), when every character has a GSM code; otherwise as UCS-2 with the `80` prefix — the only
way to write a Chinese operator name such as 中国移动. Reading accepts all three UCS-2 forms
(`80`, `81`, `82`) because pySim writes the compact `81`/`82` forms when they fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from simcard.codec import PAD, Codec, is_blank

# TS 23.038 §6.2.1 default alphabet, code points 0x00-0x7F (0x1B is the escape to the extension).
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D}
_EXTENSION |= {"]": 0x3E, "|": 0x40, "€": 0x65}
_ESC = 0x1B
_TO_GSM = {ch: code for code, ch in enumerate(_BASIC) if code != _ESC}
_FROM_EXTENSION = {code: ch for ch, code in _EXTENSION.items()}

UCS2_80, UCS2_81, UCS2_82 = 0x80, 0x81, 0x82


def gsm_encode(text: str) -> bytes | None:
    """Unpacked GSM default alphabet, or None if a character has no GSM code."""
    out = bytearray()
    for ch in text:
        if ch in _TO_GSM:
            out.append(_TO_GSM[ch])
        elif ch in _EXTENSION:
            out += bytes([_ESC, _EXTENSION[ch]])
        else:
            return None
    return bytes(out)


def gsm_decode(data: bytes) -> str:
    """Text from unpacked GSM default-alphabet codes (one septet per byte)."""
    out, escaped = [], False
    for b in data:
        if escaped:
            out.append(_FROM_EXTENSION.get(b, " "))
            escaped = False
        elif b == _ESC:
            escaped = True
        else:
            out.append(_BASIC[b & 0x7F])
    return "".join(out)


def encode_alpha(text: str) -> bytes:
    """GSM alphabet when possible, else UCS-2 with the `80` prefix (TS 102 221 Annex A)."""
    gsm = gsm_encode(text)
    return gsm if gsm is not None else bytes([UCS2_80]) + text.encode("utf-16-be")


def decode_alpha(data: bytes) -> str:
    """Text from an FF-padded alpha field in any of the GSM or UCS-2 forms."""
    if not data or is_blank(data):
        return ""
    if data[0] == UCS2_80:
        units = [data[i : i + 2] for i in range(1, len(data) - 1, 2)]
        body = b"".join(u for u in _until_pad(units))
        return body.decode("utf-16-be", errors="replace")
    if data[0] in (UCS2_81, UCS2_82):
        wide = data[0] == UCS2_82
        count = data[1]
        base = (data[2] << 8 | data[3]) if wide else data[2] << 7
        out = []
        for b in data[(4 if wide else 3) :][:count]:
            out.append(chr(base + (b & 0x7F)) if b & 0x80 else gsm_decode(bytes([b])))
        return "".join(out)
    return gsm_decode(data.rstrip(bytes([PAD])))


def _until_pad(units: list[bytes]) -> list[bytes]:
    """UCS-2 code units up to the first FFFF padding unit."""
    out = []
    for unit in units:
        if unit == b"\xff\xff":
            break
        out.append(unit)
    return out


@dataclass(frozen=True)
class ServiceProviderName:
    """EF.SPN content: the name and its two display-condition flags.

    pySim-prog sets both flags (show in the home network, hide when roaming); so do we by
    default.
    """

    name: str
    show_in_hplmn: bool = True
    hide_in_oplmn: bool = True


class Spn(Codec[ServiceProviderName]):
    """EF.SPN (6F46): display condition byte (bit0 show in HPLMN, bit1 hide in OPLMN) + 16 bytes."""

    field = "EF.SPN"
    size = 17
    vectors = (
        ("0147534d2d52204348ffffffffffffffff", ServiceProviderName("GSM-R CH", True, False)),
        ("034d61676963ffffffffffffffffffffff", ServiceProviderName("Magic")),
        ("03804e2d56fd79fb52a8ffffffffffffff", ServiceProviderName("中国移动")),
        ("001b3c4f501b3effffffffffffffffffff", ServiceProviderName("[OP]", False, False)),
    )

    def _encode(self, value: ServiceProviderName, size: int | None) -> bytes:
        encoded = encode_alpha(value.name)
        if len(encoded) > 16:
            raise self.error(
                f"name {value.name!r} needs {len(encoded)} bytes, the file holds 16"
                " (16 GSM characters or 7 Chinese characters)"
            )
        flags = (0x01 if value.show_in_hplmn else 0) | (0x02 if value.hide_in_oplmn else 0)
        return bytes([flags]) + encoded

    def _decode(self, data: bytes) -> ServiceProviderName:
        flags = data[0]
        return ServiceProviderName(decode_alpha(data[1:17]), bool(flags & 1), bool(flags & 2))
