"""The intake guard: unknown or closed channels, unknown, disabled or misplaced operators, a
clerk at night and a blacklisted customer are refused before the order is stored — and every
refusal is in the audit trail, without secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.config import GatewayConfig, load_config
from gateway.engine import Engine, IntakeRefused
from gateway.orders import parse_order
from gateway.resources import audit
from gateway.resources.access import Role
from gateway.resources.channels import ChannelChange, ChannelIn, ChannelKind, OpeningHours
from gateway.resources.customers import BLACKLIST, CustomerIn, Membership
from gateway.resources.guard import admit, make_guard
from gateway.resources.operators import OperatorChange, OperatorIn
from gateway.resources.refusals import NotAllowed
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from tests.gateway.orders_factory import CUSTOMER, KI, OPC, iccid
from tests.resources.conftest import Clock, shanghai

OFFICE_HOURS = OpeningHours(week={d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")})


def open_account(**over: Any) -> Any:
    body = {
        "kind": "open_account",
        "order_id": "a1",
        "channel": "OUT002",
        "operator": "clerk2",
        "msisdn": "13800000001",
        "imsi": "460000000000001",
        "iccid": iccid(1),
        "ki": KI,
        "opc": OPC,
        "product": "4g-basic",
        "customer": dict(CUSTOMER),
    }
    return parse_order(body | over)


@pytest.fixture
async def outlet(demo: Resources) -> Resources:
    """OUT002, open weekdays 09:00–18:00 Beijing time, with clerk2 and engineer2 on it."""
    await demo.channels.create(
        ChannelIn(
            kind=ChannelKind.OWN_OUTLET,
            name="Xidan",
            city="Beijing",
            area="Xicheng",
            hours=OFFICE_HOURS,
        ),
        by="admin1",
    )
    for op, role in (("clerk2", Role.CLERK), ("engineer2", Role.ENGINEER)):
        await demo.operators.create(
            OperatorIn.model_validate(
                {"id": op, "job_number": op.upper(), "name": op, "role": role,
                 "password": "a-long-password", "channels": ["OUT002"]}
            ),
            by="admin1",
        )  # fmt: skip
    return demo


@pytest.fixture
def engine(store: SqliteStore, clock: Clock) -> Engine:
    config: GatewayConfig = load_config(None)
    return Engine(store, config, {}, guard=make_guard(store, clock=clock))


async def test_a_clerk_within_opening_hours_is_accepted(outlet: Resources, engine: Engine) -> None:
    rec, created = await engine.submit(open_account())
    assert created and rec.channel == "OUT002"
    await engine.stop()


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"channel": "OUT404"}, "channel OUT404 is not registered"),
        ({"operator": "ghost"}, "operator ghost is not known"),
        ({"channel": "OUT001"}, "operator clerk2 is not assigned to channel OUT001"),
    ],
)
async def test_refusals_are_audited_and_nothing_is_stored(
    outlet: Resources,
    engine: Engine,
    store: SqliteStore,
    clock: Clock,
    over: dict[str, str],
    reason: str,
) -> None:
    order = open_account(**over)
    with pytest.raises(IntakeRefused, match=reason):
        await engine.submit(order)
    assert await store.get("a1") is None
    (entry,) = await audit.entries(store, outcome="refused")
    assert (entry.operator, entry.channel, entry.action, entry.at) == (
        order.operator,
        order.channel,
        "order open_account a1",
        clock(),
    )
    assert reason in entry.reason
    assert entry.detail == {"order_id": "a1", "kind": "open_account"}


async def test_a_clerk_at_night_is_refused_but_an_engineer_is_not(
    outlet: Resources, engine: Engine, store: SqliteStore, clock: Clock
) -> None:
    clock.now = shanghai("2026-11-24 23:10")  # Tuesday night in Beijing
    with pytest.raises(IntakeRefused) as caught:
        await engine.submit(open_account())
    assert caught.value.reason == (
        "channel OUT002 is outside its opening hours: it is Tue 23:10 there, open"
        " mon–fri 09:00-18:00; sat–sun closed (Asia/Shanghai)"
    )
    (entry,) = await audit.entries(store, channel="OUT002", outcome="refused")
    assert (entry.operator, entry.outcome, entry.at) == ("clerk2", "refused", clock())
    stored = json.dumps(entry.__dict__, ensure_ascii=False)
    assert KI not in stored and OPC not in stored, "secrets never reach the audit trail"
    rec, _ = await engine.submit(open_account(operator="engineer2", order_id="a2"))
    assert rec.operator == "engineer2"
    clock.now = shanghai("2026-11-25 09:00")
    await engine.submit(open_account(order_id="a3"))
    await engine.stop()


async def test_disabled_operators_and_closed_channels_are_refused(
    outlet: Resources, engine: Engine
) -> None:
    await outlet.operators.change("clerk2", OperatorChange(active=False), by="admin1")
    with pytest.raises(IntakeRefused, match="operator clerk2 is disabled"):
        await engine.submit(open_account())
    await outlet.operators.change("clerk2", OperatorChange(active=True), by="admin1")
    await outlet.channels.change("OUT002", ChannelChange(active=False), by="admin1")
    with pytest.raises(IntakeRefused, match=r"channel OUT002 \(Xidan\) is closed"):
        await engine.submit(open_account())


async def test_a_blacklisted_customer_cannot_open_an_account(
    outlet: Resources, engine: Engine, store: SqliteStore
) -> None:
    customer = await outlet.customers.register(
        CustomerIn.model_validate(CUSTOMER | {"id_type": "resident_id"}), by="clerk2"
    )
    await outlet.customers.set_categories(customer.id, Membership(add=[BLACKLIST]), by="admin1")
    with pytest.raises(IntakeRefused, match="blacklist: no account may be opened"):
        await engine.submit(open_account())
    (entry,) = await audit.entries(store, outcome="refused")
    assert entry.operator == "clerk2" and "blacklist" in entry.reason
    assert CUSTOMER["id_number"] not in json.dumps(entry.detail)


async def test_admins_work_on_every_channel(outlet: Resources, engine: Engine) -> None:
    rec, _ = await engine.submit(open_account(operator="admin1"))
    assert rec.operator == "admin1"
    await engine.stop()


async def test_counter_actions_pass_the_same_check(
    outlet: Resources, store: SqliteStore, clock: Clock
) -> None:
    clock.now = shanghai("2026-11-29 12:00")  # Sunday
    with pytest.raises(NotAllowed, match="outside its opening hours"):
        await admit(store, "clerk2", "OUT002", "hold number 13800000001", now=clock())
    (entry,) = await audit.entries(store, outcome="refused")
    assert entry.action == "hold number 13800000001"
