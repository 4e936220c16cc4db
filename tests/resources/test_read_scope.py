"""Reads are scoped and personal data is masked: a clerk reads their own channel's orders, a
supervisor their area's, an engineer all of them with customers' ID numbers and addresses
masked; a full ID number is shown only on request to a role that serves customers, audited.
And ``/health`` tells an anonymous caller only whether the gateway is alive."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.api import create_app
from gateway.config import load_config
from gateway.engine import Engine
from gateway.resources import audit
from gateway.resources.access import Role
from gateway.resources.channels import ChannelIn, ChannelKind, OpeningHours
from gateway.resources.demo import DEMO_PASSWORDS
from gateway.resources.policy import visible_orders
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from tests.gateway.orders_factory import CUSTOMER
from tests.resources.conftest import add_operator
from tests.resources.test_guard import open_account

PASSWORDS = DEMO_PASSWORDS | {"clerk2": "clerk2-password", "super1": "super1-password"}
ORDERS = {"a1": ("OUT001", "clerk1"), "a2": ("OUT002", "clerk2"), "a3": ("OUT003", "admin1")}


def login(operator: str) -> tuple[str, str]:
    return operator, PASSWORDS[operator]


@pytest.fixture
async def client(demo: Resources, store: SqliteStore) -> AsyncIterator[httpx.AsyncClient]:
    """OUT002 in OUT001's area (Beijing, Dongcheng), OUT003 elsewhere (Xicheng); clerk2 on
    OUT002, supervisor super1 on OUT001; one order on each channel."""
    for area in ("Dongcheng", "Xicheng"):
        await demo.channels.create(
            ChannelIn(
                kind=ChannelKind.OWN_OUTLET,
                name=area,
                city="Beijing",
                area=area,
                hours=OpeningHours.always(),
            ),
            by="admin1",
        )
    for operator, role, channel in (
        ("clerk2", Role.CLERK, "OUT002"),
        ("super1", Role.SUPERVISOR, "OUT001"),
    ):
        await add_operator(demo, operator, role, PASSWORDS[operator], channel)
    engine = Engine(store, load_config(None), {})
    for order_id, (channel, operator) in ORDERS.items():
        await engine.submit(open_account(order_id=order_id, channel=channel, operator=operator))
    app = create_app(engine)
    app.state.resources = demo
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        yield c
    await engine.stop()


async def visible(client: httpx.AsyncClient, operator: str, channel: str | None) -> set[str]:
    headers = {"X-Provgw-Channel": channel} if channel else {}
    resp = await client.get("/orders", headers=headers, auth=login(operator))
    assert resp.status_code == 200, resp.text
    return {o["order_id"] for o in resp.json()}


async def test_each_role_reads_its_own_scope(client: httpx.AsyncClient) -> None:
    assert await visible(client, "clerk1", "OUT001") == {"a1"}
    assert await visible(client, "clerk2", "OUT002") == {"a2"}
    assert await visible(client, "super1", "OUT001") == {"a1", "a2"}
    assert await visible(client, "engineer1", None) == {"a1", "a2", "a3"}
    assert await visible(client, "admin1", None) == {"a1", "a2", "a3"}
    other = await client.get(
        "/orders/a2", headers={"X-Provgw-Channel": "OUT001"}, auth=login("clerk1")
    )
    assert other.status_code == 404, "another channel's order is not there for this clerk"
    elsewhere = await client.get(
        "/orders", headers={"X-Provgw-Channel": "OUT002"}, auth=login("clerk1")
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json()["detail"] == "operator clerk1 is not assigned to channel OUT002"


async def test_personal_data_is_masked_unless_revealed_and_audited(
    client: httpx.AsyncClient, store: SqliteStore
) -> None:
    at = {"X-Provgw-Channel": "OUT001"}
    shown = (await client.get("/orders/a1", headers=at, auth=login("clerk1"))).json()
    customer = shown["order"]["customer"]
    assert customer["id_number"] != CUSTOMER["id_number"]
    assert (
        customer["id_number"] == CUSTOMER["id_number"][:6] + "********" + CUSTOMER["id_number"][-4:]
    )
    assert CUSTOMER["address"] not in str(shown)
    engineer = await client.get("/orders/a1?reveal_personal=true", auth=login("engineer1"))
    assert engineer.status_code == 403
    full = await client.get("/orders/a1?reveal_personal=true", headers=at, auth=login("clerk1"))
    assert full.json()["order"]["customer"]["id_number"] == CUSTOMER["id_number"]
    (entry,) = await audit.entries(store, operator="clerk1", outcome="done")
    assert (entry.action, entry.channel) == ("show personal data: order a1", "OUT001")


async def test_health_is_liveness_only_without_a_login(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    detailed = (await client.get("/health", auth=login("engineer1"))).json()
    assert sum(detailed["orders"].values()) == 3 and detailed["reasons"] == []
    assert (await client.get("/health", auth=("engineer1", "wrong"))).status_code == 401
    assert (await client.get("/network")).status_code == 401
    assert (await client.get("/stations")).status_code == 401


async def test_a_clerks_list_reaches_past_other_channels_orders(store: SqliteStore) -> None:
    """Lists are read in pages of 200: the clerk's one order behind 250 of another channel's
    is found, and ``limit`` holds."""
    engine = Engine(store, load_config(None), {})
    await engine.submit(open_account(order_id="mine", channel="OUT001", msisdn="13800000001"))
    for i in range(250):
        await engine.submit(
            open_account(order_id=f"o{i}", channel="OUT002", msisdn=f"1380001{i:04d}")
        )
    found = await visible_orders(store, frozenset({"OUT001"}), limit=5)
    assert [r.id for r in found] == ["mine"]
    others = await visible_orders(store, frozenset({"OUT002"}), limit=3)
    assert [r.id for r in others] == ["o249", "o248", "o247"]
    await engine.stop()
