"""The engine against an in-memory NE: retries, compensation, reconciliation, resumption."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from gateway.config import GatewayConfig
from gateway.engine import Engine
from gateway.operations import Outcome
from gateway.planner import plan_order
from gateway.routing import Router
from gateway.store import Conflict, OrderState, OrderStore, StepState
from tests.gateway.fake_ne import FakeNe
from tests.gateway.orders_factory import open_account, order

M = "13800000001"
IMSI = "460000000000001"


async def run(engine: Engine, *orders: object) -> None:
    for o in orders:
        await engine.submit(o)  # type: ignore[arg-type]
    await engine.drain()


async def state(store: OrderStore, order_id: str) -> OrderState:
    rec = await store.get(order_id)
    assert rec is not None
    return rec.state


async def test_open_account_completes_and_records_everything(
    store: OrderStore, config: GatewayConfig
) -> None:
    ne = FakeNe()
    engine = Engine(store, config, {"hlr1": ne})
    await run(engine, open_account("o1"))
    rec = await store.get("o1")
    assert rec is not None and rec.state is OrderState.COMPLETED
    assert ne.sent == ["load_auth", "create_subscriber", "set_data"]
    assert [s.state for s in rec.steps] == [StepState.DONE] * 3
    assert len(await store.transcript("o1")) == 3
    line = (await store.lines([M]))[M]
    assert line is not None and line.network.data_enabled and line.imsi == IMSI


async def test_permanent_failure_compensates_in_reverse(
    store: OrderStore, config: GatewayConfig
) -> None:
    ne = FakeNe(script={"set_data": [Outcome.PERMANENT]})
    engine = Engine(store, config, {"hlr1": ne})
    await run(engine, open_account("o1"))
    rec = await store.get("o1")
    assert rec is not None and rec.state is OrderState.COMPENSATED
    assert rec.reason is not None and "step 3 (enable packet data" in rec.reason
    assert ne.sent == [
        "load_auth",
        "create_subscriber",
        "set_data",
        "remove_subscriber",
        "remove_auth",
    ]
    assert ne.views == {}, "the NE is exactly as before the order"
    assert (await store.lines([M]))[M] is None


async def test_first_step_refused_fails_without_compensation(
    store: OrderStore, config: GatewayConfig
) -> None:
    ne = FakeNe(script={"load_auth": [Outcome.PERMANENT]})
    await run(Engine(store, config, {"hlr1": ne}), open_account("o1"))
    assert await state(store, "o1") is OrderState.FAILED
    assert ne.sent == ["load_auth"]


async def test_transient_errors_are_retried(store: OrderStore, config: GatewayConfig) -> None:
    ne = FakeNe(script={"create_subscriber": [Outcome.TRANSIENT, Outcome.TRANSIENT]})
    await run(Engine(store, config, {"hlr1": ne}), open_account("o1"))
    assert await state(store, "o1") is OrderState.COMPLETED
    assert ne.sent.count("create_subscriber") == 3
    assert [t.outcome for t in await store.transcript("o1")].count("transient") == 2


async def test_transient_errors_give_up_after_the_policy(
    store: OrderStore, config: GatewayConfig
) -> None:
    ne = FakeNe(script={"create_subscriber": [Outcome.TRANSIENT] * 3})
    await run(Engine(store, config, {"hlr1": ne}), open_account("o1"))
    assert await state(store, "o1") is OrderState.COMPENSATED
    assert ne.views == {}


async def test_unknown_outcome_is_reconciled_not_repeated(
    store: OrderStore, config: GatewayConfig
) -> None:
    ne = FakeNe(script={"create_subscriber": [Outcome.UNKNOWN]}, unreadable=2)
    await run(Engine(store, config, {"hlr1": ne}), open_account("o1"))
    assert await state(store, "o1") is OrderState.COMPLETED
    assert ne.sent.count("create_subscriber") == 1, "read back instead of sending twice"
    texts = [t.text for t in await store.transcript("o1")]
    assert any("reconciled" in t for t in texts)


async def test_resume_after_crash_reconciles_the_step_in_flight(
    store: OrderStore, config: GatewayConfig
) -> None:
    # A first engine accepted the order and recorded the intent of step 1 (load_auth), and
    # the command reached the NE, but the gateway died before the reply was recorded.
    ne = FakeNe()
    first = Engine(store, config, {"hlr1": ne}, owner="dead")
    o = open_account("o1")
    await store.accept(o)  # no lease: as if the dead owner's lease expired
    plan = plan_order(o, {M: None}, config, Router(config), datetime.now(UTC))
    await store.start("o1", plan, 0)
    await ne.execute(plan.steps[0].op)
    ne.sent.clear()
    del first

    engine = Engine(store, config, {"hlr1": ne})
    await engine.start()
    await engine.drain()
    await engine.stop()
    assert await state(store, "o1") is OrderState.COMPLETED
    assert ne.sent == ["create_subscriber", "set_data"], "load_auth was not sent again"


async def test_intake_is_idempotent_on_order_id(store: OrderStore, config: GatewayConfig) -> None:
    engine = Engine(store, config, {"hlr1": FakeNe()})
    rec1, created1 = await engine.submit(open_account("o1"))
    rec2, created2 = await engine.submit(open_account("o1"))
    assert created1 and not created2 and rec1.seq == rec2.seq
    with pytest.raises(Conflict):
        await engine.submit(open_account("o1", product="voice-only"))
    with pytest.raises(Conflict, match="another body"):
        await engine.submit(open_account("o1", ki="00" * 16))
    await engine.drain()


async def test_orders_on_one_number_run_in_acceptance_order(
    store: OrderStore, config: GatewayConfig
) -> None:
    ne = FakeNe()
    engine = Engine(store, config, {"hlr1": ne})
    await run(
        engine,
        open_account("o1"),
        order("suspend", "o2", msisdn=M),
        order("resume", "o3", msisdn=M),
        order("change_roaming", "o4", msisdn=M, roaming_barring="BROHPLMN"),
    )
    for i in (1, 2, 3, 4):
        assert await state(store, f"o{i}") is OrderState.COMPLETED
    assert ne.sent[3:] == ["set_lock", "set_lock", "set_roaming_barring"]
    line = (await store.lines([M]))[M]
    assert line is not None and not line.network.lock.incoming


async def test_refused_plan_fails_with_the_reason(store: OrderStore, config: GatewayConfig) -> None:
    ne = FakeNe()
    await run(Engine(store, config, {"hlr1": ne}), order("suspend", "s1", msisdn=M))
    rec = await store.get("s1")
    assert rec is not None and rec.state is OrderState.FAILED
    assert rec.reason == f"number {M} has no active line"
    assert ne.sent == []


async def test_failed_compensation_needs_attention(
    store: OrderStore, config: GatewayConfig
) -> None:
    ne = FakeNe(script={"set_data": [Outcome.PERMANENT], "remove_subscriber": [Outcome.PERMANENT]})
    await run(Engine(store, config, {"hlr1": ne}), open_account("o1"))
    rec = await store.get("o1")
    assert rec is not None and rec.state is OrderState.FAILED and rec.attention
    assert rec.reason is not None and "needs manual work" in rec.reason


async def test_secrets_are_sealed_at_rest(store: OrderStore, config: GatewayConfig) -> None:
    await run(Engine(store, config, {"hlr1": FakeNe()}), open_account("o1"))
    rows = await store.run(lambda tx: tx.execute("SELECT body, plan FROM orders").fetchall())
    raw = repr(rows)
    assert "465b5ce8b199b49faa5f0a2ee238a6bc" not in raw
    assert "cd63cb71954a9f4e48a5994e37a02baf" not in raw
    assert "plan" in rows[0][1] or rows[0][1]  # the plan is there, sealed
    rec = await store.get("o1")
    assert rec is not None and rec.order is not None
    assert rec.order.ki.get_secret_value() == "465b5ce8b199b49faa5f0a2ee238a6bc"  # type: ignore[union-attr]


async def test_orders_of_a_dead_local_gateway_resume_at_once(
    store: OrderStore, config: GatewayConfig
) -> None:
    # Above Linux's largest pid_max (2**22): no process can have this PID.
    dead_owner = f"{socket.gethostname()}:{2**22 + 7}"
    await store.accept(open_account("o1"), lease_owner=dead_owner, lease_seconds=3600)
    await store.accept(open_account("o2", n=2), lease_owner="elsewhere:1", lease_seconds=3600)
    ne = FakeNe()
    engine = Engine(store, config, {"hlr1": ne})
    await engine.start()
    await engine.drain()
    await engine.stop()
    assert await state(store, "o1") is OrderState.COMPLETED
    assert await state(store, "o2") is OrderState.ACCEPTED, "another host's lease is respected"


async def test_an_undo_resumed_after_a_crash_keeps_the_reason(
    store: OrderStore, config: GatewayConfig
) -> None:
    # The first run loaded the Ki, then the HLR refused the subscriber; the gateway died
    # before undoing anything.
    ne = FakeNe()
    o = open_account("o1")
    await store.accept(o)
    plan = plan_order(o, {M: None}, config, Router(config), datetime.now(UTC))
    await store.start("o1", plan, 0)
    await ne.execute(plan.steps[0].op)
    await store.outcome(
        "o1", 0, "forward", "hlr1", StepState.DONE, None, next_intent=(1, "forward")
    )
    await store.outcome(
        "o1",
        1,
        "forward",
        "hlr1",
        StepState.FAILED,
        None,
        order_phase="compensate",
        reason="step 2 (create subscriber): ERR3009",
    )
    ne.sent.clear()

    engine = Engine(store, config, {"hlr1": ne})
    await engine.start()
    await engine.drain()
    await engine.stop()
    rec = await store.get("o1")
    assert rec is not None and rec.state is OrderState.COMPENSATED
    assert rec.reason == "step 2 (create subscriber): ERR3009"
    assert ne.sent == ["remove_auth"] and ne.views == {}
