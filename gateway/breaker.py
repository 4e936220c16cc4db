"""A circuit breaker per network element: when the engine stops sending to an NE, and how it
learns that the NE is back.

closed ──(N consecutive transport failures, or a health reading turning "down")──► open
open ──(every probe interval, or at once when health says "up")──► half-open: one probe
half-open ──(the probe answered)──► closed      half-open ──(no answer)──► open

While a breaker is not closed, orders that need its NE wait (state ``waiting_for_ne``) instead
of sending commands that would fail: their retry budgets are not spent on an outage, and the
NE is not hammered while it restarts. The breaker probes on its own with `NetworkElement.probe`
(one cheap command), so recovery is seen within one probe interval even with no orders about.
Opening and closing are reported to ``on_change`` (the engine audits them); half-open is a
moment between the two and is only shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from adapters.network_element import HealthReading, NeHealth
from gateway.clock import Clock, first_of
from gateway.config import BreakerPolicy
from gateway.operations import Reply

log = logging.getLogger(__name__)


QUICK_PROBE_S = 0.2
"""The first wait between probes while health says the NE is up and probes still fail."""


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerChange:
    """The breaker of ``ne`` went from ``old`` to ``new`` at ``at``, because of ``reason``."""

    ne: str
    old: BreakerState
    new: BreakerState
    reason: str
    at: float


Probe = Callable[[], Awaitable[None]]
"""One cheap command to the NE; raises ConnectionError/TimeoutError/OSError unanswered."""


class Breaker:
    def __init__(
        self,
        ne: str,
        policy: BreakerPolicy,
        probe: Probe,
        clock: Clock,
        on_change: Callable[[BreakerChange], None] = lambda change: None,
    ) -> None:
        self.ne = ne
        self._policy = policy
        self._probe = probe
        self._clock = clock
        self._on_change = on_change
        self.state = BreakerState.CLOSED
        self.since = clock.time()  # of the current state
        self.opened_at: float | None = None  # when the NE was last found unreachable
        self.reason = ""
        self.failures = 0  # consecutive transport failures while closed
        self.probes = 0  # probes sent since the breaker last opened
        self._health = NeHealth.UNKNOWN
        self._closed = asyncio.Event()
        self._closed.set()
        self._probe_now = asyncio.Event()
        self._prober: asyncio.Task[None] | None = None

    @property
    def closed(self) -> bool:
        return self.state is BreakerState.CLOSED

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- what feeds it ------------------------------------------------------------------

    def record(self, reply: Reply) -> None:
        """Every reply of the NE to an order's command: a transport failure counts towards
        opening, any answer (even a refusal) shows the NE is there."""
        if reply.unreachable:
            self.failure(f"{reply.code}: {reply.text}" if reply.text else reply.code)
        else:
            self.answered()

    def failure(self, why: str) -> None:
        """A transport failure (a command or a read that got no answer)."""
        if not self.closed:
            return
        self.failures += 1
        if self.failures >= self._policy.failures_to_open:
            self._open(f"{self.failures} commands in a row unanswered, the last: {why}")

    def answered(self) -> None:
        """The NE answered a command (sent before the breaker opened, or a probe)."""
        self.failures = 0
        if not self.closed:
            self._close("the NE answered")

    def reading(self, reading: HealthReading) -> None:
        """What the NE's management interface says. Turning "down" opens the breaker (the same
        reading repeated by every poll does not open it again once a probe has closed it: the
        NE then answers commands despite its alarm); "up" or "degraded" while open probes at
        once instead of at the next interval."""
        turned_down = reading.health is NeHealth.DOWN and self._health is not NeHealth.DOWN
        self._health = reading.health
        if turned_down and self.closed:
            self._open(f"health ({reading.source}): {reading.reason}")
        elif reading.health in (NeHealth.UP, NeHealth.DEGRADED) and not self.closed:
            self._probe_now.set()

    # -- transitions --------------------------------------------------------------------

    def _set(self, new: BreakerState, reason: str, *, announce: bool = True) -> None:
        old = self.state
        self.state, self.reason, self.since = new, reason, self._clock.time()
        if announce:
            log.warning("%s: circuit breaker %s → %s (%s)", self.ne, old, new, reason)
            self._on_change(BreakerChange(self.ne, old, new, reason, self.since))

    def _open(self, reason: str) -> None:
        self._closed.clear()
        self.probes = 0
        self._set(BreakerState.OPEN, reason)
        self.opened_at = self.since
        if self._prober is None or self._prober.done():
            self._prober = asyncio.create_task(self._probing(), name=f"breaker-{self.ne}")

    def _close(self, reason: str) -> None:
        self.failures = 0
        self._set(BreakerState.CLOSED, reason)
        self._closed.set()
        self._probe_now.set()  # let the prober see it and end

    async def _probing(self) -> None:
        """While not closed: wait the probe interval (or a health reading saying "up"), then
        send one probe; an answer closes the breaker. While health says the NE is up but the
        probe finds no answer yet (a clearing trap can come a moment before the service port
        is open), probes follow each other faster: 0.2 s, 0.4 s … up to the interval."""
        soon = QUICK_PROBE_S
        while not self.closed:
            wait = self._policy.probe_interval_s
            if self._health in (NeHealth.UP, NeHealth.DEGRADED):
                wait, soon = min(wait, soon), soon * 2
            else:
                soon = QUICK_PROBE_S
            await first_of(self._clock.sleep(wait), self._probe_now.wait())
            self._probe_now.clear()
            if self.closed:
                return
            self.probes += 1
            self._set(BreakerState.HALF_OPEN, f"probe {self.probes}", announce=False)
            try:
                await self._probe()
            except (ConnectionError, TimeoutError, OSError) as exc:
                if not self.closed:
                    self._set(BreakerState.OPEN, f"probe {self.probes}: {exc}", announce=False)
                continue
            if not self.closed:
                self._close(f"probe {self.probes} answered")

    async def close(self) -> None:
        """Stop probing (the gateway is stopping)."""
        if self._prober is not None:
            self._prober.cancel()
            await asyncio.gather(self._prober, return_exceptions=True)


class Breakers(Mapping[str, Breaker]):
    """One breaker per network element (card stations have none: a reader is not an NE)."""

    def __init__(self, breakers: Mapping[str, Breaker]) -> None:
        self._breakers = dict(breakers)

    def __getitem__(self, ne: str) -> Breaker:
        return self._breakers[ne]

    def __iter__(self) -> Iterator[str]:
        return iter(self._breakers)

    def __len__(self) -> int:
        return len(self._breakers)

    def open(self) -> list[Breaker]:
        """The breakers that are not closed."""
        return [b for b in self._breakers.values() if not b.closed]

    async def close(self) -> None:
        await asyncio.gather(*(b.close() for b in self._breakers.values()))
