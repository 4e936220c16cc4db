"""The one interface the gateway drives every network element through.

NAPALM-style: one protocol, one module per vendor dialect. The engine never sees MML or CTRL
text; it hands an `Operation` to `execute` and gets a `Reply` back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from gateway.operations import (
    AuthVector,
    CardOperation,
    Lookup,
    Operation,
    Reply,
    SubscriberView,
)


class NeHealth(StrEnum):
    """What an NE's own management interface (SNMP, or a CTRL GET) says of it."""

    UP = "up"
    DEGRADED = "degraded"  # answering, with an active alarm that is not critical
    DOWN = "down"  # not answering, or a critical alarm says its service is out
    UNKNOWN = "unknown"  # never heard from (an unreachable management address is not "down")


@dataclass(frozen=True)
class HealthReading:
    """One reading of an NE's health: from a poll, a trap, or a probe.

    The gateway turns readings into the NE's circuit-breaker state: ``DOWN`` opens it, ``UP``
    after ``DOWN`` lets the half-open probe go at once."""

    ne: str
    health: NeHealth
    reason: str  # for engineers: "alarm 3 critical: service port down", "no answer"
    at: float  # time.time() of the reading
    source: str  # "snmp-poll", "snmp-trap", "ctrl"
    restarted: bool = False  # sysUpTime went back since the last poll


class NotSupported(Exception):
    """The dialect has no equivalent of an operation; the planner refuses such orders up front."""


@runtime_checkable
class NetworkElement(Protocol):
    """A connection (or pool of connections) to one network element."""

    name: str
    dialect: str

    def render(self, op: Operation) -> str:
        """The exact command(s) `execute` would send, secrets masked. Touches no NE.

        Raises `NotSupported` when the dialect has no equivalent of ``op``.
        """
        ...

    def check(self, op: Operation) -> None:
        """Raise `NotSupported` when `execute` could not carry out ``op`` (as `render` would).

        The engine asks this of every step and compensation before a plan runs, so an order
        the NE cannot complete is refused before anything is sent. A dialect whose answer
        depends on the operation's type alone answers without rendering."""
        ...

    async def execute(self, op: Operation) -> Reply:
        """Send the command(s) for ``op`` and classify the answer. Never raises for NE errors:
        a timeout or disconnect is a Reply with outcome TRANSIENT (not sent) or UNKNOWN (may
        have run)."""
        ...

    async def read(self, lookup: Lookup) -> SubscriberView:
        """Read a subscriber back (LST SUB + LST KI, or the dialect's equivalent).

        Returns `gateway.operations.ABSENT`-like views for unknown subscribers; raises
        `ConnectionError` when the NE cannot be asked."""
        ...

    async def probe(self) -> None:
        """One cheap command that proves the NE answers (an HLR: a read of a subscriber that
        does not exist). Returns when the NE answered anything at all; raises
        `ConnectionError` or `TimeoutError` when it could not be asked. The circuit breaker's
        half-open probe."""
        ...

    async def close(self) -> None:
        """Log out and close every session."""
        ...


@runtime_checkable
class AuthenticationCentre(Protocol):
    """An NE that can hand out authentication vectors (an HLR/HSS with its AuC)."""

    async def auth_vector(self, imsi: str) -> AuthVector:
        """One fresh vector for ``imsi``. Raises `LookupError` when the NE has no
        authentication data for it, `ConnectionError` when it cannot be asked."""
        ...


@runtime_checkable
class Resynchronising(Protocol):
    """An authentication centre that accepts a card's AUTS (TS 33.102 §6.3.5)."""

    async def resync(self, imsi: str, rand: str, auts: str) -> None:
        """Bring the NE's SQN for ``imsi`` past the card's (RAND and AUTS in hex)."""
        ...


@runtime_checkable
class CardStation(Protocol):
    """A card reader where blank cards are written (at the counter, or behind a card agent).

    Executes the card steps of a plan: writing a card, and proving it against the network.
    """

    name: str
    dialect: str

    def render(self, op: CardOperation) -> str:
        """What `execute` would do, in words an engineer can check; secrets masked."""
        ...

    async def execute(self, op: CardOperation) -> Reply:
        """Carry out the step; never raises for card or network trouble (see `Reply`)."""
        ...

    async def read(self, lookup: Lookup) -> SubscriberView:
        """The card now in the reader, as a view: ``exists`` when it holds ``lookup.imsi``."""
        ...

    async def close(self) -> None: ...
