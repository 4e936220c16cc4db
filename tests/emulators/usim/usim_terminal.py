"""A hex-speaking terminal for the in-process USIM emulator tests."""

from __future__ import annotations

from dataclasses import dataclass

from emulators.usim.card import UsimCard

ADM1 = "0A083132333435363738"  # P2 Lc data of VERIFY ADM1 12345678, as pySim sends it


@dataclass
class Terminal:
    """Sends hex APDUs (spaces allowed) to an in-process card; returns (data, SW as int)."""

    card: UsimCard

    def send(self, apdu: str) -> tuple[bytes, int]:
        response = self.card.transmit(bytes.fromhex(apdu.replace(" ", "")))
        return response[:-2], int.from_bytes(response[-2:], "big")

    def ok(self, apdu: str) -> bytes:
        data, sw = self.send(apdu)
        assert sw == 0x9000, f"{apdu} → {sw:04X}"
        return data

    def sw(self, apdu: str) -> int:
        return self.send(apdu)[1]

    def adm(self) -> None:
        self.ok("00 20 00 " + ADM1)

    def select(self, *path: str) -> bytes:
        """SELECT by path from the MF (P1=08) returning the FCP."""
        return self.ok(f"00 A4 08 04 {len(path) * 2:02X} {''.join(path)}")
