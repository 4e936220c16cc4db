"""The object identifiers the manager reads and receives.

The enterprise ones are those of docs/mibs/PROVGW-EMULATOR-MIB.txt (the emulators' agents use
the same numbers; the package seams forbid sharing the module, so a test checks both against
the MIB file with net-snmp's `snmptranslate`)."""

from __future__ import annotations

Oid = tuple[int, ...]

SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3)  # GETBULK reads what follows: sysUpTime.0
SYS_UPTIME_0: Oid = (*SYS_UPTIME, 0)
SNMP_TRAP_OID_0: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
COLD_START: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 5, 1)
WARM_START: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 5, 2)

PROVGW_EMULATOR_MIB: Oid = (1, 3, 6, 1, 4, 1, 32473)
ALARM_RAISED: Oid = (*PROVGW_EMULATOR_MIB, 0, 1)
ALARM_CLEARED: Oid = (*PROVGW_EMULATOR_MIB, 0, 2)
ALARM_SEVERITY: Oid = (*PROVGW_EMULATOR_MIB, 1, 1, 1, 2)
ALARM_TEXT: Oid = (*PROVGW_EMULATOR_MIB, 1, 1, 1, 3)

# ProvgwEmuPerceivedSeverity (RFC 3877's ItuPerceivedSeverity numbers).
CLEARED, CRITICAL = 1, 3
SEVERITY_NAMES = {
    1: "cleared",
    2: "indeterminate",
    3: "critical",
    4: "major",
    5: "minor",
    6: "warning",
}
