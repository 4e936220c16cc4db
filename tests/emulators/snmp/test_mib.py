"""docs/mibs/PROVGW-EMULATOR-MIB.txt is valid SMIv2, and the agents' numbers are its numbers.

smilint (libsmi) checks the module; net-snmp's snmptranslate, loading the file as an NMS would,
turns each name into the number the code uses.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from adapters.snmp import mib as manager_mib
from emulators.alarms import Severity
from emulators.snmp import mib
from tests.fixtures.netsnmp import MIB_FILE, base_mibs, run, tool

NAMES = {
    "SNMPv2-MIB::sysDescr": mib.SYS_DESCR,
    "SNMPv2-MIB::sysObjectID": mib.SYS_OBJECT_ID,
    "SNMPv2-MIB::sysUpTime": mib.SYS_UPTIME,
    "SNMPv2-MIB::sysName": mib.SYS_NAME,
    "SNMPv2-MIB::snmpTrapOID": mib.SNMP_TRAP_OID,
    "SNMPv2-MIB::coldStart": mib.COLD_START,
    "RFC1213-MIB::ifNumber": mib.IF_NUMBER,
    "RFC1213-MIB::ifIndex": mib.IF_INDEX,
    "RFC1213-MIB::ifDescr": mib.IF_DESCR,
    "RFC1213-MIB::ifType": mib.IF_TYPE,
    "RFC1213-MIB::ifAdminStatus": mib.IF_ADMIN_STATUS,
    "RFC1213-MIB::ifOperStatus": mib.IF_OPER_STATUS,
    "RFC1213-MIB::ifLastChange": mib.IF_LAST_CHANGE,
    "PROVGW-EMULATOR-MIB::provgwEmulatorMIB": mib.PROVGW_EMULATOR_MIB,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmRaised": mib.ALARM_RAISED,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmCleared": mib.ALARM_CLEARED,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmEntry": mib.ALARM_ENTRY,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmSeverity": mib.ALARM_SEVERITY,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmText": mib.ALARM_TEXT,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmRaisedAt": mib.ALARM_RAISED_AT,
    "PROVGW-EMULATOR-MIB::provgwEmuHlr": mib.PRODUCT_HLR,
    "PROVGW-EMULATOR-MIB::provgwEmuSmsc": mib.PRODUCT_SMSC,
}


async def translate(*names: str) -> list[str]:
    """The numeric OIDs of ``names``, as net-snmp reads them from the MIB files."""
    _, text = await run(
        "snmptranslate", "-M", f"{base_mibs()}:{MIB_FILE.parent}",
        "-m", "PROVGW-EMULATOR-MIB:SNMPv2-MIB:RFC1213-MIB", "-On", *names,
    )  # fmt: skip
    return [line.lstrip(".") for line in text.split()]


def dotted(oid: tuple[int, ...]) -> str:
    return ".".join(map(str, oid))


async def test_the_mib_is_clean_smiv2() -> None:
    process = await asyncio.create_subprocess_exec(
        tool("smilint", "smitools"), "-l", "9", "-s", str(MIB_FILE),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SMIPATH": base_mibs()},
    )  # fmt: skip
    out, _ = await process.communicate()
    assert (process.returncode, out.decode()) == (0, "")


# What the gateway's manager reads (adapters may not import emulators: it has its own copy).
MANAGER_NAMES = {
    "SNMPv2-MIB::sysUpTime": manager_mib.SYS_UPTIME,
    "SNMPv2-MIB::snmpTrapOID": manager_mib.SNMP_TRAP_OID_0[:-1],
    "SNMPv2-MIB::coldStart": manager_mib.COLD_START,
    "SNMPv2-MIB::warmStart": manager_mib.WARM_START,
    "PROVGW-EMULATOR-MIB::provgwEmulatorMIB": manager_mib.PROVGW_EMULATOR_MIB,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmRaised": manager_mib.ALARM_RAISED,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmCleared": manager_mib.ALARM_CLEARED,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmSeverity": manager_mib.ALARM_SEVERITY,
    "PROVGW-EMULATOR-MIB::provgwEmuAlarmText": manager_mib.ALARM_TEXT,
}


@pytest.mark.parametrize("names", [NAMES, MANAGER_NAMES], ids=["agents", "manager"])
async def test_the_numbers_in_the_code_are_the_mibs(names: dict[str, tuple[int, ...]]) -> None:
    assert await translate(*names) == [dotted(oid) for oid in names.values()]


async def test_the_severity_names_are_the_mibs() -> None:
    _, text = await run(
        "snmptranslate", "-M", f"{base_mibs()}:{MIB_FILE.parent}", "-m", "PROVGW-EMULATOR-MIB",
        "-Td", "PROVGW-EMULATOR-MIB::provgwEmuAlarmSeverity",
    )  # fmt: skip
    for number, name in manager_mib.SEVERITY_NAMES.items():
        assert f"{name}({number})" in text
    for severity in Severity:
        assert f"{severity.name.lower()}({severity.value})" in text


@pytest.mark.parametrize(
    ("at", "octets"),
    [
        (0.0, "07B2010100000000" + "2B0000"),  # 1970-01-01 00:00:00.0 +0:0
        (1_700_000_000.7, "07E70B0E160D1407" + "2B0000"),  # 2023-11-14 22:13:20.7
    ],
)
def test_date_and_time_is_the_eleven_octet_utc_form(at: float, octets: str) -> None:
    assert mib.date_and_time(at).hex().upper() == octets
