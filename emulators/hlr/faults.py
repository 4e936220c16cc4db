"""Fault injection: what a real HLR does to a provisioning gateway on a bad day.

- latency: every reply waits `latency_ms` plus a uniform 0…`jitter_ms`;
- errors: a fraction of provisioning commands is answered with a transient code (5001 by
  default) *without* being executed — the gateway should retry them;
- drops: after a provisioning command took effect, the SSH connection is cut before the reply
  with probability `drop_rate` — the gateway does not know the outcome and must reconcile;
- stuck sessions: a session that has answered `stuck_after` provisioning commands goes silent.

"Provisioning commands" are all but LGI, LGO and the emulator's own engineer commands, so an
engineer can still log in, look and switch faults off. One `Faults` object is shared by all
sessions; changes apply to the next command.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any

# Ten minutes: beyond that a client's timeout is long gone and the setting is surely a typo.
MAX_LATENCY_MS = 600_000


@dataclass
class Faults:
    """Current fault settings; change them with `update` (checked, all or nothing)."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_code: int = 5001
    drop_rate: float = 0.0
    stuck_after: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check(self.settings())

    def settings(self) -> dict[str, Any]:
        """The settings without the random generator."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rng"}

    def update(self, **changes: Any) -> None:
        """Change some settings; `ValueError` naming the field, and no change, if one is bad."""
        unknown = set(changes) - set(self.settings())
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: no such fault setting")
        _check({**self.settings(), **changes})
        for name, value in changes.items():
            setattr(self, name, value)

    def clear(self) -> None:
        """Back to a healthy NE."""
        self.update(**{f.name: f.default for f in fields(self) if f.name != "rng"})

    def delay(self) -> float:
        """Seconds to wait before answering the next command."""
        if not self.latency_ms and not self.jitter_ms:
            return 0.0
        return (self.latency_ms + self.rng.uniform(0.0, self.jitter_ms)) / 1000.0

    def inject_error(self) -> bool:
        """Whether to refuse the next provisioning command with `error_code`."""
        return self.error_rate > 0 and self.rng.random() < self.error_rate

    def drop_after(self) -> bool:
        """Whether to cut the connection after executing the next provisioning command."""
        return self.drop_rate > 0 and self.rng.random() < self.drop_rate

    def is_stuck(self, answered: int) -> bool:
        """Whether a session that has answered `answered` provisioning commands stays silent."""
        return 0 < self.stuck_after <= answered


def _check(settings: dict[str, Any]) -> None:
    for name in ("latency_ms", "jitter_ms"):
        value = settings[name]
        if not _is_number(value) or not 0 <= value <= MAX_LATENCY_MS:
            raise ValueError(f"{name}: expected milliseconds between 0 and {MAX_LATENCY_MS}")
    for name in ("error_rate", "drop_rate"):
        value = settings[name]
        if not _is_number(value) or not 0 <= value <= 1:
            raise ValueError(f"{name}: expected a fraction between 0 and 1")
    code = settings["error_code"]
    if not isinstance(code, int) or isinstance(code, bool) or not 0 < code <= 99999:
        raise ValueError("error_code: expected a return code between 1 and 99999")
    stuck = settings["stuck_after"]
    if not isinstance(stuck, int) or isinstance(stuck, bool) or stuck < 0:
        raise ValueError("stuck_after: expected a number of commands ≥ 0 (0 = never)")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
