"""The front end's rules without a browser: catalogs, sessions, the query rules' weak
passwords, and what a bad request gets (a clear answer, never a stack trace)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import get_args

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from gateway.api import create_app
from gateway.config import HuaweiMmlConfig, load_config
from gateway.engine import Engine
from gateway.operations import BarOutgoing, BarRoaming, ForwardingKind, StepOperation
from gateway.orders import ORDER_KINDS, Customer, SuspendReason
from gateway.resources.access import Role
from gateway.resources.channels import ChannelIn, ChannelKind, OpeningHours
from gateway.resources.demo import seed_demo
from gateway.resources.guard import make_guard
from gateway.resources.operators import OperatorIn
from gateway.resources.policy import COUNTER, judge
from gateway.resources.service import Resources
from gateway.store import OrderState, SqliteStore, StepState
from gateway.vault import Vault
from gateway.web.i18n import Translator, catalog
from gateway.web.query_rules import weak
from gateway.web.session import Sessions
from tests.gateway.fake_ne import FakeNe
from tests.web.conftest import CHEAP

TEMPLATES = Path(__file__).resolve().parents[2] / "gateway" / "web" / "templates"
GOOD_ID = "11010519491231002X"


# -- catalogs ---------------------------------------------------------------------------


def test_both_catalogs_hold_the_same_messages_with_the_same_placeholders() -> None:
    en, zh = catalog("en").messages, catalog("zh").messages
    assert set(en) == set(zh)
    for key, text in en.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", zh[key])), key


def test_every_message_a_template_names_is_in_the_catalog() -> None:
    used = {
        key
        for page in TEMPLATES.glob("*.html")
        for key in re.findall(r"""\bt\(\s*["']([a-z_.]+)["']\s*[,)]""", page.read_text())
    }
    assert used, "the templates name messages"
    assert used - set(catalog("en").messages) == set()


def test_every_order_kind_state_and_operation_has_a_name_a_clerk_reads() -> None:
    (union, _) = get_args(StepOperation)
    ops = {m.model_fields["op"].default for m in get_args(union)}
    values = {
        "kind": set(ORDER_KINDS),
        "state": {s.value for s in OrderState},
        "step": {s.value for s in StepState} | {"pending"},
        "op": ops,
        "reason": {r.value for r in SuspendReason},
        "roaming": {b.value for b in BarRoaming},
        "outgoing": {b.value for b in BarOutgoing},
        "forwarding": {f.value for f in ForwardingKind},
    }
    messages = catalog("en").messages
    missing = [f"{p}.{v}" for p, vs in values.items() for v in vs if f"{p}.{v}" not in messages]
    assert missing == []


def test_the_gateways_checks_read_in_chinese() -> None:
    with pytest.raises(ValidationError) as caught:
        Customer.model_validate(
            {"name": "王小明", "id_number": "110105194912310021", "address": "北京", "contact": "1"}
        )
    messages = {
        str(e["loc"][-1]): str(e["msg"]).removeprefix("Value error, ")
        for e in caught.value.errors()
    }
    zh = Translator("zh")
    assert zh.gateway_message(messages["id_number"]) == "身份证号码校验位错误：应为 X"
    assert Translator("en").gateway_message(messages["id_number"]) == messages["id_number"]
    assert zh.gateway_message("something the catalog does not know") == (
        "something the catalog does not know"
    )


async def test_the_opening_hours_refusal_reads_in_chinese(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "db", Vault(bytes(32))) as store:
        res = Resources.open(store, cost=CHEAP)
        hours = OpeningHours.model_validate({"week": {"mon": ["09:00-18:00"]}})
        await res.channels.create(
            ChannelIn(
                id="OUT009",
                kind=ChannelKind.OWN_OUTLET,
                name="Day",
                city="B",
                area="D",
                hours=hours,
            ),
            by="t",
        )
        await res.operators.create(
            OperatorIn(
                id="day1",
                job_number="D1",
                name="Day Clerk",
                role=Role.CLERK,
                password=SecretStr("day1-password"),
                channels=["OUT009"],
            ),
            by="t",
        )
        closed = 1_795_000_000.0
        while hours.is_open(closed):
            closed += 3600
        reason = await store.run(lambda conn: judge(conn, "day1", "OUT009", COUNTER, closed).reason)
    assert reason is not None and "outside its opening hours" in reason
    translated = Translator("zh").gateway_message(reason)
    assert translated.startswith("渠道 OUT009 现在不在营业时间内（当地时间 ")
    assert translated.endswith("营业时间：mon 09:00-18:00; tue–sun closed (Asia/Shanghai)")


# -- sessions ---------------------------------------------------------------------------


def test_a_session_cookie_is_signed_expires_and_ends_at_sign_out() -> None:
    now = [1000.0]
    sessions = Sessions(Vault(bytes(32)), clock=lambda: now[0])
    session, cookie = sessions.issue("clerk1", "OUT001")
    assert sessions.read(cookie) == session
    body, signature = cookie.rsplit(".", 1)
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    assert sessions.read(f"{forged}.{signature}") is None
    assert sessions.read(f"{body}.{'0' * len(signature)}") is None
    assert Sessions(Vault(bytes([1]) * 32)).read(cookie) is None, "another key: not ours"
    for junk in ("", "no-dot", "a.b.c", "%%%.sig", "x" * 5000):
        assert sessions.read(junk) is None
    sessions.end(session)
    assert sessions.read(cookie) is None
    _, later = sessions.issue("clerk1", "OUT001")
    now[0] += 11 * 3600
    assert sessions.read(later) is None, "a working day at most"


@pytest.mark.parametrize(
    ("password", "is_weak"),
    [
        ("123456", True),
        ("654321", True),
        ("888888", True),
        ("13579", True),  # short
        ("8000001", True),  # the number's own tail
        ("271828", False),
        ("40Ab9x", False),
    ],
)
def test_weak_service_passwords(password: str, is_weak: bool) -> None:
    assert weak(password, "13808000001") is is_weak


# -- requests, good and bad -------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = load_config(None).model_copy(
        update={"network_elements": [HuaweiMmlConfig(name="hlr1", password=SecretStr("x"))]}
    )
    async with SqliteStore(tmp_path / "provgw.db", Vault(bytes(32))) as store:
        await seed_demo(store, cost=CHEAP)
        engine = Engine(store, config, {"hlr1": FakeNe()}, guard=make_guard(store))
        await engine.start()
        app = create_app(engine, Resources.open(store, cost=CHEAP))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield c
        await engine.stop()


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The token the sign-in page gives this browser (its cookie stays in the client)."""
    page = await client.get("/ui/signin")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found is not None
    return found.group(1)


async def sign_in(client: httpx.AsyncClient) -> None:
    """Sign clerk1 in; the counter's scripts then send the page's token with every post."""
    token = await csrf_token(client)
    answer = await client.post(
        "/ui/signin",
        data={"operator": "clerk1", "password": "clerk1-demo", "channel": "out001", "csrf": token},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/"
    client.headers["X-CSRF-Token"] = token


async def test_no_form_is_taken_without_its_csrf_token(client: httpx.AsyncClient) -> None:
    login = {"operator": "clerk1", "password": "clerk1-demo", "channel": "OUT001"}
    token = await csrf_token(client)
    for wrong in ({}, {"csrf": "0" * 64}):
        refused = await client.post("/ui/signin", data=login | wrong)
        assert refused.status_code == 403 and "reload the page" in refused.text
        assert "provgw_session" not in refused.cookies
    language = await client.post("/ui/language", data={"lang": "zh"})
    assert language.status_code == 403 and "provgw_lang" not in language.cookies
    await sign_in(client)
    del client.headers["X-CSRF-Token"]
    hold = await client.post("/ui/api/holds", json={"msisdn": "13800000001"})
    assert hold.status_code == 403 and hold.json()["errors"][0]["field"] == "csrf"
    signout = await client.post("/ui/signout", data={})
    assert signout.status_code == 403
    assert (await client.get("/ui/")).status_code == 200, "still signed in"
    client.cookies.delete("provgw_csrf")  # another browser: its own nonce, not this token
    other = await client.post("/ui/signin", data=login | {"csrf": token})
    assert other.status_code == 403


async def test_pages_need_a_session_and_json_routes_say_so(client: httpx.AsyncClient) -> None:
    page = await client.get("/ui/orders?state=failed")
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/signin?next=%2Fui%2Forders%3Fstate%3Dfailed"
    api = await client.post("/ui/api/holds", json={"msisdn": "13800000001"})
    assert api.status_code == 401
    assert api.json()["errors"][0]["field"] == "session"
    client.cookies.set("provgw_session", "e30.0000")
    assert (await client.get("/ui/")).status_code == 303


async def test_bad_input_gets_an_answer_that_names_the_field(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    not_json = await client.post(
        "/ui/api/orders",
        content=b"msisdn=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert not_json.status_code == 415
    broken = await client.post(
        "/ui/api/orders", content=b"{", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["field"] == "body"
    unknown = await client.post("/ui/api/orders", json={"form": "launch_rocket"})
    assert unknown.json()["errors"] == [
        {"field": "form", "message": "This form is not known: reload the page."}
    ]
    bad = await client.post(
        "/ui/api/orders",
        json={
            "form": "forwarding",
            "order_id": "ui-1",
            "msisdn": "13800000001",
            "forwarding_kind": "CFB",
            "forward_to": "call me",
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "field": "forwarding.0.forward_to",
            "message": "A phone number: 3 to 15 digits, may start with +.",
        }
    ]
    lapsed = await client.post(
        "/ui/api/orders",
        json={
            "form": "change_number",
            "order_id": "ui-2",
            "msisdn": "13800000001",
            "new_msisdn": "13800000002",
        },
    )
    assert lapsed.status_code == 409
    assert lapsed.json()["errors"][0]["field"] == "new_msisdn"
    for path in (
        "/ui/orders/%3Cscript%3E",
        "/ui/no/such/page",
        "/ui/static/../../etc/passwd",
        "/ui/orders?state=%00&msisdn=abc",
    ):
        answer = await client.get(path)
        assert answer.status_code in (200, 404), path
        assert "Traceback" not in answer.text and "<script>" not in answer.text, path
    filtered = await client.get("/ui/orders?msisdn=abc")
    assert "mobile number must contain digits only" in filtered.text


async def test_a_hold_from_the_browser_is_the_pools_hold(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    held = await client.post("/ui/api/holds", json={"msisdn": "13800001288"})
    assert held.status_code == 200
    body = held.json()
    assert body["fee_cents"] == 8_800 and 29 * 60 < body["expires_in_s"] <= 30 * 60
    assert "token" not in json.dumps(body), "the hold's token stays on the server"
    again = await client.post("/ui/api/holds", json={"msisdn": "13800001288"})
    assert again.status_code == 409
    assert "held (预占) by you" in again.json()["errors"][0]["message"]
    released = await client.post("/ui/api/holds/13800001288/release", json={})
    assert released.json() == {"msisdn": "13800001288", "released": True}


async def test_the_language_choice_never_leads_off_the_front_end(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/", "/docs"):
        answer = await client.post(
            "/ui/language", data={"lang": "zh", "next": target, "csrf": token}
        )
        assert answer.headers["location"] == "/ui/"
    assert answer.cookies["provgw_lang"] == "zh"
    page = await client.get("/ui/signin")
    assert '<html lang="zh-Hans">' in page.text and "登录" in page.text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            "Step 1 (write the card): the card in the reader is not blank (IMSI (MF/7F20/6F07)"
            " is already written): take a blank card from stock, put it in the reader and place"
            " the order again",
        ),
        (
            "zh",
            "第 1 步（write the card）：读卡器中的卡不是空白卡（IMSI (MF/7F20/6F07) 已有数据）："
            "请从库存取一张空白卡放入读卡器，然后重新提交工单",
        ),
    ],
)
def test_an_order_failure_tells_the_clerk_what_to_do(lang: str, expected: str) -> None:
    reason = (
        "step 1 (write the card): card is not blank: IMSI (MF/7F20/6F07) already holds"
        " 0849060010000000f1 (write with expect_blank=False / --not-blank to overwrite)"
    )
    assert Translator(lang).gateway_message(reason) == expected
    gone = Translator(lang).gateway_message("step 2 (x): NE unavailable; next attempt in 3.2s")
    assert "next attempt" not in gone and ("place it again" in gone or "重新提交" in gone)
