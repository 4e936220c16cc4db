"""The SNMP manager against real agents: the emulators' (pysnmp) and net-snmp's snmptrap.

Polls are made one at a time (``start(poll=False)`` and `SnmpManager.poll`), so no test waits
for an interval; traps are awaited as they arrive.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from pydantic import SecretStr

from adapters.network_element import HealthReading, NeHealth
from adapters.snmp import SnmpManager, SnmpSettings
from emulators.hlr import HlrEmulator
from emulators.hlr.faults import Faults
from emulators.service import ServicePort
from emulators.smsc import SmscEmulator
from emulators.snmp import AgentSettings, SnmpAgent, SystemInfo
from emulators.snmp.mib import PRODUCT_HLR
from tests.fixtures.netsnmp import run

ALARM = "1.3.6.1.4.1.32473.1.1.1"
QUICK = {"timeout": 0.3, "retries": 0}


@dataclass
class Readings:
    """What the manager delivered, in order; `next` waits for the next one."""

    queue: asyncio.Queue[HealthReading] = field(default_factory=asyncio.Queue)

    def __call__(self, reading: HealthReading) -> None:
        self.queue.put_nowait(reading)

    async def next(self) -> HealthReading:
        return await asyncio.wait_for(self.queue.get(), 10)


@pytest.fixture
def readings() -> Readings:
    return Readings()


def settings(port: int, community: str = "public", host: str = "127.0.0.1") -> SnmpSettings:
    return SnmpSettings(host=host, port=port, community=SecretStr(community), **QUICK)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def manager_and_hlr(
    readings: Readings,
) -> AsyncIterator[tuple[SnmpManager, HlrEmulator]]:
    """A manager with its trap port, and an HLR emulator whose agent sends traps to it."""
    port = free_udp_port()
    manager = SnmpManager({"hlr": settings(port, "hlr-c")}, readings, trap_port=0)
    await manager.start(poll=False)
    assert manager.trap_port
    agent = AgentSettings(port, "hlr-c", (("127.0.0.1", manager.trap_port),))
    async with HlrEmulator(port=0, snmp=agent) as hlr:
        assert (await readings.next()).restarted  # coldStart at the agent's start
        yield manager, hlr
    await manager.stop()


async def test_a_trap_flips_health_down_on_an_outage_and_up_when_it_clears(
    manager_and_hlr: tuple[SnmpManager, HlrEmulator], readings: Readings
) -> None:
    manager, hlr = manager_and_hlr
    polled = await manager.poll("hlr")
    assert polled is not None and (polled.health, polled.source) == (NeHealth.UP, "snmp-poll")
    assert await readings.next() == polled

    hlr.faults.update(outage=True)
    down = await readings.next()
    assert (down.ne, down.health, down.source) == ("hlr", NeHealth.DOWN, "snmp-trap")
    assert down.reason == "alarm 1 critical: service down: injected outage"
    assert manager.reading("hlr") == down

    hlr.faults.update(outage=False)
    up = await readings.next()
    assert (up.health, up.source, up.reason) == (NeHealth.UP, "snmp-trap", "answering, no alarm")


async def test_a_poll_reads_the_alarm_table_degraded_and_down(
    manager_and_hlr: tuple[SnmpManager, HlrEmulator], readings: Readings
) -> None:
    manager, hlr = manager_and_hlr
    hlr.faults.update(error_rate=0.2)
    await readings.next()  # the trap
    polled = await manager.poll("hlr")
    assert polled is not None and (polled.health, polled.reason) == (
        NeHealth.DEGRADED,
        "alarm 1 minor: 20% of provisioning commands refused (5001)",
    )
    hlr.faults.update(outage=True)
    await readings.next()
    polled = await manager.poll("hlr")
    assert polled is not None and polled.health is NeHealth.DOWN
    assert polled.reason == "alarm 2 critical: service down: injected outage (+1 more)"


async def test_an_agent_restart_is_seen_by_trap_and_an_agent_gone_silent_reads_down(
    manager_and_hlr: tuple[SnmpManager, HlrEmulator], readings: Readings
) -> None:
    manager, hlr = manager_and_hlr
    assert hlr.snmp is not None
    await manager.poll("hlr")
    await hlr.snmp.stop()
    silent = await manager.poll("hlr")
    assert silent is not None and (silent.health, silent.source) == (NeHealth.DOWN, "snmp-poll")
    await hlr.snmp.start()
    while (reading := await readings.next()).source != "snmp-trap":
        pass
    assert (reading.health, reading.restarted) == (NeHealth.UP, True)


async def test_sysuptime_going_back_between_polls_is_a_restart(readings: Readings) -> None:
    """An agent whose uptime the test sets: 1000 s, then 5 s at the next poll."""
    now = [1000.0]
    service = ServicePort(Faults(), stop=lambda: None, start=asyncio.sleep)
    agent = SnmpAgent(
        SystemInfo("test agent", PRODUCT_HLR, "HLR-T"), service, port=0, clock=lambda: now[0]
    )
    await agent.start()
    async with SnmpManager({"hlr": settings(agent.port)}, readings) as manager:
        first = await readings.next()  # the manager's first poll, at its start
        assert first.restarted is False
        now[0] += 1000.0  # agent uptime: 1000 s
        assert (await manager.poll("hlr") or first).restarted is False
        await agent.stop()
        now[0] = 0.0
        await agent.start()  # starts counting again
        now[0] = 5.0  # agent uptime: 5 s
        reading = await manager.poll("hlr")
        assert reading is not None and (reading.restarted, reading.health) == (True, NeHealth.UP)
    await agent.stop()


async def test_unreachable_and_unresolvable_agents_read_unknown(readings: Readings) -> None:
    targets = {
        "closed-port": settings(free_udp_port()),
        "test-net": settings(161, host="192.0.2.1"),  # RFC 5737 documentation address
        "no-name": settings(161, host="ne.invalid"),  # RFC 6761: never resolves
    }
    async with SnmpManager(targets, readings) as manager:
        for ne in targets:
            reading = await manager.poll(ne)
            assert reading is not None and reading.health is NeHealth.UNKNOWN, reading
            assert reading.reason.startswith("never answered SNMP: ")


async def send_trap(port: int, community: str, *objects: str) -> None:
    """net-snmp's snmptrap: an SNMPv2c trap from 127.0.0.1 (an ephemeral port)."""
    await run("snmptrap", "-v2c", "-c", community, f"127.0.0.1:{port}", "", *objects)


async def test_garbage_and_a_wrong_community_are_ignored_and_a_good_trap_still_counts(
    readings: Readings, caplog: pytest.LogCaptureFixture
) -> None:
    async with SnmpManager(
        {"msc": settings(free_udp_port(), "right")}, readings, trap_port=0
    ) as manager:
        await readings.next()  # the first poll: nobody answers
        assert manager.trap_port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for garbage in (b"\x00\xff garbage", b"\x30\x03\x02\x01", b"", bytes(range(256))):
                sock.sendto(garbage, ("127.0.0.1", manager.trap_port))
        alarm = (f"{ALARM}.2.7", "i", "3", f"{ALARM}.3.7", "s", "disk on fire")
        await send_trap(manager.trap_port, "wrong", "1.3.6.1.4.1.32473.0.1", *alarm)
        # the right community, but an alarm trap naming no alarm: malformed
        await send_trap(manager.trap_port, "right", "1.3.6.1.4.1.32473.0.1")
        await send_trap(manager.trap_port, "right", "1.3.6.1.4.1.32473.0.1", *alarm)
        reading = await readings.next()
        assert (reading.health, reading.reason, reading.source) == (
            NeHealth.DOWN,
            "alarm 7 critical: disk on fire",
            "snmp-trap",
        )
        assert readings.queue.empty()
        assert "an alarm trap naming 0 alarms" in caplog.text


async def test_traps_from_two_nes_on_one_host_are_told_apart_by_source_port(
    readings: Readings,
) -> None:
    hlr_port, smsc_port = free_udp_port(), free_udp_port()
    targets = {"hlr": settings(hlr_port), "smsc": settings(smsc_port)}
    manager = SnmpManager(targets, readings, trap_port=0)
    await manager.start(poll=False)
    assert manager.trap_port

    def agent(port: int) -> AgentSettings:
        return AgentSettings(port, "public", (("127.0.0.1", manager.trap_port or 0),))

    async with (
        HlrEmulator(port=0, snmp=agent(hlr_port)),
        SmscEmulator(port=0, admin_port=None, snmp=agent(smsc_port)) as smsc,
    ):
        smsc.faults.update(outage=True)
        seen = [await readings.next() for _ in range(3)]  # 2 coldStarts, 1 alarm
    await manager.stop()
    assert sorted((r.ne, r.health, r.restarted) for r in seen) == [
        ("hlr", NeHealth.UP, True),
        ("smsc", NeHealth.DOWN, False),
        ("smsc", NeHealth.UP, True),
    ]
