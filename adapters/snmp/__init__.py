"""NE health over SNMP: the gateway's manager polls agents and receives traps (docs/snmp.md)."""

from adapters.snmp.health import ActiveAlarm, HealthTracker
from adapters.snmp.manager import SnmpManager
from adapters.snmp.settings import SnmpSettings

__all__ = ["ActiveAlarm", "HealthTracker", "SnmpManager", "SnmpSettings"]
