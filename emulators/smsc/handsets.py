"""Handsets attached to the SMSC: their links, and the messages on their way to them.

A handset attaches with its number (`emulators.smsc.air` has the link's messages). From then
on that number is **served by a handset**: a message to it is delivered over the link — one at
a time, as an MSC forwards them — and settled by the handset's report (RP-ACK: delivered;
RP-ERROR: undeliverable), which is what the ESME's receipt then says. While the handset is
away (link closed) its messages wait for it to attach again, as an SMSC waits for a phone to
come back into coverage. Numbers no handset ever attached as keep the SMSC's simulated
delivery (`SmscCore`).

A second attach with the same number replaces the first link (a phone that re-registered);
a handset that does not report within ``report_timeout_s`` is taken for gone: its link is
closed and the message waits for the next attach.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulators.smsc import air
from emulators.smsc.air import LinkError, RpCause
from emulators.smsc.store import Part, normalise
from simcard.sms_pp import SmsError, SmsSubmit, timestamp

if TYPE_CHECKING:
    from emulators.smsc.core import SmscCore

log = logging.getLogger(__name__)

REPORT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Report:
    """How a delivery to a handset ended: its RP-ACK (with the RP-ACK's user data) or the
    RP-ERROR cause."""

    delivered: bool
    cause: int = 0
    user_data: bytes = b""


class HandsetLink(asyncio.Protocol):
    """One handset's connection (server side)."""

    def __init__(self, core: SmscCore) -> None:
        self.core = core
        self.msisdn: str | None = None
        self.peer = ""
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self.core.handsets.gone(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            line, _, rest = bytes(self._buffer).partition(b"\n")
            self._buffer = bytearray(rest)
            self._line(line)
        if len(self._buffer) > air.MAX_LINE:
            self.refuse("line: longer than the link allows")

    def send(self, message: dict[str, Any]) -> None:
        if self._transport is not None:
            self._transport.write(air.encode_line(message))

    def refuse(self, error: str) -> None:
        """Say what was wrong and hang up (the link cannot go on)."""
        log.info("handset link %s refused: %s", self.peer, error)
        self.send({"type": "refused", "error": error})
        self.close()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _line(self, line: bytes) -> None:
        try:
            message = air.decode_line(line)
            kind = message["type"]
            if self.msisdn is None and kind != "attach":
                raise LinkError("type: attach first")
            if kind == "attach":
                self._attach(message)
            elif kind == "submit":
                self._submit(message)
            elif kind == "deliver_report":
                self._report(message)
            else:
                raise LinkError(f"type: {kind!r} is not a message of the link")
        except LinkError as exc:
            self.refuse(str(exc))

    def _attach(self, message: dict[str, Any]) -> None:
        number = message.get("msisdn")
        if self.msisdn is not None:
            raise LinkError("attach: already attached")
        if not isinstance(number, str) or not number.isdigit() or not 5 <= len(number) <= 15:
            raise LinkError("msisdn: expected an international number, 5-15 digits, no '+'")
        self.msisdn = number
        self.send({"type": "attached", "msisdn": number})
        self.core.handsets.attach(self)

    def _submit(self, message: dict[str, Any]) -> None:
        ref = message.get("ref")
        assert self.msisdn is not None
        try:
            sms = SmsSubmit.decode(air.hex_field(message, "tpdu"))
        except SmsError as exc:
            log.info("handset %s: unreadable SMS-SUBMIT: %s", self.msisdn, exc)
            cause = RpCause.INVALID_MANDATORY_INFORMATION
            self.send({"type": "submit_report", "ref": ref, "ok": False, "cause": cause})
            return
        result = self.core.mobile_originated(self.msisdn, sms)
        if isinstance(result, RpCause):
            self.send({"type": "submit_report", "ref": ref, "ok": False, "cause": int(result)})
        else:
            self.send({"type": "submit_report", "ref": ref, "ok": True, "message_id": result})

    def _report(self, message: dict[str, Any]) -> None:
        ok = message.get("ok")
        cause = message.get("cause", 0)
        if not isinstance(ok, bool) or not isinstance(cause, int):
            raise LinkError("deliver_report: ok (true/false) and cause (a number) expected")
        report = Report(ok, cause, air.hex_field(message, "user_data"))
        self.core.handsets.reported(self, message.get("ref"), report)


@dataclass
class _InFlight:
    ref: int
    part: Part
    timer: asyncio.TimerHandle


class Handsets:
    """The attached handsets, and the messages waiting for each."""

    def __init__(
        self,
        settled: Callable[[Part, Report], None],
        report_timeout_s: float = REPORT_TIMEOUT_S,
    ) -> None:
        self._settled = settled
        self.report_timeout_s = report_timeout_s
        self.links: dict[str, HandsetLink] = {}
        self.known: set[str] = set()
        self._waiting: dict[str, deque[Part]] = {}
        self._in_flight: dict[str, _InFlight] = {}
        self._refs = itertools.count(1)

    def serves(self, number: str) -> bool:
        """Whether messages to ``number`` go to a handset (one attached as it, now or before)."""
        return normalise(number) in self.known

    def attach(self, link: HandsetLink) -> None:
        assert link.msisdn is not None
        old = self.links.get(link.msisdn)
        self.links[link.msisdn] = link
        self.known.add(link.msisdn)
        if old is not None and old is not link:
            log.info("handset %s attached again from %s", link.msisdn, link.peer)
            old.msisdn = None  # its loss no longer concerns this number
            self._requeue(link.msisdn)
            old.close()
        self._pump(link.msisdn)

    def gone(self, link: HandsetLink) -> None:
        number = link.msisdn
        if number is None or self.links.get(number) is not link:
            return
        del self.links[number]
        self._requeue(number)

    def deliver(self, part: Part) -> None:
        self._waiting.setdefault(part.destination, deque()).append(part)
        self._pump(part.destination)

    def reported(self, link: HandsetLink, ref: object, report: Report) -> None:
        number = link.msisdn
        flight = self._in_flight.get(number or "")
        if number is None or flight is None or flight.ref != ref:
            raise LinkError("deliver_report: for no message in flight")
        del self._in_flight[number]
        flight.timer.cancel()
        self._settled(flight.part, report)
        self._pump(number)

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "msisdn": number,
                "attached": number in self.links,
                "waiting": len(self._waiting.get(number, ())) + (number in self._in_flight),
            }
            for number in sorted(self.known)
        ]

    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values()) + len(self._in_flight)

    def drop(self) -> None:
        """Close every link (an outage): their messages wait for the handsets to attach again."""
        for link in list(self.links.values()):
            link.close()

    def stop(self) -> None:
        for flight in self._in_flight.values():
            flight.timer.cancel()
        self.drop()

    def _pump(self, number: str) -> None:
        link = self.links.get(number)
        queue = self._waiting.get(number)
        while link is not None and queue and number not in self._in_flight:
            part = queue.popleft()
            form = air.SmppForm(part.data_coding, part.esm_class, part.protocol_id, part.payload)
            when = timestamp(dt.datetime.now().astimezone())
            try:
                tpdu = air.deliver_tpdu(form, part.originator, when)
            except SmsError as exc:  # e.g. a sender no SMS-DELIVER can carry
                log.info("message %s cannot go to a handset: %s", part.message_id, exc)
                self._settled(part, Report(False, RpCause.PROTOCOL_ERROR))
                continue
            ref = next(self._refs)
            timer = asyncio.get_running_loop().call_later(
                self.report_timeout_s, self._no_report, link, ref
            )
            self._in_flight[number] = _InFlight(ref, part, timer)
            link.send({"type": "deliver", "ref": ref, "tpdu": tpdu.hex()})

    def _no_report(self, link: HandsetLink, ref: int) -> None:
        log.info("handset %s sent no report for %d; taken for gone", link.msisdn, ref)
        link.close()  # `gone` puts the message back for the next attach

    def _requeue(self, number: str) -> None:
        flight = self._in_flight.pop(number, None)
        if flight is not None:
            flight.timer.cancel()
            self._waiting.setdefault(number, deque()).appendleft(flight.part)
