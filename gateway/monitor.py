"""Health of NEs that have no SNMP agent: a probe every interval.

An NE with nothing to do would otherwise not be known to be down until an order needed it;
with this, `/health` says "degraded" within one interval of an NE going away, and the orders
that come next wait at once instead of finding out command by command. osmo-hlr has no SNMP
agent: its health is this probe (a CTRL GET that always answers). While an NE's breaker is
open the breaker probes it itself, so this monitor leaves it alone then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from adapters.network_element import HealthReading, NeHealth
from gateway.clock import SYSTEM_CLOCK, Clock
from gateway.engine import Engine

log = logging.getLogger(__name__)


class ProbeMonitor:
    """``async with ProbeMonitor(engine, interval_s, skip=…)``: probes every NE but those in
    ``skip`` (their health comes from SNMP) every ``interval_s``."""

    def __init__(
        self,
        engine: Engine,
        interval_s: float,
        *,
        skip: Collection[str] = (),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._engine = engine
        self._interval = interval_s
        self._skip = set(skip)
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ProbeMonitor:
        self._task = asyncio.create_task(self._run(), name="ne-probe-monitor")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self.probe_all()
            await self._clock.sleep(self._interval)

    async def probe_all(self) -> None:
        """One round: every monitored NE whose breaker is closed, concurrently."""
        names = [
            name
            for name, breaker in self._engine.breakers.items()
            if name not in self._skip and breaker.closed
        ]
        await asyncio.gather(*(self._probe(name) for name in names))

    async def _probe(self, name: str) -> None:
        try:
            await self._engine.network[name].probe()
        except (ConnectionError, TimeoutError, OSError) as exc:
            health, reason = NeHealth.DOWN, f"no answer to a probe: {exc}"
        else:
            health, reason = NeHealth.UP, ""
        self._engine.health_reading(
            HealthReading(name, health, reason, self._clock.time(), "probe")
        )
