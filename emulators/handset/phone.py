"""An emulated mobile station: a number, a card in a reader, a link to the SMS centre.

What it does with what the SMSC delivers, as a phone does (3GPP TS 23.040, TS 31.111):

* **SMS-PP data download** — TP-PID 7F (USIM data download) in message class 2 (e.g. TP-DCS
  F6), typically a secured packet behind UDH IEI 70 — goes to the card as ENVELOPE (SMS-PP
  download), the very SMS-DELIVER TPDU inside. The card's answer: the ENVELOPE's response data
  goes back in the RP-ACK; proactive SEND SHORT MESSAGE commands (the card's PoR, concatenated
  when long) are sent as mobile-originated SMS-SUBMITs once the RP-ACK is out. A card that
  refuses the ENVELOPE (an error status word, or gone from the reader) makes an RP-ERROR
  (cause 111).
* **Everything else** is a message for the subscriber: kept in the inbox, concatenated parts
  put together; a full inbox answers RP-ERROR 22 (memory capacity exceeded), as a phone whose
  memory is full.

The subscriber's side: the card's STK menu (its SET UP MENU, fetched after TERMINAL PROFILE
and again whenever the card sends a new one) can be selected — the card answers with the SMS
the item sends, which goes out through the SMSC — and text messages can be sent.

Card access is blocking PC/SC (pyscard), so it runs in a worker thread, one command sequence at
a time. A card reset by someone else (another program's PC/SC connection ending with a reset)
ends the toolkit session: the handset reconnects, sends TERMINAL PROFILE again and retries the
command once, as a phone re-initialises its SIM.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from emulators.handset.link import LinkDown, SmscLink, SubmitRefused
from emulators.smsc.air import RpCause, text_submits
from emulators.smsc.handsets import Report
from simcard.errors import CardLayerError, CardRemovedError
from simcard.sms_pp import (
    IEI_CONCAT_8BIT,
    IEI_CONCAT_16BIT,
    SmsDeliver,
    SmsError,
    SmsSubmit,
    alphabet,
    split_user_data,
)
from simcard.toolkit import Outcome, SetUpMenu, Toolkit, ToolkitError
from simcard.transport import Transport

log = logging.getLogger(__name__)

T = TypeVar("T")
INBOX_SIZE = 100
SUBMIT_TIMEOUT_S = 60.0


class MenuItemUnknown(LookupError):
    """The card's menu has no such item (or the card has no menu)."""


@dataclass(frozen=True)
class Received:
    """A message in the inbox."""

    originator: str
    text: str  # the text; 8-bit data as hex
    dcs: int
    parts: int
    at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.originator,
            "text": self.text,
            "dcs": self.dcs,
            "binary": alphabet(self.dcs) == "8bit",
            "parts": self.parts,
            "received": self.at.isoformat(timespec="milliseconds"),
        }


@dataclass(frozen=True)
class Sent:
    """A message the handset sent (or tried to): typed by the user, or asked for by the card."""

    destination: str
    pid: int
    dcs: int
    text: str
    by: str  # "user" or "card"
    message_id: str | None
    error: str | None
    at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "to": self.destination,
            "pid": self.pid,
            "dcs": self.dcs,
            "text": self.text,
            "by": self.by,
            "message_id": self.message_id,
            "error": self.error,
            "sent": self.at.isoformat(timespec="milliseconds"),
        }


@dataclass
class Counters:
    delivered: int = 0  # SMS-DELIVERs taken (RP-ACK)
    refused: int = 0  # answered with RP-ERROR
    downloads: int = 0  # SMS-PP downloads the card took
    card_errors: int = 0
    card_resets: int = 0  # sessions re-established after the card was reset


@dataclass
class _Pending:
    parts: dict[int, SmsDeliver] = field(default_factory=dict)


class Handset:
    """``await start()`` powers the card up and attaches; ``await stop()`` detaches."""

    def __init__(
        self,
        msisdn: str,
        transport: Transport,
        smsc: tuple[str, int],
        *,
        reader: str = "",
        inbox_size: int = INBOX_SIZE,
    ) -> None:
        self.msisdn = msisdn
        self.reader = reader
        self.transport = transport
        self.toolkit = Toolkit(transport)
        self.link = SmscLink(smsc[0], smsc[1], msisdn, self._delivered)
        self.inbox: list[Received] = []
        self.sent: list[Sent] = []
        self.counters = Counters()
        self.inbox_size = inbox_size
        self._card_lock = asyncio.Lock()
        self._concatenated: dict[tuple[str, int, int], _Pending] = {}
        self._sending = asyncio.Lock()  # one SMS-SUBMIT at a time, in order
        self._outgoing: set[asyncio.Task[list[Sent]]] = set()

    @property
    def menu(self) -> SetUpMenu | None:
        return self.toolkit.menu

    async def start(self) -> None:
        """TERMINAL PROFILE (the card's menu comes with it), then attach to the SMSC.
        `CardLayerError` when the card cannot be reached."""
        await self._card(self._power_up)
        self.link.start()

    async def stop(self) -> None:
        for task in list(self._outgoing):
            task.cancel()
        await asyncio.gather(*self._outgoing, return_exceptions=True)
        await self.link.close()
        await asyncio.to_thread(self.transport.disconnect)

    # -- what the SMSC delivers -------------------------------------------------------------

    async def _delivered(self, tpdu: bytes) -> Report:
        try:
            sms = SmsDeliver.decode(tpdu)
        except SmsError as exc:
            log.info("handset %s: unreadable SMS-DELIVER: %s", self.msisdn, exc)
            return self._refuse(RpCause.INVALID_MANDATORY_INFORMATION)
        if sms.is_data_download:
            return await self._download(tpdu)
        return self._keep(sms)

    async def _download(self, tpdu: bytes) -> Report:
        try:
            outcome: Outcome = await self._card(self.toolkit.download_sms, tpdu)
        except (CardLayerError, ToolkitError) as exc:
            self.counters.card_errors += 1
            log.warning(
                "handset %s: the card did not take an SMS-PP download: %s", self.msisdn, exc
            )
            return self._refuse(RpCause.PROTOCOL_ERROR)
        self.counters.downloads += 1
        self.counters.delivered += 1
        self._send_later(outcome.messages, by="card")
        return Report(True, user_data=outcome.acknowledgement or b"")

    def _keep(self, sms: SmsDeliver) -> Report:
        """Into the inbox, concatenated parts once all are in."""
        if len(self.inbox) >= self.inbox_size:
            return self._refuse(RpCause.MEMORY_CAPACITY_EXCEEDED)
        self.counters.delivered += 1
        concat = _concatenation(sms)
        if concat is None:
            self.inbox.append(self._received(sms.originator, [sms]))
            return Report(True)
        reference, total, seq = concat
        key = (sms.originator, reference, total)
        pending = self._concatenated.setdefault(key, _Pending())
        pending.parts[seq] = sms
        if len(pending.parts) == total:
            del self._concatenated[key]
            parts = [pending.parts[n] for n in range(1, total + 1)]
            self.inbox.append(self._received(sms.originator, parts))
        return Report(True)

    @staticmethod
    def _received(originator: str, parts: list[SmsDeliver]) -> Received:
        text = "".join(part.decoded_text() for part in parts)
        return Received(originator, text, parts[0].dcs, len(parts), dt.datetime.now().astimezone())

    def _refuse(self, cause: RpCause) -> Report:
        self.counters.refused += 1
        return Report(False, cause)

    # -- what the subscriber does -----------------------------------------------------------

    async def select_menu(self, item: int) -> list[Sent]:
        """Select an item of the card's menu: the SMS the card sends for it, once sent."""
        menu = self.menu
        if menu is None or item not in {number for number, _ in menu.items}:
            raise MenuItemUnknown(f"item: the card's menu has no item {item}")
        outcome: Outcome = await self._card(self.toolkit.select_menu, item)
        return await self._send(outcome.messages, by="card")

    async def send_text(self, destination: str, text: str) -> list[Sent]:
        """Send a text (concatenated when long). `SmsError` when it cannot be sent at all."""
        reference = zlib.crc32(f"{destination}{text}{len(self.sent)}".encode()) & 0xFF
        return await self._send(text_submits(destination, text, reference), by="user")

    def _send_later(self, messages: list[SmsSubmit], *, by: str) -> None:
        if not messages:
            return
        task = asyncio.create_task(self._send(messages, by=by))
        self._outgoing.add(task)
        task.add_done_callback(self._outgoing.discard)

    async def _send(self, messages: list[SmsSubmit], *, by: str) -> list[Sent]:
        """Each message in turn, each retried while the link is down (up to a minute)."""
        sent = []
        async with self._sending:
            for sms in messages:
                message_id, error = await self._submit(sms)
                text = sms.decoded_text() if alphabet(sms.dcs) != "8bit" else sms.user_data.hex()
                when = dt.datetime.now().astimezone()
                record = Sent(sms.destination, sms.pid, sms.dcs, text, by, message_id, error, when)
                self.sent.append(record)
                sent.append(record)
        return sent

    async def _submit(self, sms: SmsSubmit) -> tuple[str | None, str | None]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SUBMIT_TIMEOUT_S
        while True:
            try:
                await self.link.wait_attached(max(deadline - loop.time(), 0.0))
                return await self.link.submit(sms.encode()), None
            except SubmitRefused as exc:
                return None, str(exc)
            except (LinkDown, TimeoutError) as exc:
                if loop.time() >= deadline:
                    return None, f"not sent: {exc or 'no answer from the SMSC'}"
                await asyncio.sleep(0.1)

    # -- the card ---------------------------------------------------------------------------

    async def _card(self, command: Callable[..., T], *args: Any) -> T:
        """Run a card command sequence in the worker thread, one at a time."""
        async with self._card_lock:
            return await asyncio.to_thread(self._with_session, command, *args)

    def _with_session(self, command: Callable[..., T], *args: Any) -> T:
        try:
            return command(*args)
        except CardRemovedError as exc:  # reset by someone else: the session is gone
            log.info("handset %s: card reset (%s); re-initialising it", self.msisdn, exc)
            self.counters.card_resets += 1
            self._power_up(again=True)
            return command(*args)

    def _power_up(self, *, again: bool = False) -> None:
        reconnect = getattr(self.transport, "reconnect", None)  # PC/SC: reset, same handle
        if again and callable(reconnect):
            reconnect()
        else:
            self.transport.connect()
        self.toolkit.start()

    def status(self) -> dict[str, Any]:
        menu = self.menu
        return {
            "msisdn": self.msisdn,
            "reader": self.reader,
            "attached": self.link.attached.is_set(),
            "menu": None if menu is None else menu_dict(menu),
            "inbox": len(self.inbox),
            "sent": len(self.sent),
            **vars(self.counters),
        }


def menu_dict(menu: SetUpMenu) -> dict[str, Any]:
    return {"title": menu.title, "items": [{"id": i, "text": t} for i, t in menu.items]}


def _concatenation(sms: SmsDeliver) -> tuple[int, int, int] | None:
    if not sms.udhi:
        return None
    try:
        header = split_user_data(sms.user_data)
    except SmsError:
        return None
    eight, sixteen = header.element(IEI_CONCAT_8BIT), header.element(IEI_CONCAT_16BIT)
    if eight is not None and len(eight) == 3 and 1 <= eight[2] <= eight[1]:
        return eight[0], eight[1], eight[2]
    if sixteen is not None and len(sixteen) == 4 and 1 <= sixteen[3] <= sixteen[2]:
        return int.from_bytes(sixteen[:2], "big"), sixteen[2], sixteen[3]
    return None
