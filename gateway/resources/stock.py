"""SIM card stock (M4/M5): cards in, reserved for an order, sold, retired.

Two kinds of card: *personalised* cards arrive with their keys from the vendor (Ki, OPc,
PIN/PUK, ADM1 — see `gateway.resources.vendor_file`); *programmable* blank cards (空白卡) arrive
with ICCID, IMSI and ADM1 only, and get a fresh Ki and OPc when the counter first asks for
their keys. Either way the keys are sealed with the vault as one blob per card and leave the
store only through `SimStock.card_keys`, as `SecretStr`.

States: in stock → reserved (assigned to an order) → sold → retired (the old card of a SIM
replacement, or a written-off card; its keys are wiped). Independently a card is usable or
damaged; a damaged card is never reserved. The stock's operations are
`gateway.resources.sim_stock`; its rows `gateway.store.stock`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from gateway.identifiers import HexKey, Iccid, Imsi, Secret
from gateway.orders import ProductId
from gateway.resources.vendor_file import CHECKS


class CardKind(StrEnum):
    PERSONALISED = "personalised"  # keys from the vendor
    PROGRAMMABLE = "programmable"  # blank card: keys generated at the counter


class CardState(StrEnum):
    IN_STOCK = "in_stock"
    RESERVED = "reserved"  # assigned to an order at the counter
    SOLD = "sold"
    RETIRED = "retired"


class Condition(StrEnum):
    USABLE = "usable"
    DAMAGED = "damaged"


def _secret_check(column: str) -> Callable[[SecretStr], SecretStr]:
    check = CHECKS[column]

    def validate(value: SecretStr) -> SecretStr:
        message = check(value.get_secret_value())
        if message is not None:
            raise ValueError(message)
        return value

    return validate


Pin = Annotated[Secret, AfterValidator(_secret_check("PIN1"))]
Puk = Annotated[Secret, AfterValidator(_secret_check("PUK1"))]
Adm = Annotated[Secret, AfterValidator(_secret_check("ADM1"))]


class CardIn(BaseModel):
    """One card entered by hand."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    iccid: Iccid
    imsi: Imsi
    kind: CardKind = CardKind.PERSONALISED
    ki: HexKey | None = None
    opc: HexKey | None = None
    pin1: Pin | None = None
    puk1: Puk | None = None
    pin2: Pin | None = None
    puk2: Puk | None = None
    adm1: Adm | None = None
    acc: str | None = Field(None, pattern=r"^[0-9A-Fa-f]{4}$")
    product: ProductId | None = None
    kic: HexKey | None = None  # OTA key set, for cards managed over the air
    kid: HexKey | None = None

    @model_validator(mode="after")
    def _keys(self) -> CardIn:
        if self.kind is CardKind.PERSONALISED and self.ki is None:
            raise ValueError("a personalised card needs its ki (or enter it as programmable)")
        if self.kind is CardKind.PROGRAMMABLE and (self.ki is not None or self.opc is not None):
            raise ValueError("a programmable card gets its keys at the counter: give no ki/opc")
        return self

    def clear_secrets(self) -> dict[str, str]:
        return {
            name: value.get_secret_value()
            for name in ("ki", "opc", "pin1", "puk1", "pin2", "puk2", "adm1", "kic", "kid")
            if (value := getattr(self, name)) is not None
        }


class ConditionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iccids: list[str] = Field(min_length=1, max_length=100_000)
    condition: Condition


@dataclass(frozen=True)
class CardRecord:
    iccid: str
    imsi: str
    kind: CardKind
    batch: str | None
    product: str | None
    acc: str | None
    state: CardState
    condition: Condition
    location: str
    reserved_by: str | None
    order_id: str | None
    since: float
    has_keys: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "iccid": self.iccid,
            "imsi": self.imsi,
            "kind": self.kind.value,
            "batch": self.batch,
            "product": self.product,
            "acc": self.acc,
            "state": self.state.value,
            "condition": self.condition.value,
            "location": self.location,
            "reserved_by": self.reserved_by,
            "order_id": self.order_id,
            "since": self.since,
            "keys": "sealed" if self.has_keys else "to be generated at the counter",
        }


@dataclass(frozen=True)
class CardKeys:
    """What the card writer and the HLR need for one card. Secrets stay `SecretStr`."""

    iccid: str
    imsi: str
    kind: CardKind
    ki: SecretStr
    opc: SecretStr | None
    adm1: SecretStr | None
    pin1: SecretStr | None
    puk1: SecretStr | None
    pin2: SecretStr | None
    puk2: SecretStr | None
    acc: str | None
    fresh: bool  # the keys were generated just now (programmable card, first asked)
    kic: SecretStr | None = None  # the OTA key set (over-the-air work: gateway.ota_cards)
    kid: SecretStr | None = None


@dataclass(frozen=True)
class ImportResult:
    batch: str
    cards: int
    kind: CardKind

    def as_dict(self) -> dict[str, Any]:
        return {"batch": self.batch, "cards": self.cards, "kind": self.kind.value}
