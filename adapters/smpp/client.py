"""SMPP 3.4 client (ESME) for customer notifications: one transceiver bind to one SMSC.

The gateway calls `SmppClient.submit` and gets a `SubmitResult`: the SMSC's message id for
every part, or why not. The client holds the policy; `adapters.smpp.pdu` only the bytes.

* **One bind, kept up.** A background task binds as a transceiver (submits go out and
  receipts come in on the same connection), sends ``enquire_link`` every
  ``enquire_link_interval`` seconds, and rebinds after a loss, with an exponential backoff
  between failed attempts (a wrong password is not hammered).
* **A window.** At most ``window`` submit_sm wait for their response at once; responses are
  matched to requests by sequence number, so they may come back in any order.
* **Throttling is transient.** ESME_RTHROTTLED and ESME_RMSGQFUL (``transient_statuses``)
  pause every submit of this client for a growing while and the part is sent again; any other
  refusal is permanent and ends the submit. ``throttle_rate`` caps submits per second before
  the SMSC has to say so.
* **Retries inside one submit.** A part that could not be sent, or whose response was lost with
  the bind, is sent again on the next bind until ``submit_timeout`` runs out. The outcome then
  is TRANSIENT if nothing of the message may have reached the SMSC, else UNKNOWN; the result is
  ``unreachable`` when what stopped it was a transport failure (no bind, lost bind, no response:
  `adapters.transport_failures`), not when the SMSC kept throttling or answered garbage.

Duplicates. A part is sent again only when it may *not* have reached the SMSC: never after a
response, whatever it said. The one case that can duplicate is a submit_sm written to a bind
that dropped before its response came: the SMSC may have stored it. Every submit_sm therefore
carries an idempotency key — the caller's ``reference`` with the part number — in a
vendor-specific optional parameter (``idempotency_tag``, 0x1400 by default; SMSCs ignore
optional parameters they do not know, SMPP 3.4 section 5.3). An SMSC that honours it (the
emulator does) answers a repeated key with the first message id and does not deliver twice:
exactly once. One that does not may deliver a part twice, at most ``window`` parts per dropped
bind. The same ``reference`` must therefore name one notification and nothing else; a caller
that retries a whole message (after TRANSIENT or UNKNOWN) passes the same reference, which
also keeps the concatenation reference of its parts the same.

Receipts (``deliver_sm`` with ``esm_class`` 0x04) go to ``on_receipt``; the client answers
``deliver_sm_resp`` after the handler returns, or ESME_RX_T_APPN if it raised, so that the SMSC
delivers the receipt again later instead of it being lost.

Mobile-originated messages (any other ``deliver_sm``) go to ``on_mo`` whole: the parts of a
concatenated message are held, unanswered, until the last one is in (`adapters.smpp.mo`), and
all are answered once the handler returned (ESME_RX_T_APPN if it raised). Parts of a message
that stays incomplete for ``mo_reassembly_timeout`` are answered ESME_RX_T_APPN (the SMSC sends
them again); the SMSC's deliver window must let every part of a message be in flight at once.
Without ``on_mo`` they are refused for good (ESME_RX_P_APPN).

Binary messages (a card's secured packets: PID 7F, DCS F6, a user data header) go out with
`SmppClient.submit_data`, under the same rules as text.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from adapters.rate_limit import TokenBucket
from adapters.smpp import sms_text
from adapters.smpp.mo import MoAssembler, MoError, MoHandler
from adapters.smpp.pdu import (
    MAX_SEQUENCE,
    Address,
    Command,
    Pdu,
    PduError,
    ShortMessage,
    Status,
    Tag,
    bind_body,
    decode_message_id,
    frames,
    message_id_body,
    status_name,
)
from adapters.transport_failures import (
    AdapterClosed,
    Garbled,
    LostAfterSending,
    NoAnswer,
    NotSent,
    TransportFailure,
)
from gateway.operations import Outcome

log = logging.getLogger(__name__)

ESM_CLASS_TYPE = 0x3C  # esm_class bits 2-5: the message type
ESM_DELIVERY_RECEIPT = 0x04
DEFAULT_TRANSIENT = frozenset({Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL})
_E164 = re.compile(r"[0-9]{5,15}")
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9 ]{1,11}")


class SmppSettings(BaseModel):
    """How to reach one SMSC and how hard to drive it."""

    # Errors name the field but never echo what was typed: it may be a password.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: str = Field("smsc", description="the SMSC's name in logs and plans")
    host: str = "127.0.0.1"
    port: int = Field(2775, ge=1, le=65535)
    system_id: str = Field(min_length=1, max_length=15, description="ESME account (bind)")
    password: SecretStr = Field(description="ESME password, at most 8 characters (bind)")
    system_type: str = Field("", max_length=12)
    window: int = Field(10, ge=1, le=1000, description="submit_sm awaiting a response at most")
    throttle_rate: float = Field(0.0, ge=0, description="submit_sm per second; 0 = unlimited")
    throttle_burst: int = Field(10, ge=1, description="submit_sm that may go out back to back")
    enquire_link_interval: float = Field(30.0, gt=0, description="seconds between keep-alives")
    bind_timeout: float = Field(5.0, gt=0, description="seconds to connect and bind")
    response_timeout: float = Field(10.0, gt=0, description="seconds to wait for a response")
    submit_timeout: float = Field(30.0, gt=0, description="seconds one submit keeps trying")
    reconnect_backoff: float = Field(0.5, gt=0, description="first wait after a failed bind")
    reconnect_backoff_max: float = Field(30.0, gt=0)
    throttled_backoff: float = Field(0.1, gt=0, description="first pause after throttling")
    throttled_backoff_max: float = Field(5.0, gt=0)
    transient_statuses: frozenset[int] = DEFAULT_TRANSIENT
    registered_delivery: int = Field(1, ge=0, le=2, description="1 = receipts for every outcome")
    idempotency_tag: int | None = Field(
        0x1400, ge=0x1400, le=0x3FFF, description="vendor TLV carrying the idempotency key"
    )
    max_parts: int = Field(10, ge=1, le=255, description="longest message, in parts")
    mo_reassembly_timeout: float = Field(
        60.0, gt=0, description="seconds the parts of an incomplete MO message are held"
    )

    @field_validator("system_id", "system_type")
    @classmethod
    def _printable_ascii(cls, value: str) -> str:
        if not (value.isascii() and value.isprintable()):
            raise ValueError("printable ASCII only")
        return value

    @field_validator("password")
    @classmethod
    def _password_fits(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if not (raw.isascii() and raw.isprintable()) or len(raw) > 8:
            raise ValueError("at most 8 printable ASCII characters (SMPP 3.4)")
        return value


@dataclass(frozen=True)
class SubmitResult:
    """What became of one message. ``message_ids`` has one id per part the SMSC accepted."""

    outcome: Outcome
    message_ids: tuple[str, ...]
    segments: int
    data_coding: int
    code: str  # ESME_ROK, the refusing status, or in words: timeout, closed …
    text: str
    elapsed_ms: float
    unreachable: bool = False  # a transport failure stopped it (see `Reply.unreachable`)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


@dataclass(frozen=True)
class DeliveryReceipt:
    """A delivery receipt (SMPP 3.4 Appendix B), keyed by the SMSC's message id."""

    message_id: str
    state: str  # DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE
    error: str
    handset: str  # the number the message went to
    submitted: datetime | None
    done: datetime | None

    @property
    def delivered(self) -> bool:
        return self.state == "DELIVRD"


ReceiptHandler = Callable[[DeliveryReceipt], Awaitable[None] | None]


@dataclass
class ClientStats:
    """Counters for tests, benchmarks and health pages."""

    binds: int = 0
    bind_failures: int = 0
    submit_sm: int = 0  # submit_sm written, retries included
    resent: int = 0  # parts sent again after a lost response
    throttled: int = 0  # transient refusals
    receipts: int = 0
    mo_parts: int = 0  # deliver_sm of mobile-originated messages received
    mo_messages: int = 0  # whole messages the MO handler accepted


def source_address(sender: str) -> Address:
    """The submit_sm source of a sender id: alphanumeric (TON 5), international (TON 1) or a
    short code (TON 0, NPI ISDN). `ValueError` names ``sender``."""
    if sender.isdigit() and sender.isascii():
        if len(sender) > 15:
            raise ValueError("sender: a number has at most 15 digits")
        return Address(1, 1, sender) if len(sender) >= 10 else Address(0, 1, sender)
    if not _ALPHANUMERIC.fullmatch(sender):
        raise ValueError("sender: 1-11 letters, digits or spaces, or a number")
    return Address(5, 0, sender)


def destination_address(destination: str) -> Address:
    """An international number without '+' (``8613800138000``). `ValueError` names the field."""
    if not _E164.fullmatch(destination):
        raise ValueError("destination: expected an international number, 5-15 digits, no '+'")
    return Address(1, 1, destination)


def concatenation_reference(reference: str) -> int:
    """The 8-bit concatenation reference of a notification, derived from its ``reference`` so
    that a message sent again carries the same one as the parts already delivered."""
    return zlib.crc32(reference.encode()) & 0xFF


class NotBound(NotSent):
    """No bind to send on: the SMSC could not be reached, or refused the bind."""

    code = "not-bound"


def _check_reference(reference: str) -> None:
    if not (0 < len(reference) <= 100 and reference.isascii() and reference.isprintable()):
        raise ValueError("reference: 1-100 printable ASCII characters")


def _sent_on(link: _Link, token: tuple[_Link, int]) -> bool:
    return token[0] is link


def _respond_all(tokens: Sequence[tuple[_Link, int]], status: int) -> None:
    """Answer held deliver_sm (a lost bind's are dropped: the SMSC sends those again)."""
    body = message_id_body("") if status == Status.ESME_ROK else b"\0"
    for link, sequence in tokens:
        link.respond(Command.DELIVER_SM_RESP, sequence, status, body)


def _expire(future: asyncio.Future[Pdu], within: float) -> None:
    if not future.done():
        future.set_exception(NoAnswer(f"no response within {within:.1f}s"))


class _Link(asyncio.Protocol):
    """One TCP connection: frames PDUs, matches responses to requests by sequence number, and
    hands requests from the SMSC to the client."""

    def __init__(self, on_request: Callable[[_Link, Pdu], None]) -> None:
        self._on_request = on_request
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._sequence = 0
        self.alive = False
        self.reason = ""
        self.gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self.alive = True

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            pdus = frames(self._buffer)
        except PduError as exc:
            self.abort(f"garbled stream: {exc}")
            return
        for pdu in pdus:
            if not pdu.is_response:
                self._on_request(self, pdu)
                continue
            future = self._pending.pop(pdu.sequence, None)
            if future is not None and not future.done():
                future.set_result(pdu)
            elif pdu.command_id == Command.GENERIC_NACK:
                log.warning("generic_nack %s for no request of ours", status_name(pdu.status))

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self.reason = self.reason or (f"connection lost: {exc}" if exc else "closed by the SMSC")
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(LostAfterSending(self.reason))
        if not self.gone.done():
            self.gone.set_result(None)

    def request(self, command_id: int, body: bytes = b"") -> asyncio.Future[Pdu]:
        """Send a request; the future gets its response (or generic_nack)."""
        if not self.alive or self._transport is None:
            raise NotSent(self.reason or "not connected")
        self._sequence = self._sequence % MAX_SEQUENCE + 1
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self._pending[self._sequence] = future
        self._transport.write(Pdu(command_id, 0, self._sequence, body).encode())
        return future

    def respond(self, command_id: int, sequence: int, status: int = 0, body: bytes = b"") -> None:
        if self.alive and self._transport is not None:
            self._transport.write(Pdu(command_id, status, sequence, body).encode())

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def abort(self, reason: str) -> None:
        """Drop the connection now: its stream is out of step or its peer unresponsive."""
        self.reason = reason
        if self._transport is not None:
            self._transport.abort()


@dataclass(frozen=True)
class _Part:
    """What became of one part: its message id, or why not."""

    message_id: str | None
    outcome: Outcome
    code: str
    text: str
    maybe_sent: bool
    unreachable: bool = False


class SmppClient:
    """The SMPP client (see the module docstring): ``async with SmppClient(settings) as c``."""

    def __init__(
        self,
        settings: SmppSettings,
        on_receipt: ReceiptHandler | None = None,
        on_mo: MoHandler | None = None,
    ) -> None:
        self.settings = settings
        self.stats = ClientStats()
        self._on_receipt = on_receipt
        self._on_mo = on_mo
        self._parts: MoAssembler[tuple[_Link, int]] = MoAssembler()
        self._reaper: asyncio.TimerHandle | None = None
        self._window = asyncio.Semaphore(settings.window)
        self._bucket = (
            TokenBucket(settings.throttle_rate, settings.throttle_burst)
            if settings.throttle_rate
            else None
        )
        self._link: _Link | None = None
        self._bound = asyncio.Event()
        self._closed = False
        self._keeper: asyncio.Task[None] | None = None
        self._handler_tasks: set[asyncio.Task[None]] = set()
        self._last_error = "not bound yet"
        self._resume_at = 0.0
        self._throttle_streak = 0

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def bound(self) -> bool:
        return self._link is not None and self._link.alive

    def start(self) -> None:
        """Start binding in the background; submits wait for the bind."""
        if self._keeper is None and not self._closed:
            self._keeper = asyncio.create_task(
                self._keep_bound(), name=f"smpp-{self.settings.name}"
            )

    async def wait_bound(self, within: float) -> None:
        """Wait up to ``within`` seconds until bound; `TimeoutError` says why not (the last
        bind failure)."""
        self.start()
        try:
            await asyncio.wait_for(self._bound.wait(), within)
        except TimeoutError:
            raise TimeoutError(f"{self.settings.name}: not bound: {self._last_error}") from None

    async def probe(self) -> None:
        """One enquire_link answered on the bind (binding first, within ``bind_timeout``):
        proves the SMSC answers. `TimeoutError` or `ConnectionError` otherwise."""
        await self.wait_bound(self.settings.bind_timeout)
        link = self._link
        if link is None or not link.alive:
            raise NotBound(self._last_error)
        future = link.request(Command.ENQUIRE_LINK)
        try:
            await asyncio.wait_for(future, self.settings.response_timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.settings.name}: no enquire_link_resp in time") from None

    async def submit(
        self, destination: str, text: str, *, sender: str, reference: str
    ) -> SubmitResult:
        """Send ``text`` to ``destination`` (international, no '+') from ``sender``.

        ``reference`` names this notification (e.g. order id and step) and must be the same
        when it is sent again; see the module docstring for what it guarantees. Bad input
        raises `ValueError` naming the field, before anything is sent; everything the SMSC or
        the network does ends in the result's outcome.
        """
        started = time.perf_counter()
        target = destination_address(destination)
        source = source_address(sender)
        _check_reference(reference)
        encoded = sms_text.encode(text, concatenation_reference(reference), self.settings.max_parts)
        template = ShortMessage(
            source=source,
            destination=target,
            short_message=b"",
            esm_class=encoded.esm_class,
            registered_delivery=self.settings.registered_delivery,
            data_coding=encoded.data_coding,
        )
        return await self._submit_message(template, encoded.parts, reference, started)

    async def submit_data(
        self,
        destination: str,
        parts: Sequence[bytes],
        *,
        sender: str,
        reference: str,
        protocol_id: int,
        data_coding: int,
        esm_class: int = sms_text.UDHI,
        registered_delivery: int = 0,
    ) -> SubmitResult:
        """Send one binary message — ``parts`` are the TP-UD of each SMS, user data header
        included (``esm_class`` 0x40) — e.g. a secured packet for a card (PID 0x7F, DCS 0xF6).

        Everything else as `submit`: the same ``reference`` rule, bad input raises `ValueError`
        naming the field. No receipt is asked for unless ``registered_delivery`` says so.
        """
        started = time.perf_counter()
        target = destination_address(destination)
        source = source_address(sender)
        _check_reference(reference)
        if not 0 < len(parts) <= self.settings.max_parts:
            raise ValueError(f"parts: 1-{self.settings.max_parts} short messages")
        if any(not 0 < len(part) <= 140 for part in parts):
            raise ValueError("parts: each 1-140 octets (one SMS of user data)")
        for name, value in (("protocol_id", protocol_id), ("data_coding", data_coding)):
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name}: one octet")
        template = ShortMessage(
            source=source,
            destination=target,
            short_message=b"",
            esm_class=esm_class,
            protocol_id=protocol_id,
            registered_delivery=registered_delivery,
            data_coding=data_coding,
        )
        return await self._submit_message(template, tuple(parts), reference, started)

    async def _submit_message(
        self, template: ShortMessage, parts: tuple[bytes, ...], reference: str, started: float
    ) -> SubmitResult:
        """Send each part in turn, as ``template`` with its short_message and key."""
        self.start()
        deadline = time.monotonic() + self.settings.submit_timeout
        total = len(parts)
        ids: list[str] = []
        maybe_sent = False
        for seq, part in enumerate(parts, 1):
            tlvs = {}
            if self.settings.idempotency_tag is not None:
                tlvs[self.settings.idempotency_tag] = f"{reference}#{seq}/{total}".encode()
            body = replace(template, short_message=part, tlvs=tlvs).encode()
            result = await self._submit_part(body, deadline)
            maybe_sent = maybe_sent or result.maybe_sent
            if result.message_id is None:
                outcome = result.outcome
                if outcome is Outcome.TRANSIENT and (ids or maybe_sent):
                    outcome = Outcome.UNKNOWN  # some of the message may be at the SMSC
                return self._result(
                    outcome,
                    ids,
                    template,
                    total,
                    result.code,
                    result.text,
                    started,
                    result.unreachable,
                )
            ids.append(result.message_id)
        return self._result(Outcome.OK, ids, template, total, Status.ESME_ROK.name, "", started)

    async def close(self) -> None:
        """Let submits in flight finish (up to ``response_timeout``), unbind, and disconnect."""
        if self._closed:
            return
        self._closed = True
        self._bound.set()  # wake submits waiting for a bind: they see `_closed` and give up
        try:
            async with asyncio.timeout(self.settings.response_timeout):
                for _ in range(self.settings.window):
                    await self._window.acquire()
        except TimeoutError:
            log.warning("%s: closing with submits still in flight", self.settings.name)
        link, self._link = self._link, None
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        if self._reaper is not None:
            self._reaper.cancel()
        for task in list(self._handler_tasks):
            task.cancel()  # unanswered receipts and MO: the SMSC delivers them again
        await asyncio.gather(*self._handler_tasks, return_exceptions=True)
        if link is not None and link.alive:
            await self._unbind(link)

    def _result(
        self,
        outcome: Outcome,
        ids: list[str],
        template: ShortMessage,
        segments: int,
        code: str,
        text: str,
        started: float,
        unreachable: bool = False,
    ) -> SubmitResult:
        return SubmitResult(
            outcome=outcome,
            message_ids=tuple(ids),
            segments=segments,
            data_coding=int(template.data_coding),
            code=code,
            text=text,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
            unreachable=unreachable,
        )

    async def _submit_part(self, body: bytes, deadline: float) -> _Part:
        """Send one part until the SMSC takes or refuses it, or ``deadline`` passes."""
        maybe_sent = False
        # What stopped the last try: a transport failure, or the SMSC's "not now" status.
        last: TransportFailure | str = NotBound(self._last_error)
        loop = asyncio.get_running_loop()
        while not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            link = self._link
            if link is None or not link.alive:
                self._bound.clear()  # the keeper sets it again after the next bind
                try:
                    await asyncio.wait_for(self._bound.wait(), remaining)
                except TimeoutError:
                    last = NotBound(self._last_error)
                    break
                continue
            async with self._window:
                await self._pace()
                if not link.alive or self._closed:
                    continue
                try:
                    future = link.request(Command.SUBMIT_SM, body)
                except NotSent:
                    continue
                self.stats.submit_sm += 1
                if maybe_sent:
                    self.stats.resent += 1
                wait = min(self.settings.response_timeout, max(remaining, 0.001))
                timer = loop.call_later(wait, _expire, future, wait)
                try:
                    response = await future
                except NoAnswer as exc:
                    maybe_sent, last = True, exc
                    link.abort(str(exc))  # a late response would be taken for nothing: afresh
                    continue
                except LostAfterSending as exc:
                    maybe_sent, last = True, exc
                    continue
                finally:
                    timer.cancel()
            status = response.status
            if response.command_id == Command.SUBMIT_SM_RESP and status == Status.ESME_ROK:
                self._throttle_streak = 0
                return _Part(decode_message_id(response.body), Outcome.OK, "", "", maybe_sent)
            if response.command_id not in (Command.SUBMIT_SM_RESP, Command.GENERIC_NACK):
                maybe_sent = True
                last = Garbled(f"answered with command 0x{response.command_id:08X}")
                link.abort(str(last))
                continue
            code = status_name(status)
            if status in self.settings.transient_statuses:
                self._throttled()
                last = code
                continue
            why = "refused" if response.command_id == Command.SUBMIT_SM_RESP else "generic_nack"
            return _Part(None, Outcome.PERMANENT, code, why, maybe_sent)
        if self._closed:
            last = AdapterClosed("client closed")
        if isinstance(last, str):  # the SMSC answered, and kept saying "not now"
            return _Part(None, Outcome.TRANSIENT, last, "refused for now; sent again", maybe_sent)
        return _Part(None, Outcome.TRANSIENT, last.code, str(last), maybe_sent, last.unreachable)

    async def _pace(self) -> None:
        """Wait out a throttling pause and the configured rate."""
        pause = self._resume_at - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        if self._bucket is not None:
            await self._bucket.acquire()

    def _throttled(self) -> None:
        self.stats.throttled += 1
        self._throttle_streak += 1
        s = self.settings
        pause = min(s.throttled_backoff * 2 ** (self._throttle_streak - 1), s.throttled_backoff_max)
        self._resume_at = max(self._resume_at, time.monotonic() + pause)

    async def _keep_bound(self) -> None:
        """Bind, keep the bind alive, rebind when it is lost — until the client closes."""
        s = self.settings
        failures = 0
        while not self._closed:
            if failures:
                await asyncio.sleep(
                    min(s.reconnect_backoff * 2 ** (failures - 1), s.reconnect_backoff_max)
                )
            try:
                link = await self._bind()
            except (OSError, TimeoutError, PduError) as exc:
                failures += 1
                self.stats.bind_failures += 1
                self._last_error = str(exc) or type(exc).__name__
                log.warning("%s: bind failed (attempt %d): %s", s.name, failures, self._last_error)
                continue
            failures = 0
            self.stats.binds += 1
            self._link = link
            self._bound.set()
            log.info("%s: bound to %s:%d as %s", s.name, s.host, s.port, s.system_id)
            try:
                await self._keep_alive(link)
            finally:
                self._bound.clear()
                if self._link is link:
                    self._link = None
                self._last_error = link.reason or "bind lost"
                # MO parts held unanswered on it come again on the next bind
                self._parts.forget(partial(_sent_on, link))
            if not self._closed:
                log.warning("%s: bind lost: %s", s.name, self._last_error)
                # An SMSC that takes binds and drops them at once must not get a flood.
                await asyncio.sleep(s.reconnect_backoff)

    async def _bind(self) -> _Link:
        s = self.settings
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(s.bind_timeout):
            _, link = await loop.create_connection(lambda: _Link(self._on_request), s.host, s.port)
            body = bind_body(s.system_id, s.password.get_secret_value(), s.system_type)
            try:
                response = await link.request(Command.BIND_TRANSCEIVER, body)
            except BaseException:
                link.abort("bind not answered")
                raise
        if response.command_id != Command.BIND_TRANSCEIVER_RESP or response.status:
            link.abort("bind refused")
            raise NotBound(f"bind refused: {status_name(response.status)}")
        return link

    async def _keep_alive(self, link: _Link) -> None:
        """enquire_link every interval until the link is gone; no answer in time drops it."""
        interval = self.settings.enquire_link_interval
        while link.alive:
            done, _ = await asyncio.wait({link.gone}, timeout=interval)
            if done or not link.alive:
                return
            try:
                future = link.request(Command.ENQUIRE_LINK)
                await asyncio.wait_for(future, self.settings.response_timeout)
            except TimeoutError:
                link.abort("no enquire_link_resp in time")
            except ConnectionError:
                return

    async def _unbind(self, link: _Link) -> None:
        try:
            future = link.request(Command.UNBIND)
            await asyncio.wait_for(future, self.settings.response_timeout)
        except (TimeoutError, ConnectionError) as exc:
            log.info("%s: unbind not acknowledged: %s", self.settings.name, exc or "timeout")
        link.close()
        await asyncio.wait({link.gone}, timeout=self.settings.response_timeout)

    def _on_request(self, link: _Link, pdu: Pdu) -> None:
        """A request from the SMSC: keep-alive, unbind, or a deliver_sm."""
        if pdu.command_id == Command.ENQUIRE_LINK:
            link.respond(Command.ENQUIRE_LINK_RESP, pdu.sequence)
        elif pdu.command_id == Command.UNBIND:
            link.respond(Command.UNBIND_RESP, pdu.sequence)
            link.reason = "unbound by the SMSC"
            link.close()
        elif pdu.command_id == Command.DELIVER_SM:
            self._on_deliver(link, pdu)
        else:
            link.respond(Command.GENERIC_NACK, pdu.sequence, Status.ESME_RINVCMDID)

    def _on_deliver(self, link: _Link, pdu: Pdu) -> None:
        try:
            message = ShortMessage.decode(pdu.body)
        except PduError as exc:
            log.warning("%s: malformed deliver_sm: %s", self.settings.name, exc)
            link.respond(Command.GENERIC_NACK, pdu.sequence, Status.ESME_RINVMSGLEN)
            return
        if message.esm_class & ESM_CLASS_TYPE != ESM_DELIVERY_RECEIPT:
            self._mobile_originated(link, pdu.sequence, message)
            return
        receipt = parse_receipt(message)
        self.stats.receipts += 1
        handled = self._on_receipt(receipt) if self._on_receipt is not None else None
        if not inspect.isawaitable(handled):
            link.respond(Command.DELIVER_SM_RESP, pdu.sequence, 0, message_id_body(""))
            return
        self._answer_when_handled([(link, pdu.sequence)], handled, "receipt")

    def _mobile_originated(self, link: _Link, sequence: int, message: ShortMessage) -> None:
        """One part of an MO message: held until its message is whole, then handed over."""
        self.stats.mo_parts += 1
        if self._on_mo is None:
            log.info("%s: refusing a mobile-originated message", self.settings.name)
            link.respond(Command.DELIVER_SM_RESP, sequence, Status.ESME_RX_P_APPN, b"\0")
            return
        loop = asyncio.get_running_loop()
        try:
            assembly = self._parts.add((link, sequence), message, loop.time())
        except MoError as exc:
            log.warning("%s: refusing an unreadable MO message: %s", self.settings.name, exc)
            link.respond(Command.DELIVER_SM_RESP, sequence, Status.ESME_RX_P_APPN, b"\0")
            return
        _respond_all(assembly.superseded, Status.ESME_RX_T_APPN)
        if assembly.message is None:
            self._reap_later(loop)
            return
        self.stats.mo_messages += 1
        handled = self._on_mo(assembly.message)
        self._answer_when_handled(list(assembly.tokens), handled, "MO")

    def _reap_later(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._reaper is None:
            self._reaper = loop.call_later(self.settings.mo_reassembly_timeout, self._reap)

    def _reap(self) -> None:
        """Let go of MO parts whose message stayed incomplete: the SMSC sends them again."""
        self._reaper = None
        loop = asyncio.get_running_loop()
        stale = self._parts.stale(loop.time() - self.settings.mo_reassembly_timeout)
        if stale:
            log.warning(
                "%s: %d MO part(s) of incomplete messages handed back to the SMSC",
                self.settings.name,
                len(stale),
            )
            _respond_all(stale, Status.ESME_RX_T_APPN)
        if self._parts.held():
            self._reap_later(loop)

    def _answer_when_handled(
        self, tokens: list[tuple[_Link, int]], handled: Awaitable[None], what: str
    ) -> None:
        task = asyncio.ensure_future(self._acknowledge(tokens, handled, what))
        self._handler_tasks.add(task)
        task.add_done_callback(self._handler_tasks.discard)

    async def _acknowledge(
        self, tokens: list[tuple[_Link, int]], handled: Awaitable[None], what: str
    ) -> None:
        try:
            await handled
        except Exception:
            log.exception("%s: %s handler failed; the SMSC will retry", self.settings.name, what)
            _respond_all(tokens, Status.ESME_RX_T_APPN)
            return
        _respond_all(tokens, Status.ESME_ROK)


_RECEIPT_FIELD = re.compile(r"\b(id|sub|dlvrd|submit date|done date|stat|err):(\S*)", re.I)
_MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}


def parse_receipt(message: ShortMessage) -> DeliveryReceipt:
    """A receipt from its text (``id:… stat:DELIVRD …``), preferring the receipted_message_id
    and message_state parameters where the SMSC sent them."""
    text = message.short_message.decode("latin-1")
    text = text[: text.lower().find("text:")] if "text:" in text.lower() else text
    fields = {name.lower(): value for name, value in _RECEIPT_FIELD.findall(text)}
    message_id = fields.get("id", "")
    raw_id = message.tlvs.get(Tag.RECEIPTED_MESSAGE_ID)
    if raw_id:
        message_id = raw_id.rstrip(b"\0").decode("ascii", errors="replace")
    state = fields.get("stat", "UNKNOWN").upper()
    raw_state = message.tlvs.get(Tag.MESSAGE_STATE)
    if raw_state and raw_state[0] in _MESSAGE_STATES:
        state = _MESSAGE_STATES[raw_state[0]]
    return DeliveryReceipt(
        message_id=message_id,
        state=state,
        error=fields.get("err", ""),
        handset=message.source.addr,
        submitted=_receipt_date(fields.get("submit date", "")),
        done=_receipt_date(fields.get("done date", "")),
    )


def _receipt_date(value: str) -> datetime | None:
    """YYMMDDhhmm (SMPP 3.4) or YYMMDDhhmmss (what many SMSCs send)."""
    layout = {10: "%y%m%d%H%M", 12: "%y%m%d%H%M%S"}.get(len(value))
    if layout is None or not value.isdigit():
        return None
    try:
        return datetime.strptime(value, layout)  # receipts carry no time zone
    except ValueError:
        return None
