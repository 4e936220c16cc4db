"""The object identifiers the emulators' agents answer and send, and their value encodings.

MIB-II (RFC 1213, with SNMPv2-MIB RFC 3418 and IF-MIB RFC 2863) for the standard objects; the
enterprise objects are those of docs/mibs/PROVGW-EMULATOR-MIB.txt, and a test checks each
number here against that file with net-snmp's `snmptranslate`.
"""

from __future__ import annotations

import time

Oid = tuple[int, ...]

# SNMPv2-MIB: the system group, and what every notification carries.
SYS_DESCR: Oid = (1, 3, 6, 1, 2, 1, 1, 1)
SYS_OBJECT_ID: Oid = (1, 3, 6, 1, 2, 1, 1, 2)
SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3)
SYS_NAME: Oid = (1, 3, 6, 1, 2, 1, 1, 5)
SNMP_TRAP_OID: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1)
COLD_START: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 5, 1)

# IF-MIB: ifNumber and the columns of ifTable the agents fill.
IF_NUMBER: Oid = (1, 3, 6, 1, 2, 1, 2, 1)
IF_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_INDEX: Oid = (*IF_ENTRY, 1)
IF_DESCR: Oid = (*IF_ENTRY, 2)
IF_TYPE: Oid = (*IF_ENTRY, 3)
IF_ADMIN_STATUS: Oid = (*IF_ENTRY, 7)
IF_OPER_STATUS: Oid = (*IF_ENTRY, 8)
IF_LAST_CHANGE: Oid = (*IF_ENTRY, 9)
IF_TYPE_OTHER = 1  # IANAifType other(1): a service port is no physical interface
IF_UP, IF_DOWN = 1, 2  # ifAdminStatus / ifOperStatus up(1), down(2)

# PROVGW-EMULATOR-MIB, under the documentation enterprise 32473 (RFC 5612).
PROVGW_EMULATOR_MIB: Oid = (1, 3, 6, 1, 4, 1, 32473)
ALARM_RAISED: Oid = (*PROVGW_EMULATOR_MIB, 0, 1)
ALARM_CLEARED: Oid = (*PROVGW_EMULATOR_MIB, 0, 2)
ALARM_ENTRY: Oid = (*PROVGW_EMULATOR_MIB, 1, 1, 1)
ALARM_SEVERITY: Oid = (*ALARM_ENTRY, 2)
ALARM_TEXT: Oid = (*ALARM_ENTRY, 3)
ALARM_RAISED_AT: Oid = (*ALARM_ENTRY, 4)
PRODUCT_HLR: Oid = (*PROVGW_EMULATOR_MIB, 3, 1)
PRODUCT_SMSC: Oid = (*PROVGW_EMULATOR_MIB, 3, 2)


def date_and_time(at: float) -> bytes:
    """SNMPv2-TC DateAndTime of ``at`` (a time.time()) in UTC: the 11-octet form, '+0:0'."""
    t = time.gmtime(at)
    deciseconds = int(at * 10) % 10
    day = (t.tm_year >> 8, t.tm_year & 0xFF, t.tm_mon, t.tm_mday)
    return bytes((*day, t.tm_hour, t.tm_min, min(t.tm_sec, 60), deciseconds, ord("+"), 0, 0))
