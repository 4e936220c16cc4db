"""The planner: the plan of each order kind and the compensation of each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.config import GatewayConfig
from gateway.lines import ALL_LOCKED, Line, LineStatus, apply_operation, lines_after
from gateway.operations import (
    ABSENT,
    BarOutgoing,
    BarRoaming,
    ForwardingKind,
    Lock,
    SubscriberView,
)
from gateway.orders import SuspendReason
from gateway.planner import CardKeys, Plan, PlanRefused, plan_order
from gateway.routing import Router
from tests.gateway.orders_factory import iccid, open_account, order

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
M = "13800000001"
E = "8613800000001"


def line(**over: object) -> Line:
    net = SubscriberView(
        exists=True,
        auth_loaded=True,
        imsi="460000000000001",
        msisdn=E,
        template_id=1,
        data_enabled=True,
    )
    base = dict(
        msisdn=M,
        imsi="460000000000001",
        iccid=iccid(1),
        ne="hlr1",
        product="4g-basic",
        activated_at=NOW - timedelta(days=400),
        status_since=NOW - timedelta(days=400),
        network=net,
    )
    return Line.model_validate(base | over)


def plan(o: object, config: GatewayConfig, lines: dict[str, Line | None] | None = None) -> Plan:
    return plan_order(
        o,
        lines if lines is not None else {M: line()},
        config,  # type: ignore[arg-type]
        Router(config),
        NOW,
    )


def ops(p: Plan) -> list[tuple[str, str | None]]:
    return [(s.op.op, s.compensation.op if s.compensation else None) for s in p.steps]


def test_open_account_plan_and_compensations(config: GatewayConfig) -> None:
    p = plan(open_account("o1"), config, {M: None})
    assert ops(p) == [
        ("load_auth", "remove_auth"),
        ("create_subscriber", "remove_subscriber"),
        ("set_data", "set_data"),
    ]
    create = p.steps[1].op
    assert create.model_dump()["msisdn"] == E and create.model_dump()["template_id"] == 1
    assert p.steps[2].compensation.model_dump()["enabled"] is False  # type: ignore[union-attr]
    assert {s.ne for s in p.steps} == {"hlr1"}


def test_open_account_without_data_product(config: GatewayConfig) -> None:
    p = plan(open_account("o1", product="voice-only"), config, {M: None})
    assert ops(p) == [("load_auth", "remove_auth"), ("create_subscriber", "remove_subscriber")]


def test_open_account_refused_when_number_in_use(config: GatewayConfig) -> None:
    with pytest.raises(PlanRefused, match="already in use"):
        plan(open_account("o1"), config)


def test_open_account_refused_for_unknown_product(config: GatewayConfig) -> None:
    with pytest.raises(PlanRefused, match="unknown product"):
        plan(open_account("o1", product="gold"), config, {M: None})


def test_suspend_then_resume_restores_previous_lock(config: GatewayConfig) -> None:
    p = plan(order("suspend", "s1", msisdn=M), config)
    assert ops(p) == [("set_lock", "set_lock")]
    assert p.steps[0].op.model_dump()["lock"] == ALL_LOCKED.model_dump()
    assert p.steps[0].compensation.model_dump()["lock"] == Lock().model_dump()  # type: ignore[union-attr]
    suspended = line(
        status=LineStatus.SUSPENDED,
        suspended_for=frozenset({SuspendReason.REQUEST}),
        network=line().network.model_copy(update={"lock": ALL_LOCKED}),
    )
    r = plan(order("resume", "r1", msisdn=M), config, {M: suspended})
    assert r.steps[0].op.model_dump()["lock"] == Lock().model_dump()


def test_resume_refused_for_the_wrong_reason(config: GatewayConfig) -> None:
    arrears = line(status=LineStatus.SUSPENDED, suspended_for=frozenset({SuspendReason.ARREARS}))
    with pytest.raises(PlanRefused, match="suspended for arrears, not request"):
        plan(order("resume", "r1", msisdn=M), config, {M: arrears})


def test_recharge_resumes_only_an_arrears_suspension(config: GatewayConfig) -> None:
    arrears = line(status=LineStatus.SUSPENDED, suspended_for=frozenset({SuspendReason.ARREARS}))
    p = plan(order("recharge", "c1", msisdn=M, amount_cents=5000), config, {M: arrears})
    assert ops(p) == [("set_lock", "set_lock")]
    both = arrears.model_copy(update={"suspended_for": frozenset(SuspendReason)})
    p2 = plan(order("recharge", "c2", msisdn=M, amount_cents=5000), config, {M: both})
    assert p2.steps == [] and "still suspended" in p2.notes[0]
    assert plan(order("recharge", "c3", msisdn=M, amount_cents=1), config).steps == []


def test_change_number_and_its_inverse(config: GatewayConfig) -> None:
    p = plan(
        order("change_number", "n1", msisdn=M, new_msisdn="13900000002"),
        config,
        {M: line(), "13900000002": None},
    )
    assert p.steps[0].op.model_dump() == {
        "op": "change_msisdn",
        "msisdn": E,
        "new_msisdn": "8613900000002",
    }
    assert p.steps[0].compensation.model_dump() == {  # type: ignore[union-attr]
        "op": "change_msisdn",
        "msisdn": "8613900000002",
        "new_msisdn": E,
    }
    with pytest.raises(PlanRefused, match="already in use"):
        plan(
            order("change_number", "n2", msisdn=M, new_msisdn="13900000002"),
            config,
            {M: line(), "13900000002": line(msisdn="13900000002")},
        )


def test_sim_swap_loads_new_keys_swaps_and_retires_old(config: GatewayConfig) -> None:
    o = order(
        "sim_swap",
        "w1",
        msisdn=M,
        new_imsi="460000000000099",
        new_iccid=iccid(99),
        ki="00" * 16,
        opc="11" * 16,
    )
    p = plan(o, config)
    assert ops(p) == [
        ("load_auth", "remove_auth"),
        ("swap_imsi", "swap_imsi"),
        ("remove_auth", None),
    ]
    assert p.steps[1].compensation.model_dump()["new_imsi"] == "460000000000001"  # type: ignore[union-attr]
    assert p.steps[2].op.model_dump()["imsi"] == "460000000000001"


def test_feature_changes(config: GatewayConfig) -> None:
    p = plan(
        order(
            "change_long_distance",
            "f1",
            msisdn=M,
            outgoing_barring="BOIC",
            incoming_barring="BICROAM",
        ),
        config,
    )
    assert ops(p) == [
        ("set_outgoing_barring", "set_outgoing_barring"),
        ("set_incoming_barring", "set_incoming_barring"),
    ]
    assert p.steps[0].compensation.model_dump()["barring"] == BarOutgoing.NONE  # type: ignore[union-attr]
    r = plan(order("change_roaming", "f2", msisdn=M, roaming_barring="BROHPLMN"), config)
    assert r.steps[0].op.model_dump()["barring"] == BarRoaming.OUTSIDE_HOME_PLMN
    d = plan(order("change_value_added", "f3", msisdn=M, data=False), config)
    assert ops(d) == [("set_data", "set_data")]
    assert plan(order("change_value_added", "f4", msisdn=M, data=True), config).steps == []


def test_forwarding_register_and_erase_with_inverse(config: GatewayConfig) -> None:
    fwd = line(
        network=line().network.model_copy(
            update={"forwarding": {ForwardingKind.BUSY: "8613911111111"}}
        )
    )
    p = plan(
        order(
            "change_supplementary",
            "f5",
            msisdn=M,
            forwarding=[
                {"kind": "CFU", "forward_to": "13922222222"},
                {"kind": "CFB"},
                {"kind": "CFNRY"},
            ],
        ),
        config,
        {M: fwd},
    )
    assert ops(p) == [
        ("register_forwarding", "erase_forwarding"),
        ("erase_forwarding", "register_forwarding"),
    ]
    assert p.steps[0].op.model_dump()["forward_to"] == "8613922222222"
    assert p.steps[1].compensation.model_dump()["forward_to"] == "8613911111111"  # type: ignore[union-attr]
    assert any("CFNRY is not registered" in n for n in p.notes)


def test_pre_cancel_then_cancel_after_hold(config: GatewayConfig) -> None:
    p = plan(order("pre_cancel", "x1", msisdn=M), config)
    assert ops(p) == [("set_lock", "set_lock")]
    with pytest.raises(PlanRefused, match="pre-cancelled"):
        plan(order("cancel", "x2", msisdn=M), config)
    held = line(status=LineStatus.PRE_CANCELLED, status_since=NOW)
    c = plan(order("cancel", "x3", msisdn=M), config, {M: held})
    assert ops(c) == [("remove_subscriber", "create_subscriber"), ("remove_auth", None)]
    strict = config.model_copy(update={"cancel_hold_days": 90})
    with pytest.raises(PlanRefused, match="held after pre-cancellation until 2027-02-19"):
        plan(order("cancel", "x4", msisdn=M), strict, {M: held})


def test_port_out_eligibility(config: GatewayConfig) -> None:
    young = line(activated_at=NOW - timedelta(days=30))
    with pytest.raises(PlanRefused, match="90 days"):
        plan(order("port_out", "p1", msisdn=M, recipient_operator="CU"), config, {M: young})
    arrears = line(suspended_for=frozenset({SuspendReason.ARREARS}), status=LineStatus.SUSPENDED)
    with pytest.raises(PlanRefused, match="arrears"):
        plan(order("port_out", "p2", msisdn=M, recipient_operator="CU"), config, {M: arrears})
    with pytest.raises(PlanRefused, match="real-name"):
        plan(
            order("port_out", "p3", msisdn=M, recipient_operator="CU"),
            config,
            {M: line(real_name=False)},
        )
    ok = plan(order("port_out", "p4", msisdn=M, recipient_operator="CU"), config)
    assert ops(ok)[0] == ("remove_subscriber", "create_subscriber")


def test_customer_data_orders_need_no_network(config: GatewayConfig) -> None:
    p = plan(order("change_customer_info", "k1", msisdn=M, contact="13912345678"), config)
    assert p.steps == [] and "no network change" in p.notes[0]


def test_sms_change_is_refused_with_a_reason(config: GatewayConfig) -> None:
    with pytest.raises(PlanRefused, match="SMS centre"):
        plan(order("change_value_added", "v1", msisdn=M, sms=False), config)


def test_plan_is_pure(config: GatewayConfig) -> None:
    o = open_account("o1")
    assert plan(o, config, {M: None}) == plan(o, config, {M: None})


def test_applying_an_open_account_plan_gives_the_line(config: GatewayConfig) -> None:
    o = open_account("o1")
    p = plan(o, config, {M: None})
    after = lines_after(o, {M: None}, p, NOW)[M]
    assert after is not None
    assert after.network.exists and after.network.data_enabled and after.network.msisdn == E
    view = ABSENT
    for s in p.steps:
        view = apply_operation(view, s.op)
    assert view == after.network


CARD = CardKeys.model_validate({"ki": "11" * 16, "opc": "22" * 16, "adm1": "12345678"})


def test_open_account_at_the_counter_writes_then_provisions_then_proves(
    config: GatewayConfig,
) -> None:
    o = open_account("c1", card={"station": "counter-1"}, ki=None, opc=None)
    p = plan_order(o, {M: None}, config, Router(config), NOW, CARD)
    assert [(s.op.op, s.ne, s.compensation is not None) for s in p.steps] == [
        ("write_card", "counter-1", False),
        ("load_auth", "hlr1", True),
        ("create_subscriber", "hlr1", True),
        ("set_data", "hlr1", True),
        ("prove_authentication", "counter-1", False),
    ]
    write, load = p.steps[0].op, p.steps[1].op
    assert write.ki.get_secret_value() == load.ki.get_secret_value() == "11" * 16  # type: ignore[union-attr]
    assert p.steps[4].op.model_dump() == {
        "op": "prove_authentication",
        "imsi": "460000000000001",
        "ne": "hlr1",
    }


def test_counter_order_without_known_keys_is_refused(config: GatewayConfig) -> None:
    o = open_account("c2", card={"station": "counter-1"}, ki=None, opc=None)
    with pytest.raises(PlanRefused, match="keys of the card"):
        plan_order(o, {M: None}, config, Router(config), NOW)


def test_sim_replacement_at_the_counter_proves_before_retiring_the_old_card(
    config: GatewayConfig,
) -> None:
    o = order(
        "sim_swap",
        "w2",
        msisdn=M,
        new_imsi="460000000000099",
        new_iccid=iccid(99),
        card={"station": "counter-1"},
    )
    p = plan_order(o, {M: line()}, config, Router(config), NOW, CARD)
    assert ops(p) == [
        ("write_card", None),
        ("load_auth", "remove_auth"),
        ("swap_imsi", "swap_imsi"),
        ("prove_authentication", None),
        ("remove_auth", None),
    ]


def test_keys_or_a_card_are_required() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="give ki and opc, or a card"):
        open_account("c3", ki=None, opc=None)
