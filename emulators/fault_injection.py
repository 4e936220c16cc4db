"""What every emulator's fault settings share: latency with jitter, an outage, a random source,
changes that are checked as a whole (all or nothing), at start and while it runs, and the alarm
conditions the settings amount to.

An **outage** takes the NE's service ports down (connections refused, sessions cut) while the
process stays up and its management interface (SNMP) keeps answering — a maintenance window or
a crashed service. ``outage_s`` makes it end by itself, which is how it is set over the NE's own
interfaces (the outage closes them, so nothing could clear it there).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from emulators.alarms import Condition, Severity

MAX_DELAY_MS = 600_000
"""Ten minutes: beyond that a client's timeout is long gone and the setting is surely a typo."""
MAX_OUTAGE_S = 86_400
"""A day: an outage set to end by itself ends within one."""
SLOW_REPLY_MS = 1_000
"""Replies delayed by this much or more raise a minor alarm: most clients time out soon after."""
RATE_ALARM = 0.1
"""A fraction of commands refused (or sessions cut) from which on a minor alarm is raised…"""
RATE_MAJOR = 0.5
"""…and from which on it is major."""
OUTAGE = Condition(Severity.CRITICAL, "service down: injected outage")
"""Raised with the outage; cleared once the service listens again (not when the outage is
merely switched off), so that a clearing trap means the NE can be used."""


@dataclass
class FaultSettings:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    spike_rate: float = 0.0  # this fraction of answers waits spike_ms more: a latency spike
    spike_ms: float = 0.0
    outage: bool = False
    outage_s: float = 0.0  # 0: until cleared; otherwise the outage ends after this long
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.check(self.settings())
        self._watchers: list[Callable[[], None]] = []

    def check(self, settings: dict[str, Any]) -> None:
        """Raise `ValueError` naming the first bad field; subclasses check theirs too."""
        for name in ("latency_ms", "jitter_ms", "spike_ms"):
            milliseconds(name, settings[name])
        fraction("spike_rate", settings["spike_rate"])
        if not isinstance(settings["outage"], bool):
            raise ValueError("outage: expected true or false")
        outage_s = settings["outage_s"]
        if not is_number(outage_s) or not 0 <= outage_s <= MAX_OUTAGE_S:
            raise ValueError(f"outage_s: expected seconds between 0 and {MAX_OUTAGE_S}")

    def watch(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher`` after every change (the emulator applies outages and alarms)."""
        self._watchers.append(watcher)

    def unwatch(self, watcher: Callable[[], None]) -> None:
        self._watchers.remove(watcher)

    def conditions(self) -> dict[str, Condition]:
        """The alarm conditions these settings amount to, by key; subclasses add theirs."""
        conditions: dict[str, Condition] = {}
        if self.outage:
            conditions["outage"] = OUTAGE
        if self.latency_ms >= SLOW_REPLY_MS:
            conditions["latency"] = Condition(
                Severity.MINOR, f"replies delayed by {self.latency_ms:g} ms or more"
            )
        for key, rate, what in self.failure_rates():
            if rate >= RATE_ALARM:
                severity = Severity.MAJOR if rate >= RATE_MAJOR else Severity.MINOR
                conditions[key] = Condition(severity, f"{rate:.0%} of {what}")
        return conditions

    def failure_rates(self) -> list[tuple[str, float, str]]:
        """(alarm key, fraction, what goes wrong) for each kind of injected failure."""
        return []

    def settings(self) -> dict[str, Any]:
        """The settings, without the random generator (what engineers see)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rng"}

    def update(self, **changes: Any) -> None:
        """Change some settings, all or nothing; `ValueError` names the first bad field."""
        unknown = sorted(set(changes) - set(self.settings()))
        if unknown:
            raise ValueError(f"{unknown[0]}: no such fault setting")
        self.check({**self.settings(), **changes})
        for name, value in changes.items():
            setattr(self, name, value)
        for watcher in list(self._watchers):
            watcher()

    def delay(self) -> float:
        """Seconds to wait before the next answer."""
        if not self.latency_ms and not self.jitter_ms and not self.spike_rate:
            return 0.0
        spike = self.spike_ms if self.chance(self.spike_rate) else 0.0
        return (self.latency_ms + self.rng.uniform(0.0, self.jitter_ms) + spike) / 1000.0

    def chance(self, rate: float) -> bool:
        """True with probability ``rate``."""
        return rate > 0 and self.rng.random() < rate


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def milliseconds(name: str, value: Any) -> None:
    if not is_number(value) or not 0 <= value <= MAX_DELAY_MS:
        raise ValueError(f"{name}: expected milliseconds between 0 and {MAX_DELAY_MS}")


def fraction(name: str, value: Any) -> None:
    if not is_number(value) or not 0 <= value <= 1:
        raise ValueError(f"{name}: expected a fraction between 0 and 1")
