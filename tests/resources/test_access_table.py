"""The access policy, route by route: every route of the application × every role × day and
night, against a real HTTP server. A route that is not in the table fails the test, so a new
route cannot arrive without its rule.

Requests carry the browser's CSRF pair (the policy is under test here, not the forms) and no
body that could change anything (writes that are let through stop at 422),
so the outcome shows what the policy decided: ``login`` (401, or the front end sends the
browser to its sign-in page), ``refused`` (403), ``pass`` (anything else the route answers)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Literal

import fastapi.routing
import httpx
import pytest

from gateway.api import create_app
from gateway.config import load_config
from gateway.engine import Engine
from gateway.resources.access import Role
from gateway.resources.channels import ChannelChange, OpeningHours
from gateway.resources.demo import DEMO_PASSWORDS
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from gateway.vault import Vault
from gateway.web import csrf
from gateway.web.outlet import Outlet
from gateway.web.session import COOKIE, Sessions
from tests.agent.doubles import STATION, agent_station
from tests.resources.conftest import KEY, Clock, add_operator, served, shanghai

Outcome = Literal["pass", "login", "refused"]
PEOPLE = ("anonymous", "clerk1", "super1", "engineer1", "admin1")
TIMES = {"day": "2026-11-23 10:00", "night": "2026-11-23 22:00"}  # a Monday, OUT001 09-18
PASSWORDS = DEMO_PASSWORDS | {"super1": "supervisor-pass"}

# What each kind of route lets each person do, by day and by night.
P, L, R = "pass", "login", "refused"
RULES: dict[str, dict[str, tuple[Outcome, Outcome]]] = {
    # nobody is asked: the API's own description, static files, liveness
    "public": {p: (P, P) for p in PEOPLE},
    # any logged-in operator (order intake: the guard checks the order's own channel)
    "login": {"anonymous": (L, L)} | {p: (P, P) for p in PEOPLE[1:]},
    # reading: counter roles keep their channel's hours
    "read": {"anonymous": (L, L), "clerk1": (P, R), "super1": (P, R),
             "engineer1": (P, P), "admin1": (P, P)},
    # counter work: holds, cards, customers
    "counter": {"anonymous": (L, L), "clerk1": (P, R), "super1": (P, R),
                "engineer1": (R, R), "admin1": (P, P)},
    # stock: numbers and cards in and out
    "stock": {"anonymous": (L, L), "clerk1": (R, R), "super1": (R, R),
              "engineer1": (P, P), "admin1": (P, P)},
    "admin": {"anonymous": (L, L), "clerk1": (R, R), "super1": (R, R),
              "engineer1": (R, R), "admin1": (P, P)},
    # card agents: their station's token, no operator login
    "agent": {p: (L, L) for p in PEOPLE},
    # the front end: a signed-in session the policy still allows (else: the sign-in page)
    "page": {"anonymous": (L, L), "clerk1": (P, L), "super1": (P, L),
             "engineer1": (P, P), "admin1": (P, P)},
    # a line: counter roles only for a caller who identified themselves (here nobody did)
    "line": {"anonymous": (L, L), "clerk1": (R, R), "super1": (R, R),
             "engineer1": (P, P), "admin1": (P, P)},
    # signing out always ends on the sign-in page
    "signout": {p: (L, L) for p in PEOPLE},
    # the counter's pages and JSON routes: a session, and counter work
    "desk": {"anonymous": (L, L), "clerk1": (P, L), "super1": (P, L),
             "engineer1": (R, R), "admin1": (P, P)},
}  # fmt: skip

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/oauth2-redirect"): "public",
    ("GET", "/redoc"): "public",
    ("GET", "/health"): "public",
    ("POST", "/orders"): "login",
    ("GET", "/orders"): "read",
    ("GET", "/orders/{order_id}"): "read",
    ("GET", "/events"): "read",
    ("GET", "/lines/{msisdn}"): "line",
    ("GET", "/lines/{msisdn}/network"): "line",
    ("GET", "/network"): "read",
    ("POST", "/numbers/blocks"): "stock",
    ("GET", "/numbers"): "read",
    ("GET", "/numbers/settings"): "read",
    ("PATCH", "/numbers/settings"): "admin",
    ("GET", "/numbers/fee-rules"): "read",
    ("POST", "/numbers/fee-rules"): "admin",
    ("PATCH", "/numbers/fee-rules/{rule_id}"): "admin",
    ("GET", "/numbers/fee-changes"): "read",
    ("POST", "/numbers/distribute"): "stock",
    ("POST", "/numbers/return"): "stock",
    ("GET", "/numbers/movements"): "read",
    ("GET", "/numbers/{msisdn}"): "read",
    ("POST", "/numbers/{msisdn}/hold"): "counter",
    ("POST", "/numbers/{msisdn}/release"): "counter",
    ("POST", "/numbers/{msisdn}/reserve"): "counter",
    ("POST", "/numbers/{msisdn}/unreserve"): "counter",
    ("POST", "/numbers/{msisdn}/disable"): "stock",
    ("POST", "/numbers/{msisdn}/enable"): "stock",
    ("POST", "/numbers/{msisdn}/recycle"): "stock",
    ("POST", "/sims/import"): "stock",
    ("POST", "/sims"): "stock",
    ("GET", "/sims"): "read",
    ("GET", "/sims/batches"): "read",
    ("POST", "/sims/condition"): "stock",
    ("POST", "/sims/distribute"): "stock",
    ("POST", "/sims/return"): "stock",
    ("GET", "/sims/movements"): "read",
    ("GET", "/sims/movements/{movement_id}"): "read",
    ("GET", "/sims/{iccid}"): "read",
    ("POST", "/sims/{iccid}/reserve"): "counter",
    ("POST", "/sims/{iccid}/release"): "counter",
    ("GET", "/customers/categories"): "read",
    ("POST", "/customers/categories"): "admin",
    ("PATCH", "/customers/categories/{number}"): "admin",
    ("POST", "/customers"): "counter",
    ("GET", "/customers"): "read",
    ("GET", "/customers/{customer_id}"): "read",
    ("PATCH", "/customers/{customer_id}"): "counter",
    ("POST", "/customers/{customer_id}/categories"): "admin",
    ("GET", "/customers/{customer_id}/may-open"): "read",
    ("GET", "/operators/me"): "read",
    ("GET", "/operators"): "admin",
    ("POST", "/operators"): "admin",
    ("GET", "/operators/{operator_id}"): "admin",
    ("PATCH", "/operators/{operator_id}"): "admin",
    ("POST", "/operators/{operator_id}/password"): "admin",
    ("GET", "/channels"): "read",
    ("POST", "/channels"): "admin",
    ("GET", "/channels/{channel_id}"): "read",
    ("PATCH", "/channels/{channel_id}"): "admin",
    ("GET", "/audit"): "admin",
    ("GET", "/stations"): "read",
    ("GET", "/stations/events"): "read",
    ("GET", "/stations/{name}"): "read",
    ("GET", "/stations/{name}/jobs"): "agent",
    ("POST", "/stations/{name}/jobs/{job_id}"): "agent",
    ("PUT", "/stations/{name}/agent"): "agent",
    ("GET", "/"): "public",
    ("GET", "/ui/static/{name}"): "public",
    ("GET", "/ui/signin"): "public",
    ("POST", "/ui/signin"): "public",
    ("POST", "/ui/signout"): "signout",
    ("POST", "/ui/language"): "public",
    ("GET", "/ui/{path:path}"): "public",
    ("GET", "/ui"): "page",
    ("GET", "/ui/"): "page",
    ("GET", "/ui/open-account"): "desk",
    ("GET", "/ui/sim-swap"): "desk",
    ("GET", "/ui/after-sales"): "desk",
    ("GET", "/ui/query"): "page",
    ("GET", "/ui/numbers"): "page",
    ("GET", "/ui/stations"): "page",
    ("GET", "/ui/orders"): "page",
    ("GET", "/ui/orders/table"): "page",
    ("GET", "/ui/orders/{order_id}"): "page",
    ("GET", "/ui/orders/{order_id}/progress"): "page",
    ("GET", "/ui/orders/{order_id}/receipt"): "page",
    ("GET", "/ui/network"): "page",
    ("GET", "/ui/network/table"): "page",
    ("POST", "/ui/api/customer/check"): "desk",
    ("POST", "/ui/api/holds"): "desk",
    ("POST", "/ui/api/holds/{msisdn}/release"): "desk",
    ("POST", "/ui/api/cards/reserve"): "desk",
    ("POST", "/ui/api/desk/clear"): "desk",
    ("POST", "/ui/api/orders"): "desk",
    ("GET", "/ui/api/events"): "page",
    ("POST", "/ui/api/query"): "page",
}

SAMPLES = {
    "msisdn": "13800000001",
    "order_id": "a1",
    "iccid": "89860010000000000018",
    "rule_id": "1",
    "movement_id": "1",
    "number": "1",
    "customer_id": "1",
    "operator_id": "admin1",
    "channel_id": "OUT001",
    "name": STATION,
    "job_id": "j1",
    "path": "nowhere",
}
FORMS = {"/ui/signin", "/ui/signout", "/ui/language"}
CSRF = ("a-nonce-of-this-browser", Vault(KEY).digest(b"provgw web csrf\x00a-nonce-of-this-browser"))
STREAMS = {"/events", "/stations/events", "/ui/api/events"}
QUERIES = {"/customers": {"id_type": "resident_id", "id_number": "110105194912310029"}}


def app_routes(app: object) -> set[tuple[str, str]]:
    return {
        (method, ctx.path)
        for ctx in fastapi.routing.iter_route_contexts(app.routes)  # type: ignore[attr-defined]
        for method in ctx.methods or ()
        if method != "HEAD"
    }


@pytest.fixture
async def gateway(
    demo: Resources, store: SqliteStore, clock: Clock
) -> AsyncIterator[tuple[str, Outlet]]:
    hours = OpeningHours(week={d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
    await demo.channels.change("OUT001", ChannelChange(hours=hours), by="admin1")
    await add_operator(demo, "super1", Role.SUPERVISOR, PASSWORDS["super1"], "OUT001")
    engine = Engine(store, load_config(None), {}, stations={STATION: agent_station()})
    app = create_app(engine)
    app.state.resources = demo
    here = Outlet(engine, demo, Sessions(store.vault, clock=clock))
    app.state.outlet = here
    assert app_routes(app) == set(ROUTES), "every route of the app has its rule in ROUTES"
    async with served(app) as url:
        yield url, here


def outcome(resp: httpx.Response) -> Outcome:
    assert resp.status_code < 500, f"{resp.status_code}: {resp.text[:300]}"
    if resp.status_code == 401 or (
        resp.status_code == 303 and resp.headers["location"].startswith("/ui/signin")
    ):
        return "login"
    return "refused" if resp.status_code == 403 else "pass"


async def ask(
    client: httpx.AsyncClient, here: Outlet, person: str, method: str, path: str
) -> Outcome:
    url = re.sub(r"\{(\w+)(:path)?\}", lambda m: SAMPLES[m.group(1)], path)
    nonce, token = CSRF
    headers = {"content-type": "application/json", "x-csrf-token": token}
    headers["cookie"] = f"{csrf.COOKIE}={nonce}"
    auth = None
    if person != "anonymous":
        auth = httpx.BasicAuth(person, PASSWORDS[person])
        headers["X-Provgw-Channel"] = "OUT001"
        _, cookie = here.sessions.issue(person, "OUT001")
        headers["cookie"] += f"; {COOKIE}={cookie}"
    params = QUERIES.get(path, {})
    body = b"{}" if method != "GET" else None
    if path in FORMS:
        headers["content-type"] = "application/x-www-form-urlencoded"
        body = f"csrf={token}".encode()
    if path in STREAMS:
        async with client.stream(method, url, headers=headers, auth=auth, params=params) as resp:
            return outcome(resp)
    resp = await client.request(
        method, url, headers=headers, auth=auth, params=params, content=body
    )
    return outcome(resp)


@pytest.mark.parametrize("time", TIMES)
async def test_every_route_by_role_and_time(
    gateway: tuple[str, Outlet], clock: Clock, time: str
) -> None:
    url, here = gateway
    clock.now = shanghai(TIMES[time])
    column = list(TIMES).index(time)
    wrong: list[str] = []
    async with httpx.AsyncClient(base_url=url, follow_redirects=False, timeout=10) as client:
        for (method, path), rule in sorted(ROUTES.items()):
            for person in PEOPLE:
                got = await asyncio.wait_for(ask(client, here, person, method, path), 10)
                expected = RULES[rule][person][column]
                if got != expected:
                    wrong.append(f"{method} {path} {person} at {time}: {got}, not {expected}")
    assert wrong == [], "\n".join(wrong)
