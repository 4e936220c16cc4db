"""The SMSC's state shared by every connection: accounts, messages, routing, deliveries.

Routing, as an SMSC does it:

* **Mobile-terminated** (an ESME's submit_sm, or a handset's SMS to another number): to a
  number served by a handset (`emulators.smsc.handsets`) the message goes over that handset's
  link and is settled by its report; to any other number delivery is simulated —
  ``receipt_delay_ms`` after acceptance it counts as delivered (DELIVRD).
* **Mobile-originated** (a handset's SMS-SUBMIT, or ``POST /mo``): to a **service number**
  (``service_numbers``: number → ESME account, e.g. 10086 and the OTA server's address) it
  becomes a deliver_sm to that account (``esm_class`` 0 or 0x40 with its UDH — not a receipt —
  and its PID and DCS as the handset sent them); to any other number it is mobile-terminated
  as above.

What goes to an ESME as deliver_sm — receipts the ESME asked for, and MO — waits in the
account's `Outbox` and goes out on any receiver or transceiver bind of the account, at most
``deliver_window`` unanswered per bind. A refusal or a bind lost before the answer is retried
(receipts after ``receipt_delay_ms``; MO with backoff until their validity ends, then they
expire; ``ESME_RX_P_APPN``/``ESME_RX_R_APPN`` reject an MO for good): see
`emulators.smsc.outbox`. With no receiving bind, everything waits for one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from emulators.smsc import air, protocol
from emulators.smsc.air import RpCause
from emulators.smsc.faults import Faults
from emulators.smsc.handsets import Handsets, Report
from emulators.smsc.outbox import DeliveryPolicy, Kind, Outbound, Outbox, Verdict
from emulators.smsc.session import SmppSession
from emulators.smsc.store import MessageStore, Part, normalise
from emulators.smsc.text import Unreadable, decode, split_header
from simcard.sms_pp import SmsSubmit

log = logging.getLogger(__name__)

DELIVER_WINDOW = 10


@dataclass
class Stats:
    binds: int = 0
    bind_refusals: int = 0
    submit_sm: int = 0
    accepted: int = 0
    duplicates: int = 0  # submit_sm answered from their idempotency key
    refused: int = 0  # by fault injection
    barred: int = 0
    drops: int = 0
    unbinds: int = 0  # unbind requests from ESMEs
    generic_nacks: int = 0
    max_outstanding: int = 0  # most submit_sm unanswered on one bind at once
    receipts_sent: int = 0
    receipts_acknowledged: int = 0
    mo_received: int = 0  # SMS handsets sent (and POST /mo), acknowledged to them
    mo_refused: int = 0  # refused to the handset (barred, unreadable)
    mo_lost: int = 0  # by fault injection, after acknowledging them
    mo_sent: int = 0  # deliver_sm of MO written to ESMEs, retries included
    mo_delivered: int = 0  # … and acknowledged by the ESME
    mo_rejected: int = 0  # refused for good by the ESME
    mo_expired: int = 0  # validity over before an ESME took them
    max_deliver_outstanding: int = 0  # most deliver_sm unanswered on one bind at once
    handset_delivered: int = 0
    handset_undelivered: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class SmscCore:
    def __init__(
        self,
        *,
        accounts: Mapping[str, str],
        system_id: str,
        faults: Faults,
        barred_status: int,
        idempotency_tag: int | None,
        service_numbers: Mapping[str, str] | None = None,
        deliver_window: int = DELIVER_WINDOW,
        delivery: DeliveryPolicy | None = None,
    ) -> None:
        self.accounts = dict(accounts)
        self.system_id = system_id
        self.faults = faults
        self.barred_status = barred_status
        self.idempotency_tag = idempotency_tag
        self.service_numbers = {normalise(n): a for n, a in (service_numbers or {}).items()}
        self.deliver_window = deliver_window
        self.delivery = delivery or DeliveryPolicy()
        self.store = MessageStore()
        self.stats = Stats()
        self.sessions: set[SmppSession] = set()
        self.handsets = Handsets(self._handset_settled)
        self._outboxes: dict[str, Outbox] = {}
        self._wakeups: dict[str, asyncio.TimerHandle] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._id_prefix = secrets.token_hex(2)
        self._ids = 0

    def new_message_id(self) -> str:
        self._ids += 1
        return f"{self._id_prefix}{self._ids:08x}"

    # -- mobile-terminated ----------------------------------------------------------------

    def schedule_delivery(self, part: Part) -> None:
        """Deliver an accepted message: over a handset's link, or simulated."""
        if self.handsets.serves(part.destination):
            self.handsets.deliver(part)
            return
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None

        def due() -> None:
            if timer is not None:
                self._timers.discard(timer)
            self._settle(part, "DELIVRD")

        timer = loop.call_later(self.faults.receipt_delay_ms / 1000.0, due)
        self._timers.add(timer)

    def _handset_settled(self, part: Part, report: Report) -> None:
        if report.delivered:
            self.stats.handset_delivered += 1
        else:
            self.stats.handset_undelivered += 1
            log.info(
                "handset %s refused %s: RP cause %d",
                part.destination,
                part.message_id,
                report.cause,
            )
        self._settle(part, "DELIVRD" if report.delivered else "UNDELIV")

    def _settle(self, part: Part, state: str) -> None:
        part.state, part.done = state, datetime.now()
        if part.receipt:
            self._outbox(part.system_id).receipt(part, self._now())
            self.pump(part.system_id)

    # -- mobile-originated ----------------------------------------------------------------

    def mobile_originated(self, msisdn: str, sms: SmsSubmit) -> str | RpCause:
        """A handset's SMS: its message id once accepted (the RP-ACK), or the RP cause it is
        refused with."""
        destination = normalise(sms.destination)
        refusal = self._mo_refusal(msisdn, destination)
        form = air.smpp_form(sms)
        try:
            concat, text_octets, _ = split_header(form.esm_class, form.payload)
            text = decode(form.data_coding, text_octets)
        except Unreadable as exc:
            log.info("handset %s: unreadable SMS: %s", msisdn, exc)
            refusal = RpCause.INVALID_MANDATORY_INFORMATION
        if refusal is not None:
            self.stats.mo_refused += 1
            return refusal
        account = self.service_numbers.get(destination)
        part = Part(
            message_id=self.new_message_id(),
            system_id=account or "",
            source=msisdn,
            destination=destination,
            data_coding=form.data_coding,
            text=text,
            concatenation=concat,
            submitted=datetime.now(),
            protocol_id=form.protocol_id,
            esm_class=form.esm_class,
            payload=form.payload,
            origin="mobile",
            source_ton=1,
            destination_ton=1 if sms.destination.startswith("+") else 0,
        )
        self.stats.mo_received += 1
        if self.faults.lose_mobile_originated():
            self.stats.mo_lost += 1
            log.info(
                "MO %s from %s to %s lost (fault injection)", part.message_id, msisdn, destination
            )
            return part.message_id
        self.store.add(part)
        if account is None:
            self.schedule_delivery(part)
        else:
            self._outbox(account).mobile_originated(part, self._now())
            self.pump(account)
        return part.message_id

    def _mo_refusal(self, msisdn: str, destination: str) -> RpCause | None:
        if self.store.is_barred(msisdn):
            return RpCause.OPERATOR_DETERMINED_BARRING
        if not destination.isdigit():
            return RpCause.INVALID_MANDATORY_INFORMATION
        if self.store.is_barred(destination):
            return RpCause.SHORT_MESSAGE_TRANSFER_REJECTED
        return None

    # -- deliver_sm to ESMEs ----------------------------------------------------------------

    def bound(self, session: SmppSession) -> None:
        if session.state.takes_receipts:
            self.pump(session.system_id)

    def session_gone(self, session: SmppSession) -> None:
        self.sessions.discard(session)
        lost = list(session.unacknowledged.values())
        session.unacknowledged.clear()
        outbox = self._outbox(session.system_id)
        for item in lost:
            self._verdict(item, outbox.lost(item, self._now()))
        if lost:
            self.pump(session.system_id)

    def answered(self, session: SmppSession, item: Outbound, status: int) -> None:
        """The ESME's deliver_sm_resp for ``item``."""
        if status:
            log.info(
                "deliver_sm %s %s refused with 0x%08X",
                item.kind.value,
                item.part.message_id,
                status,
            )
        self._verdict(item, self._outbox(session.system_id).answered(item, status, self._now()))
        self.pump(session.system_id)

    def _verdict(self, item: Outbound, verdict: Verdict) -> None:
        receipt = item.kind is Kind.RECEIPT
        if verdict is Verdict.DELIVERED:
            if receipt:
                self.stats.receipts_acknowledged += 1
            else:
                self.stats.mo_delivered += 1
                item.part.state, item.part.done = "DELIVRD", datetime.now()
        elif verdict is Verdict.REJECTED:
            self.stats.mo_rejected += 1
            item.part.state, item.part.done = "REJECTD", datetime.now()
        elif verdict is Verdict.EXPIRED:
            self._expired(item)

    def _expired(self, item: Outbound) -> None:
        self.stats.mo_expired += 1
        item.part.state, item.part.done = "EXPIRED", datetime.now()
        log.info(
            "MO %s from %s to %s expired undelivered after %d attempt(s)",
            item.part.message_id,
            item.part.source,
            item.part.destination,
            item.attempts,
        )

    def pump(self, system_id: str) -> None:
        """Send what is due to the account over its receiving binds, as their windows allow;
        expire what is past its validity; wake up again when something is next due."""
        outbox = self._outbox(system_id)
        now = self._now()
        for gone in outbox.expire(now):
            self._expired(gone)
        sessions = [
            s
            for s in self.sessions
            if s.system_id == system_id and s.state.takes_receipts and s.is_open
        ]
        for session in sessions:
            while len(session.unacknowledged) < self.deliver_window:
                due = outbox.take(now)
                if due is None:
                    break
                self._deliver(session, due)
        room = any(len(s.unacknowledged) < self.deliver_window for s in sessions)
        self._wake(system_id, outbox.next_wakeup(sendable=room))

    def _deliver(self, session: SmppSession, item: Outbound) -> None:
        if item.kind is Kind.RECEIPT:
            self.stats.receipts_sent += 1
            session.deliver(item, receipt_body(item.part))
        else:
            self.stats.mo_sent += 1
            session.deliver(item, mobile_originated_body(item.part))
        outstanding = len(session.unacknowledged)
        self.stats.max_deliver_outstanding = max(self.stats.max_deliver_outstanding, outstanding)

    def _wake(self, system_id: str, when: float | None) -> None:
        old = self._wakeups.pop(system_id, None)
        if old is not None:
            old.cancel()
        if when is not None:
            loop = asyncio.get_running_loop()
            self._wakeups[system_id] = loop.call_at(max(when, loop.time()), self.pump, system_id)

    def pending_receipts(self) -> int:
        return sum(
            1 for box in self._outboxes.values() for item in box if item.kind is Kind.RECEIPT
        )

    def pending_mobile_originated(self) -> int:
        return sum(1 for box in self._outboxes.values() for item in box if item.kind is Kind.MO)

    def stop(self) -> None:
        for timer in [*self._timers, *self._wakeups.values()]:
            timer.cancel()
        self._timers.clear()
        self._wakeups.clear()
        self.handsets.stop()

    def _outbox(self, system_id: str) -> Outbox:
        box = self._outboxes.get(system_id)
        if box is None:
            box = self._outboxes[system_id] = Outbox(self._policy)
        return box

    def _policy(self) -> DeliveryPolicy:
        """The delivery policy, with receipts retried after the (changeable) receipt delay."""
        return DeliveryPolicy(
            self.delivery.first_s,
            self.delivery.max_s,
            self.delivery.validity_s,
            self.faults.receipt_delay_ms / 1000.0,
        )

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()


def receipt_text(part: Part) -> bytes:
    """The receipt's text in the format of SMPP 3.4 Appendix B."""
    submitted = part.submitted.strftime("%y%m%d%H%M")
    done = (part.done or part.submitted).strftime("%y%m%d%H%M")
    sample = part.text[:20].encode("ascii", errors="replace").decode("ascii")
    error = "000" if part.state == "DELIVRD" else "001"
    dlvrd = "001" if part.state == "DELIVRD" else "000"
    return (
        f"id:{part.message_id} sub:001 dlvrd:{dlvrd} submit date:{submitted} done date:{done} "
        f"stat:{part.state} err:{error} text:{sample}"
    ).encode("ascii")


_MESSAGE_STATES = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5, "REJECTD": 8}


def receipt_body(part: Part) -> bytes:
    """The deliver_sm carrying a receipt for ``part`` (esm_class 0x04)."""
    alphanumeric = not part.source.isdigit()
    return protocol.encode(
        protocol.SHORT_MESSAGE,
        {
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": part.destination,
            "dest_addr_ton": 5 if alphanumeric else part.source_ton,
            "dest_addr_npi": 0 if alphanumeric else 1,
            "destination_addr": part.source,
            "esm_class": 0x04,
            "short_message": receipt_text(part),
        },
        {
            protocol.TAG_RECEIPTED_MESSAGE_ID: part.message_id.encode("ascii") + b"\x00",
            protocol.TAG_MESSAGE_STATE: bytes((_MESSAGE_STATES.get(part.state, 7),)),
        },
    )


def mobile_originated_body(part: Part) -> bytes:
    """The deliver_sm carrying a handset's message to an ESME: ``esm_class`` 0 (with UDHI
    0x40 when it has a header), its PID and data coding as the handset sent them."""
    return protocol.encode(
        protocol.SHORT_MESSAGE,
        {
            "source_addr_ton": part.source_ton,
            "source_addr_npi": 1,
            "source_addr": part.source,
            "dest_addr_ton": part.destination_ton,
            "dest_addr_npi": 1,
            "destination_addr": part.destination,
            "esm_class": part.esm_class & 0x40,
            "protocol_id": part.protocol_id,
            "data_coding": part.data_coding,
            "short_message": part.payload,
        },
    )
