"""Gateway processes (`provgw serve`) on the bus: a shared subscription splits the orders
between two of them, each order run once; a process killed between receiving an order and
committing it loses nothing (the broker hands the order over again in the resumed session)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.mosquitto_process import Broker
from gateway.bench_crash import KEY, free_port, start_gateway
from gateway.runtime import DEMO_PASSWORD, DEMO_USER, hlr_emulator_process
from gateway.store import SqliteStore
from gateway.vault import Vault
from tests.fixtures.mosquitto import USERS, mosquitto_broker
from tests.integration.bus_parts import open_account_body, upstream

pytestmark = pytest.mark.slow


@pytest.fixture
async def broker(tmp_path: Path) -> Any:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


def write_config(path: Path, hlr_port: int, db: Path, broker: Broker, client_id: str) -> Path:
    path.write_text(
        f'database = "{db}"\n'
        "access_control = false\n"
        "lease_seconds = 2\n"
        "[retry]\nattempts = 5\nbackoff_initial_s = 0.01\nbackoff_max_s = 0.2\n"
        "[bus]\n"
        f'url = "{broker.url}"\nusername = "provgw"\npassword = "{USERS["provgw"]}"\n'
        f'client_id = "{client_id}"\nsession_expiry_s = 600\n'
        "[bus.reconnect]\nbackoff_initial_s = 0.05\nbackoff_max_s = 0.5\n"
        "[[network_elements]]\n"
        f'name = "hlr1"\nport = {hlr_port}\nusername = "{DEMO_USER}"\n'
        f'password = "{DEMO_PASSWORD}"\nsessions = 4\nhost_key_policy = "accept-any"\n'
    )
    return path


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)


async def states(db: Path) -> dict[str, str]:
    async with SqliteStore(db, Vault(bytes.fromhex(KEY))) as store:
        return {r.id: r.state.value for r in await store.list_orders(limit=10_000)}


async def test_two_gateway_processes_share_the_orders_and_run_each_once(
    broker: Broker, tmp_path: Path
) -> None:
    db = tmp_path / "provgw.db"
    async with hlr_emulator_process("--latency-ms", "2") as hlr:
        gateways = [
            await start_gateway(
                write_config(tmp_path / f"gw{k}.toml", hlr.port, db, broker, f"provgw-gw{k}"),
                free_port(),
            )
            for k in (1, 2)
        ]
        try:
            async with upstream(broker) as crm:
                bodies = [open_account_body(f"shared-{i}", 300 + i) for i in range(1, 61)]
                await crm.submit(bodies)
                heard = await asyncio.wait_for(crm.wait(b["order_id"] for b in bodies), 60)
        finally:
            for gw in gateways:
                await stop(gw)
    answers = [f.answer for f in heard.values()]
    assert all(a is not None and a["created"] for a in answers), "each order taken once"
    takers = Counter(a["by"] for a in answers if a is not None)
    assert len(takers) == 2, f"both processes took orders: {takers}"
    for followed in heard.values():
        assert [s["state"] for s in followed.statuses] == ["accepted", "provisioning", "completed"]
    assert set((await states(db)).values()) == {"completed"}
    async with SqliteStore(db, Vault(bytes.fromhex(KEY))) as store:
        for body in bodies:
            done = [t for t in await store.transcript(body["order_id"]) if t.outcome == "ok"]
            assert len(done) == len({(t.phase, t.idx) for t in done}), "no step done twice"


async def test_a_gateway_killed_between_receiving_and_committing_an_order_loses_nothing(
    broker: Broker, tmp_path: Path
) -> None:
    """The gateway is frozen (SIGSTOP) so that the broker's PUBLISH reaches it but nothing is
    committed, then SIGKILLed. Started again with its client id, it resumes the broker session,
    is handed the unacknowledged order and takes it; the sender's answer and statuses come."""
    db = tmp_path / "provgw.db"
    async with hlr_emulator_process() as hlr:
        config = write_config(tmp_path / "gw.toml", hlr.port, db, broker, "provgw-kill")
        gw = await start_gateway(config, free_port())
        async with upstream(broker) as crm:
            os.kill(gw.pid, signal.SIGSTOP)
            bodies = [open_account_body(f"kill-{i}", 400 + i) for i in range(1, 6)]
            await crm.submit(bodies)  # the broker has them (PUBACK to the sender)
            await asyncio.sleep(0.5)  # … and has sent them to the frozen gateway
            gw.send_signal(signal.SIGKILL)
            await gw.wait()
            assert await states(db) == {}, "killed before anything was committed"
            gw = await start_gateway(config, free_port())
            try:
                heard = await asyncio.wait_for(crm.wait(b["order_id"] for b in bodies), 60)
            finally:
                await stop(gw)
    for followed in heard.values():
        assert followed.answer is not None and followed.answer["created"] is True
        assert followed.final is not None and followed.final["state"] == "completed"
    assert set((await states(db)).values()) == {"completed"}
