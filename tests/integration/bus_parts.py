"""What the bus tests share: a private Mosquitto, a gateway on it, upstream clients, orders."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.mosquitto_process import Broker
from gateway.bus.client import BusClient
from gateway.bus.connection import Endpoint
from gateway.config import BusConfig, GatewayConfig, RetryPolicy
from gateway.engine import Engine
from gateway.resources.demo import seed_demo
from gateway.resources.passwords import ScryptCost
from gateway.runtime import running_gateway
from tests.fixtures.mosquitto import USERS
from tests.gateway.orders_factory import CUSTOMER, KI, OPC, iccid

FAST_SCRYPT = ScryptCost(n=2**10, r=8, p=1)
_clients = itertools.count(1)


def bus_config(broker: Broker, client_id: str = "provgw-test-1") -> BusConfig:
    return BusConfig(
        url=broker.url,
        username="provgw",
        password=SecretStr(USERS["provgw"]),
        client_id=client_id,
        session_expiry_s=600,
        reconnect=RetryPolicy(backoff_initial_s=0.05, backoff_max_s=0.5),
    )


def endpoint(broker: Broker, user: str = "crm", client_id: str | None = None) -> Endpoint:
    return Endpoint(
        host="127.0.0.1",
        port=broker.port,
        client_id=client_id or f"{user}-{next(_clients)}",
        username=user,
        password=USERS[user],
        clean_start=True,
    )


def open_account_body(order_id: str, n: int, **over: Any) -> dict[str, Any]:
    return {
        "kind": "open_account",
        "order_id": order_id,
        "channel": "OUT001",
        "operator": "clerk1",
        "msisdn": f"138{n:08d}",
        "imsi": f"46000{n:010d}",
        "iccid": iccid(n),
        "ki": KI,
        "opc": OPC,
        "product": "4g-basic",
        "customer": CUSTOMER,
    } | over


@contextlib.asynccontextmanager
async def gateway_on_bus(
    config: GatewayConfig, broker: Broker, *, client_id: str = "provgw-test-1", seed: bool = False
) -> AsyncIterator[Engine]:
    """A gateway (engine, store, HLR over SSH) with its bus worker connected to ``broker``."""
    config = config.model_copy(update={"bus": bus_config(broker, client_id)})
    async with running_gateway(config, create_key=True) as engine:
        if seed:
            await seed_demo(engine.store, cost=FAST_SCRYPT)
        yield engine


@contextlib.asynccontextmanager
async def upstream(broker: Broker, user: str = "crm") -> AsyncIterator[BusClient]:
    async with BusClient(endpoint(broker, user)) as client:
        yield client


def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "broker"
