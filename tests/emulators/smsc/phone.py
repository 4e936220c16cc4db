"""A bare handset for the SMSC's link: writes the link's JSON lines, reads them back.

The handset emulator (`emulators.handset`) is the real other end; this one lets a test say
exactly what goes over the link, byte by byte, and what a misbehaving handset would send."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from simcard.sms_pp import SmsDeliver, SmsSubmit


class Phone:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self._refs = 0

    @classmethod
    async def attach(cls, port: int, msisdn: str) -> Phone:
        phone = cls(*await asyncio.open_connection("127.0.0.1", port))
        phone.send({"type": "attach", "msisdn": msisdn})
        assert await phone.read() == {"type": "attached", "msisdn": msisdn}
        return phone

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message).encode() + b"\n")

    async def read(self, within: float = 5.0) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), within)
        assert line, "the SMSC closed the link"
        message: dict[str, Any] = json.loads(line)
        return message

    async def submit(self, sms: SmsSubmit) -> dict[str, Any]:
        """Send an SMS-SUBMIT; the SMSC's submit_report."""
        self._refs += 1
        self.send({"type": "submit", "ref": self._refs, "tpdu": sms.encode().hex()})
        report = await self.read()
        assert (report["type"], report["ref"]) == ("submit_report", self._refs), report
        return report

    async def receive(self, *, ok: bool = True, cause: int = 0) -> SmsDeliver:
        """The next SMS-DELIVER, answered with a report (RP-ACK or RP-ERROR ``cause``)."""
        message = await self.read()
        assert message["type"] == "deliver", message
        report: dict[str, Any] = {"type": "deliver_report", "ref": message["ref"], "ok": ok}
        if not ok:
            report["cause"] = cause
        self.send(report)
        return SmsDeliver.decode(bytes.fromhex(message["tpdu"]))

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 5) == b""

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()
