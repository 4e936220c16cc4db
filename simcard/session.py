"""The UICC commands the library sends, with selection kept as cheap as the card allows.

The session remembers which DF is current and which EF is selected, and picks the one SELECT
that reaches the next file: by FID when it sits in the current DF, by path from the MF
(`P1=08`, one APDU for `7F20/6F07` from anywhere) otherwise, by AID only for the first entry
into ADF.USIM (later by the `7FFF` path). Selecting the file already selected costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from simcard.errors import (
    AdmRejectedError,
    FileMissingError,
    PinRejectedError,
    StatusWordError,
)
from simcard.files import USIM_AID_PREFIX, Fcp, FilePath, parse_fcp
from simcard.transport import Transport

SW_OK = 0x9000
CLA = 0x00
CURRENT_ADF = 0x7FFF
ADM1_REFERENCE = 0x0A
PIN1_REFERENCE = 0x01

_MEANINGS = {
    0x6982: "security status not satisfied: ADM1 or PIN1 needed",
    0x6983: "authentication method blocked",
    0x6985: "conditions of use not satisfied",
    0x6A82: "file not found",
    0x6A83: "record not found",
    0x6B00: "offset outside the file",
    0x6700: "wrong length",
    0x9862: "authentication error, incorrect MAC",
}


def describe_sw(sw: int) -> str:
    if sw & 0xFFF0 == 0x63C0:
        return f"wrong code, {sw & 0x0F} tries left"
    return _MEANINGS.get(sw, "")


@dataclass(frozen=True)
class _Df:
    """The current DF: under the MF by FIDs (empty = the MF), or inside ADF.USIM."""

    fids: tuple[int, ...] = ()
    adf: bool = False


class CardSession:
    """Commands on one card over one transport; tracks selection to avoid useless SELECTs."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._df: _Df | None = _Df()  # None: unknown, the next SELECT goes by path
        self._ef: FilePath | None = None
        self._fcp: dict[FilePath, Fcp] = {}
        self._adf_entered = False
        self.usim_aid: bytes = USIM_AID_PREFIX

    # -- plumbing ---------------------------------------------------------------------------

    def command(self, what: str, apdu: bytes, ok: tuple[int, ...] = (SW_OK,)) -> bytes:
        """Send one command; anything but an expected status word raises StatusWordError."""
        data, sw = self.transport.transmit(apdu)
        if sw not in ok:
            cls = FileMissingError if sw == 0x6A82 else StatusWordError
            raise cls(what, sw, describe_sw(sw))
        return data

    @staticmethod
    def apdu(ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
        out = bytes([CLA, ins, p1, p2])
        if data:
            out += bytes([len(data)]) + data
        if le is not None:
            out += bytes([le & 0xFF])
        return out

    # -- selection --------------------------------------------------------------------------

    def select(self, path: FilePath) -> Fcp:
        """Make `path` the current EF and return its FCP (no APDU if it already is)."""
        if path == self._ef:
            return self._fcp[path]
        parent = _Df(path.fids[:-1], path.adf)
        if parent == self._df:
            data = self._select(0x00, path.fid.to_bytes(2, "big"), path)
        elif path.adf and not self._adf_entered:
            self.select_adf()
            return self.select(path)
        else:
            prefix = (CURRENT_ADF,) if path.adf else ()
            raw = b"".join(f.to_bytes(2, "big") for f in prefix + path.fids)
            data = self._select(0x08, raw, path)
        fcp = parse_fcp(data)
        self._df, self._ef, self._fcp[path] = parent, path, fcp
        return fcp

    def select_adf(self, aid: bytes | None = None) -> Fcp:
        """Enter ADF.USIM by AID (a right-truncated AID selects the first match).

        Without `aid` the 3GPP USIM prefix `A0000000871002` is used: one APDU instead of
        reading EF.DIR first; cards accept it per ISO 7816-4 partial DF-name selection.
        """
        aid = aid or self.usim_aid
        data = self._select(0x04, aid, None)
        fcp = parse_fcp(data)
        if fcp.aid:
            self.usim_aid = fcp.aid
        self._df, self._ef, self._adf_entered = _Df((), True), None, True
        return fcp

    def _select(self, p1: int, target: bytes, path: FilePath | None) -> bytes:
        what = f"SELECT {path}" if path else f"SELECT AID {target.hex()}"
        try:
            return self.command(what, self.apdu(0xA4, p1, 0x04, target, 0x00))
        except StatusWordError:
            self._df, self._ef = None, None  # trust only absolute paths after a refusal
            raise

    # -- files ------------------------------------------------------------------------------

    def read_binary(self, path: FilePath, length: int | None = None) -> bytes:
        """The whole transparent file (or its first `length` bytes), in chunks of 255."""
        fcp = self.select(path)
        total = fcp.size if length is None else length
        out = b""
        while len(out) < total:
            chunk = min(255, total - len(out))
            offset = len(out)
            out += self.command(
                f"READ BINARY {path}", self.apdu(0xB0, offset >> 8, offset & 0xFF, le=chunk)
            )
        return out

    def update_binary(self, path: FilePath, data: bytes) -> None:
        self.select(path)
        for offset in range(0, len(data), 255):
            chunk = data[offset : offset + 255]
            self.command(
                f"UPDATE BINARY {path}", self.apdu(0xD6, offset >> 8, offset & 0xFF, chunk)
            )

    def read_record(self, path: FilePath, number: int) -> bytes:
        fcp = self.select(path)
        apdu = self.apdu(0xB2, number, 0x04, le=fcp.record_length)
        return self.command(f"READ RECORD {path} #{number}", apdu)

    def update_record(self, path: FilePath, number: int, data: bytes) -> None:
        self.select(path)
        self.command(f"UPDATE RECORD {path} #{number}", self.apdu(0xDC, number, 0x04, data))

    # -- security ---------------------------------------------------------------------------

    def verify_adm(self, code: bytes) -> None:
        """VERIFY ADM1, once. A refusal raises AdmRejectedError and is never retried."""
        _, sw = self.transport.transmit(self.apdu(0x20, 0x00, ADM1_REFERENCE, code))
        if sw == SW_OK:
            return
        if sw & 0xFFF0 == 0x63C0:
            raise AdmRejectedError(sw & 0x0F)
        if sw == 0x6983:
            raise AdmRejectedError(0)
        raise StatusWordError("VERIFY ADM1", sw, describe_sw(sw))

    def verify_pin1(self, code: bytes) -> None:
        _, sw = self.transport.transmit(self.apdu(0x20, 0x00, PIN1_REFERENCE, code))
        if sw & 0xFFF0 == 0x63C0:
            raise PinRejectedError(sw & 0x0F)
        if sw != SW_OK:
            raise StatusWordError("VERIFY PIN1", sw, describe_sw(sw))

    def authenticate(self, context: int, data: bytes) -> tuple[bytes, int]:
        """AUTHENTICATE (P2 80 GSM, 81 3G) in ADF.USIM; returns (data, SW) for the caller."""
        if not self._adf_entered:
            self.select_adf()
        return self.transport.transmit(self.apdu(0x88, 0x00, context, data, 0x00))
