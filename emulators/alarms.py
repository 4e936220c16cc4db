"""An emulated NE's active alarms: what its management interface (SNMP) reports and traps.

Alarms are raised and cleared by *condition*: each emulator says which conditions hold now
(`FaultSettings.conditions()`: an injected outage, a high error rate …) and `sync` raises an
alarm for each new one and clears those that no longer hold, so the table always matches the
faults. Every alarm gets a number of its own, never reused while the emulator runs, which is
how a clear notification names the alarm it clears.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    """ITU-T X.733 perceived severity, numbered as RFC 3877's ItuPerceivedSeverity (the
    numbers of ``ProvgwEmuPerceivedSeverity`` in docs/mibs/PROVGW-EMULATOR-MIB.txt)."""

    CLEARED = 1
    INDETERMINATE = 2
    CRITICAL = 3
    MAJOR = 4
    MINOR = 5
    WARNING = 6


@dataclass(frozen=True)
class Condition:
    """Something wrong with the NE for as long as it holds, e.g. an injected outage."""

    severity: Severity
    text: str


@dataclass(frozen=True)
class Alarm:
    id: int
    key: str  # which condition raised it ("outage", "error-rate" …)
    severity: Severity
    text: str
    raised_at: float  # time.time()


AlarmListener = Callable[[Alarm, bool], None]
"""Called with the alarm and True when it was raised, False when it was cleared."""


class AlarmTable:
    """The active alarms; listeners hear every raise and clear (the SNMP agent's traps)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._active: dict[str, Alarm] = {}
        self._last_id = 0
        self._listeners: list[AlarmListener] = []
        self.version = 0  # counts changes, so a reader can tell that its copy is stale

    def active(self) -> list[Alarm]:
        """The active alarms, oldest first (the order of their numbers)."""
        return sorted(self._active.values(), key=lambda alarm: alarm.id)

    def listen(self, listener: AlarmListener) -> None:
        self._listeners.append(listener)

    def unlisten(self, listener: AlarmListener) -> None:
        self._listeners.remove(listener)

    def sync(self, conditions: Mapping[str, Condition]) -> None:
        """Clear the alarms whose condition no longer holds (or changed), raise the new ones."""
        for key, alarm in list(self._active.items()):
            condition = conditions.get(key)
            if condition is None or (condition.severity, condition.text) != (
                alarm.severity,
                alarm.text,
            ):
                self._clear(key)
        for key, condition in conditions.items():
            if key not in self._active:
                self._raise(key, condition)

    def _raise(self, key: str, condition: Condition) -> None:
        self._last_id += 1
        alarm = Alarm(self._last_id, key, condition.severity, condition.text, self._clock())
        self._active[key] = alarm
        self._changed(alarm, raised=True)

    def _clear(self, key: str) -> None:
        self._changed(self._active.pop(key), raised=False)

    def _changed(self, alarm: Alarm, *, raised: bool) -> None:
        self.version += 1
        for listener in list(self._listeners):
            listener(alarm, raised)
