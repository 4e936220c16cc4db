"""Sign-in throttling: after repeated wrong passwords an operator id, or a client address, is
locked out for a while (M2: a password guessed by trying is as bad as a stolen one).

Two counters, because an attacker either tries many passwords for one operator (counted per
operator id, wherever the attempts come from) or one password for many operators (counted
per client address; its limit is higher, since a whole outlet may share one address). A
failure counts for ``window_s``; reaching the limit locks the key for ``lockout_s``. While
locked, no password is even checked, the right one included. A successful sign-in clears the
operator's counter, an administrator setting a new password unlocks the operator.

State is kept in memory, per gateway process: a restart forgets it, which costs an attacker
a restart they cannot cause. Time comes from the injected clock, so tests lock and unlock on
a clock that stands still.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field


class LoginPolicy(BaseModel):
    """How many wrong passwords lock sign-in, and for how long (``[login]`` in the config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failures_per_operator: int = Field(5, ge=1, le=1000)
    failures_per_address: int = Field(20, ge=1, le=100_000)
    window_s: float = Field(900.0, gt=0, le=86_400)
    lockout_s: float = Field(900.0, gt=0, le=86_400)


@dataclass(frozen=True)
class Locked:
    """A key that is locked: which (``operator clerk1`` or ``address 10.0.0.7``) and until
    when."""

    key: str
    until: float

    def anonymous(self) -> Locked:
        """The lock as the audit trail names it when the operator id is not known: people
        type passwords into the wrong field, and the trail must never hold one."""
        if self.key.startswith("operator"):
            return Locked("operator (unknown)", self.until)
        return self

    def seconds_left(self, now: float) -> int:
        return max(1, math.ceil(self.until - now))

    def message(self, now: float) -> str:
        minutes = math.ceil(self.seconds_left(now) / 60)
        return (
            f"sign-in is locked for {self.key} after too many wrong passwords: try again in"
            f" {minutes} min, or ask an administrator to set a new password"
        )


@dataclass
class _Counter:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class Lockout:
    """The counters of wrong passwords, per operator id and per client address."""

    def __init__(self, policy: LoginPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.clock = clock
        self._counters: dict[str, _Counter] = {}

    @staticmethod
    def _keys(operator: str, address: str | None) -> list[str]:
        return [f"operator {operator}"] + ([f"address {address}"] if address else [])

    def _limit(self, key: str) -> int:
        p = self.policy
        return p.failures_per_operator if key.startswith("operator") else p.failures_per_address

    def locked(self, operator: str, address: str | None) -> Locked | None:
        """The lock that refuses this attempt before any password is checked, if any."""
        now = self.clock()
        for key in self._keys(operator, address):
            counter = self._counters.get(key)
            if counter is not None and counter.locked_until > now:
                return Locked(key, counter.locked_until)
        return None

    def failed(self, operator: str, address: str | None) -> list[Locked]:
        """Count a wrong password; the locks it starts (to be audited)."""
        now = self.clock()
        if len(self._counters) > 10_000:
            self._forget(now)
        started: list[Locked] = []
        for key in self._keys(operator, address):
            counter = self._counters.setdefault(key, _Counter())
            counter.failures = [t for t in counter.failures if t > now - self.policy.window_s]
            counter.failures.append(now)
            if len(counter.failures) >= self._limit(key):
                counter.locked_until = now + self.policy.lockout_s
                counter.failures.clear()
                started.append(Locked(key, counter.locked_until))
        return started

    def clear(self, operator: str) -> None:
        """The operator signed in, or an administrator set a new password: start afresh."""
        self._counters.pop(f"operator {operator}", None)

    def _forget(self, now: float) -> None:
        horizon = now - self.policy.window_s
        self._counters = {
            k: c
            for k, c in self._counters.items()
            if c.locked_until > now or any(t > horizon for t in c.failures)
        }
