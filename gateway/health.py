"""How each network element and card station is doing.

Three sources, shown side by side (`GET /network`, `provgw ne status`, the network page):
- the replies the engine sees: every reply it records also lands here, so latency and error
  rate are those of real traffic, not of synthetic probes (a window of recent replies per
  target keeps the figures current and the memory bounded);
- the NE's circuit breaker (`gateway.breaker`): whether orders are sent to it now;
- what the NE's own management interface last said (SNMP, or a probe where it has none).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from adapters.network_element import HealthReading, NeHealth
from gateway.operations import Outcome, Reply

WINDOW = 200


@dataclass
class _Target:
    replies: deque[tuple[float, Outcome, float]] = field(
        default_factory=lambda: deque(maxlen=WINDOW)
    )
    last_ok_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None


class Health:
    def __init__(self) -> None:
        self._targets: dict[str, _Target] = {}
        self.readings: dict[str, HealthReading] = {}  # the latest per NE

    def reading(self, reading: HealthReading) -> None:
        self.readings[reading.ne] = reading

    def reading_report(self, target: str) -> dict[str, Any]:
        r = self.readings.get(target)
        if r is None:
            return {"health": NeHealth.UNKNOWN.value, "health_reason": None, "health_at": None}
        return {
            "health": r.health.value,
            "health_reason": r.reason or None,
            "health_at": r.at,
            "health_source": r.source,
        }

    def record(self, target: str, reply: Reply) -> None:
        now = time.time()
        t = self._targets.setdefault(target, _Target())
        t.replies.append((now, reply.outcome, reply.elapsed_ms))
        if reply.outcome is Outcome.OK:
            t.last_ok_at = now
        elif reply.outcome is not Outcome.PERMANENT:
            # A refusal (permanent) is the NE answering; timeouts and busy are the NE's trouble.
            t.last_error, t.last_error_at = f"{reply.code}: {reply.text}", now

    def report(self, target: str) -> dict[str, Any]:
        t = self._targets.get(target)
        if t is None or not t.replies:
            return {
                "replies": 0,
                "reachable": None,
                "latency_ms": None,
                "error_rate": None,
                "last_error": None,
            }
        outcomes = [o for _, o, _ in t.replies]
        troubled = sum(o in (Outcome.TRANSIENT, Outcome.UNKNOWN) for o in outcomes)
        answered = sorted(ms for _, o, ms in t.replies if o is not Outcome.UNKNOWN)
        reachable = t.last_error_at is None or (
            t.last_ok_at is not None and t.last_ok_at > t.last_error_at
        )
        return {
            "replies": len(outcomes),
            "reachable": reachable,
            "latency_ms": round(answered[len(answered) // 2], 2) if answered else None,
            "error_rate": round(troubled / len(outcomes), 3),
            "last_error": t.last_error,
        }
