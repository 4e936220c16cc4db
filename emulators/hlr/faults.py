"""Fault injection: what a real HLR does to a provisioning gateway on a bad day.

- latency: every reply waits `latency_ms` plus a uniform 0…`jitter_ms`;
- errors: a fraction of provisioning commands is answered with a transient code (5001 by
  default) *without* being executed — the gateway should retry them;
- drops: after a provisioning command took effect, the SSH connection is cut before the reply
  with probability `drop_rate` — the gateway does not know the outcome and must reconcile;
- stuck sessions: a session that has answered `stuck_after` provisioning commands goes silent;
- outage: the SSH service stops (connections refused, sessions cut), see `FaultSettings`.

An outage, slow replies and high error or drop rates raise alarms (`conditions`), which the
emulator's SNMP agent reports.

"Provisioning commands" are all but LGI, LGO and the emulator's own engineer commands, so an
engineer can still log in, look and switch faults off. One `Faults` object is shared by all
sessions; changes apply to the next command.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from emulators.fault_injection import MAX_DELAY_MS, FaultSettings, fraction

MAX_LATENCY_MS = MAX_DELAY_MS


@dataclass
class Faults(FaultSettings):
    """Current fault settings; change them with `update` (checked, all or nothing)."""

    error_rate: float = 0.0
    error_code: int = 5001
    drop_rate: float = 0.0
    stuck_after: int = 0

    def check(self, settings: dict[str, Any]) -> None:
        super().check(settings)
        for name in ("error_rate", "drop_rate"):
            fraction(name, settings[name])
        code = settings["error_code"]
        if not isinstance(code, int) or isinstance(code, bool) or not 0 < code <= 99999:
            raise ValueError("error_code: expected a return code between 1 and 99999")
        stuck = settings["stuck_after"]
        if not isinstance(stuck, int) or isinstance(stuck, bool) or stuck < 0:
            raise ValueError("stuck_after: expected a number of commands ≥ 0 (0 = never)")

    def failure_rates(self) -> list[tuple[str, float, str]]:
        return [
            ("error-rate", self.error_rate, f"provisioning commands refused ({self.error_code})"),
            ("drop-rate", self.drop_rate, "provisioning commands answered by a cut connection"),
        ]

    def clear(self) -> None:
        """Back to a healthy NE."""
        self.update(**{f.name: f.default for f in fields(self) if f.name != "rng"})

    def inject_error(self) -> bool:
        """Whether to refuse the next provisioning command with `error_code`."""
        return self.chance(self.error_rate)

    def drop_after(self) -> bool:
        """Whether to cut the connection after executing the next provisioning command."""
        return self.chance(self.drop_rate)

    def is_stuck(self, answered: int) -> bool:
        """Whether a session that has answered `answered` provisioning commands stays silent."""
        return 0 < self.stuck_after <= answered
