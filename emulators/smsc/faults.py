"""Fault injection: what an SMSC does to an ESME on a bad day, settable at start and at run time.

- slow responses: every submit_sm_resp waits ``latency_ms`` plus a uniform 0…``jitter_ms``
  (other responses are not delayed, so an ESME's keep-alive still works);
- refusals: a fraction ``refuse_rate`` of submit_sm is answered with ``refuse_status``
  (ESME_RTHROTTLED 0x58 by default; 0x14 is "message queue full") and not stored;
- dropped binds: with probability ``drop_rate`` a submit_sm makes the SMSC cut the connection
  without answering — at ``drop_stage`` "received" before the message is stored (the ESME must
  send it again), at "stored" after (the ESME must not make it a duplicate).

``receipt_delay_ms`` is not a fault but is set the same way: how long after a message is
accepted its delivery receipt goes out. One object is shared by every bind; a change applies
to the next PDU.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any

MAX_DELAY_MS = 600_000
DROP_STAGES = ("received", "stored")


@dataclass
class Faults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    refuse_rate: float = 0.0
    refuse_status: int = 0x58
    drop_rate: float = 0.0
    drop_stage: str = "stored"
    receipt_delay_ms: float = 100.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check(self.settings())

    def settings(self) -> dict[str, Any]:
        """The settings, without the random generator (what the admin API shows)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rng"}

    def update(self, **changes: Any) -> None:
        """Change some settings, all or nothing; `ValueError` names the first bad field."""
        unknown = sorted(set(changes) - set(self.settings()))
        if unknown:
            raise ValueError(f"{unknown[0]}: no such setting")
        _check({**self.settings(), **changes})
        for name, value in changes.items():
            setattr(self, name, value)

    def clear(self) -> None:
        """No faults (the receipt delay is kept)."""
        self.update(
            **{f.name: f.default for f in fields(self) if f.name not in ("rng", "receipt_delay_ms")}
        )

    def response_delay(self) -> float:
        if not self.latency_ms and not self.jitter_ms:
            return 0.0
        return (self.latency_ms + self.rng.uniform(0.0, self.jitter_ms)) / 1000.0

    def refusal(self) -> int | None:
        """The status to refuse the next submit_sm with, or None to take it."""
        if self.refuse_rate > 0 and self.rng.random() < self.refuse_rate:
            return self.refuse_status
        return None

    def drop(self) -> str | None:
        """The stage at which to cut the bind over the next submit_sm, or None."""
        if self.drop_rate > 0 and self.rng.random() < self.drop_rate:
            return self.drop_stage
        return None


def _check(settings: dict[str, Any]) -> None:
    for name in ("latency_ms", "jitter_ms", "receipt_delay_ms"):
        value = settings[name]
        if not _is_number(value) or not 0 <= value <= MAX_DELAY_MS:
            raise ValueError(f"{name}: expected milliseconds between 0 and {MAX_DELAY_MS}")
    for name in ("refuse_rate", "drop_rate"):
        value = settings[name]
        if not _is_number(value) or not 0 <= value <= 1:
            raise ValueError(f"{name}: expected a fraction between 0 and 1")
    status = settings["refuse_status"]
    if not isinstance(status, int) or isinstance(status, bool) or not 0 < status <= 0xFFFFFFFF:
        raise ValueError("refuse_status: expected a non-zero command_status")
    if settings["drop_stage"] not in DROP_STAGES:
        raise ValueError(f"drop_stage: expected one of {', '.join(DROP_STAGES)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
