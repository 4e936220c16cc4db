"""All resource registers over one store, as the API (and the counter flow) use them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.config import GatewayConfig
from gateway.resources.channel_register import Channels
from gateway.resources.customer_register import Customers
from gateway.resources.fee_register import FeeRules
from gateway.resources.lockout import LoginPolicy
from gateway.resources.movements import Distribution
from gateway.resources.number_pool import NumberPool
from gateway.resources.operator_register import Operators
from gateway.resources.passwords import OWASP_COST, ScryptCost
from gateway.resources.sim_stock import SimStock
from gateway.resources.transport_keys import TransportKeys
from gateway.store import OrderStore


@dataclass
class Resources:
    store: OrderStore
    clock: Callable[[], float]
    numbers: NumberPool
    fees: FeeRules
    stock: SimStock
    distribution: Distribution
    customers: Customers
    operators: Operators
    channels: Channels
    transport_key_file: Path | None

    @classmethod
    def open(
        cls,
        store: OrderStore,
        *,
        clock: Callable[[], float] = time.time,
        cost: ScryptCost = OWASP_COST,
        transport_key_file: Path | None = None,
        login: LoginPolicy | None = None,
    ) -> Resources:
        return cls(
            store=store,
            clock=clock,
            numbers=NumberPool(store, clock=clock),
            fees=FeeRules(store, clock=clock),
            stock=SimStock(store, clock=clock),
            distribution=Distribution(store, clock=clock),
            customers=Customers(store, clock=clock),
            operators=Operators(store, clock=clock, cost=cost, login=login),
            channels=Channels(store, clock=clock),
            transport_key_file=transport_key_file,
        )

    @classmethod
    def of_gateway(cls, store: OrderStore, config: GatewayConfig) -> Resources:
        """The registers of a gateway process: made once (`gateway.runtime`) and handed to
        the counter, the API and the front end; the vendors' transport keys beside its
        secret key."""
        return cls.open(
            store,
            transport_key_file=config.secret_key_file.parent / "transport-keys",
            login=config.login,
        )

    def transport_keys(self) -> TransportKeys:
        """Read afresh for each import, so a key added to the file needs no restart."""
        return TransportKeys.from_environment(self.transport_key_file)
