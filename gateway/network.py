"""Builds the network elements the engine drives from configuration.

This is the only place the gateway names adapter classes; everything else sees the
`NetworkElement` protocol.
"""

from __future__ import annotations

import asyncio

from adapters.mml_ssh import MmlOverSsh, MmlSshSettings
from adapters.network_element import NetworkElement
from adapters.osmo_ctrl import OsmoCtrlSettings, OsmoHlrCtrl
from gateway.config import GatewayConfig, NetworkElementConfig


def build_element(ne: NetworkElementConfig) -> NetworkElement:
    if ne.dialect == "huawei-mml":
        return MmlOverSsh(
            MmlSshSettings(
                name=ne.name,
                host=ne.host,
                port=ne.port,
                username=ne.username,
                password=ne.secret(),
                operator=ne.mml_operator or ne.username,
                operator_password=ne.mml_secret(),
                sessions=ne.sessions,
                rate_limit=ne.rate_per_second,
                command_timeout=ne.command_timeout_s,
                host_key_policy=ne.host_key_policy,
            )
        )
    if ne.dialect == "osmo-hlr-ctrl":
        return OsmoHlrCtrl(
            OsmoCtrlSettings(
                name=ne.name,
                host=ne.host,
                port=ne.port,
                command_timeout=ne.command_timeout_s,
                data_lock=ne.data_lock,
                gsup_port=ne.gsup_port,
            )
        )
    raise ValueError(f"network element {ne.name}: unknown dialect {ne.dialect}")


def build_network(config: GatewayConfig) -> dict[str, NetworkElement]:
    return {ne.name: build_element(ne) for ne in config.network_elements}


async def close_network(network: dict[str, NetworkElement]) -> None:
    await asyncio.gather(*(ne.close() for ne in network.values()), return_exceptions=True)
