"""The circuit breaker's transitions, on a clock that stands still until the test moves it."""

from __future__ import annotations

import pytest

from adapters.network_element import HealthReading, NeHealth
from gateway.breaker import Breaker, BreakerChange, BreakerState
from gateway.config import BreakerPolicy
from gateway.operations import Outcome, Reply
from tests.gateway.manual_clock import ManualClock, settle

POLICY = BreakerPolicy(failures_to_open=3, probe_interval_s=2.0)
LOST = Reply(outcome=Outcome.UNKNOWN, code="disconnected", text="lost", unreachable=True)
BUSY = Reply(outcome=Outcome.TRANSIENT, code="5001", text="busy")
REFUSED = Reply(outcome=Outcome.PERMANENT, code="3001", text="not defined")
OK = Reply(outcome=Outcome.OK)


class Ne:
    """A probe target that is up or down as the test says."""

    def __init__(self) -> None:
        self.up = False
        self.probes = 0

    async def probe(self) -> None:
        self.probes += 1
        if not self.up:
            raise ConnectionError("connection refused")


def reading(health: NeHealth, reason: str = "") -> HealthReading:
    return HealthReading("hlr1", health, reason, 0.0, "snmp-trap")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def changes() -> list[BreakerChange]:
    return []


@pytest.fixture
async def ne_and_breaker(clock: ManualClock, changes: list[BreakerChange]) -> tuple[Ne, Breaker]:
    ne = Ne()
    return ne, Breaker("hlr1", POLICY, ne.probe, clock, changes.append)


async def test_opens_after_n_consecutive_transport_failures_only(
    ne_and_breaker: tuple[Ne, Breaker], changes: list[BreakerChange]
) -> None:
    _, breaker = ne_and_breaker
    breaker.record(LOST)
    breaker.record(LOST)
    breaker.record(BUSY)  # the NE answered (busy): the run of failures is broken
    breaker.record(LOST)
    breaker.record(LOST)
    assert breaker.state is BreakerState.CLOSED
    breaker.record(REFUSED)  # a refusal is an answer too
    for _ in range(3):
        breaker.record(LOST)
    assert breaker.state is BreakerState.OPEN
    assert [(c.old, c.new) for c in changes] == [(BreakerState.CLOSED, BreakerState.OPEN)]
    assert "3 commands in a row unanswered" in changes[0].reason
    assert breaker.opened_at == changes[0].at
    await breaker.close()


async def test_probes_once_per_interval_and_closes_on_the_first_answer(
    ne_and_breaker: tuple[Ne, Breaker], clock: ManualClock, changes: list[BreakerChange]
) -> None:
    ne, breaker = ne_and_breaker
    for _ in range(3):
        breaker.record(LOST)
    await settle()
    assert ne.probes == 0, "no probe before the interval has passed"
    clock.advance(1.9)
    await settle()
    assert ne.probes == 0
    clock.advance(0.1)
    await settle()
    assert ne.probes == 1 and breaker.state is BreakerState.OPEN, "probe unanswered: still open"
    assert clock.sleeps == [2.0, 2.0], "the next probe waits one interval again"
    ne.up = True
    clock.advance(2.0)
    await settle()
    assert ne.probes == 2
    assert breaker.state is BreakerState.CLOSED and breaker.failures == 0
    assert [(c.old, c.new) for c in changes] == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]
    assert changes[1].reason == "probe 2 answered"
    clock.advance(10)
    await settle()
    assert ne.probes == 2, "a closed breaker does not probe"
    await breaker.close()


async def test_waiters_are_released_when_it_closes(
    ne_and_breaker: tuple[Ne, Breaker], clock: ManualClock
) -> None:
    import asyncio

    ne, breaker = ne_and_breaker
    for _ in range(3):
        breaker.record(LOST)
    waiter = asyncio.create_task(breaker.wait_closed())
    await settle()
    assert not waiter.done()
    ne.up = True
    clock.advance(2.0)
    await settle()
    assert waiter.done()
    await breaker.close()


async def test_a_down_reading_opens_and_an_up_reading_probes_at_once(
    ne_and_breaker: tuple[Ne, Breaker], clock: ManualClock, changes: list[BreakerChange]
) -> None:
    ne, breaker = ne_and_breaker
    breaker.reading(reading(NeHealth.DOWN, "alarm 1 critical: service down"))
    assert breaker.state is BreakerState.OPEN
    assert changes[0].reason == "health (snmp-trap): alarm 1 critical: service down"
    await settle()
    ne.up = True
    breaker.reading(reading(NeHealth.UP))
    await settle()
    assert ne.probes == 1, "probed without the clock moving"
    assert breaker.state is BreakerState.CLOSED
    # The same "down" repeated by the next poll does not open it again: the NE answers.
    breaker.reading(reading(NeHealth.UP))
    breaker.reading(reading(NeHealth.DOWN, "alarm"))
    assert breaker.state is BreakerState.OPEN
    ne.up = True
    breaker.reading(reading(NeHealth.DEGRADED))
    await settle()
    assert breaker.state is BreakerState.CLOSED
    breaker.reading(reading(NeHealth.DOWN, "alarm"))
    breaker.reading(reading(NeHealth.DOWN, "alarm"))
    await settle()
    assert breaker.state is BreakerState.CLOSED
    await breaker.close()


async def test_an_answer_to_a_command_sent_before_the_outage_closes_it(
    ne_and_breaker: tuple[Ne, Breaker], changes: list[BreakerChange]
) -> None:
    _, breaker = ne_and_breaker
    for _ in range(3):
        breaker.record(LOST)
    breaker.record(OK)
    assert breaker.state is BreakerState.CLOSED
    assert changes[-1].reason == "the NE answered"
    await breaker.close()


async def test_probes_come_faster_while_health_says_up_but_the_ne_does_not_answer_yet(
    ne_and_breaker: tuple[Ne, Breaker], clock: ManualClock
) -> None:
    """A clearing trap can come a moment before the service port is open again."""
    ne, breaker = ne_and_breaker
    breaker.reading(reading(NeHealth.DOWN, "alarm"))
    await settle()
    breaker.reading(reading(NeHealth.UP))  # probe now: the port is not open yet
    await settle()
    assert ne.probes == 1 and not breaker.closed
    assert clock.sleeps[-1] == 0.2, "the next one soon, not a whole interval later"
    clock.advance(0.2)
    await settle()
    assert ne.probes == 2 and clock.sleeps[-1] == 0.4
    ne.up = True
    clock.advance(0.4)
    await settle()
    assert ne.probes == 3 and breaker.closed
    await breaker.close()
