"""Sign-in locks after repeated wrong passwords — per operator and per client address — and
unlocks when the lock runs out, on a clock that stands still until the test moves it."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from gateway.api import create_app
from gateway.config import load_config
from gateway.engine import Engine
from gateway.resources import audit
from gateway.resources.demo import DEMO_PASSWORDS
from gateway.resources.lockout import LoginPolicy
from gateway.resources.operator_register import Operators
from gateway.resources.refusals import NotAllowed, Throttled
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from tests.resources.conftest import FAST, Clock

POLICY = LoginPolicy(failures_per_operator=3, failures_per_address=5, window_s=60, lockout_s=300)
RIGHT = DEMO_PASSWORDS["clerk1"]


@pytest.fixture
def operators(demo: Resources, store: SqliteStore, clock: Clock) -> Operators:
    return Operators(store, clock=clock, cost=FAST, login=POLICY)


async def wrong(operators: Operators, operator: str = "clerk1", address: str = "10.0.0.7") -> None:
    with pytest.raises(NotAllowed, match="wrong operator or password"):
        await operators.authenticate(operator, "not-the-password", address=address)


async def test_an_operator_is_locked_out_and_the_lock_runs_out(
    operators: Operators, store: SqliteStore, clock: Clock
) -> None:
    for _ in range(3):
        await wrong(operators)
    with pytest.raises(Throttled) as locked:
        await operators.authenticate("clerk1", RIGHT, address="10.0.0.8")  # elsewhere, too
    assert locked.value.retry_after == 300
    assert "try again in 5 min" in locked.value.message
    clock.advance(299)
    with pytest.raises(Throttled):
        await operators.authenticate("clerk1", RIGHT, address="10.0.0.7")
    clock.advance(1)
    assert (await operators.authenticate("clerk1", RIGHT, address="10.0.0.7")).id == "clerk1"
    trail = await audit.entries(store, operator="clerk1", limit=20)
    outcomes = [e.outcome for e in reversed(trail) if e.action == "login"]
    assert outcomes == ["refused", "refused", "refused", "locked", "refused", "refused"]


async def test_failures_count_within_the_window_only(operators: Operators, clock: Clock) -> None:
    for _ in range(2):
        await wrong(operators)
    clock.advance(61)  # the first two no longer count
    for _ in range(2):
        await wrong(operators)
    assert (await operators.authenticate("clerk1", RIGHT)).id == "clerk1"


async def test_a_client_address_is_locked_out_across_operator_ids(
    operators: Operators, store: SqliteStore
) -> None:
    for name in ("alice", "bob", "carol", "dave", "erin"):
        await wrong(operators, name, address="10.0.0.9")
    with pytest.raises(Throttled, match=r"address 10\.0\.0\.9"):
        await operators.authenticate("clerk1", RIGHT, address="10.0.0.9")
    assert (await operators.authenticate("clerk1", RIGHT, address="10.0.0.10")).id == "clerk1"
    stored = json.dumps([e.__dict__ for e in await audit.entries(store, limit=50)])
    for name in ("alice", "bob", "carol", "dave", "erin"):
        assert name not in stored, "an unknown id may be a password typed into the wrong field"


async def test_a_new_password_from_an_admin_unlocks(operators: Operators) -> None:
    for _ in range(3):
        await wrong(operators)
    await operators.set_password("clerk1", SecretStr("a-brand-new-one"), by="admin1")
    assert (await operators.authenticate("clerk1", "a-brand-new-one")).id == "clerk1"


async def test_the_api_answers_429_with_retry_after(
    demo: Resources, store: SqliteStore, clock: Clock
) -> None:
    config = load_config(None).model_copy(update={"login": POLICY})
    app = create_app(Engine(store, config, {}))
    app.state.resources = Resources.open(store, clock=clock, cost=FAST, login=config.login)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gw", headers={"X-Provgw-Channel": "OUT001"}
    ) as client:
        for _ in range(3):
            assert (await client.get("/numbers", auth=("clerk1", "nope"))).status_code == 401
        locked = await client.get("/numbers", auth=("clerk1", RIGHT))
        assert locked.status_code == 429 and locked.headers["retry-after"] == "300"
        assert "too many wrong passwords" in locked.json()["detail"]
        clock.advance(300)
        assert (await client.get("/numbers", auth=("clerk1", RIGHT))).status_code == 200
