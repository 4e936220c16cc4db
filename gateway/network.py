"""Builds the network elements the engine drives from configuration.

This is the only place the gateway names adapter classes; everything else sees the
`NetworkElement` protocol. `DIALECTS` is the registry: each NE dialect's settings model (one
member of `gateway.config.NetworkElementConfig`) and the factory that turns those settings into
its adapter. Adding a dialect: docs/architecture.md, "Adding a dialect".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import SecretStr

from adapters.cards.card_agent import AgentTimeouts, agent_station
from adapters.cards.card_station import AucLookup, pcsc_station
from adapters.huawei_mml.mml_ssh import MmlOverSsh, MmlSshSettings
from adapters.network_element import (
    AuthenticationCentre,
    CardStation,
    HealthReading,
    NetworkElement,
)
from adapters.osmo_hlr.osmo_ctrl import OsmoCtrlSettings, OsmoHlrCtrl
from adapters.ota.transport import OtaSettings, OtaTransport
from adapters.smpp.client import ReceiptHandler, SmppClient, SmppSettings

# The MO seam, re-exported for the rest of the gateway (which does not import adapters).
from adapters.smpp.mo import MobileOriginated as MobileOriginated
from adapters.smpp.mo import MoHandler as MoHandler
from adapters.smpp.sms_templates import NotificationTemplates, load_templates
from adapters.smpp.smsc import Smsc, SmscAdminSettings
from adapters.snmp import SnmpManager, SnmpSettings
from gateway.config import (
    NE_DIALECTS,
    CardStationConfig,
    GatewayConfig,
    HuaweiMmlConfig,
    NeConfigBase,
    NeSnmpConfig,
    NetworkElementConfig,
    OsmoHlrCtrlConfig,
    OtaConfig,
    SmscConfig,
)
from gateway.targets import Targets

log = logging.getLogger(__name__)

Settings = TypeVar("Settings", bound=NeConfigBase)


@dataclass(frozen=True)
class Dialect(Generic[Settings]):
    """One NE dialect: the settings it is configured with and how its adapter is built."""

    settings: type[Settings]
    build: Callable[[Settings], NetworkElement]

    @property
    def name(self) -> str:
        return str(self.settings.model_fields["dialect"].default)

    def element(self, config: NetworkElementConfig) -> NetworkElement:
        if not isinstance(config, self.settings):
            raise TypeError(f"network element {config.name}: not {self.name} settings")
        return self.build(config)


def huawei_mml(ne: HuaweiMmlConfig) -> NetworkElement:
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


def osmo_hlr_ctrl(ne: OsmoHlrCtrlConfig) -> NetworkElement:
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


DIALECTS: dict[str, Dialect[Any]] = {
    d.name: d
    for d in (Dialect(HuaweiMmlConfig, huawei_mml), Dialect(OsmoHlrCtrlConfig, osmo_hlr_ctrl))
}
if DIALECTS.keys() != NE_DIALECTS.keys():  # a settings model without a factory, or the reverse
    raise RuntimeError(
        f"dialect registry {sorted(DIALECTS)} != configuration {sorted(NE_DIALECTS)}"
    )


def build_element(ne: NetworkElementConfig) -> NetworkElement:
    """The adapter for one configured NE, by its dialect."""
    return DIALECTS[ne.dialect].element(ne)


def build_network(config: GatewayConfig) -> dict[str, NetworkElement]:
    return {
        ne.name: build_element(process_share(ne, config.processes))
        for ne in config.network_elements
    }


def process_share(ne: NetworkElementConfig, processes: int) -> NetworkElementConfig:
    """This process's share of an NE's session and rate budget when ``processes`` gateway
    processes share the work: sessions divided down (at least one each), the rate divided, so
    that all of them together never open more sessions or send faster than the NE allows."""
    if processes == 1 or not isinstance(ne, HuaweiMmlConfig):
        return ne
    return ne.model_copy(
        update={
            "sessions": max(1, ne.sessions // processes),
            "rate_per_second": ne.rate_per_second / processes,
        }
    )


def build_stations(
    config: GatewayConfig, network: Mapping[str, NetworkElement]
) -> dict[str, CardStation]:
    """Card stations; each reaches the authentication centres of the NEs for its proofs."""

    def auc(name: str) -> AuthenticationCentre | None:
        ne = network.get(name)
        return ne if isinstance(ne, AuthenticationCentre) else None

    return {st.name: build_station(st, auc) for st in config.card_stations}


def build_station(st: CardStationConfig, auc: AucLookup) -> CardStation:
    """A local PC/SC station, or one whose reader a card agent serves (docs/card-agent.md)."""
    if st.kind == "agent":
        timeouts = AgentTimeouts(
            offer_s=st.agent_offer_timeout_s,
            answer_s=st.agent_answer_timeout_s,
            card_wait_s=st.card_wait_s,
        )
        return agent_station(st.name, token=st.token(), auc=auc, timeouts=timeouts)
    return pcsc_station(st.name, reader=st.reader, auc=auc)


def build_targets(
    config: GatewayConfig,
    receipts: ReceiptHandler | None = None,
    mobile_originated: MoHandler | None = None,
    *,
    listen: bool = False,
) -> Targets:
    """Every NE, the SMS centre, the OTA target and every card station the configuration
    names. ``mobile_originated`` takes what customers text to the service numbers (the keyword
    dialogue); ``listen`` binds to the SMS centre at once — MO messages (PoRs, keywords) only
    arrive on a bound transceiver — instead of on the first notification (needs a running
    event loop)."""
    network = build_network(config)
    closers = []
    if config.smsc is not None:
        router = MobileOriginatedRouter(config.smsc.service_numbers, mobile_originated)
        smsc, sms = build_smsc(config.smsc, receipts, router)
        network[smsc.name] = smsc
        if config.ota is not None:
            router.ota = build_ota(config.ota, sms)
            network[router.ota.name] = router.ota
        closers.append(sms.close)
        if listen:
            sms.start()
    return Targets(network, build_stations(config, network), closers)


def build_smsc(
    config: SmscConfig, receipts: ReceiptHandler | None, mobile_originated: MoHandler | None = None
) -> tuple[NetworkElement, SmppClient]:
    """The SMS centre: SMPP for notices, PoRs and MO, its admin API for barring."""
    password = config.secret()
    sms = SmppClient(
        SmppSettings(
            name=config.name,
            host=config.host,
            port=config.smpp_port,
            system_id=config.system_id,
            password=password,
            window=config.window,
        ),
        on_receipt=receipts,
        on_mo=mobile_originated,
    )
    admin = SmscAdminSettings(
        name=config.name,
        host=config.host,
        port=config.admin_port,
        username=config.system_id,
        password=password,
    )
    return Smsc(admin, sms=sms), sms


def build_ota(config: OtaConfig, sms: SmppClient) -> OtaTransport:
    """The OTA target: secured packets over the SMS centre's bind (shared with notices)."""
    return OtaTransport(
        OtaSettings(
            name=config.name,
            address=config.address,
            por_timeout=config.por_timeout_s,
            counters=config.counters,
            smsp_record_length=config.smsp_record_length,
        ),
        sms,
    )


class MobileOriginatedRouter:
    """Where a mobile-originated message goes: a card's PoR (PID 7F, or anything to the OTA
    address) to the OTA target; a message to a service number to ``handler`` — the keyword
    dialogue plugs in there; anything else (or with no handler) is logged and taken, so that
    the SMSC does not offer it again. A handler that raises has the SMSC deliver it again."""

    def __init__(self, service_numbers: Collection[str], handler: MoHandler | None) -> None:
        self.service_numbers = set(service_numbers)
        self.handler = handler
        self.ota: OtaTransport | None = None

    async def __call__(self, message: MobileOriginated) -> None:
        if self.ota is not None and self.ota.takes(message):
            await self.ota.accept(message)
        elif self.handler is not None and message.destination in self.service_numbers:
            await self.handler(message)
        else:
            log.info("MO not handled (no handler for it): %s", message.describe())


def build_notices(config: GatewayConfig) -> NotificationTemplates | None:
    """The SMS texts, when there is an SMS centre to send them."""
    return load_templates(config.smsc.templates) if config.smsc is not None else None


async def close_targets(targets: Targets) -> None:
    closing = [ne.close() for ne in targets.network.values()]
    closing += [station.close() for station in targets.stations.values()]
    await asyncio.gather(*closing, return_exceptions=True)
    await asyncio.gather(*(close() for close in targets.closers), return_exceptions=True)


def build_snmp_manager(
    config: GatewayConfig, on_reading: Callable[[HealthReading], None]
) -> SnmpManager | None:
    """The SNMP manager for the NEs (and SMS centre) that have an agent configured, with the
    trap receiver if a trap port is set; None when there is nothing to poll or receive."""
    elements: list[tuple[str, str, NeSnmpConfig | None]] = [
        (ne.name, ne.host, ne.snmp) for ne in config.network_elements
    ]
    if config.smsc is not None:
        elements.append((config.smsc.name, config.smsc.host, config.smsc.snmp))
    targets = {
        name: SnmpSettings(
            host=snmp.host or host,
            port=snmp.port,
            community=SecretStr(snmp.secret(name)),
            interval=snmp.interval_s,
        )
        for name, host, snmp in elements
        if snmp is not None
    }
    traps = config.snmp_traps
    if not targets and traps.port is None:
        return None
    return SnmpManager(targets, on_reading, trap_host=traps.host, trap_port=traps.port)
