"""SNMP for the emulators: an SNMPv2c agent on each emulator's event loop (see docs/snmp.md)."""

from emulators.snmp.agent import AgentSettings, SnmpAgent, SystemInfo, start_agent

__all__ = ["AgentSettings", "SnmpAgent", "SystemInfo", "start_agent"]
