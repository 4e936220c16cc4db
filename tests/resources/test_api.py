"""The resource API: login, roles, counter checks, refusals as JSON, secrets never shown."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.api import create_app
from gateway.config import load_config
from gateway.engine import Engine
from gateway.resources.demo import DEMO_PASSWORDS, demo_blank_cards
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from tests.resources.conftest import Clock, shanghai
from tests.resources.test_vendor_file import K1, OPC1, extended_line, iccid, vendor_file

CARDS = [line.split()[0] for line in demo_blank_cards().splitlines()[2:]]


def login(operator: str) -> httpx.BasicAuth:
    return httpx.BasicAuth(operator, DEMO_PASSWORDS[operator])


@pytest.fixture
async def client(demo: Resources, store: SqliteStore) -> AsyncIterator[httpx.AsyncClient]:
    # The test's clock and a test-sized scrypt cost.
    app = create_app(Engine(store, load_config(None), {}), demo)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gw", headers={"X-Provgw-Channel": "OUT001"}
    ) as c:
        yield c


async def test_every_route_needs_a_login(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/numbers")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    wrong = await client.get(
        "/numbers", auth=("clerk1", "not-it"), headers={"X-Provgw-Channel": "OUT001"}
    )
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong operator or password"
    audit = (await client.get("/audit", params={"outcome": "refused"}, auth=login("admin1"))).json()
    assert [(a["operator"], a["channel"], a["action"]) for a in audit] == [
        ("clerk1", "OUT001", "login")
    ]


async def test_roles_decide_what_an_operator_may_do(client: httpx.AsyncClient) -> None:
    refused = await client.post("/numbers/blocks", json={"prefix": "1390000"}, auth=login("clerk1"))
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"].endswith("it needs the stock permission")
    done = await client.post("/numbers/blocks", json={"prefix": "1390000"}, auth=login("engineer1"))
    assert done.status_code == 201 and done.json() == {
        "block": "13900000000-13900009999",
        "imported": 10000,
    }
    hold = await client.post(
        "/numbers/13900000001/hold", json={"channel": "OUT001"}, auth=login("engineer1")
    )
    assert hold.status_code == 403
    assert (await client.get("/audit", auth=login("clerk1"))).status_code == 403
    assert (await client.get("/operators/me", auth=login("clerk1"))).json()["role"] == "clerk"


async def test_holding_at_the_counter(client: httpx.AsyncClient) -> None:
    clerk = login("clerk1")
    found = (
        await client.get(
            "/numbers", params={"pattern": "1380000?888", "available": True}, auth=clerk
        )
    ).json()
    assert [(n["msisdn"], n["fee_rule"]) for n in found[:2]] == [
        ("13800000888", "five alike"),  # 00000 costs more than the tail 888
        ("13800001888", "tail AAA"),
    ]
    held = await client.post("/numbers/13800008888/hold", json={"channel": "OUT001"}, auth=clerk)
    assert held.status_code == 201
    body = held.json()
    assert (body["fee_cents"], body["fee_rule"], body["operator"]) == (
        100_000,
        "tail AAAA",
        "clerk1",
    )
    again = await client.post(
        "/numbers/13800008888/hold", json={"channel": "OUT001"}, auth=login("admin1")
    )
    assert again.status_code == 409
    assert again.json()["detail"].startswith(
        "number 13800008888 is held (预占) by clerk1 on OUT001"
    )
    stale = await client.post("/numbers/13800008888/release", json={"token": "x" * 20}, auth=clerk)
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "token"
    released = await client.post(
        "/numbers/13800008888/release", json={"token": body["token"]}, auth=clerk
    )
    assert released.json() == {"msisdn": "13800008888", "released": True}
    shown = (await client.get("/numbers/13800008888", auth=clerk)).json()
    assert shown["state"] == "unused" and shown["state_zh"] == "未用"


async def test_the_counter_is_closed_at_night(
    client: httpx.AsyncClient, demo: Resources, clock: Clock
) -> None:
    hours = {"timezone": "Asia/Shanghai", "week": {"mon": ["09:00-18:00"]}}
    changed = await client.patch("/channels/OUT001", json={"hours": hours}, auth=login("admin1"))
    assert changed.status_code == 200 and changed.json()["hours_text"].startswith("mon 09:00-18:00")
    clock.now = shanghai("2026-11-23 22:00")
    night = await client.post(
        "/numbers/13800000001/hold", json={"channel": "OUT001"}, auth=login("clerk1")
    )
    assert night.status_code == 403
    assert night.json()["errors"] == [
        {
            "field": "channel",
            "message": "channel OUT001 is outside its opening hours: it is Mon 22:00 there, open"
            " mon 09:00-18:00; tue–sun closed (Asia/Shanghai)",
        }
    ]
    assert (await demo.numbers.get("13800000001")).state.value == "unused"
    reading = await client.get("/channels/OUT001", auth=login("clerk1"))
    assert reading.status_code == 403, "time is a control for reads as for writes"
    channel = (await client.get("/channels/OUT001", auth=login("admin1"))).json()
    assert channel["open_now"] is False


@pytest.mark.parametrize(
    ("path", "body", "field", "words"),
    [
        ("/numbers/blocks", {"prefix": "2380000"}, "prefix", "11 digits starting 13–19"),
        (
            "/customers",
            {"id_type": "resident_id", "id_number": "110105194912310021"},
            "id_number",
            "check character",
        ),
        (
            "/customers",
            {"id_type": "resident_id", "id_number": "11010519491231002X", "extra": 1},
            "extra",
            "not part",
        ),
        (
            "/numbers/fee-rules",
            {"name": "r", "kind": "repeated", "fee_cents": 1},
            "body",
            "needs length",
        ),
        (
            "/channels",
            {"kind": "shop", "name": "x", "city": "a", "area": "b"},
            "kind",
            "own_outlet",
        ),
        (
            "/sims",
            {"iccid": iccid(1), "imsi": "460010000000001", "ki": "abc"},
            "ki",
            "32 hexadecimal",
        ),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: httpx.AsyncClient, path: str, body: dict[str, object], field: str, words: str
) -> None:
    resp = await client.post(path, json=body, auth=login("admin1"))
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert errors[0]["field"] == field and words in errors[0]["message"]
    assert "abc" not in resp.text or path != "/sims", "a key is never echoed"


async def test_categories_have_no_delete(client: httpx.AsyncClient) -> None:
    admin = login("admin1")
    for path in (
        "/customers/categories/3",
        "/customers/categories",
        "/numbers/fee-rules/1",
        "/audit",
    ):
        assert (await client.delete(path, auth=admin)).status_code == 405
    renamed = await client.patch("/customers/categories/3", json={"name": "黑名单"}, auth=admin)
    assert renamed.json() == {
        "number": 3,
        "name": "黑名单",
        "note": renamed.json()["note"],
        "refuses_open": True,
    }
    added = await client.post(
        "/customers/categories", json={"name": "partner list", "refuses_open": True}, auth=admin
    )
    assert added.status_code == 201 and added.json()["number"] == 5
    names = [c["name"] for c in (await client.get("/customers/categories", auth=admin)).json()]
    assert names == ["normal", "VIP", "黑名单", "redlist", "partner list"]


async def test_a_blacklisted_customer_may_not_open(client: httpx.AsyncClient) -> None:
    body = {"id_type": "resident_id", "id_number": "11010519491231002X", "name": "王小明",
            "address": "北京市西城区金融大街29号", "contact": "13900000000"}  # fmt: skip
    customer = (await client.post("/customers", json=body, auth=login("clerk1"))).json()
    assert customer["kind"] == "person" and customer["complete"] is True
    path = f"/customers/{customer['id']}"
    assert (await client.get(f"{path}/may-open", auth=login("clerk1"))).json()["may_open"] is True
    assert (
        await client.post(f"{path}/categories", json={"add": [3]}, auth=login("clerk1"))
    ).status_code == 403
    await client.post(f"{path}/categories", json={"add": [3]}, auth=login("admin1"))
    verdict = (await client.get(f"{path}/may-open", auth=login("clerk1"))).json()
    assert verdict["may_open"] is False and "blacklist" in verdict["reason"]


async def test_vendor_file_upload(client: httpx.AsyncClient, store: SqliteStore) -> None:
    keeper = login("engineer1")
    good = vendor_file([extended_line(101, ki=K1, opc=OPC1), extended_line(102)], batch="V1")
    bad = good.replace(
        iccid(102), iccid(102)[:-1] + "0" if iccid(102)[-1] != "0" else iccid(102)[:-1] + "1"
    )
    refused = await client.post("/sims/import", content=bad.encode(), auth=keeper)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "line 3"
    assert "check digit" in refused.json()["errors"][0]["message"]
    assert len((await client.get("/sims", params={"batch": "V1"}, auth=keeper)).json()) == 0
    done = await client.post("/sims/import", content=good.encode(), auth=keeper)
    assert done.status_code == 201 and done.json() == {
        "batch": "V1",
        "cards": 2,
        "kind": "personalised",
    }
    card = (await client.get(f"/sims/{iccid(101)}", auth=keeper)).json()
    assert card["keys"] == "sealed" and card["state"] == "in_stock"
    listing = await client.get("/sims", params={"limit": 1000}, auth=keeper)
    assert K1 not in listing.text and OPC1 not in listing.text
    batches = (await client.get("/sims/batches", auth=keeper)).json()
    assert {b["id"]: b["in_stock"] for b in batches} == {"V1": 2, "DEMO-BLANK": 20}
    not_text = await client.post("/sims/import", content=b"\xff\xfe", auth=keeper)
    assert not_text.status_code == 422 and "UTF-8" in not_text.json()["detail"]


async def test_cards_move_and_are_reserved_over_the_api(client: httpx.AsyncClient) -> None:
    keeper, clerk = login("engineer1"), login("clerk1")
    for to in ("Beijing", "Beijing/Dongcheng", "Beijing/Dongcheng/OUT001"):
        moved = await client.post(
            "/sims/distribute", json={"items": CARDS[:3], "to": to, "receiver": "Li"}, auth=keeper
        )
        assert moved.status_code == 200, moved.text
    moves = (await client.get("/sims/movements", params={"item": CARDS[0]}, auth=clerk)).json()
    assert [m["to"] for m in moves] == ["Beijing/Dongcheng/OUT001", "Beijing/Dongcheng", "Beijing"]
    items = (await client.get(f"/sims/movements/{moves[0]['id']}", auth=clerk)).json()["items"]
    assert items == sorted(CARDS[:3])
    skipped = await client.post(
        "/sims/return", json={"items": CARDS[3:4], "receiver": "x"}, auth=keeper
    )
    assert skipped.status_code == 422
    reserved = await client.post(
        f"/sims/{CARDS[0]}/reserve", json={"channel": "OUT001"}, auth=clerk
    )
    assert reserved.json()["state"] == "reserved" and reserved.json()["reserved_by"] == "clerk1"
    taken = await client.post(
        f"/sims/{CARDS[0]}/reserve", json={"channel": "OUT001"}, auth=login("admin1")
    )
    assert taken.status_code == 409
    back = await client.post(f"/sims/{CARDS[0]}/release", json={"damaged": True}, auth=clerk)
    assert back.json()["condition"] == "damaged"


async def test_operators_and_the_audit_trail(client: httpx.AsyncClient) -> None:
    admin = login("admin1")
    new = {"id": "clerk7", "job_number": "C0007", "name": "Sun Li", "role": "clerk",
           "password": "seven-secrets", "channels": ["OUT001"]}  # fmt: skip
    created = await client.post("/operators", json=new, auth=admin)
    assert created.status_code == 201 and "password" not in created.json()
    assert (await client.get("/operators/me", auth=("clerk7", "seven-secrets"))).status_code == 200
    assert (
        await client.get("/operators/clerk1", auth=("clerk7", "seven-secrets"))
    ).status_code == 403
    changed = await client.post(
        "/operators/clerk7/password",
        json={"password": "eight-secrets"},
        auth=("clerk7", "seven-secrets"),
    )
    assert changed.status_code == 204
    assert (await client.get("/operators/me", auth=("clerk7", "seven-secrets"))).status_code == 401
    trail = (await client.get("/audit", auth=admin)).text
    assert "seven-secrets" not in trail and "eight-secrets" not in trail
    actions = [a["action"] for a in json.loads(trail)]
    assert "set password of clerk7" in actions and "create operator clerk7" in actions
