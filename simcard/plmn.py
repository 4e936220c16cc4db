"""PLMN codecs: triplets, the PLMN selector lists with access technology, and EF.AD.

EF.AD sits here because it carries the MNC length: without it a phone cannot tell where the
MNC ends in the IMSI, and a 3-digit MNC is misread — the most common mistake with
self-programmed cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simcard.codec import PAD, Codec, CodecError, is_blank, swap_bcd, unswap_bcd

# TS 31.102 §4.2.5, access technology identifier (2 bytes). E-UTRAN 4000 means both WB-S1 and
# NB-S1; GSM 0084 means GSM without EC-GSM-IoT (Tables 4.2.5.1/4.2.5.2).
ACCESS_TECHNOLOGIES: dict[str, int] = {
    "UTRAN": 0x8000,
    "E-UTRAN": 0x4000,
    "NG-RAN": 0x0800,
    "GSM": 0x0084,
    "GSM COMPACT": 0x0040,
    "cdma2000 HRPD": 0x0020,
    "cdma2000 1xRTT": 0x0010,
}
ACT_ALL = 0xFFFF  # what pySim-prog writes: every technology


def act_names(act: int) -> list[str]:
    """The technologies an AcT value selects, in the order of the table above."""
    names = [name for name, bits in ACCESS_TECHNOLOGIES.items() if bits & act == bits]
    if "GSM" not in names and act & 0x0080:
        names.insert(3, "GSM")  # 0080 alone (GSM and EC-GSM-IoT) still means GSM
    return names


def parse_act(text: str) -> int:
    """An AcT value from `all`, a 4-digit hex value, or names joined by `+` or `,`."""
    text = text.strip()
    if text.lower() == "all":
        return ACT_ALL
    by_name = {name.lower(): bits for name, bits in ACCESS_TECHNOLOGIES.items()}
    parts = [p.strip().lower() for p in text.replace(",", "+").split("+") if p.strip()]
    if parts and all(p in by_name for p in parts):
        act = 0
        for part in parts:
            act |= by_name[part]
        return act
    if len(text) == 4:
        try:
            return int(text, 16)
        except ValueError:
            pass
    known = ", ".join(ACCESS_TECHNOLOGIES)
    raise ValueError(f"unknown access technology {text!r} (use all, {known} or 4 hex digits)")


@dataclass(frozen=True, order=True)
class Plmn:
    """A PLMN as MCC and MNC digit strings (the MNC keeps its length: 01 is not 001)."""

    mcc: str
    mnc: str

    def __post_init__(self) -> None:
        if not (self.mcc.isascii() and self.mcc.isdigit() and len(self.mcc) == 3):
            raise ValueError(f"MCC must be 3 digits, got {self.mcc!r}")
        if not (self.mnc.isascii() and self.mnc.isdigit() and len(self.mnc) in (2, 3)):
            raise ValueError(f"MNC must be 2 or 3 digits, got {self.mnc!r}")

    @classmethod
    def parse(cls, text: str) -> Plmn:
        """From `MCC-MNC` (as pySim prints it, e.g. `460-00`) or `MCC/MNC`."""
        for sep in ("-", "/", ":"):
            if sep in text:
                mcc, mnc = text.split(sep, 1)
                return cls(mcc.strip(), mnc.strip())
        raise ValueError(f"PLMN must be written MCC-MNC, e.g. 460-00, got {text!r}")

    def __str__(self) -> str:
        return f"{self.mcc}-{self.mnc}"


@dataclass(frozen=True)
class PlmnAct:
    """One entry of EF.PLMNwAcT / OPLMNwAcT / HPLMNwAcT: a PLMN and its access technologies."""

    plmn: Plmn
    act: int = ACT_ALL

    def __str__(self) -> str:
        return f"{self.plmn}:{'all' if self.act == ACT_ALL else '+'.join(act_names(self.act))}"


def _encode_plmn(plmn: Plmn) -> bytes:
    mnc = plmn.mnc if len(plmn.mnc) == 3 else plmn.mnc + "f"
    # digit order MCC2 MCC1 | MNC3 MCC3 | MNC2 MNC1 (nibble-swapped pairs)
    return swap_bcd(plmn.mcc[0] + plmn.mcc[1] + plmn.mcc[2] + mnc[2] + mnc[0] + mnc[1])


def _decode_plmn(codec: Codec[Any], data: bytes) -> Plmn:
    nibbles = unswap_bcd(data[:3])
    mcc, mnc3, mnc = nibbles[0:3], nibbles[3], nibbles[4:6]
    if mnc3 != "f":
        mnc += mnc3
    try:
        return Plmn(mcc, mnc)
    except ValueError as exc:
        raise CodecError(codec.field, f"bad PLMN {data[:3].hex()}: {exc}") from exc


class PlmnTriplet(Codec[Plmn]):
    """A PLMN in 3 bytes: `MCC2MCC1 MNC3MCC3 MNC2MNC1` (TS 24.008 §10.5.1.3)."""

    field = "PLMN"
    size = 3
    vectors = (
        ("64f000", Plmn("460", "00")),
        ("00f110", Plmn("001", "01")),
        ("130014", Plmn("310", "410")),
    )

    def _encode(self, value: Plmn, size: int | None) -> bytes:
        return _encode_plmn(value)

    def _decode(self, data: bytes) -> Plmn:
        return _decode_plmn(self, data)


class PlmnList(Codec[tuple[Plmn, ...]]):
    """A list of PLMN triplets, unused entries FFFFFF: EF.EHPLMN, EF.PLMNsel, EF.FPLMN."""

    field = "PLMN list"
    vectors = (
        ("64f00000f110ffffff", (Plmn("460", "00"), Plmn("001", "01"))),
        ("130014", (Plmn("310", "410"),)),
    )

    def __init__(self, field: str = "PLMN list") -> None:
        self.field = field

    def _encode(self, value: tuple[Plmn, ...], size: int | None) -> bytes:
        if size is not None and 3 * len(value) > size:
            raise self.error(f"{len(value)} PLMNs do not fit in {size} bytes ({size // 3})")
        return b"".join(_encode_plmn(p) for p in value)

    def _decode(self, data: bytes) -> tuple[Plmn, ...]:
        chunks = (data[i : i + 3] for i in range(0, len(data) - len(data) % 3, 3))
        return tuple(_decode_plmn(self, c) for c in chunks if not is_blank(c))


class PlmnActList(Codec[tuple[PlmnAct, ...]]):
    """EF.PLMNwAcT / OPLMNwAcT / HPLMNwAcT: 5-byte entries, unused ones `FFFFFF0000`."""

    field = "PLMNwAcT"
    _UNUSED = b"\xff\xff\xff\x00\x00"
    vectors = (
        ("64f000ffff" + "ffffff0000" * 2, (PlmnAct(Plmn("460", "00")),)),
        (
            "00f1104000130014c084",
            (PlmnAct(Plmn("001", "01"), 0x4000), PlmnAct(Plmn("310", "410"), 0xC084)),
        ),
    )

    def __init__(self, field: str = "PLMNwAcT") -> None:
        self.field = field

    def _encode(self, value: tuple[PlmnAct, ...], size: int | None) -> bytes:
        raw = b"".join(_encode_plmn(e.plmn) + e.act.to_bytes(2, "big") for e in value)
        if size is None:
            return raw
        if len(raw) > size:
            raise self.error(f"{len(value)} PLMNs do not fit in {size} bytes ({size // 5})")
        unused = (size - len(raw)) // 5
        return raw + self._UNUSED * unused + bytes([PAD]) * ((size - len(raw)) % 5)

    def _decode(self, data: bytes) -> tuple[PlmnAct, ...]:
        out = []
        for i in range(0, len(data) - len(data) % 5, 5):
            entry = data[i : i + 5]
            if is_blank(entry[:3]):
                continue
            out.append(PlmnAct(_decode_plmn(self, entry), int.from_bytes(entry[3:], "big")))
        return tuple(out)


@dataclass(frozen=True)
class AdminData:
    """EF.AD: UE operation mode (00 normal, 80 type approval…) and the MNC length."""

    mnc_length: int
    operation_mode: int = 0x00


class Ad(Codec[AdminData]):
    """EF.AD (ADF.USIM/6FAD, DF.GSM/6FAD): mode, 2 bytes additional info, MNC length."""

    field = "EF.AD"
    vectors = (
        ("00000002", AdminData(2)),
        ("00000003", AdminData(3)),
        ("80000002", AdminData(2, 0x80)),
    )

    def _encode(self, value: AdminData, size: int | None) -> bytes:
        if value.mnc_length not in (2, 3):
            raise self.error(f"MNC length must be 2 or 3, got {value.mnc_length}")
        if not 0 <= value.operation_mode <= 0xFF:
            raise self.error("operation mode must be one byte")
        return bytes([value.operation_mode, 0x00, 0x00, value.mnc_length])

    def _decode(self, data: bytes) -> AdminData:
        if len(data) < 4:
            raise self.error(f"expected 4 bytes at least, got {len(data)}")
        return AdminData(data[3] & 0x0F, data[0])
