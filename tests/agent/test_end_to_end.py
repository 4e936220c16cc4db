"""Open an account at a counter whose reader sits with a card agent, through the real parts:
the gateway's REST API on a real port (uvicorn), the agent (a `provgw card agent` process, or
its loop in this process), a reader behind a real pcscd (vpcd + the USIM emulator), and the HLR
emulator over SSH, whose authentication centre proves the card (RES = XRES)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from emulators.hlr.server import HlrEmulator
from emulators.usim.pcscd import PrivatePcscd
from gateway.api import create_app
from gateway.config import CardStationConfig, GatewayConfig, RetryPolicy
from gateway.engine import Engine
from gateway.network import build_targets, close_targets
from gateway.stations_api import release_agents
from gateway.store import OrderRecord, OrderState, SqliteStore
from gateway.vault import Vault
from simcard.agent import EXIT_STOPPED, AgentReader, AgentSettings, CardAgent
from simcard.reader import read_card
from simcard.transport import PcscTransport
from tests.agent.doubles import STATION, TOKEN
from tests.gateway.orders_factory import open_account

pytestmark = pytest.mark.pcsc
IMSI = "460000000000001"


@dataclass
class Gateway:
    url: str
    engine: Engine
    reader: str

    async def run(self, order_id: str) -> OrderRecord:
        order = open_account(order_id, card={"station": STATION}, ki=None, opc=None)
        await self.engine.submit(order)
        await self.engine.drain()
        rec = await self.engine.store.get(order_id)
        assert rec is not None
        return rec


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def gateway_with(
    ssh_config: GatewayConfig,
    pcsc_chain: PrivatePcscd,
    pcsc_blank_card: object,
) -> AsyncIterator[GatewayFactory]:
    """Starts a gateway with one agent station on a free port: ``await gateway_with(**limits)``
    (retry attempts, offer timeout)."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(attempts: int = 3, offer_s: float = 2.0) -> Gateway:
            station = CardStationConfig(
                name=STATION,
                kind="agent",
                agent_token=TOKEN,  # type: ignore[arg-type]
                blank_adm1="12345678",  # type: ignore[arg-type]
                agent_offer_timeout_s=offer_s,
                agent_answer_timeout_s=20,
                card_wait_s=2,
            )
            config = ssh_config.model_copy(
                update={
                    "card_stations": [station],
                    "retry": RetryPolicy(
                        attempts=attempts, backoff_initial_s=0.01, backoff_max_s=0.1
                    ),
                }
            )
            targets = build_targets(config)
            stack.push_async_callback(close_targets, targets)
            store = await stack.enter_async_context(SqliteStore(config.database, Vault(bytes(32))))
            engine = Engine(store, config, targets.network, stations=targets.stations)
            await engine.start()
            stack.push_async_callback(engine.stop)
            app = create_app(engine)
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
            )
            serving = asyncio.create_task(server.serve())

            async def stop_server() -> None:
                release_agents(engine)
                server.should_exit = True
                await serving

            stack.push_async_callback(stop_server)

            async def started() -> bool:
                return server.started

            await until(started, "the gateway listening")
            port = server.servers[0].sockets[0].getsockname()[1]
            return Gateway(f"http://127.0.0.1:{port}", engine, pcsc_chain.reader_name(0))

        yield start


@contextlib.asynccontextmanager
async def agent_running(gw: Gateway) -> AsyncIterator[CardAgent]:
    """The agent's loop in this process, on the chain's reader, until the block is left."""
    settings = AgentSettings(
        gateway=gw.url, station=STATION, token=TOKEN, reader=gw.reader, backoff_first_s=0.02
    )
    agent = CardAgent(settings)
    running = asyncio.create_task(agent.run())
    try:
        yield agent
    finally:
        agent.stop()
        assert await running == EXIT_STOPPED


def card_imsi(pcsc: PrivatePcscd) -> str | None:
    transport = PcscTransport(pcsc.reader_name(0))
    try:
        transport.connect()
        value = read_card(transport)["files"]["imsi"]["value"]
        return str(value) if value else None
    finally:
        transport.disconnect()


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for ``check`` to hold (20 s at most: then the test fails naming ``what``)."""
    try:
        async with asyncio.timeout(20):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"still waiting for {what}") from None


async def test_open_account_written_by_an_agent_process_is_proven(
    gateway_with: GatewayFactory,
    hlr: HlrEmulator,
    pcsc_chain: PrivatePcscd,
) -> None:
    gw = await gateway_with()
    env = dict(os.environ, PROVGW_AGENT_TOKEN=TOKEN)  # PCSCLITE_CSOCK_NAME: set by pcsc_chain
    agent = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "gateway", "card", "agent", "--json"],
        *["--gateway", gw.url, "--station", STATION, "--reader", gw.reader],
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=gw.url) as client:

            async def ready() -> bool:
                state = (await client.get(f"/stations/{STATION}")).json()
                return bool(state["online"] and state["card_present"])

            await until(ready, "the agent online with a card in its reader")
            rec = await gw.run("c1")
    finally:
        agent.send_signal(signal.SIGTERM)
        _, logged = await agent.communicate()
    assert rec.state is OrderState.COMPLETED, rec.reason
    transcript = await gw.engine.store.transcript("c1")
    assert transcript[0].command.endswith(
        f'at reader "{gw.reader}" of the card agent at station {STATION}; read back; AUTHENTICATE'
    )
    assert transcript[-1].text == "proven: the card's RES equals the network's XRES"
    assert card_imsi(pcsc_chain) == IMSI
    assert agent.returncode == 0
    lines = [json.loads(line) for line in logged.decode().splitlines()]
    assert {"job", "done"} <= {word for line in lines for word in line["message"].split()}
    ki = hlr.state.snapshot(reveal_secrets=True)["ki"][IMSI]["ki"]
    assert ki not in logged.decode() and TOKEN not in logged.decode()


async def test_an_order_waits_for_an_agent_that_comes_back(
    gateway_with: GatewayFactory, pcsc_chain: PrivatePcscd
) -> None:
    gw = await gateway_with(attempts=20, offer_s=0.2)
    order = asyncio.create_task(gw.run("w1"))

    async def withdrawn_once() -> bool:
        replies = await gw.engine.store.transcript("w1")
        return any(r.text == f"no card agent online at station {STATION}" for r in replies)

    await until(withdrawn_once, "a card job withdrawn for want of an agent")
    async with agent_running(gw):
        rec = await order
    assert rec.state is OrderState.COMPLETED, rec.reason
    assert card_imsi(pcsc_chain) == IMSI


async def test_without_an_agent_the_order_fails_clearly(
    gateway_with: GatewayFactory,
    hlr: HlrEmulator,
) -> None:
    gw = await gateway_with(attempts=3, offer_s=0.05)
    rec = await gw.run("f1")
    assert rec.state is OrderState.FAILED
    assert rec.reason is not None
    assert f"no card agent online at station {STATION}" in rec.reason
    assert hlr.state.snapshot() == {"ki": {}, "subscribers": {}}, "nothing was provisioned"


async def test_a_write_whose_result_was_lost_is_reconciled_by_reading_the_card(
    gateway_with: GatewayFactory, pcsc_chain: PrivatePcscd
) -> None:
    """An agent takes the write job, writes the card and dies before it answers. The agent
    started next resolves that job as lost; the engine asks for the card's IMSI, finds the
    profile written, and carries on — it never writes the card a second time."""
    gw = await gateway_with()
    order = asyncio.create_task(gw.run("u1"))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=gw.url, headers=auth) as dying:
        polled = await dying.get(f"/stations/{STATION}/jobs", params={"agent": "dying", "wait": 10})
    job: dict[str, Any] = polled.json()
    assert job["kind"] == "write"
    result = await asyncio.to_thread(AgentReader(gw.reader).run, job)
    assert result["ok"], result
    async with agent_running(gw):
        rec = await order
    assert rec.state is OrderState.COMPLETED, rec.reason
    write = [t for t in await gw.engine.store.transcript("u1") if t.idx == 0]
    assert [t.outcome for t in write] == ["unknown", "ok"]
    assert write[0].code == "agent-lost"
    assert write[1].text == "already in place (reconciled by reading back)"


async def test_station_events_follow_the_card_in_the_reader(
    gateway_with: GatewayFactory, pcsc_chain: PrivatePcscd
) -> None:
    gw = await gateway_with()
    async with (
        agent_running(gw),
        httpx.AsyncClient(base_url=gw.url, timeout=20) as client,
        client.stream("GET", "/stations/events") as stream,
    ):
        lines = stream.aiter_lines()
        events = (json.loads(line[5:]) async for line in lines if line.startswith("data:"))

        async def next_with(**wanted: Any) -> dict[str, Any]:
            async with asyncio.timeout(20):
                async for event in events:
                    if wanted.items() <= event.items():
                        return event
            raise AssertionError(f"the stream ended before {wanted}")

        seen = await next_with(online=True, card_present=True)
        assert seen["reader"] == gw.reader and seen["kind"] == "agent"
        await asyncio.to_thread(pcsc_chain.remove, 0)
        await next_with(card_present=False)
        await asyncio.to_thread(pcsc_chain.insert)
        await next_with(card_present=True)
