"""Which network element serves a subscriber: by IMSI or MSISDN prefix, from configuration."""

from __future__ import annotations

from gateway.config import GatewayConfig
from gateway.planner import PlanRefused


class Router:
    """Routes a new subscriber to an NE: the first whose IMSI or number prefixes match, else
    the first NE with no prefixes at all (the default). Existing lines stay where they are."""

    def __init__(self, config: GatewayConfig) -> None:
        self._nes = config.network_elements

    def __call__(self, imsi: str, msisdn: str) -> str:
        for ne in self._nes:
            if any(imsi.startswith(p) for p in ne.imsi_prefixes) or any(
                msisdn.startswith(p) for p in ne.msisdn_prefixes
            ):
                return ne.name
        for ne in self._nes:
            if not ne.imsi_prefixes and not ne.msisdn_prefixes:
                return ne.name
        raise PlanRefused(f"no network element serves IMSI {imsi} / number {msisdn}")
