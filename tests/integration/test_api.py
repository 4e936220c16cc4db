"""The REST API over the real engine and SSH: intake, 422s a clerk can read, masking, SSE."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from emulators.hlr.server import HlrEmulator
from gateway.api import create_app
from gateway.engine import Engine
from tests.gateway.orders_factory import CUSTOMER, KI, OPC, iccid
from tests.integration.conftest import served

M = "13800000001"


def open_body(order_id: str = "a1", **over: Any) -> dict[str, Any]:
    body = {
        "kind": "open_account",
        "order_id": order_id,
        "channel": "OUT001",
        "operator": "clerk1",
        "msisdn": M,
        "imsi": "460000000000001",
        "iccid": iccid(1),
        "ki": KI,
        "opc": OPC,
        "product": "4g-basic",
        "customer": dict(CUSTOMER),
    }
    return body | over


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        yield c


async def test_submit_then_replay_then_conflict(client: httpx.AsyncClient, engine: Engine) -> None:
    first = await client.post("/orders", json=open_body())
    assert first.status_code == 202 and first.json()["state"] == "accepted"
    again = await client.post("/orders", json=open_body())
    assert again.status_code == 200 and again.json()["order_id"] == "a1"
    other = await client.post("/orders", json=open_body(product="voice-only"))
    assert other.status_code == 409
    await engine.drain()
    detail = (await client.get("/orders/a1")).json()
    assert detail["state"] == "completed"
    assert [s["state"] for s in detail["plan"]] == ["done", "done", "done"]
    assert detail["plan"][0]["command"].startswith('ADD KI:HLRSN=1,IMSI="460000000000001"')
    text = json.dumps(detail)
    assert KI not in text and OPC not in text, "keys are masked everywhere in the detail"
    assert detail["order"]["ki"] == "****"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"iccid": iccid(1)[:-1] + "0" if iccid(1)[-1] != "0" else iccid(1)[:-1] + "1"},
            "iccid",
            "check digit",
        ),
        ({"imsi": "46000000000000X"}, "imsi", "digits only"),
        ({"msisdn": "2380000000"}, "msisdn", "11 digits"),
        ({"ki": "xyz"}, "ki", "32 hexadecimal"),
        (
            {"customer": dict(CUSTOMER, id_number="110105194912310021")},
            "customer.id_number",
            "check character",
        ),
        (
            {"customer": dict(CUSTOMER, name='Li"; RMV SUB:ISDN="8613800000001";')},
            "customer.name",
            "not allowed",
        ),
        (
            {"customer": dict(CUSTOMER, address='Road 1\nRMV SUB:IMSI="1";')},
            "customer.address",
            "not allowed",
        ),
        ({"customer": dict(CUSTOMER, name="Wang\x07")}, "customer.name", "not allowed"),
        ({"kind": "teleport"}, "kind", "unknown order kind 'teleport'"),
        (
            {"customer": {k: v for k, v in CUSTOMER.items() if k != "address"}},
            "customer.address",
            "required",
        ),
    ],
)
async def test_bad_input_is_422_with_the_field_named_and_changes_nothing(
    client: httpx.AsyncClient, hlr: HlrEmulator, change: dict[str, Any], field: str, words: str
) -> None:
    resp = await client.post("/orders", json=open_body(**change))
    assert resp.status_code == 422
    body = resp.json()
    assert any(e["field"] == field and words in e["message"] for e in body["errors"]), body
    assert KI not in resp.text
    assert (await client.get("/orders")).json() == [], "nothing was accepted"
    assert hlr.state.snapshot() == {"ki": {}, "subscribers": {}}, "nothing reached the NE"


async def test_list_filters(client: httpx.AsyncClient, engine: Engine) -> None:
    await client.post("/orders", json=open_body("l1"))
    await client.post(
        "/orders",
        json={
            "kind": "suspend",
            "order_id": "l2",
            "channel": "OUT001",
            "operator": "clerk1",
            "msisdn": "13800000002",
        },
    )
    await engine.drain()
    failed = (await client.get("/orders", params={"state": "failed"})).json()
    assert [o["order_id"] for o in failed] == ["l2"]
    assert failed[0]["reason"] == "number 13800000002 has no active line"
    by_kind = (await client.get("/orders", params={"kind": "open_account"})).json()
    assert [o["order_id"] for o in by_kind] == ["l1"]
    assert (await client.get("/orders", params={"kind": "nope"})).status_code == 422
    assert (await client.get("/orders/zzz")).status_code == 404
    line = (await client.get(f"/lines/{M}")).json()
    assert line["network"]["data_enabled"] is True
    network = (await client.get(f"/lines/{M}/network")).json()
    assert network["in_sync"] is True


async def test_events_stream_reports_state_changes(engine: Engine) -> None:
    """Server-sent events over a real HTTP server: accepted → provisioning → completed."""
    states: list[str] = []
    async with (
        served(engine) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as c,
        c.stream("GET", "/events") as stream,
    ):
        lines = stream.aiter_lines()
        assert await anext(lines) == ": connected"
        await c.post("/orders", json=open_body("e1"))
        async for line in lines:
            if line.startswith("data: "):
                event = json.loads(line[6:])
                assert event["order_id"] == "e1"
                states.append(event["state"])
                if event["state"] in ("completed", "failed", "compensated"):
                    break
    assert states == ["accepted", "provisioning", "completed"]


async def test_network_status_reports_latency_and_errors(
    client: httpx.AsyncClient, engine: Engine, hlr: HlrEmulator
) -> None:
    await client.post("/orders", json=open_body("n1"))
    await engine.drain()
    hlr.faults.update(error_rate=1.0)  # every command answered "system busy"
    await client.post(
        "/orders",
        json={
            "kind": "suspend",
            "order_id": "n2",
            "channel": "OUT001",
            "operator": "clerk1",
            "msisdn": M,
        },
    )
    await engine.drain()
    (status,) = (await client.get("/network")).json()
    assert status["name"] == "hlr1" and status["dialect"] == "huawei-mml"
    assert status["replies"] == 3 + 3, "three commands of the open account, three busy tries"
    assert status["error_rate"] == 0.5
    assert "5001" in status["last_error"]
    # Busy is an answer: the NE is reachable and orders are still sent to it.
    assert status["reachable"] is True and status["breaker"] == "closed"
    assert status["latency_ms"] > 0


async def test_an_order_needs_its_operator_login_when_access_control_is_on(
    engine: Engine, hlr: HlrEmulator
) -> None:
    from gateway.resources.demo import seed_demo

    await seed_demo(engine.store)
    engine.config = engine.config.model_copy(update={"access_control": True})
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        body = {
            "kind": "suspend",
            "order_id": "a1",
            "channel": "OUT001",
            "operator": "clerk1",
            "msisdn": M,
        }
        assert (await c.post("/orders", json=body)).status_code == 401
        wrong = await c.post("/orders", json=body, auth=("clerk1", "not-it"))
        assert wrong.status_code == 401 and "not-it" not in wrong.text
        other = await c.post("/orders", json=body, auth=("engineer1", "engineer1-demo"))
        assert other.status_code == 403 and "as clerk1" in other.json()["detail"]
        placed = await c.post("/orders", json=body, auth=("clerk1", "clerk1-demo"))
        assert placed.status_code == 202
        await engine.drain()
        # Orders and lines show customers' details: reading them needs a login too.
        for path in ("/orders", "/orders/a1", f"/lines/{M}"):
            assert (await c.get(path)).status_code == 401, path
        assert (await c.get("/orders/a1", auth=("engineer1", "engineer1-demo"))).status_code == 200
