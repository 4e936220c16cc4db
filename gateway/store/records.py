"""What the store hands out: order and step states and the records read back.

Plain data, the same whichever database holds it, so that the engine, the API and the front end
depend on these and never on a back end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from gateway.orders import Order
from gateway.planner import Plan


class OrderState(StrEnum):
    ACCEPTED = "accepted"
    PROVISIONING = "provisioning"
    WAITING = "waiting_for_ne"  # an NE it needs is unreachable: the order waits, nothing fails
    COMPLETED = "completed"
    FAILED = "failed"
    COMPENSATED = "compensated"

    @property
    def terminal(self) -> bool:
        return self in (OrderState.COMPLETED, OrderState.FAILED, OrderState.COMPENSATED)


Phase = Literal["forward", "compensate"]


class StepState(StrEnum):
    SENT = "sent"  # intent recorded, outcome not yet known
    DONE = "done"
    FAILED = "failed"


class Conflict(Exception):
    """The same order id was sent before with a different body."""


@dataclass(frozen=True)
class Lease:
    """Who runs an order, and since which takeover: the engine writes under it."""

    owner: str
    epoch: int


class LeaseLost(Exception):
    """The order was taken over (its lease moved to another owner or epoch): the write was
    refused, and its writer must send nothing more for the order."""


@dataclass
class StepRecord:
    idx: int
    phase: Phase
    state: StepState
    attempts: int
    started_at: float | None
    finished_at: float | None


@dataclass
class OrderRecord:
    id: str
    seq: int
    kind: str
    msisdn: str | None
    channel: str
    operator: str
    state: OrderState
    phase: Phase
    reason: str | None
    attention: bool
    created_at: float
    updated_at: float
    finished_at: float | None
    waiting_for: str | None = None  # the NE the order waits for (state waiting_for_ne)
    waiting_since: float | None = None
    deadline_at: float | None = None  # past it, forward steps stop and the order is undone
    note: str | None = None  # what the engine is doing now: the next attempt and when
    lease_owner: str | None = None  # the engine that runs it (unfinished orders)
    lease_epoch: int = 0  # moves on at each takeover (fencing)
    order: Order | None = None
    plan: Plan | None = None
    steps: list[StepRecord] = field(default_factory=list)


@dataclass
class TranscriptLine:
    idx: int
    phase: str
    ne: str
    outcome: str
    code: str
    text: str
    command: str
    response: str
    elapsed_ms: float
    at: float
