"""What every emulator's fault settings share: latency with jitter, a random source, and
changes that are checked as a whole (all or nothing), at start and while it runs."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any

MAX_DELAY_MS = 600_000
"""Ten minutes: beyond that a client's timeout is long gone and the setting is surely a typo."""


@dataclass
class FaultSettings:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.check(self.settings())

    def check(self, settings: dict[str, Any]) -> None:
        """Raise `ValueError` naming the first bad field; subclasses check theirs too."""
        for name in ("latency_ms", "jitter_ms"):
            milliseconds(name, settings[name])

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

    def delay(self) -> float:
        """Seconds to wait before the next answer."""
        if not self.latency_ms and not self.jitter_ms:
            return 0.0
        return (self.latency_ms + self.rng.uniform(0.0, self.jitter_ms)) / 1000.0

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
