"""The HLR emulator's SNMP agent, read with net-snmp's tools; the outage fault drives it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import asyncssh
import pytest

from emulators.hlr import HlrEmulator
from emulators.snmp import AgentSettings
from tests.fixtures.netsnmp import read, run

from .conftest import LOGIN, SshClient

SYSTEM = "1.3.6.1.2.1.1"
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
ALARMS = "1.3.6.1.4.1.32473.1.1"
COMMUNITY = "hlr-secret"


@pytest.fixture
async def hlr() -> AsyncIterator[HlrEmulator]:
    async with HlrEmulator(port=0, snmp=AgentSettings(port=0, community=COMMUNITY)) as emulator:
        yield emulator


def snmp_port(emulator: HlrEmulator) -> int:
    assert emulator.snmp is not None
    return emulator.snmp.port


async def test_system_group_and_service_port_with_snmpget_and_snmpwalk(hlr: HlrEmulator) -> None:
    port = snmp_port(hlr)
    system = await read(
        "snmpget", port, f"{SYSTEM}.1.0", f"{SYSTEM}.2.0", f"{SYSTEM}.3.0", f"{SYSTEM}.5.0",
        community=COMMUNITY,
    )  # fmt: skip
    assert system[f"{SYSTEM}.1.0"] == "provgw HLR/HSS emulator (Huawei-style MML over SSH)"
    assert system[f"{SYSTEM}.2.0"] == ".1.3.6.1.4.1.32473.3.1"  # provgwEmuHlr
    assert int(system[f"{SYSTEM}.3.0"]) >= 0
    assert system[f"{SYSTEM}.5.0"] == "HLR9820"
    interface = await read("snmpwalk", port, IF_ENTRY, community=COMMUNITY)
    assert interface == {
        f"{IF_ENTRY}.1.1": "1",
        f"{IF_ENTRY}.2.1": f"MML over SSH, 127.0.0.1:{hlr.port}",
        f"{IF_ENTRY}.3.1": "1",  # other(1)
        f"{IF_ENTRY}.7.1": "1",  # ifAdminStatus up
        f"{IF_ENTRY}.8.1": "1",  # ifOperStatus up
        f"{IF_ENTRY}.9.1": interface[f"{IF_ENTRY}.9.1"],
    }
    assert await read("snmpbulkwalk", port, ALARMS, community=COMMUNITY) == {}


async def test_an_injected_outage_refuses_ssh_raises_a_critical_alarm_and_clears(
    hlr: HlrEmulator,
) -> None:
    port = snmp_port(hlr)
    session = await SshClient.open(hlr.port)
    assert (await session.send(LOGIN)).code == 0

    hlr.faults.update(outage=True)
    with pytest.raises(asyncssh.ConnectionLost):  # the session was cut
        await session.process.stdout.read()
    with pytest.raises(OSError):
        await asyncssh.connect("127.0.0.1", hlr.port, known_hosts=None, username="provgw")
    alarms = await read("snmpbulkwalk", port, ALARMS, community=COMMUNITY)
    assert {oid: value for oid, value in alarms.items() if not oid.startswith(f"{ALARMS}.1.4")} == {
        f"{ALARMS}.1.2.1": "3",  # critical
        f"{ALARMS}.1.3.1": "service down: injected outage",
    }
    assert alarms[f"{ALARMS}.1.4.1"].replace(" ", "")[16:22] == "2B0000"  # DateAndTime, UTC
    oper = await read("snmpget", port, f"{IF_ENTRY}.8.1", community=COMMUNITY)
    assert oper == {f"{IF_ENTRY}.8.1": "2"}  # down

    hlr.faults.update(outage=False)
    await hlr.service_port.settled()
    assert await read("snmpwalk", port, ALARMS, community=COMMUNITY) == {}
    assert await read("snmpget", port, f"{IF_ENTRY}.8.1", community=COMMUNITY) == {
        f"{IF_ENTRY}.8.1": "1"
    }
    session = await SshClient.open(hlr.port)
    assert (await session.send(LOGIN)).code == 0
    await session.close()


async def test_error_rate_and_latency_raise_lesser_alarms(hlr: HlrEmulator) -> None:
    hlr.faults.update(error_rate=0.5, latency_ms=1500)
    alarms = await read("snmpwalk", snmp_port(hlr), f"{ALARMS}.1.2", community=COMMUNITY)
    assert sorted(alarms.values()) == ["4", "5"]  # major (50 % refused), minor (slow replies)
    assert [a.key for a in hlr.alarms.active()] == ["latency", "error-rate"]
    hlr.faults.clear()
    assert hlr.alarms.active() == []


async def test_a_wrong_community_gets_no_answer_and_set_is_refused(hlr: HlrEmulator) -> None:
    port = snmp_port(hlr)
    status, _ = await run(
        "snmpget", "-v2c", "-c", "public", "-t", "0.3", "-r", "0", f"127.0.0.1:{port}",
        f"{SYSTEM}.5.0", check=False,
    )  # fmt: skip
    assert status != 0
    status, text = await run(
        "snmpset", "-v2c", "-c", COMMUNITY, f"127.0.0.1:{port}", f"{SYSTEM}.5.0", "s", "x",
        check=False,
    )  # fmt: skip
    assert status != 0 and "notWritable" in text
    assert await read("snmpget", port, f"{SYSTEM}.5.0", community=COMMUNITY) == {
        f"{SYSTEM}.5.0": "HLR9820"
    }


async def test_outage_over_mml_ends_by_itself_and_the_cli_announces_the_snmp_port() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulators.hlr", "--port", "0", "--snmp-port", "0", "--json",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        event = json.loads(await process.stdout.readline())
        assert set(event) == {"event", "host", "port", "ne", "snmp_port"}
        session = await SshClient.open(event["port"])
        assert (await session.send(LOGIN)).code == 0
        session.process.stdin.write("SET EMUFAULT:OUTAGE=1,OUTAGEDUR=1;\n")
        with pytest.raises(asyncssh.ConnectionLost):  # cut, no reply
            await session.process.stdout.read()
        alarms = await read("snmpwalk", event["snmp_port"], f"{ALARMS}.1.3")
        assert list(alarms.values()) == ["service down: injected outage"]
        for _ in range(100):  # the outage ends a second after it began
            if await read("snmpwalk", event["snmp_port"], f"{ALARMS}.1.3") == {}:
                break
            await asyncio.sleep(0.1)
        session = await SshClient.open(event["port"])
        assert (await session.send("LST EMUFAULT:;")).code == 1006  # alive, not logged in
        await session.close()
    finally:
        process.terminate()
        assert await process.wait() == 0
