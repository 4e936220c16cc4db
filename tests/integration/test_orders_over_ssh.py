"""Every order kind end to end through real SSH to the HLR emulator, its state checked after."""

from __future__ import annotations

from typing import Any

from emulators.hlr.server import HlrEmulator
from gateway.bench_storm import actual_state, expected_state
from gateway.engine import Engine
from gateway.orders import Order
from gateway.store import OrderState
from tests.gateway.orders_factory import KI, OPC, iccid, open_account, order

M = "13800000001"


async def run(engine: Engine, o: Order) -> Any:
    await engine.submit(o)
    await engine.drain()
    rec = await engine.store.get(o.order_id)
    assert rec is not None
    return rec


async def assert_in_sync(engine: Engine, hlr: HlrEmulator) -> None:
    lines = await engine.store.all_lines()
    assert actual_state(hlr.state.snapshot()) == expected_state(lines)


async def test_every_order_kind_end_to_end(engine: Engine, hlr: HlrEmulator) -> None:
    steps: list[tuple[Order, OrderState]] = [
        (open_account("k1"), OrderState.COMPLETED),
        (order("suspend", "k2", msisdn=M), OrderState.COMPLETED),
        (order("suspend", "k2b", msisdn=M, reason="arrears"), OrderState.COMPLETED),
        (order("resume", "k3", msisdn=M), OrderState.COMPLETED),
        (order("recharge", "k3b", msisdn=M, amount_cents=5000), OrderState.COMPLETED),
        (
            order("change_long_distance", "k4", msisdn=M, outgoing_barring="BOIC"),
            OrderState.COMPLETED,
        ),
        (order("change_roaming", "k5", msisdn=M, roaming_barring="BROHPLMN"), OrderState.COMPLETED),
        (
            order(
                "change_supplementary",
                "k6",
                msisdn=M,
                forwarding=[
                    {"kind": "CFU", "forward_to": "13911112222"},
                    {"kind": "CFB", "forward_to": "+441234567890"},
                ],
            ),
            OrderState.COMPLETED,
        ),
        (
            order("change_supplementary", "k7", msisdn=M, forwarding=[{"kind": "CFU"}]),
            OrderState.COMPLETED,
        ),
        (order("change_value_added", "k8", msisdn=M, data=False), OrderState.COMPLETED),
        (order("change_tariff", "k8b", msisdn=M, product="4g-unlimited"), OrderState.COMPLETED),
        (order("change_number", "k9", msisdn=M, new_msisdn="13900000009"), OrderState.COMPLETED),
        (
            order(
                "sim_swap",
                "k10",
                msisdn="13900000009",
                new_imsi="460009999999999",
                new_iccid=iccid(9999),
                ki=KI,
                opc=OPC,
            ),
            OrderState.COMPLETED,
        ),
        (
            order("change_customer_info", "k11", msisdn="13900000009", contact="13700000000"),
            OrderState.COMPLETED,
        ),
        (order("pre_cancel", "k12", msisdn="13900000009"), OrderState.COMPLETED),
        (order("cancel", "k13", msisdn="13900000009"), OrderState.COMPLETED),
    ]
    for o, expected in steps:
        rec = await run(engine, o)
        assert rec.state is expected, f"{o.order_id} {o.kind}: {rec.state} {rec.reason}"
        await assert_in_sync(engine, hlr)
    snap = hlr.state.snapshot()
    assert snap == {"ki": {}, "subscribers": {}}, "cancellation removed everything"


async def test_state_values_after_features(engine: Engine, hlr: HlrEmulator) -> None:
    await run(engine, open_account("f1"))
    await run(
        engine,
        order(
            "change_supplementary",
            "f2",
            msisdn=M,
            forwarding=[{"kind": "CFNRY", "forward_to": "13911112222"}],
        ),
    )
    await run(engine, order("suspend", "f3", msisdn=M))
    sub = hlr.state.snapshot()["subscribers"]["460000000000001"]
    assert sub["isdn"] == "8613800000001"
    assert sub["cfnry"] == "8613911112222"
    assert (sub["ic"], sub["oc"], sub["gprslock"]) == (True, True, True)
    ki = hlr.state.snapshot(reveal_secrets=True)["ki"]["460000000000001"]
    assert (ki["ki"], ki["opc"]) == (KI, OPC), "the HLR got the keys the order carried"


async def test_permanent_failure_mid_plan_leaves_the_hlr_as_before(
    engine: Engine, hlr: HlrEmulator
) -> None:
    await run(engine, open_account("p0", n=5))
    # Somebody provisioned this number directly on the HLR, behind the gateway's back.
    hlr.state.restore(_with_foreign_subscriber(hlr.state.snapshot(reveal_secrets=True)))
    before = hlr.state.snapshot(reveal_secrets=True)
    rec = await run(engine, open_account("p1", n=6, msisdn="13800000077"))
    assert rec.state is OrderState.COMPENSATED
    assert "3009" in rec.reason or "ISDN already in use" in rec.reason
    assert hlr.state.snapshot(reveal_secrets=True) == before
    steps = {(s.phase, s.idx): s.state.value for s in rec.steps}
    assert steps == {("forward", 0): "done", ("forward", 1): "failed", ("compensate", 0): "done"}


def _with_foreign_subscriber(snap: dict[str, Any]) -> dict[str, Any]:
    imsi = "460007777777777"
    snap["ki"][imsi] = dict(snap["ki"]["460000000000005"], imsi=imsi)
    snap["subscribers"][imsi] = dict(
        snap["subscribers"]["460000000000005"], imsi=imsi, isdn="8613800000077"
    )
    return snap


async def test_transcripts_mask_keys(engine: Engine, hlr: HlrEmulator) -> None:
    rec = await run(engine, open_account("t1"))
    transcript = await engine.store.transcript(rec.id)
    text = " ".join(t.command + t.response for t in transcript)
    assert 'KIVALUE="****"' in text and 'OPCVALUE="****"' in text
    assert KI not in text and OPC not in text
