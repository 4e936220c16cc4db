"""Where files live on a UICC, what the card says about them (FCP), and EF.DIR.

A `FilePath` names a file the way a person reads it (`MF/7F20/6F07`, `ADF.USIM/6F07`); the
command layer turns it into as few SELECTs as possible. The FCP a SELECT returns tells the size
of a transparent file and the record length of a linear-fixed one, so the writer never reads a
file just to learn how big it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from simcard.codec import PAD, Codec, is_blank

USIM_AID_PREFIX = bytes.fromhex("a0000000871002")  # 3GPP RID + USIM PIX start (TS 31.110)


@dataclass(frozen=True)
class FilePath:
    """A file under the MF (`adf` False) or under ADF.USIM (`adf` True), by FIDs below it."""

    fids: tuple[int, ...]
    adf: bool = False

    @classmethod
    def parse(cls, text: str) -> FilePath:
        """From `MF/7F20/6F07`, `3F00/7F20/6F07` or `ADF.USIM/6F07`."""
        parts = [p for p in text.replace("\\", "/").split("/") if p]
        adf = bool(parts) and parts[0].upper() == "ADF.USIM"
        if parts and parts[0].upper() in ("MF", "3F00", "ADF.USIM"):
            parts = parts[1:]
        try:
            fids = tuple(int(p, 16) for p in parts)
        except ValueError as exc:
            raise ValueError(f"bad file path {text!r}: FIDs are 4 hex digits") from exc
        if not fids or any(not 0 <= f <= 0xFFFF for f in fids):
            raise ValueError(f"bad file path {text!r}")
        return cls(fids, adf)

    @property
    def parent(self) -> FilePath | None:
        """The DF holding this file; None for files directly under the MF or the ADF."""
        return FilePath(self.fids[:-1], self.adf) if len(self.fids) > 1 else None

    @property
    def fid(self) -> int:
        return self.fids[-1]

    def __str__(self) -> str:
        root = "ADF.USIM" if self.adf else "MF"
        return "/".join([root, *(f"{f:04X}" for f in self.fids)])


class Structure(Enum):
    TRANSPARENT = "transparent"
    LINEAR_FIXED = "linear fixed"
    CYCLIC = "cyclic"
    DF = "DF"


@dataclass(frozen=True)
class Fcp:
    """What a SELECT with P2=04 returned about a file (TS 102 221 §11.1.1.3)."""

    structure: Structure
    size: int = 0
    record_length: int = 0
    record_count: int = 0
    fid: int | None = None
    aid: bytes | None = None


def _tlvs(data: bytes) -> dict[int, bytes]:
    """One level of simple BER-TLV (one-byte tags and lengths, as FCPs use)."""
    out: dict[int, bytes] = {}
    i = 0
    while i + 1 < len(data):
        tag, length = data[i], data[i + 1]
        if tag in (0x00, PAD):
            break
        out[tag] = data[i + 2 : i + 2 + length]
        i += 2 + length
    return out


def parse_fcp(response: bytes) -> Fcp:
    """Decode an FCP template (`62 L …`); a response that is no FCP raises ValueError."""
    if len(response) < 2 or response[0] != 0x62:
        raise ValueError(f"not an FCP template: {response[:4].hex()}")
    tlv = _tlvs(response[2 : 2 + response[1]])
    descriptor = tlv.get(0x82, b"")
    if not descriptor:
        raise ValueError("FCP without a file descriptor (tag 82)")
    fdb = descriptor[0]
    if fdb & 0x38 == 0x38:
        structure = Structure.DF
    else:
        structure = {2: Structure.LINEAR_FIXED, 6: Structure.CYCLIC}.get(
            fdb & 0x07, Structure.TRANSPARENT
        )
    record_length = int.from_bytes(descriptor[2:4], "big") if len(descriptor) >= 4 else 0
    record_count = descriptor[4] if len(descriptor) >= 5 else 0
    size = int.from_bytes(tlv[0x80], "big") if 0x80 in tlv else record_length * record_count
    fid = int.from_bytes(tlv[0x83], "big") if len(tlv.get(0x83, b"")) == 2 else None
    return Fcp(structure, size, record_length, record_count, fid, tlv.get(0x84))


@dataclass(frozen=True)
class Application:
    """One EF.DIR record: an application's AID and label."""

    aid: bytes
    label: str = ""

    @property
    def is_usim(self) -> bool:
        return self.aid.startswith(USIM_AID_PREFIX)


class DirRecord(Codec[Application | None]):
    """EF.DIR (MF/2F00) record: `61 L 4F L <AID> 50 L <label>`, FF-padded (TS 102 221 §13.1)."""

    field = "EF.DIR"
    vectors = (
        (
            "61184f10a0000000871002ff86ff0389ffffffff50045553494d",
            Application(bytes.fromhex("a0000000871002ff86ff0389ffffffff"), "USIM"),
        ),
        (
            "61124f10a0000000871004ff86ff0389ffffffff",
            Application(bytes.fromhex("a0000000871004ff86ff0389ffffffff")),
        ),
        ("ff" * 20, None),
    )

    def _encode(self, value: Application | None, size: int | None) -> bytes:
        if value is None:
            return b""
        if not 1 <= len(value.aid) <= 16:
            raise self.error("an AID is 1 to 16 bytes")
        label = value.label.encode("ascii")
        body = bytes([0x4F, len(value.aid)]) + value.aid
        if label:
            body += bytes([0x50, len(label)]) + label
        return bytes([0x61, len(body)]) + body

    def _decode(self, data: bytes) -> Application | None:
        if is_blank(data) or data[0] != 0x61:
            return None
        tlv = _tlvs(data[2 : 2 + data[1]])
        if 0x4F not in tlv:
            raise self.error("application template without an AID (tag 4F)")
        return Application(tlv[0x4F], tlv.get(0x50, b"").decode("ascii", errors="replace"))
