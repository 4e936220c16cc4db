"""The SMSC emulator's SNMP agent, read with net-snmp's tools; the outage fault drives it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from emulators.smsc import SmscEmulator
from emulators.snmp import AgentSettings
from tests.fixtures.netsnmp import read

from .test_server import Esme, bound

SYSTEM = "1.3.6.1.2.1.1"
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
ALARMS = "1.3.6.1.4.1.32473.1.1"


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=0, snmp=AgentSettings(port=0)) as emulator:
        yield emulator


def snmp_port(emulator: SmscEmulator) -> int:
    assert emulator.snmp is not None
    return emulator.snmp.port


async def test_system_group_and_service_port_with_snmpbulkwalk(smsc: SmscEmulator) -> None:
    port = snmp_port(smsc)
    system = await read("snmpbulkwalk", port, SYSTEM)
    assert system == {
        f"{SYSTEM}.1.0": "provgw SMS centre emulator (SMPP 3.4)",
        f"{SYSTEM}.2.0": ".1.3.6.1.4.1.32473.3.2",  # provgwEmuSmsc
        f"{SYSTEM}.3.0": system[f"{SYSTEM}.3.0"],
        f"{SYSTEM}.5.0": "SMSC",
    }
    interface = await read("snmpget", port, f"{IF_ENTRY}.2.1", f"{IF_ENTRY}.8.1")
    assert interface == {
        f"{IF_ENTRY}.2.1": f"SMPP, 127.0.0.1:{smsc.port}; handsets, 127.0.0.1:{smsc.handset_port}; "
        f"admin HTTP, 127.0.0.1:{smsc.admin_port}",
        f"{IF_ENTRY}.8.1": "1",
    }


async def test_an_outage_refuses_smpp_and_admin_and_raises_a_critical_alarm(
    smsc: SmscEmulator,
) -> None:
    port = snmp_port(smsc)
    esme = await bound(smsc)
    smsc.faults.update(outage=True)
    assert await esme.reader.read() == b""  # the bind was cut
    with pytest.raises(OSError):
        await Esme.open(smsc.port)
    async with httpx.AsyncClient(auth=("provgw", "provgw")) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{smsc.admin_port}/status")
    alarms = await read("snmpget", port, f"{ALARMS}.1.2.1", f"{ALARMS}.1.3.1")
    assert alarms == {
        f"{ALARMS}.1.2.1": "3",
        f"{ALARMS}.1.3.1": "service down: injected outage",
    }
    assert await read("snmpget", port, f"{IF_ENTRY}.8.1") == {f"{IF_ENTRY}.8.1": "2"}

    smsc.faults.update(outage=False)
    await smsc.service_port.settled()
    assert await read("snmpbulkwalk", port, ALARMS) == {}
    await (await bound(smsc)).close()
    async with httpx.AsyncClient(auth=("provgw", "provgw")) as http:
        assert (await http.get(f"http://127.0.0.1:{smsc.admin_port}/status")).status_code == 200


async def test_an_outage_set_over_the_admin_api_ends_by_itself(smsc: SmscEmulator) -> None:
    async with httpx.AsyncClient(auth=("provgw", "provgw")) as http:
        faults = f"http://127.0.0.1:{smsc.admin_port}/faults"
        answer = await http.patch(faults, json={"outage": True, "outage_s": 0.2})
        assert answer.status_code == 200 and answer.json()["outage"] is True
        assert smsc.service_port.up is False
    async with httpx.AsyncClient(auth=("provgw", "provgw")) as http:
        with pytest.raises(httpx.ConnectError):  # the admin API is down with SMPP
            await http.get(faults)
    for _ in range(100):
        if smsc.service_port.up:
            break
        await asyncio.sleep(0.05)
    assert smsc.faults.outage is False and smsc.alarms.active() == []


async def test_refusals_raise_a_minor_alarm(smsc: SmscEmulator) -> None:
    smsc.faults.update(refuse_rate=0.25)
    alarms = await read("snmpbulkwalk", snmp_port(smsc), ALARMS)
    assert (alarms[f"{ALARMS}.1.2.1"], alarms[f"{ALARMS}.1.3.1"]) == (
        "5",  # minor
        "25% of submit_sm refused with 0x00000058",
    )
