"""Fault injection: what an SMSC does to an ESME on a bad day, settable at start and at run time.

- slow responses: every submit_sm_resp waits ``latency_ms`` plus a uniform 0…``jitter_ms``
  (other responses are not delayed, so an ESME's keep-alive still works);
- refusals: a fraction ``refuse_rate`` of submit_sm is answered with ``refuse_status``
  (ESME_RTHROTTLED 0x58 by default; 0x14 is "message queue full") and not stored;
- dropped binds: with probability ``drop_rate`` a submit_sm makes the SMSC cut the connection
  without answering — at ``drop_stage`` "received" before the message is stored (the ESME must
  send it again), at "stored" after (the ESME must not make it a duplicate);
- lost mobile-originated messages: a fraction ``mo_loss_rate`` of the SMS handsets send is
  acknowledged to the handset (RP-ACK) and then lost inside the SMSC — never stored, never
  delivered (e.g. a card's proof of receipt that never reaches the OTA server);
- outage: SMPP, the handsets' port and the admin API stop (connections refused, binds and
  handset links cut), see `FaultSettings`.

An outage, slow responses and high refusal, drop or loss rates raise alarms (`conditions`),
which the emulator's SNMP agent reports.

``receipt_delay_ms`` is not a fault but is set the same way: how long after a message is
accepted its delivery receipt goes out (for numbers no handset serves). One object is shared
by every bind; a change applies to the next PDU.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from emulators.fault_injection import FaultSettings, fraction, milliseconds

DROP_STAGES = ("received", "stored")


@dataclass
class Faults(FaultSettings):
    refuse_rate: float = 0.0
    refuse_status: int = 0x58
    drop_rate: float = 0.0
    drop_stage: str = "stored"
    mo_loss_rate: float = 0.0
    receipt_delay_ms: float = 100.0

    def check(self, settings: dict[str, Any]) -> None:
        super().check(settings)
        milliseconds("receipt_delay_ms", settings["receipt_delay_ms"])
        for name in ("refuse_rate", "drop_rate", "mo_loss_rate"):
            fraction(name, settings[name])
        status = settings["refuse_status"]
        if not isinstance(status, int) or isinstance(status, bool) or not 0 < status <= 0xFFFFFFFF:
            raise ValueError("refuse_status: expected a non-zero command_status")
        if settings["drop_stage"] not in DROP_STAGES:
            raise ValueError(f"drop_stage: expected one of {', '.join(DROP_STAGES)}")

    def failure_rates(self) -> list[tuple[str, float, str]]:
        return [
            ("refuse-rate", self.refuse_rate, f"submit_sm refused with 0x{self.refuse_status:08X}"),
            ("drop-rate", self.drop_rate, "submit_sm answered by a cut bind"),
            ("mo-loss-rate", self.mo_loss_rate, "mobile-originated messages lost"),
        ]

    def clear(self) -> None:
        """No faults (the receipt delay is kept)."""
        self.update(
            **{f.name: f.default for f in fields(self) if f.name not in ("rng", "receipt_delay_ms")}
        )

    def refusal(self) -> int | None:
        """The status to refuse the next submit_sm with, or None to take it."""
        return self.refuse_status if self.chance(self.refuse_rate) else None

    def drop(self) -> str | None:
        """The stage at which to cut the bind over the next submit_sm, or None."""
        return self.drop_stage if self.chance(self.drop_rate) else None

    def lose_mobile_originated(self) -> bool:
        """Whether to lose the next mobile-originated message after acknowledging it."""
        return self.chance(self.mo_loss_rate)
