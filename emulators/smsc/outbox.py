"""What the SMSC has to deliver to one ESME account as deliver_sm: receipts and mobile-
originated messages, and what it does when the ESME does not take them.

As an SMSC does it:

* **Receipts** wait until an ESME takes them; one refused (a non-zero deliver_sm_resp) goes
  again ``receipt_retry_s`` later. They do not expire.
* **Mobile-originated messages** (to a service number of the account) go out oldest first. A
  temporary refusal — any non-zero status but the two below, or a bind lost before the answer —
  is retried with exponential backoff (``first_s``, doubling, at most ``max_s``); a message
  still undelivered at the end of its validity (``validity_s`` after it arrived) **expires**.
  ``ESME_RX_P_APPN`` (0x65, permanent application error) and ``ESME_RX_R_APPN`` (0x66, reject)
  are final at once: the ESME said it will never take the message.

No ESME bound: everything waits (MO until it expires). This module is the bookkeeping only,
on times it is given (``now``, seconds on any monotonic clock), so that the policy is tested
on a clock the test controls; `emulators.smsc.core` drives it on the event loop's clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from emulators.smsc.store import Part

ESME_RX_P_APPN = 0x65
ESME_RX_R_APPN = 0x66
FINAL_REFUSALS = frozenset({ESME_RX_P_APPN, ESME_RX_R_APPN})


class Kind(Enum):
    RECEIPT = "receipt"
    MO = "mo"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long and how often deliver_sm are tried (see the module docstring)."""

    first_s: float = 1.0
    max_s: float = 60.0
    validity_s: float = 3600.0
    receipt_retry_s: float = 0.1

    def backoff(self, attempts: int) -> float:
        """The wait after the ``attempts``-th failed attempt (1, 2, …)."""
        return min(self.first_s * 2.0 ** max(attempts - 1, 0), self.max_s)


@dataclass(eq=False)
class Outbound:
    """One deliver_sm to be: a receipt for ``part``, or ``part`` itself (MO)."""

    kind: Kind
    part: Part
    expires: float | None  # MO: end of validity; receipts never expire
    due: float
    arrival: int  # its place in the box
    attempts: int = 0


class Verdict(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Outbox:
    """Outbound deliver_sm of one account, in arrival order (retries keep their place)."""

    def __init__(self, policy: Callable[[], DeliveryPolicy]) -> None:
        self._policy = policy
        self._waiting: list[Outbound] = []
        self._arrivals = itertools.count()

    def __len__(self) -> int:
        return len(self._waiting)

    def __iter__(self) -> Iterator[Outbound]:
        return iter(self._waiting)

    def receipt(self, part: Part, now: float) -> Outbound:
        item = Outbound(Kind.RECEIPT, part, None, now, next(self._arrivals))
        self._waiting.append(item)
        return item

    def mobile_originated(self, part: Part, now: float) -> Outbound:
        item = Outbound(Kind.MO, part, now + self._policy().validity_s, now, next(self._arrivals))
        self._waiting.append(item)
        return item

    def take(self, now: float) -> Outbound | None:
        """The oldest item due now, out of the box (it is in flight until `answered`)."""
        for index, item in enumerate(self._waiting):
            if item.due <= now:
                return self._waiting.pop(index)
        return None

    def expire(self, now: float) -> list[Outbound]:
        """Take out and return the MO whose validity has ended."""
        gone = [i for i in self._waiting if i.expires is not None and i.expires <= now]
        self._waiting = [i for i in self._waiting if i not in gone]
        return gone

    def answered(self, item: Outbound, status: int, now: float) -> Verdict:
        """An item in flight was answered with ``status``; back in the box when it is to be
        tried again (in its old place)."""
        if status == 0:
            return Verdict.DELIVERED
        if item.kind is Kind.RECEIPT:
            item.due = now + self._policy().receipt_retry_s
            self._put_back(item)
            return Verdict.RETRY
        if status in FINAL_REFUSALS:
            return Verdict.REJECTED
        return self._retry(item, now)

    def lost(self, item: Outbound, now: float) -> Verdict:
        """The bind an item was sent on went before its answer: it may not have arrived."""
        if item.kind is Kind.RECEIPT:
            item.due = now
            self._put_back(item)
            return Verdict.RETRY
        return self._retry(item, now)

    def next_wakeup(self, *, sendable: bool) -> float | None:
        """When something next becomes due (if it could be sent: a bind with room) or expires;
        None when nothing is waiting for a time."""
        times = [i.expires for i in self._waiting if i.expires is not None]
        if sendable:
            times += [i.due for i in self._waiting]
        return min(times, default=None)

    def _retry(self, item: Outbound, now: float) -> Verdict:
        item.attempts += 1
        item.due = now + self._policy().backoff(item.attempts)
        if item.expires is not None and item.due >= item.expires:
            return Verdict.EXPIRED
        self._put_back(item)
        return Verdict.RETRY

    def _put_back(self, item: Outbound) -> None:
        """In arrival order: before the first item that arrived after it."""
        at = next(
            (n for n, other in enumerate(self._waiting) if other.arrival > item.arrival),
            len(self._waiting),
        )
        self._waiting.insert(at, item)
