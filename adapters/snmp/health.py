"""One NE's health from what its agent says: polls, traps, silence. Pure: the caller passes
the time, so the reading logic is tested on a clock that stands still.

- **up**: the agent answers and reports no alarm;
- **degraded**: it answers, with at least one alarm that is not critical;
- **down**: a critical alarm (the NE says its service is out), or an agent that answered
  before stops answering;
- **unknown**: it never answered (a wrong or unreachable SNMP address is not an outage).

A **restart** shows as sysUpTime going back. Comparing the agent's boot time (now − uptime)
between two consecutive polls also sees a restart that happened long enough before the next
poll for the new uptime to pass the old one; a shift within `BOOT_TOLERANCE` is request
latency, and one of 2³² centiseconds (497 days) is sysUpTime wrapping, not a restart. A
coldStart or warmStart trap says so directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from adapters.network_element import HealthReading, NeHealth
from adapters.snmp.mib import CRITICAL, SEVERITY_NAMES

BOOT_TOLERANCE = 1.0
"""Seconds the computed boot time may move between polls without being a restart."""
WRAP = 2**32 / 100
"""Seconds after which sysUpTime (TimeTicks, centiseconds) wraps to 0."""


@dataclass(frozen=True)
class ActiveAlarm:
    """A row of the NE's active alarm table (PROVGW-EMULATOR-MIB)."""

    id: int
    severity: int  # ProvgwEmuPerceivedSeverity: 3 critical … 6 warning
    text: str

    def describe(self) -> str:
        severity = SEVERITY_NAMES.get(self.severity, f"severity {self.severity}")
        return f"alarm {self.id} {severity}: {self.text}"


class HealthTracker:
    """Turns one NE's SNMP answers into `HealthReading`s; keeps what it needs between them."""

    def __init__(self, ne: str) -> None:
        self.ne = ne
        self.answered = False
        self.alarms: dict[int, ActiveAlarm] = {}
        self._boot: float | None = None  # the agent's boot time on the monotonic clock

    def polled(
        self, uptime: int, alarms: Iterable[ActiveAlarm], *, now: float, at: float
    ) -> HealthReading:
        """A poll answered: sysUpTime (centiseconds) and the whole alarm table. ``now`` is
        the monotonic clock, ``at`` the wall clock."""
        boot = now - uptime / 100
        restarted = False
        if self._boot is not None:
            shift = boot - self._boot
            if abs(shift - WRAP) <= BOOT_TOLERANCE:
                shift = 0.0
            restarted = shift > BOOT_TOLERANCE
        self._boot = boot
        self.answered = True
        self.alarms = {alarm.id: alarm for alarm in alarms}
        return self._reading("snmp-poll", at, restarted=restarted)

    def unanswered(self, why: str, *, at: float) -> HealthReading:
        """A poll that got no answer (after its retries)."""
        if not self.answered:
            return HealthReading(self.ne, NeHealth.UNKNOWN, f"never answered SNMP: {why}", at,
                                 "snmp-poll")  # fmt: skip
        return HealthReading(self.ne, NeHealth.DOWN, f"no SNMP answer: {why}", at, "snmp-poll")

    def alarm_raised(self, alarm: ActiveAlarm, *, at: float) -> HealthReading:
        self.answered = True
        self.alarms[alarm.id] = alarm
        return self._reading("snmp-trap", at)

    def alarm_cleared(self, alarm_id: int, *, at: float) -> HealthReading:
        self.answered = True
        self.alarms.pop(alarm_id, None)
        return self._reading("snmp-trap", at)

    def agent_started(self, *, now: float, at: float) -> HealthReading:
        """A coldStart/warmStart trap: the agent restarted, its old alarms are gone."""
        self.answered = True
        self.alarms = {}
        self._boot = now
        return self._reading("snmp-trap", at, restarted=True)

    def _reading(self, source: str, at: float, *, restarted: bool = False) -> HealthReading:
        # Worst first: critical, then by severity number (major 4 before minor 5), then oldest.
        alarms = sorted(
            self.alarms.values(), key=lambda a: (a.severity != CRITICAL, a.severity, a.id)
        )
        if alarms and alarms[0].severity == CRITICAL:
            health, reason = NeHealth.DOWN, _listed(alarms)
        elif alarms:
            health, reason = NeHealth.DEGRADED, _listed(alarms)
        else:
            health, reason = NeHealth.UP, "answering, no alarm"
        if restarted:
            reason = f"restarted; {reason}"
        return HealthReading(self.ne, health, reason, at, source, restarted)


def _listed(alarms: list[ActiveAlarm]) -> str:
    """The worst alarm, and how many more."""
    more = f" (+{len(alarms) - 1} more)" if len(alarms) > 1 else ""
    return alarms[0].describe() + more
