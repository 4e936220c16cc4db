"""How the gateway reaches one NE's SNMP agent."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class SnmpSettings(BaseModel):
    """One NE's agent: where it answers, its SNMPv2c community, how often it is polled.

    A poll is one GETBULK (sysUpTime and the alarm table), retried ``retries`` times after
    ``timeout`` seconds each; an NE that never answered reads "unknown", one that answered
    before and no longer does reads "down"."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    host: str = Field(min_length=1, description="the agent's address or host name")
    port: int = Field(161, ge=1, le=65535)
    community: SecretStr = Field(SecretStr("public"), description="SNMPv2c community")
    interval: float = Field(10.0, gt=0, le=3600, description="seconds between polls")
    timeout: float = Field(1.0, gt=0, le=60, description="seconds to wait for an answer")
    retries: int = Field(1, ge=0, le=5)
