"""An in-memory network element for unit tests of the engine only.

Integration tests use the real HLR emulator over SSH; this fake lets the engine's retry,
compensation and reconciliation logic be driven step by step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.lines import apply_operation
from gateway.operations import (
    ABSENT,
    Lookup,
    Operation,
    Outcome,
    Reply,
    SubscriberView,
)


@dataclass
class FakeNe:
    name: str = "hlr1"
    dialect: str = "fake"
    views: dict[str, SubscriberView] = field(default_factory=dict)  # by IMSI
    sent: list[str] = field(default_factory=list)
    # op name → list of outcomes to return (consumed in order) before behaving normally
    script: dict[str, list[Outcome]] = field(default_factory=dict)
    unreadable: int = 0  # reads that fail before reads work
    down: bool = False  # an outage: nothing is sent, reads and probes get no answer
    probes: int = 0
    reads: int = 0

    def render(self, op: Operation) -> str:
        return f"{op.op}"

    def check(self, op: Operation) -> None:
        return None  # the fake does everything

    def _find(self, lookup: Lookup) -> tuple[str | None, SubscriberView]:
        for imsi, view in self.views.items():
            if lookup.imsi == imsi or (lookup.msisdn and view.msisdn == lookup.msisdn):
                return imsi, view
        return None, ABSENT

    async def execute(self, op: Operation) -> Reply:
        if self.down:
            return Reply(
                outcome=Outcome.TRANSIENT, code="not-sent", text="refused", unreachable=True
            )
        scripted = self.script.get(op.op)
        outcome = scripted.pop(0) if scripted else Outcome.OK
        self.sent.append(op.op)
        if outcome is Outcome.PERMANENT or outcome is Outcome.TRANSIENT:
            return Reply(outcome=outcome, code="3001", text=f"scripted {outcome.value}")
        key, view = self._find(op.lookup())
        key = key or getattr(op, "imsi", None)
        assert key is not None
        self.views[key] = apply_operation(view, op)
        if not self.views[key].exists and not self.views[key].auth_loaded:
            del self.views[key]
        # UNKNOWN: the command took effect but the reply was lost.
        return Reply(outcome=outcome, code="0", text="ok")

    async def probe(self) -> None:
        self.probes += 1
        if self.down:
            raise ConnectionError("NE unreachable")

    async def read(self, lookup: Lookup) -> SubscriberView:
        self.reads += 1
        if self.down:
            raise ConnectionError("NE unreachable")
        if self.unreadable:
            self.unreadable -= 1
            raise ConnectionError("NE unreachable")
        return self._find(lookup)[1]

    async def close(self) -> None:
        pass
