"""Two engines on one database: takeover after a lease, fencing of a stale holder, one number's
orders kept in one process. On SQLite and on PostgreSQL.

Both engines drive one NE (`FakeNe`), each through a `Recorder` that notes which engine sent
what, so that "no command from the stale holder" is read off the NE's side.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.huawei_mml.mml_ssh import MmlOverSsh
from gateway.config import GatewayConfig, HuaweiMmlConfig, RetryPolicy
from gateway.engine import Engine
from gateway.network import build_network
from gateway.operations import Lookup, Operation, Outcome, Reply, SubscriberView
from gateway.store import OrderState, OrderStore, store_for
from gateway.vault import Vault
from tests.gateway.conftest import KEY
from tests.gateway.fake_ne import FakeNe
from tests.gateway.orders_factory import open_account, order

LEASE = 0.5


@dataclass
class Recorder:
    """One engine's way to the shared NE: what it sent, in order."""

    ne: FakeNe
    sent: list[str] = field(default_factory=list)
    hold: asyncio.Event | None = None  # set: commands wait for it before reaching the NE
    name: str = "hlr1"
    dialect: str = "fake"

    def render(self, op: Operation) -> str:
        return self.ne.render(op)

    def check(self, op: Operation) -> None:
        self.ne.check(op)

    async def execute(self, op: Operation) -> Reply:
        if self.hold is not None:
            await self.hold.wait()
        self.sent.append(op.op)
        return await self.ne.execute(op)

    async def probe(self) -> None:
        await self.ne.probe()

    async def read(self, lookup: Lookup) -> SubscriberView:
        return await self.ne.read(lookup)

    async def close(self) -> None:
        return None


@pytest.fixture
def lease_config(config: GatewayConfig) -> GatewayConfig:
    return config.model_copy(
        update={
            "lease_seconds": LEASE,
            "retry": RetryPolicy(attempts=5, backoff_initial_s=2 * LEASE, backoff_max_s=2 * LEASE),
        }
    )


@pytest.fixture
async def second(database: str | Path) -> AsyncIterator[OrderStore]:
    async with store_for(database, Vault(KEY)) as s:
        yield s


async def wait_for(store: OrderStore, order_id: str, state: OrderState) -> None:
    for _ in range(200):
        rec = await store.get(order_id, full=False)
        if rec is not None and rec.state is state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{order_id} never reached {state}")


async def test_a_silent_holder_is_taken_over_after_its_lease_and_then_sends_nothing(
    store: OrderStore, second: OrderStore, lease_config: GatewayConfig
) -> None:
    """A is answered "busy" and waits to retry; it stops renewing (paused, cut off). B takes
    the order over after the lease and completes it. When A wakes, its retry is refused by
    the fence: the NE sees nothing more from A."""
    hlr = FakeNe(script={"create_subscriber": [Outcome.TRANSIENT]})
    a_ne, b_ne = Recorder(hlr), Recorder(hlr)
    a = Engine(store, lease_config, {"hlr1": a_ne}, owner="gw-a")  # never started: no renewals
    b = Engine(second, lease_config, {"hlr1": b_ne}, owner="gw-b", sweep_interval_s=0.1)
    await a.submit(open_account("o1"))
    await b.start()
    try:
        await wait_for(second, "o1", OrderState.COMPLETED)
        await a.drain()  # A's retry comes due after B finished
    finally:
        await b.stop()
        await a.stop()
    # A: step 1 (auth) done, step 2 answered busy; its retry never went out.
    assert a_ne.sent == ["load_auth", "create_subscriber"]
    # B: step 2 again (read back first: not there) and the rest, each once.
    assert b_ne.sent[0] == "create_subscriber" and "load_auth" not in b_ne.sent
    assert len(b_ne.sent) == len(set(b_ne.sent))
    rec = await store.get("o1")
    assert rec is not None and rec.state is OrderState.COMPLETED and rec.lease_epoch == 2


async def test_a_holder_whose_command_hangs_past_its_lease_records_nothing_after_it(
    store: OrderStore, second: OrderStore, lease_config: GatewayConfig
) -> None:
    """A's command hangs (the NE is slow, A is paused) past the lease; B takes over, reads the
    subscriber back (not there), sends the step itself and completes. A's command then lands
    late — that one cannot be unsent — but its reply is refused and A sends nothing further."""
    hlr = FakeNe()
    a_ne, b_ne = Recorder(hlr, hold=asyncio.Event()), Recorder(hlr)
    a = Engine(store, lease_config, {"hlr1": a_ne}, owner="gw-a")
    b = Engine(second, lease_config, {"hlr1": b_ne}, owner="gw-b", sweep_interval_s=0.1)
    await a.submit(open_account("o1"))
    await b.start()
    try:
        await wait_for(second, "o1", OrderState.COMPLETED)
        assert a_ne.hold is not None
        a_ne.hold.set()
        await a.drain()
    finally:
        await b.stop()
        await a.stop()
    assert a_ne.sent == ["load_auth"], "the late command, and nothing after it"
    assert b_ne.sent[0] == "load_auth" and len(b_ne.sent) == len(set(b_ne.sent))
    assert hlr.reads >= 1, "B reconciled the step A left uncertain before sending it"
    rec = await store.get("o1")
    assert rec is not None and rec.state is OrderState.COMPLETED
    assert all(t.outcome == "ok" for t in await store.transcript("o1"))


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_later_order_on_a_number_follows_the_process_running_the_earlier_one(
    store: OrderStore, second: OrderStore, lease_config: GatewayConfig
) -> None:
    hlr = FakeNe()
    a_ne, b_ne = Recorder(hlr, hold=asyncio.Event()), Recorder(hlr)
    config = lease_config.model_copy(update={"lease_seconds": 30.0})
    a = Engine(store, config, {"hlr1": a_ne}, owner="gw-a", sweep_interval_s=0.1)
    b = Engine(second, config, {"hlr1": b_ne}, owner="gw-b", sweep_interval_s=0.1)
    await a.start()
    await b.start()
    try:
        await a.submit(open_account("o1"))
        rec, created = await b.submit(order("suspend", "o2", msisdn="13800000001", reason="loss"))
        assert created and rec.lease_owner is None, "stored for the process running o1"
        assert a_ne.hold is not None
        a_ne.hold.set()
        await wait_for(store, "o2", OrderState.COMPLETED)
    finally:
        await b.stop()
        await a.stop()
    assert b_ne.sent == [] and a_ne.sent[-1] == "set_lock"  # the suspension, by A


def test_each_of_n_processes_takes_its_share_of_an_ne_budget(config: GatewayConfig) -> None:
    """N processes on one NE: sessions and rate divided so that together they keep the NE's
    budget (each at least one session)."""
    ne = HuaweiMmlConfig(name="hlr1", password="x", sessions=8, rate_per_second=100)
    for processes, sessions, rate in ((1, 8, 100), (2, 4, 50), (3, 2, 100 / 3), (16, 1, 6.25)):
        shared = config.model_copy(update={"network_elements": [ne], "processes": processes})
        built = build_network(shared)["hlr1"]
        assert isinstance(built, MmlOverSsh)
        assert (built.settings.sessions, built.settings.rate_limit) == (sessions, rate)
        assert processes * built.settings.sessions <= 8 or built.settings.sessions == 1
