"""NE health over SNMP drives the gateway: the HLR emulator's agent traps an injected outage,
the gateway's manager turns it into "down", the HLR's breaker opens and /health degrades before
any order has failed; the clearing trap lets the breaker probe at once and close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from emulators.hlr.server import HlrEmulator
from emulators.hlr.session import Account
from emulators.snmp.agent import AgentSettings
from gateway.config import BreakerPolicy, GatewayConfig, NeSnmpConfig, SnmpTrapConfig
from gateway.engine import Engine
from gateway.network import build_targets, close_targets
from gateway.runtime import free_udp_port, ne_health
from gateway.store import SqliteStore
from gateway.vault import Vault


@pytest.fixture
async def trapped_hlr() -> AsyncIterator[tuple[HlrEmulator, int]]:
    traps = free_udp_port()
    snmp = AgentSettings(port=0, trap_targets=(("127.0.0.1", traps),))
    users = {"provgw": Account("provgw-secret", admin=True)}
    async with HlrEmulator(port=0, users=users, snmp=snmp) as emu:
        yield emu, traps


async def eventually(check: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time")


async def test_an_outage_trap_opens_the_breaker_and_the_clearing_trap_closes_it(
    trapped_hlr: tuple[HlrEmulator, int], ssh_config: GatewayConfig
) -> None:
    emu, traps = trapped_hlr
    assert emu.snmp is not None
    (ne,) = ssh_config.network_elements
    config = ssh_config.model_copy(
        update={
            "network_elements": [
                ne.model_copy(update={"port": emu.port, "snmp": NeSnmpConfig(port=emu.snmp.port)})
            ],
            "snmp_traps": SnmpTrapConfig(port=traps),
            # Polls every 60 s: what happens below is the traps' doing.
            "breaker": BreakerPolicy(probe_interval_s=30.0, health_interval_s=60.0),
        }
    )
    config.network_elements[0].snmp = NeSnmpConfig(port=emu.snmp.port, interval_s=60.0)
    targets = build_targets(config)
    async with SqliteStore(config.database, Vault(bytes(32))) as store:
        engine = Engine(store, config, targets.network, stations=targets.stations)
        await engine.start()
        try:
            async with ne_health(config, engine):
                await eventually(lambda: "hlr1" in engine.health.readings)
                assert engine.health.readings["hlr1"].health == "up"
                emu.faults.update(outage=True)
                await eventually(lambda: not engine.breakers["hlr1"].closed)
                assert engine.health.readings["hlr1"].source == "snmp-trap"
                assert "critical" in engine.troubles()[0]
                emu.faults.update(outage=False)
                # The probe interval is 30 s: closing now is the clearing trap's doing.
                await eventually(lambda: engine.breakers["hlr1"].closed)
                assert engine.troubles() == []
        finally:
            await engine.stop()
    await close_targets(targets)
