"""A stand-in for `pySim-prog -t sysmoISIM-SJA2`: the APDUs it sends, command for command.

pySim is not installable here, so this reproduces its documented behaviour for the SJA2 from
its source as published (osmocom/pysim: `pySim-prog.py` `process_card`, `pySim/legacy/cards.py`
`SysmoISIMSJA2.program` and `UsimCard`/`SimCard` helpers, `pySim/commands.py`
`SimCardCommands`), not its code:

- every file is reached by SELECTing each FID of its path in turn (`select_path`), CLA 00,
  P2 04 (FCP wanted), no Le;
- `update_binary` first SELECTs the path to learn the size from the FCP (`binary_size`), then
  SELECTs it again and sends UPDATE BINARY in chunks of up to 255 bytes; `read_binary` SELECTs
  and reads the size the FCP gave; records take their length from the FCP's tag 82;
- the PLMN files and EF.AD are read first and rewritten whole; SMSP and MSISDN go to DF.TELECOM
  record 1 (`force_len`); Ki and OPc go to A515/6F20 and ADF.USIM/AF20 at offsets 1 and 17;
  EF.EHPLMN gets 3 bytes; ePDGId/ePDGSelection are only probed (`file_exists`); UST services
  95, 99 and 115 are cleared one read-modify-write each.

A command answered with anything but 9000 stops the run (pySim's `send_apdu_checksw`), except
the `file_exists` probes. Values are passed already encoded, as pySim-prog holds them after
`gen_parameters` (hex strings there, bytes here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Send = Callable[[bytes], tuple[bytes, int]]

USIM_PREFIX = bytes.fromhex("a0000000871002")
ISIM_PREFIX = bytes.fromhex("a0000000871004")


class PysimAbort(Exception):
    """What pySim-prog prints as "Card programming failed with an exception"."""


@dataclass(frozen=True)
class Params:
    """pySim-prog's card parameters, encoded (IMSI as EF.IMSI, PLMN as a triplet …)."""

    pin_adm: bytes
    spn: bytes  # EF.SPN content as pySim encodes it (show in HPLMN, hide in OPLMN: 03)
    imsi: bytes
    plmn: bytes  # MCC/MNC triplet
    mnc_len: int
    smsp: bytes  # the 28+ byte SMSP record as --smsp gives it (left-padded to 52 by pySim)
    msisdn: bytes | None  # the 14-byte dialling number part (after the 20 FF alpha bytes)
    ki: bytes
    opc: bytes


@dataclass
class PysimProg:
    """Runs the SJA2 programming sequence against `send` and keeps the transcript."""

    send: Send
    transcript: list[tuple[bytes, int]] = field(default_factory=list)

    # -- SimCardCommands ---------------------------------------------------------------------

    def _apdu(self, apdu: bytes, *, check: bool = True) -> tuple[bytes, int]:
        data, sw = self.send(apdu)
        self.transcript.append((apdu, sw))
        if check and sw != 0x9000:
            raise PysimAbort(f"{apdu.hex()} → {sw:04x}")
        return data, sw

    def select(self, fid: str) -> bytes:
        return self._apdu(bytes.fromhex("00a4000402" + fid))[0]

    def select_path(self, path: list[str]) -> bytes:
        fcp = b""
        for fid in path:
            fcp = self.select(fid)
        return fcp

    def file_exists(self, fid: str) -> bool:
        return self._apdu(bytes.fromhex("00a4000402" + fid), check=False)[1] == 0x9000

    def binary_size(self, path: list[str]) -> int:
        return int.from_bytes(_fcp_tag(self.select_path(path), 0x80), "big")

    def read_binary(self, path: list[str]) -> bytes:
        size = self.binary_size(path)
        out = b""
        while len(out) < size:
            n = min(255, size - len(out))
            out += self._apdu(bytes([0, 0xB0, len(out) >> 8, len(out) & 0xFF, n]))[0]
        return out

    def update_binary(self, path: list[str], data: bytes, offset: int = 0) -> None:
        self.binary_size(path)
        self.select_path(path)
        for start in range(0, len(data), 255):
            chunk = data[start : start + 255]
            at = offset + start
            self._apdu(bytes([0, 0xD6, at >> 8, at & 0xFF, len(chunk)]) + chunk)

    def record_length(self, path: list[str]) -> tuple[int, int]:
        fcp = self.select_path(path)
        descriptor = _fcp_tag(fcp, 0x82)
        record_len = int.from_bytes(descriptor[2:4], "big")
        return record_len, int.from_bytes(_fcp_tag(fcp, 0x80), "big") // record_len

    def read_record(self, path: list[str], number: int) -> bytes:
        record_len, _ = self.record_length(path)
        return self._apdu(bytes([0, 0xB2, number, 0x04, record_len]))[0]

    def update_record_forced(self, fid: str, number: int, data: bytes) -> None:
        """`update_record(..., force_len=True)`: the record length is the data's length."""
        self.select(fid)
        self._apdu(bytes([0, 0xDC, number, 0x04, len(data)]) + data)

    # -- SysmoISIMSJA2.program ---------------------------------------------------------------

    def program(self, p: Params) -> None:
        self._apdu(bytes.fromhex("0020000a08") + p.pin_adm)  # verify_adm
        aids = self.read_aids()
        self.select_path(["7f20"])
        self.update_binary(["3f00", "7f20", "6f46"], p.spn)  # update_spn(name, True, True)
        self.update_binary(["6f07"], p.imsi)  # relative to DF.GSM
        self.update_plmnsel(p.plmn)
        for fid in ("6f60", "6f61", "6f62"):  # PLMNwAcT, OPLMNwAcT, HPLMNwAcT (AcT FFFF)
            self.update_plmn_act(fid, p.plmn)
        self.update_ad(["3f00", "7f20", "6fad"], p.mnc_len)
        self.select_path(["3f00", "7f10"])
        self.update_record_forced("6f42", 1, p.smsp.rjust(52, b"\xff"))
        if p.msisdn is not None:
            self.select_path(["3f00", "7f10"])
            self.update_record_forced("6f40", 1, b"\xff" * 20 + p.msisdn)
        self.select_path(["3f00"])
        self.select_path(["a515"])
        self.update_binary(["6f20"], p.ki, 1)
        self.update_binary(["6f20"], p.opc, 17)
        if any(aid.startswith(ISIM_PREFIX) for aid in aids):
            raise PysimAbort("this stand-in does not program ISIM files")
        usim = next((aid for aid in aids if aid.startswith(USIM_PREFIX)), None)
        if usim is None:
            return
        self._apdu(bytes([0, 0xA4, 0x04, 0x04, len(usim)]) + usim)
        self.update_ad(["6fad"], p.mnc_len)
        self.update_binary(["af20"], p.ki, 1)
        self.update_binary(["af20"], p.opc, 17)
        if self.file_exists("6fd9"):
            self.read_binary(["6fd9"])
            self.update_binary(["6fd9"], p.plmn)  # its first 3 bytes only
        self.file_exists("6ff3")  # ePDGId: written only when the card has it
        self.file_exists("6ff4")  # ePDGSelection: likewise
        if self.file_exists("6f38"):
            for service in (95, 99, 115):
                self.update_ust(service)

    def read_aids(self) -> list[bytes]:
        _, count = self.record_length(["3f00", "2f00"])
        aids = []
        for number in range(1, count + 1):
            record = self.read_record(["3f00", "2f00"], number)
            if record[0] == 0x61 and record[2] == 0x4F:
                aids.append(record[4 : 4 + record[3]])
        return aids

    def update_plmnsel(self, plmn: bytes) -> None:
        size = len(self.read_binary(["3f00", "7f20", "6f30"]))
        self.update_binary(["3f00", "7f20", "6f30"], plmn + b"\xff" * (size - 3))

    def update_plmn_act(self, fid: str, plmn: bytes) -> None:
        path = ["3f00", "7f20", fid]
        size = len(self.read_binary(path))
        unused = bytes.fromhex("ffffff0000") * (size // 5 - 1)
        self.update_binary(path, plmn + b"\xff\xff" + unused)

    def update_ad(self, path: list[str], mnc_len: int) -> None:
        ad = bytearray(self.read_binary(path))
        ad[3] = mnc_len  # the extension byte: RFU nibble 0, MNC length
        self.update_binary(path, bytes(ad))

    def update_ust(self, service: int) -> None:
        ust = bytearray(self.read_binary(["6f38"]))
        ust[(service - 1) // 8] &= ~(1 << ((service - 1) % 8)) & 0xFF
        self.update_binary(["6f38"], bytes(ust))


def _fcp_tag(fcp: bytes, tag: int) -> bytes:
    """One tag of an FCP template (62 …), as pySim's TLV parser picks it."""
    body = fcp[2:] if fcp[1] < 0x80 else fcp[3:]
    i = 0
    while i < len(body):
        t, n = body[i], body[i + 1]
        if t == tag:
            return body[i + 2 : i + 2 + n]
        i += 2 + n
    raise PysimAbort(f"FCP without tag {tag:02x}: {fcp.hex()}")
