"""Configuration: network elements, routing, products, engine limits.

One TOML file; built-in defaults make ``provgw serve --demo`` work with no file at all. Secrets
(NE passwords) are never written in the file itself: ``password_env`` names an environment
variable, or ``password`` may be given for emulators and tests.
"""

from __future__ import annotations

import os
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator

from gateway.operations import IMS_APN, ApnProfile
from gateway.orders import ORDER_KINDS, ProductId, StkMenu
from gateway.resources.lockout import LoginPolicy

MIN_TOKEN_LENGTH = 24  # a card agent's bearer token guards the card keys: no short ones


def _secret(owner: str, given: SecretStr | None, variable: str | None) -> str:
    """A password from the environment variable named in the file, else given in it."""
    if variable:
        value = os.environ.get(variable)
        if value is None:
            raise ValueError(f"{owner}: ${variable} is not set")
        return value
    if given is None:
        raise ValueError(f"{owner}: no password or password_env")
    return given.get_secret_value()


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Product(_Config):
    """A sellable product: the HLR service template it maps to and what it implies on the
    network — packet data, the EPS PDN contexts (APN profiles) a 4G line gets, and VoLTE — and
    what it includes (``services``, for people). A tariff change moves a line from one
    product's network settings to the other's."""

    id: ProductId
    name: str
    name_zh: str = ""
    template_id: int = Field(ge=0)
    data: bool = True
    apns: list[ApnProfile] = Field(
        default_factory=list, description="EPS PDN contexts: none for a 2G/3G-only product"
    )
    volte: bool = Field(False, description="VoLTE: an IMS subscription with the VoLTE flag")
    monthly_fee_cents: int = Field(0, ge=0)
    services: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _network_settings_agree(self) -> Product:
        ids = [p.context_id for p in self.apns]
        names = [p.apn for p in self.apns]
        if len(set(ids)) != len(ids) or len(set(names)) != len(names):
            raise ValueError(f"product {self.id}: apns: each context_id and APN once")
        if self.apns and not self.data:
            raise ValueError(f"product {self.id}: apns need data = true (EPS data is packet data)")
        if self.volte and IMS_APN not in names:
            raise ValueError(
                f'product {self.id}: volte needs a PDN context for the IMS APN ("{IMS_APN}")'
            )
        return self


class NeSnmpConfig(_Config):
    """Where an NE's SNMP agent answers (SNMPv2c): its health comes from polls of sysUpTime and
    its alarm table, and from its traps (docs/snmp.md). An NE without it is probed instead."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    host: str | None = Field(None, description="the agent's address; the NE's own by default")
    port: int = Field(161, ge=1, le=65535)
    community: SecretStr | None = Field(None, description="for emulators and tests")
    community_env: str | None = Field(None, description="variable holding the community")
    interval_s: float = Field(10.0, gt=0, le=3600, description="seconds between polls")

    def secret(self, owner: str) -> str:
        """The community: from the environment when named, else given, else "public"."""
        if self.community is None and self.community_env is None:
            return "public"
        return _secret(f"{owner} snmp", self.community, self.community_env)


class SnmpTrapConfig(_Config):
    """Where the gateway receives NEs' SNMP traps (one UDP port for all)."""

    host: str = Field("127.0.0.1", description="address to listen on")
    port: int | None = Field(None, ge=0, le=65535, description="none: traps are not received")


class NeConfigBase(_Config):
    """What every NE has, whatever its dialect: how to reach it, how long a command may take,
    and which subscribers it serves (by number prefixes)."""

    # Errors name the field but never echo what was typed: it may be a password.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    command_timeout_s: float = Field(10, gt=0)
    imsi_prefixes: list[str] = Field(default_factory=list)
    msisdn_prefixes: list[str] = Field(default_factory=list)
    snmp: NeSnmpConfig | None = Field(None, description="its SNMP agent, if it has one")

    @model_validator(mode="before")
    @classmethod
    def _own_dialect_only(cls, data: Any) -> Any:
        """Name the dialect a stray setting belongs to (``extra="forbid"`` would only say
        "extra inputs are not permitted")."""
        if not isinstance(data, dict):
            return data
        mine = cls.model_fields["dialect"].default
        for key in data:
            owners = [d for d, m in NE_DIALECTS.items() if key in m.model_fields and d != mine]
            if key not in cls.model_fields and owners:
                raise ValueError(
                    f"network element {data.get('name', '?')}: {key} is a setting of "
                    f"dialect {' and '.join(owners)}, and this one's dialect is {mine}"
                )
        return data


class HuaweiMmlConfig(NeConfigBase):
    """A Huawei-style HLR/HSS: MML over SSH (docs/dialects/huawei-mml.md)."""

    dialect: Literal["huawei-mml"] = "huawei-mml"
    port: int = Field(2222, ge=1, le=65535)
    username: str = "provgw"
    password: SecretStr | None = None
    password_env: str | None = None
    mml_operator: str | None = None  # defaults to username
    mml_password_env: str | None = None  # defaults to the SSH password
    host_key_policy: Literal["known-hosts", "accept-any"] = "known-hosts"
    sessions: int = Field(4, ge=1, le=64)
    rate_per_second: float = Field(0, ge=0, description="0 = unlimited")

    def secret(self) -> str:
        """The SSH password, from the environment when ``password_env`` is set."""
        return _secret(f"network element {self.name}", self.password, self.password_env)

    def mml_secret(self) -> str:
        """The MML operator's password (LGI PWD): its own variable, else the SSH password."""
        if self.mml_password_env:
            return _secret(f"network element {self.name}", None, self.mml_password_env)
        return self.secret()


class OsmoHlrCtrlConfig(NeConfigBase):
    """The Osmocom HLR through its CTRL interface (docs/dialects/osmo-hlr.md)."""

    dialect: Literal["osmo-hlr-ctrl"] = "osmo-hlr-ctrl"
    port: int = Field(4259, ge=1, le=65535, description="CTRL")
    data_lock: Literal["refuse", "ps-switch"] = Field(
        "refuse", description="see docs/dialects/osmo-hlr.md"
    )
    gsup_port: int = Field(4222, ge=1, le=65535, description="for authentication proofs")


def _huawei_mml_by_default(value: Any) -> Any:
    """Files written before there were other dialects name none: they are ``huawei-mml``."""
    if isinstance(value, dict) and "dialect" not in value:
        return {**value, "dialect": "huawei-mml"}
    return value


NetworkElementConfig = Annotated[
    HuaweiMmlConfig | OsmoHlrCtrlConfig,
    Field(discriminator="dialect"),
    BeforeValidator(_huawei_mml_by_default),
]
"""One NE's settings: the model of its ``dialect``. A new dialect's model joins this union."""

NE_DIALECTS: dict[str, type[NeConfigBase]] = {
    model.model_fields["dialect"].default: model
    for model in get_args(get_args(NetworkElementConfig)[0])
}
"""Each dialect's settings model by name; `gateway.network.DIALECTS` builds their adapters."""


class CardStationConfig(_Config):
    """A PC/SC reader where the gateway writes blank cards (a counter's reader).

    ``kind = "local"``: the reader is on the gateway's machine. ``kind = "agent"``: it is on
    a clerk's PC, where a card agent (``provgw card agent``) takes the station's card jobs;
    the agent proves itself with a bearer token, given by reference (``agent_token_env``).
    See docs/card-agent.md.
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
    kind: Literal["local", "agent"] = "local"
    reader: str | None = Field(None, description="local stations: reader name or a part of it")
    blank_adm1_env: str | None = Field(
        None, description="variable holding the ADM1 of this station's blank cards"
    )
    blank_adm1: SecretStr | None = Field(None, description="for emulated cards only")
    agent_token_env: str | None = Field(
        None, description="agent stations: variable holding the card agent's bearer token"
    )
    agent_token: SecretStr | None = Field(None, description="agent stations: demo and tests only")
    agent_offer_timeout_s: float = Field(
        10, gt=0, description="agent stations: how long a card job waits for the agent to take it"
    )
    agent_answer_timeout_s: float = Field(
        90, gt=0, description="agent stations: how long the agent may take to answer a job"
    )
    card_wait_s: float = Field(
        30, ge=0, description="agent stations: how long the agent waits for a card to be inserted"
    )

    @model_validator(mode="after")
    def _token_for_agents(self) -> CardStationConfig:
        given = (self.agent_token_env is not None) + (self.agent_token is not None)
        if self.kind == "agent" and given != 1:
            raise ValueError(
                f"card station {self.name}: an agent station needs agent_token_env "
                "(or agent_token, for demos and tests)"
            )
        if self.kind == "local" and given:
            raise ValueError(f'card station {self.name}: agent_token* is for kind = "agent"')
        if self.kind == "agent" and self.agent_answer_timeout_s <= self.card_wait_s:
            raise ValueError(
                f"card station {self.name}: agent_answer_timeout_s must exceed card_wait_s"
            )
        return self

    def adm1(self) -> str | None:
        if self.blank_adm1_env:
            return os.environ.get(self.blank_adm1_env)
        return self.blank_adm1.get_secret_value() if self.blank_adm1 else None

    def token(self) -> str:
        """The agent's bearer token, from the environment when ``agent_token_env`` is set."""
        value = _secret(f"card station {self.name}", self.agent_token, self.agent_token_env)
        if len(value) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"card station {self.name}: the agent token must have at least "
                f"{MIN_TOKEN_LENGTH} characters"
            )
        return value


class SmscConfig(_Config):
    """The SMS centre: SMPP for notifications, its admin interface for SMS barring."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = "smsc"
    host: str = "127.0.0.1"
    smpp_port: int = Field(2775, ge=1, le=65535)
    admin_port: int = Field(8775, ge=1, le=65535)
    system_id: str = "provgw"
    password: SecretStr | None = None
    password_env: str | None = None
    window: int = Field(10, ge=1, le=1000)
    templates: Path | None = Field(None, description="notification texts; packaged by default")
    snmp: NeSnmpConfig | None = Field(None, description="its SNMP agent, if it has one")
    service_numbers: list[Annotated[str, Field(pattern=r"^[0-9]{3,15}$")]] = Field(
        default_factory=lambda: ["10086"],
        description="numbers customers text keywords to; their MO go to the gateway's handler",
    )

    def secret(self) -> str:
        """The ESME password (also the admin interface's), from the environment if named."""
        return _secret(f"smsc {self.name}", self.password, self.password_env)


class OtaConfig(_Config):
    """Cards over the air through the SMS centre's bind (docs/ota.md, "The OTA target"): the
    number OTA SMS come from (the SMSC routes the cards' PoRs sent there to the gateway), how
    long a PoR is waited for, and where the OTA counters are kept."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = "ota"
    address: str = Field("10658800", pattern=r"^[0-9]{3,15}$")
    por_timeout_s: float = Field(30.0, gt=0)
    counters: Path = Path("var/ota-counters.sqlite")
    smsp_record_length: int = Field(52, ge=28, le=255, description="EF.SMSP records on cards")
    card_profiles: list[CardProfile] = Field(
        default_factory=list, description="what the cards of each SIM product can do over the air"
    )
    stk_menu: StkMenu | None = Field(None, description="the menu an STK activation provisions")

    def profile(self, product: str | None) -> CardProfile:
        """The profile of a SIM product; a product not listed: AES key set 1, no toolkit menu."""
        found = next((p for p in self.card_profiles if p.product == product), None)
        return found or CardProfile(product=product or "unknown")


class CardProfile(_Config):
    """What the cards of one SIM product (the vendor file's productID) can do over the air:
    their OTA key set's version and algorithm (KIc/KID themselves are per card, in the SIM
    stock), and whether they carry the toolkit menu an STK activation (开通STK业务) fills."""

    product: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
    stk: bool = False
    key_version: int = Field(1, ge=1, le=15)
    algorithm: Literal["aes", "3des"] = "aes"


class RetryPolicy(_Config):
    """When a step is tried again: jittered exponential backoff with a cap.

    The n-th wait (n = 0, 1, …) is drawn uniformly from ``[d·(1 − jitter), d]`` with
    ``d = min(backoff_max_s, backoff_initial_s · 2ⁿ)``. An NE that answers "busy" (its own
    transient code) spends one of ``attempts`` per forward step; an NE that cannot be reached
    spends none — the order waits for it (see `BreakerPolicy`) until its deadline. Undo steps
    are tried until they succeed."""

    attempts: int = Field(5, ge=1, le=100, description="busy answers before a step fails")
    backoff_initial_s: float = Field(0.2, ge=0)
    backoff_max_s: float = Field(30.0, ge=0)
    jitter: float = Field(0.5, ge=0, le=1, description="fraction of each wait drawn at random")


class BreakerPolicy(_Config):
    """The circuit breaker each NE has: when the engine stops sending to it, and how it
    learns that the NE is back."""

    failures_to_open: int = Field(
        3, ge=1, le=1000, description="consecutive transport failures that open the breaker"
    )
    probe_interval_s: float = Field(
        1.0, gt=0, le=600, description="while open, one probe command this often"
    )
    health_interval_s: float = Field(
        10.0, gt=0, le=3600, description="how often an NE without SNMP is probed while closed"
    )


COUNTER_DEADLINE_S = 15 * 60.0
"""An order that writes a card at the counter: the customer is waiting at the desk."""
BACK_OFFICE_DEADLINE_S = 24 * 3600.0
"""Any other order: a day, which outlasts any maintenance window."""


class Deadlines(_Config):
    """How long an order may take before its forward steps stop and it is undone (a step that
    cannot be sent because its NE is down does not fail the order before this)."""

    counter_s: float = Field(COUNTER_DEADLINE_S, gt=0, description="orders writing a card")
    default_s: float = Field(BACK_OFFICE_DEADLINE_S, gt=0, description="every other order")
    by_kind: dict[str, float] = Field(
        default_factory=dict, description="per order kind, e.g. suspend = 3600"
    )

    @model_validator(mode="after")
    def _positive(self) -> Deadlines:
        for kind, seconds in self.by_kind.items():
            if kind not in ORDER_KINDS:
                raise ValueError(f"deadlines.by_kind: {kind} is not an order kind")
            if seconds <= 0:
                raise ValueError(f"deadlines.by_kind.{kind}: must be more than 0 seconds")
        return self

    def for_order(self, kind: str, *, at_counter: bool) -> float:
        """Seconds from acceptance: the kind's own, else the counter's, else the default."""
        if kind in self.by_kind:
            return self.by_kind[kind]
        return self.counter_s if at_counter else self.default_s


class BusConfig(_Config):
    """The MQTT order bus (`gateway.bus`, docs/bus.md): where the broker is and who the gateway
    is to it. Absent from the file, the gateway runs without a bus (REST only)."""

    url: str = Field(
        "mqtt://127.0.0.1:1883", pattern=r"^mqtt://[^:/]+(:[0-9]+)?/?$", description="the broker"
    )
    username: str | None = None
    password: SecretStr | None = None  # tests and labs; otherwise password_env or password_file
    password_env: str | None = None
    password_file: Path | None = None
    client_id: str | None = Field(
        None,
        description="stable per gateway process (its broker session); default provgw-<host>, "
        "or $PROVGW_BUS_CLIENT_ID",
    )
    session_expiry_s: int = Field(3600, ge=0, description="how long the broker keeps the session")
    keepalive_s: int = Field(30, ge=5)
    max_order_bytes: int = Field(65536, ge=1024, description="larger order messages are refused")
    receive_maximum: int = Field(256, ge=1, le=65535, description="orders in flight at once")
    reconnect: RetryPolicy = RetryPolicy(backoff_initial_s=0.2, backoff_max_s=10.0)

    @property
    def host(self) -> str:
        return self.url.removeprefix("mqtt://").rstrip("/").partition(":")[0]

    @property
    def port(self) -> int:
        return int(self.url.removeprefix("mqtt://").rstrip("/").partition(":")[2] or 1883)

    def secret(self) -> str | None:
        """The broker password: from the file, the environment variable, or given."""
        if self.password_file is not None:
            return self.password_file.read_text().strip()
        if self.password_env is None and self.password is None:
            return None
        return _secret("bus", self.password, self.password_env)

    def identifier(self) -> str:
        return self.client_id or os.environ.get(
            "PROVGW_BUS_CLIENT_ID", f"provgw-{socket.gethostname()}"
        )


class GatewayConfig(_Config):
    database: Path = Path("var/provgw.db")
    database_url: str | None = Field(
        None,
        description="postgresql://… : the gateway processes sharing the work share this "
        "database (docs/operations.md); unset, the SQLite file `database`",
    )
    processes: int = Field(
        1,
        ge=1,
        le=64,
        description="gateway processes sharing the work: each takes this share of every NE's "
        "sessions and rate, so that together they keep the NE's budget",
    )
    secret_key_file: Path = Path("var/secret.key")
    country_code: str = Field("86", pattern=r"^[0-9]{1,3}$")
    max_concurrent_orders: int = Field(256, ge=1)
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    deadlines: Deadlines = Deadlines()
    lease_seconds: float = Field(60, gt=0)
    access_control: bool = Field(
        True,
        description="refuse orders from unknown or closed channels and unknown operators "
        "(M2, M7); switch off only for load tests in a lab",
    )
    login: LoginPolicy = LoginPolicy()  # wrong passwords before sign-in locks, and for how long
    cancel_hold_days: int = Field(90, ge=0, description="预销号 → 销号 hold period")
    network_elements: list[NetworkElementConfig] = Field(default_factory=list)
    card_stations: list[CardStationConfig] = Field(default_factory=list)
    smsc: SmscConfig | None = None
    snmp_traps: SnmpTrapConfig = SnmpTrapConfig()
    ota: OtaConfig | None = None
    card_spn: str = Field("provgw", max_length=16, description="service provider name on cards")
    products: list[Product] = Field(default_factory=list)
    bus: BusConfig | None = None  # the MQTT order bus; off unless configured

    @model_validator(mode="after")
    def _unique_names(self) -> GatewayConfig:
        names = [ne.name for ne in self.network_elements]
        if len(set(names)) != len(names):
            raise ValueError("network element names must be unique")
        ids = [p.id for p in self.products]
        if len(set(ids)) != len(ids):
            raise ValueError("product ids must be unique")
        if self.ota is not None and self.smsc is None:
            raise ValueError("ota: cards are reached through the SMS centre; configure [smsc]")
        return self

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)


DEFAULT_PRODUCTS = [
    Product(
        id="4g-basic",
        name="4G Basic",
        name_zh="4G基础套餐",
        template_id=1,
        data=True,
        apns=[
            ApnProfile(
                context_id=1,
                apn="cmnet",
                qci=9,
                ambr_ul_bps=50_000_000,
                ambr_dl_bps=100_000_000,
            )
        ],
        monthly_fee_cents=3800,
        services=["voice", "sms", "data"],
    ),
    Product(
        id="voice-only",
        name="Voice only",
        name_zh="语音套餐",
        template_id=1,
        data=False,
        monthly_fee_cents=1800,
        services=["voice", "sms"],
    ),
    Product(
        id="4g-unlimited",
        name="4G Unlimited",
        name_zh="4G畅享套餐",
        template_id=2,
        data=True,
        apns=[
            ApnProfile(
                context_id=1,
                apn="cmnet",
                qci=9,
                ambr_ul_bps=100_000_000,
                ambr_dl_bps=300_000_000,
            ),
            # IMS signalling only (the voice bearers are dedicated ones, set up by the PCRF).
            ApnProfile(context_id=2, apn=IMS_APN, qci=5, ambr_ul_bps=256_000, ambr_dl_bps=256_000),
        ],
        volte=True,
        monthly_fee_cents=12800,
        services=["voice", "sms", "data", "volte", "roaming"],
    ),
]


def load_config(path: Path | None) -> GatewayConfig:
    """Read a TOML file, or return the built-in defaults (no NEs) when ``path`` is None."""
    if path is None:
        return GatewayConfig(products=DEFAULT_PRODUCTS)
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    data.setdefault("products", [p.model_dump() for p in DEFAULT_PRODUCTS])
    return GatewayConfig.model_validate(data)
