"""NE outages in the engine: orders wait instead of failing, undo never gives up, deadlines.

On a clock that stands still until the test moves it, against the in-memory NE; the same
behaviour over real SSH with the HLR emulator killed and restarted is in
tests/integration/test_fault_storm.py.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.backoff import Backoff
from gateway.breaker import BreakerState
from gateway.config import BreakerPolicy, Deadlines, GatewayConfig, RetryPolicy
from gateway.engine import Engine
from gateway.operations import Outcome
from gateway.resources import audit
from gateway.store import OrderRecord, OrderState, OrderStore, StepState
from tests.gateway.fake_ne import FakeNe
from tests.gateway.manual_clock import ManualClock, settle
from tests.gateway.orders_factory import open_account

RETRY = RetryPolicy(attempts=3, backoff_initial_s=0.5, backoff_max_s=8.0, jitter=0.5)
PROBE_S = 2.0
DEADLINE_S = 600.0


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """SQLite only: on a manual clock, `settle` turns the event loop, and SQLite's group commit
    runs there; PostgreSQL's runs on a thread. test_engine and test_store cover both."""
    return tmp_path / "provgw.db"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def outage_config(config: GatewayConfig) -> GatewayConfig:
    return config.model_copy(
        update={
            "retry": RETRY,
            "breaker": BreakerPolicy(failures_to_open=3, probe_interval_s=PROBE_S),
            "deadlines": Deadlines(default_s=DEADLINE_S),
        }
    )


@pytest.fixture
async def engine(
    store: OrderStore, outage_config: GatewayConfig, clock: ManualClock
) -> AsyncIterator[tuple[Engine, FakeNe]]:
    ne = FakeNe()
    engine = Engine(store, outage_config, {"hlr1": ne}, clock=clock, rng=random.Random(7))
    yield engine, ne
    await engine.stop()


async def record(store: OrderStore, order_id: str) -> OrderRecord:
    rec = await store.get(order_id)
    assert rec is not None
    return rec


async def test_an_order_waits_for_an_unreachable_ne_and_goes_on_when_it_is_back(
    engine: tuple[Engine, FakeNe], store: OrderStore, clock: ManualClock
) -> None:
    eng, ne = engine
    ne.down = True
    started = clock.time()
    await eng.submit(open_account("o1"))
    await settle()
    # Three commands unanswered (the breaker's threshold) and the order waits, however long.
    clock.advance(0.5)
    await settle()
    clock.advance(1.0)
    await settle()
    rec = await record(store, "o1")
    assert rec.state is OrderState.WAITING
    assert rec.waiting_for == "hlr1" and rec.waiting_since is not None
    assert started <= rec.waiting_since <= clock.time()
    assert rec.note is not None and "waiting for hlr1, unreachable" in rec.note
    assert eng.breakers["hlr1"].state is BreakerState.OPEN
    sent_while_down = len(await store.transcript("o1"))
    for _ in range(30):  # a minute of probes: nothing is sent for the order, nothing fails
        clock.advance(PROBE_S)
        await settle()
    assert len(await store.transcript("o1")) == sent_while_down
    assert ne.probes == 30
    assert (await record(store, "o1")).state is OrderState.WAITING
    ne.down = False
    clock.advance(PROBE_S)
    await settle(200)
    rec = await record(store, "o1")
    assert rec.state is OrderState.COMPLETED, rec.reason
    assert rec.waiting_for is None and rec.note is None
    assert ne.sent == ["load_auth", "create_subscriber", "set_data"]
    # The outage and its end are in the audit trail.
    entries = await audit.entries(store, operator="gateway")
    assert [e.action for e in reversed(entries)] == ["ne.unreachable", "ne.reachable"]


async def test_busy_answers_follow_the_schedule_the_note_states(
    engine: tuple[Engine, FakeNe], store: OrderStore, clock: ManualClock
) -> None:
    eng, ne = engine
    ne.script = {"create_subscriber": [Outcome.TRANSIENT, Outcome.TRANSIENT]}
    expected = Backoff(RETRY, random.Random(7))
    first, second = expected.next(), expected.next()
    assert RETRY.backoff_initial_s * 0.5 <= first <= RETRY.backoff_initial_s
    assert 2 * RETRY.backoff_initial_s * 0.5 <= second <= 2 * RETRY.backoff_initial_s
    await eng.submit(open_account("o1"))
    await settle()
    assert clock.sleeps == [first]
    rec = await record(store, "o1")
    assert rec.state is OrderState.PROVISIONING
    busy = "step 2: hlr1 is busy (3001 scripted transient)"
    assert rec.note == f"{busy}; next attempt in {first:.1f} s"
    clock.advance(first - 0.001)
    await settle()
    assert ne.sent.count("create_subscriber") == 1, "not before the stated time"
    clock.advance(0.001)
    await settle()
    assert ne.sent.count("create_subscriber") == 2
    assert clock.sleeps == [first, second]
    assert (await record(store, "o1")).note is not None
    assert f"next attempt in {second:.1f} s" in str((await record(store, "o1")).note)
    clock.advance(second)
    await settle(200)
    rec = await record(store, "o1")
    assert rec.state is OrderState.COMPLETED and rec.note is None


async def test_busy_answers_past_the_budget_undo_the_order(
    engine: tuple[Engine, FakeNe], store: OrderStore, clock: ManualClock
) -> None:
    eng, ne = engine
    ne.script = {"create_subscriber": [Outcome.TRANSIENT] * RETRY.attempts}
    await eng.submit(open_account("o1"))
    for _ in range(RETRY.attempts):
        await settle()
        clock.advance(RETRY.backoff_max_s)
    await settle(200)
    rec = await record(store, "o1")
    assert rec.state is OrderState.COMPENSATED
    assert ne.sent.count("create_subscriber") == RETRY.attempts
    assert ne.views == {}


async def test_the_deadline_fails_an_order_whose_ne_never_came_back(
    engine: tuple[Engine, FakeNe], store: OrderStore, clock: ManualClock
) -> None:
    eng, ne = engine
    ne.down = True
    accepted = clock.time()
    await eng.submit(open_account("o1"))
    for _ in range(3):
        await settle()
        clock.advance(1)
    await settle()
    assert (await record(store, "o1")).state is OrderState.WAITING
    clock.advance(accepted + DEADLINE_S - 0.5 - clock.time())
    await settle(200)
    assert (await record(store, "o1")).state is OrderState.WAITING
    clock.advance(0.5)
    await settle(200)
    rec = await record(store, "o1")
    assert rec.state is OrderState.FAILED and not rec.attention
    assert rec.reason is not None and "deadline passed" in rec.reason
    assert ne.views == {}


async def test_an_undo_waits_out_an_outage_and_leaves_no_stray_record(
    engine: tuple[Engine, FakeNe], store: OrderStore, clock: ManualClock
) -> None:
    """Step 1 (Ki loaded) done, then the NE goes away for longer than the deadline: the order
    is undone, and the undo waits for the NE instead of giving up with a Ki left behind."""
    eng, ne = engine
    ne.script = {"create_subscriber": [Outcome.TRANSIENT]}  # busy once, then the outage
    await eng.submit(open_account("o1"))
    await settle()
    assert ne.sent == ["load_auth", "create_subscriber"]
    ne.down = True
    clock.advance(DEADLINE_S)
    await settle(200)
    for _ in range(5):
        clock.advance(PROBE_S)
        await settle(100)
    rec = await record(store, "o1")
    assert rec.phase == "compensate" and rec.state is OrderState.WAITING
    assert "IMSI" not in str(ne.views) and list(ne.views) == ["460000000000001"]
    assert ne.views["460000000000001"].auth_loaded, "the Ki is still there while the NE is away"
    ne.down = False
    clock.advance(PROBE_S)
    await settle(200)
    rec = await record(store, "o1")
    assert rec.state is OrderState.COMPENSATED and not rec.attention
    assert ne.views == {}, "no Ki without a subscriber"
    undo = [s for s in rec.steps if s.phase == "compensate"]
    assert [(s.idx, s.state) for s in undo] == [(0, StepState.DONE)]


async def test_only_an_undo_the_ne_refuses_needs_an_engineer(
    engine: tuple[Engine, FakeNe], store: OrderStore, clock: ManualClock
) -> None:
    eng, ne = engine
    ne.script = {"set_data": [Outcome.PERMANENT], "remove_subscriber": [Outcome.PERMANENT]}
    await eng.submit(open_account("o1"))
    await settle(300)
    rec = await record(store, "o1")
    assert rec.state is OrderState.FAILED and rec.attention
    assert rec.reason is not None and "was refused by hlr1" in rec.reason
    assert [r.id for r in await store.list_orders(attention=True)] == ["o1"]
    assert await store.list_orders(attention=False) == []
    refused = await audit.entries(store, outcome="attention")
    assert [(e.action, e.detail["order_id"]) for e in refused] == [("order.attention", "o1")]


async def test_an_undo_refused_because_it_is_already_done_is_done(
    engine: tuple[Engine, FakeNe], store: OrderStore, clock: ManualClock
) -> None:
    """The NE refuses RMV KI when the Ki is gone already (removed by hand, say): reading
    back shows the undo's effect in place, so the order is undone, not left for an engineer."""
    eng, ne = engine
    ne.script = {"create_subscriber": [Outcome.PERMANENT], "remove_auth": [Outcome.PERMANENT]}

    real_execute = ne.execute

    async def execute(op):  # type: ignore[no-untyped-def]
        if op.op == "remove_auth":
            ne.views.clear()  # an engineer removed it meanwhile
        return await real_execute(op)

    ne.execute = execute  # type: ignore[method-assign]
    await eng.submit(open_account("o1"))
    await settle(300)
    rec = await record(store, "o1")
    assert rec.state is OrderState.COMPENSATED and not rec.attention
    assert ne.views == {}


async def test_a_step_lost_in_an_outage_is_settled_before_the_order_is_undone(
    engine: tuple[Engine, FakeNe], store: OrderStore, clock: ManualClock
) -> None:
    """The connection dies right after ADD TPLSUB took effect, and the NE stays away past the
    deadline: the engine reads the NE back once it returns (no busy loop meanwhile), finds the
    subscriber, and then undoes both steps."""
    eng, ne = engine
    real_execute = ne.execute

    async def execute(op):  # type: ignore[no-untyped-def]
        reply = await real_execute(op)
        if op.op == "create_subscriber":
            ne.down = True  # it ran; its answer is lost with the connection
            return reply.model_copy(update={"outcome": Outcome.UNKNOWN, "unreachable": True})
        return reply

    ne.execute = execute  # type: ignore[method-assign]
    await eng.submit(open_account("o1"))
    for _ in range(5):
        await settle()
        clock.advance(1)
    clock.advance(DEADLINE_S)
    await settle(500)
    assert ne.reads < 10, "waiting for the NE, not asking it in a loop"
    assert (await record(store, "o1")).state is OrderState.WAITING
    ne.down = False
    clock.advance(PROBE_S)
    await settle(300)
    rec = await record(store, "o1")
    assert rec.state is OrderState.COMPENSATED and "deadline" in (rec.reason or "")
    assert ne.views == {}
    assert ne.sent[-2:] == ["remove_subscriber", "remove_auth"]
