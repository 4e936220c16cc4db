"""One ESME connection to the emulated SMSC: framing, the bind state, and every PDU's answer.

Callbacks all the way (an `asyncio.Protocol`): a PDU is answered in the callback that framed
it, and only an injected latency defers a submit_sm_resp, with a timer. What outlives a
connection — messages, barring, receipts still to deliver — belongs to `SmscCore`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING

from emulators.smsc import protocol
from emulators.smsc.protocol import Cmd, Malformed, Status
from emulators.smsc.store import Part, normalise
from emulators.smsc.text import Unreadable, decode, fits_one_sms, split_header

if TYPE_CHECKING:
    from emulators.smsc.core import SmscCore
    from emulators.smsc.outbox import Outbound

log = logging.getLogger(__name__)


class BindState(Enum):
    OPEN = "open"
    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"
    TRANSCEIVER = "transceiver"

    @property
    def may_submit(self) -> bool:
        return self in (BindState.TRANSMITTER, BindState.TRANSCEIVER)

    @property
    def takes_receipts(self) -> bool:
        return self in (BindState.RECEIVER, BindState.TRANSCEIVER)


_BIND_STATES = {
    Cmd.BIND_TRANSMITTER: BindState.TRANSMITTER,
    Cmd.BIND_RECEIVER: BindState.RECEIVER,
    Cmd.BIND_TRANSCEIVER: BindState.TRANSCEIVER,
}


class SmppSession(asyncio.Protocol):
    def __init__(self, core: SmscCore) -> None:
        self.core = core
        self.state = BindState.OPEN
        self.system_id = ""
        self.peer = ""
        self.outstanding = 0  # submit_sm not yet answered
        self.unacknowledged: dict[int, Outbound] = {}  # deliver_sm sent, by sequence
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._sequence = 0
        self._timers: set[asyncio.TimerHandle] = set()
        self._open = False
        self._handlers: dict[Cmd, Callable[[int, bytes, int], None]] = {
            Cmd.BIND_TRANSMITTER: partial(self._bind, Cmd.BIND_TRANSMITTER),
            Cmd.BIND_RECEIVER: partial(self._bind, Cmd.BIND_RECEIVER),
            Cmd.BIND_TRANSCEIVER: partial(self._bind, Cmd.BIND_TRANSCEIVER),
            Cmd.SUBMIT_SM: self._submit_sm,
            Cmd.DELIVER_SM_RESP: self._deliver_sm_resp,
            Cmd.ENQUIRE_LINK: self._enquire_link,
            Cmd.ENQUIRE_LINK_RESP: self._ignore,
            Cmd.UNBIND: self._unbind,
            Cmd.UNBIND_RESP: self._unbind_resp,
            Cmd.GENERIC_NACK: self._generic_nack,
        }

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._open = True
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.core.sessions.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open = False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.core.session_gone(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        buffer = self._buffer
        while self._open and len(buffer) >= protocol.HEADER_SIZE:
            length = int.from_bytes(buffer[0:4], "big")
            if not protocol.HEADER_SIZE <= length <= protocol.MAX_COMMAND_LENGTH:
                # The stream cannot be framed any more: say so and hang up.
                sequence = int.from_bytes(buffer[12:16], "big")
                self._nack(sequence, Status.ESME_RINVCMDLEN, f"command_length {length}")
                self.close()
                return
            if len(buffer) < length:
                return
            command_id = int.from_bytes(buffer[4:8], "big")
            status = int.from_bytes(buffer[8:12], "big")
            sequence = int.from_bytes(buffer[12:16], "big")
            body = bytes(buffer[protocol.HEADER_SIZE : length])
            del buffer[:length]
            self._dispatch(command_id, status, sequence, body)

    @property
    def is_open(self) -> bool:
        return self._open

    # sending

    def send(self, command_id: int, status: int, sequence: int, body: bytes = b"") -> None:
        if self._open and self._transport is not None:
            self._transport.write(protocol.pdu(command_id, status, sequence, body))

    def next_sequence(self) -> int:
        self._sequence = self._sequence % 0x7FFFFFFF + 1
        return self._sequence

    def deliver(self, item: Outbound, body: bytes) -> None:
        """Send a deliver_sm (a receipt or an MO); `SmscCore` hears of its answer."""
        sequence = self.next_sequence()
        self.unacknowledged[sequence] = item
        self.send(Cmd.DELIVER_SM, 0, sequence, body)

    def unbind(self) -> None:
        """Ask the ESME to unbind (the SMSC is going away)."""
        if self.state is not BindState.OPEN:
            self.send(Cmd.UNBIND, 0, self.next_sequence())

    def close(self) -> None:
        self._open = False
        if self._transport is not None:
            self._transport.close()

    def drop(self) -> None:
        """Cut the connection at once, answering nothing (a dropped bind)."""
        self._open = False
        self.core.stats.drops += 1
        if self._transport is not None:
            self._transport.abort()

    # dispatch

    def _dispatch(self, command_id: int, status: int, sequence: int, body: bytes) -> None:
        try:
            command = Cmd(command_id)
        except ValueError:
            self._nack(sequence, Status.ESME_RINVCMDID, f"command_id 0x{command_id:08X}")
            return
        handler = self._handlers.get(command)
        if handler is None:
            if not command_id & 0x80000000:
                self._nack(sequence, Status.ESME_RINVCMDID, f"{command.name} not supported")
            return
        handler(sequence, body, status)

    def _nack(self, sequence: int, status: Status, why: str) -> None:
        self.core.stats.generic_nacks += 1
        log.info("%s: generic_nack %s: %s", self.peer, status.name, why)
        self.send(Cmd.GENERIC_NACK, status, sequence)

    def _ignore(self, sequence: int, body: bytes, status: int) -> None:
        return

    # binds

    def _bind(self, command: Cmd, sequence: int, raw: bytes, _status: int) -> None:
        response = command.response
        if self.state is not BindState.OPEN:
            self.send(response, Status.ESME_RALYBND, sequence)
            return
        try:
            body = protocol.decode(protocol.BIND, raw)
        except Malformed as exc:
            log.info("%s: malformed bind: %s", self.peer, exc)
            self.send(response, Status.ESME_RINVMSGLEN, sequence)
            return
        system_id = body.text("system_id")
        expected = self.core.accounts.get(system_id)
        if expected is None:
            status = Status.ESME_RINVSYSID
        elif not hmac.compare_digest(expected.encode(), body.text("password").encode()):
            status = Status.ESME_RINVPASWD
        else:
            status = Status.ESME_ROK
        if status is not Status.ESME_ROK:
            self.core.stats.bind_refusals += 1
            log.info("%s: bind as %r refused: %s", self.peer, system_id, status.name)
            self.send(response, status, sequence)
            return
        self.state = _BIND_STATES[command]
        self.system_id = system_id
        self.core.stats.binds += 1
        answer = protocol.encode(
            protocol.BIND_RESP,
            {"system_id": self.core.system_id},
            {protocol.TAG_SC_INTERFACE_VERSION: b"\x34"},
        )
        self.send(response, Status.ESME_ROK, sequence, answer)
        self.core.bound(self)

    # messages

    def _submit_sm(self, sequence: int, raw: bytes, _status: int) -> None:
        core = self.core
        core.stats.submit_sm += 1
        if not self.state.may_submit:
            self.send(Cmd.SUBMIT_SM_RESP, Status.ESME_RINVBNDSTS, sequence)
            return
        self.outstanding += 1
        core.stats.max_outstanding = max(core.stats.max_outstanding, self.outstanding)
        refusal = core.faults.refusal()
        if refusal is not None:
            core.stats.refused += 1
            self._answer_submit(sequence, refusal)
            return
        drop = core.faults.drop()
        if drop == "received":
            self.drop()
            return
        status, message_id = self._accept(raw)
        if drop == "stored" and status == Status.ESME_ROK:
            self.drop()
            return
        self._answer_submit(sequence, status, message_id)

    def _accept(self, raw: bytes) -> tuple[int, str]:
        """Check and store one submit_sm; (status, message id)."""
        core = self.core
        try:
            body = protocol.decode(protocol.SHORT_MESSAGE, raw)
        except Malformed as exc:
            log.info("%s: malformed submit_sm: %s", self.peer, exc)
            return Status.ESME_RINVMSGLEN, ""
        key = None
        if core.idempotency_tag is not None and core.idempotency_tag in body.tlvs:
            key = body.tlvs[core.idempotency_tag].decode("ascii", errors="replace")
            known = core.store.seen(self.system_id, key)
            if known is not None:
                core.stats.duplicates += 1
                return Status.ESME_ROK, known
        destination = normalise(body.text("destination_addr"))
        if not destination.isdigit():
            return Status.ESME_RINVDSTADR, ""
        if not body.text("source_addr"):
            return Status.ESME_RINVSRCADR, ""
        payload = body.octets("short_message")
        if not payload and protocol.TAG_MESSAGE_PAYLOAD in body.tlvs:
            payload = body.tlvs[protocol.TAG_MESSAGE_PAYLOAD]
        data_coding, esm_class = body.number("data_coding"), body.number("esm_class")
        try:
            concat, text_octets, header = split_header(esm_class, payload)
            text = decode(data_coding, text_octets)
        except Unreadable as exc:
            log.info("%s: unreadable submit_sm: %s", self.peer, exc)
            return Status.ESME_RINVMSGLEN, ""
        if not fits_one_sms(data_coding, header, text_octets):
            return Status.ESME_RINVMSGLEN, ""
        if core.store.is_barred(destination):
            core.stats.barred += 1
            return core.barred_status, ""
        part = Part(
            message_id=core.new_message_id(),
            system_id=self.system_id,
            source=body.text("source_addr"),
            destination=destination,
            data_coding=data_coding,
            text=text,
            concatenation=concat,
            submitted=datetime.now(),
            protocol_id=body.number("protocol_id"),
            esm_class=esm_class,
            payload=payload,
            receipt=body.number("registered_delivery") & 0x03 == 1,
            source_ton=body.number("source_addr_ton"),
            destination_ton=body.number("dest_addr_ton"),
        )
        core.store.add(part, key)
        core.stats.accepted += 1
        core.schedule_delivery(part)
        return Status.ESME_ROK, part.message_id

    def _answer_submit(self, sequence: int, status: int, message_id: str = "") -> None:
        body = (
            protocol.encode(protocol.MESSAGE_ID, {"message_id": message_id}) if not status else b""
        )
        delay = self.core.faults.delay()
        if delay <= 0:
            self._submit_answered(sequence, status, body)
            return
        timer = asyncio.get_running_loop().call_later(
            delay, self._submit_answered, sequence, status, body
        )
        self._timers.add(timer)

    def _submit_answered(self, sequence: int, status: int, body: bytes) -> None:
        self.outstanding -= 1
        self.send(Cmd.SUBMIT_SM_RESP, status, sequence, body)

    def _deliver_sm_resp(self, sequence: int, body: bytes, status: int) -> None:
        item = self.unacknowledged.pop(sequence, None)
        if item is not None:
            self.core.answered(self, item, status)

    def _enquire_link(self, sequence: int, body: bytes, status: int) -> None:
        self.send(Cmd.ENQUIRE_LINK_RESP, Status.ESME_ROK, sequence)

    def _unbind(self, sequence: int, body: bytes, status: int) -> None:
        self.core.stats.unbinds += 1
        self.send(Cmd.UNBIND_RESP, Status.ESME_ROK, sequence)
        self.state = BindState.OPEN
        self.close()

    def _unbind_resp(self, sequence: int, body: bytes, status: int) -> None:
        self.close()

    def _generic_nack(self, sequence: int, body: bytes, status: int) -> None:
        log.info("%s: generic_nack from the ESME for sequence %d", self.peer, sequence)
