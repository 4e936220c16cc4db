"""The SMSC's state shared by every connection: accounts, messages, receipts, counters.

Delivery is simulated: ``receipt_delay_ms`` after a part is accepted it counts as delivered
(DELIVRD) and, if the ESME asked for one, a receipt is queued for that ESME's account. A
receipt goes out on any receiver or transceiver bind of the account; one that cannot be sent
(no such bind), is refused (a non-zero deliver_sm_resp) or is lost with its bind waits for the
account's next bind — or, after a refusal, for another ``receipt_delay_ms`` — as an SMSC
keeps receipts until an ESME takes them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from emulators.smsc import protocol
from emulators.smsc.faults import Faults
from emulators.smsc.session import SmppSession
from emulators.smsc.store import MessageStore, Part

log = logging.getLogger(__name__)


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
    ) -> None:
        self.accounts = dict(accounts)
        self.system_id = system_id
        self.faults = faults
        self.barred_status = barred_status
        self.idempotency_tag = idempotency_tag
        self.store = MessageStore()
        self.stats = Stats()
        self.sessions: set[SmppSession] = set()
        self._receipts: dict[str, deque[Part]] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._id_prefix = secrets.token_hex(2)
        self._ids = 0

    def new_message_id(self) -> str:
        self._ids += 1
        return f"{self._id_prefix}{self._ids:08x}"

    def schedule_delivery(self, part: Part, *, receipt: bool) -> None:
        delay = self.faults.receipt_delay_ms / 1000.0
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None

        def due() -> None:
            if timer is not None:
                self._timers.discard(timer)
            part.state, part.done = "DELIVRD", datetime.now()
            if receipt:
                self._receipts.setdefault(part.system_id, deque()).append(part)
                self._pump(part.system_id)

        timer = loop.call_later(delay, due)
        self._timers.add(timer)

    def bound(self, session: SmppSession) -> None:
        if session.state.takes_receipts:
            self._pump(session.system_id)

    def session_gone(self, session: SmppSession) -> None:
        self.sessions.discard(session)
        lost = list(session.unacknowledged.values())
        session.unacknowledged.clear()
        if lost:
            self._receipts.setdefault(session.system_id, deque()).extendleft(reversed(lost))
            self._pump(session.system_id)

    def receipt_answered(self, session: SmppSession, part: Part, status: int) -> None:
        if status == protocol.Status.ESME_ROK:
            self.stats.receipts_acknowledged += 1
            return
        log.info("receipt for %s refused with 0x%08X; retrying", part.message_id, status)

        def retry() -> None:
            self._timers.discard(timer)
            self._receipts.setdefault(part.system_id, deque()).append(part)
            self._pump(part.system_id)

        delay = self.faults.receipt_delay_ms / 1000.0
        timer = asyncio.get_running_loop().call_later(delay, retry)
        self._timers.add(timer)

    def pending_receipts(self) -> int:
        return sum(len(queue) for queue in self._receipts.values())

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def _pump(self, system_id: str) -> None:
        """Send the account's queued receipts over one of its receiving binds, if any."""
        queue = self._receipts.get(system_id)
        if not queue:
            return
        session = next(
            (
                s
                for s in self.sessions
                if s.system_id == system_id and s.state.takes_receipts and s.is_open
            ),
            None,
        )
        if session is None:
            return
        while queue:
            part = queue.popleft()
            self.stats.receipts_sent += 1
            session.deliver_receipt(part, receipt_text(part), receipt_tlvs(part))


def receipt_text(part: Part) -> bytes:
    """The receipt's text in the format of SMPP 3.4 Appendix B."""
    submitted = part.submitted.strftime("%y%m%d%H%M")
    done = (part.done or part.submitted).strftime("%y%m%d%H%M")
    sample = part.text[:20].encode("ascii", errors="replace").decode("ascii")
    return (
        f"id:{part.message_id} sub:001 dlvrd:001 submit date:{submitted} done date:{done} "
        f"stat:{part.state} err:000 text:{sample}"
    ).encode("ascii")


def receipt_tlvs(part: Part) -> dict[int, bytes]:
    return {
        protocol.TAG_RECEIPTED_MESSAGE_ID: part.message_id.encode("ascii") + b"\x00",
        protocol.TAG_MESSAGE_STATE: bytes((protocol.MESSAGE_STATE_DELIVERED,)),
    }
