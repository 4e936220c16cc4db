"""Service orders: one pydantic model per business process in the operator's manuals.

Every process the seeds name (business-processes.md) has an order kind here, so that every
order validates today even where its network work is planned in a later issue. Seed codes are
kept in each class's ``process`` so an order can be traced to the manual (M19: every business
process has a number).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.identifiers import (
    HexKey,
    Iccid,
    Imsi,
    Msisdn,
    ResidentId,
    SafeText,
    Secret,
    Voucher,
)
from gateway.operations import (
    BarIncoming,
    BarOutgoing,
    BarRoaming,
    ForwardingKind,
    MenuEntry,
    PlmnEntry,
)
from simcard.text import encode_alpha

OrderId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
ChannelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
OperatorId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
ProductId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
ForwardTarget = Annotated[str, Field(pattern=r"^\+?[0-9]{3,15}$")]
"""A forwarded-to number: digits, optionally '+'; an 11-digit mainland number gets 86."""


class _Strict(BaseModel):
    # Orders carry keys and passwords: a validation error must never echo what was typed.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, hide_input_in_errors=True
    )


_RESIDENT_ID: TypeAdapter[str] = TypeAdapter(ResidentId)


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证: a person
    BUSINESS_LICENCE = "business_licence"  # 营业执照: a unit (company customer)


class Customer(_Strict):
    """The customer's identity and contact details (C1-F3: completeness is checked)."""

    name: SafeText = Field(min_length=1, max_length=60)
    id_type: IdType = IdType.RESIDENT_ID
    id_number: Annotated[str, Field(min_length=1, max_length=32)]
    address: SafeText = Field(min_length=4, max_length=200)
    contact: Annotated[str, Field(pattern=r"^\+?[0-9]{5,15}$")]

    @field_validator("id_number")
    @classmethod
    def _check_document(cls, value: str, info: ValidationInfo) -> str:
        """The document number follows the rules of its type (id_type is validated first)."""
        if info.data.get("id_type", IdType.RESIDENT_ID) is IdType.RESIDENT_ID:
            return _RESIDENT_ID.validate_python(value)
        if not value.isalnum() or len(value) != 18:
            raise ValueError("business licence number must be the 18-character unified code")
        return value.upper()


class _Order(_Strict):
    """What every order carries: the sender's id, the channel and operator (M2, M7)."""

    process: ClassVar[str]
    title: ClassVar[str]

    order_id: OrderId
    channel: ChannelId
    operator: OperatorId
    submitted_at: datetime | None = None
    language: Literal["zh", "en"] = "zh"  # of the SMS notices the customer gets


class _LineOrder(_Order):
    """An order about an existing line, named by its number."""

    msisdn: Msisdn


StationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]


class CardWriting(_Strict):
    """Write the card at the counter (空白卡写卡): a blank card in a card station's reader.

    The keys are the order's when it carries them, else the SIM stock's for this ICCID, else
    fresh ones drawn for a blank programmable card.
    """

    station: StationId
    adm1: Secret | None = None  # the blank card's ADM1, when not the station's default


class _KeyedOrder(_Order):
    """An order that brings a card: its keys, or a card to write at the counter."""

    ki: HexKey | None = None
    opc: HexKey | None = None
    card: CardWriting | None = None

    @model_validator(mode="after")
    def _keys_or_card(self) -> _KeyedOrder:
        if self.card is None and (self.ki is None or self.opc is None):
            raise ValueError("give ki and opc, or a card to write at the counter")
        if (self.ki is None) != (self.opc is None):
            raise ValueError("give both ki and opc, or neither")
        return self


class OpenAccount(_KeyedOrder):
    process: ClassVar[str] = "C1"
    title: ClassVar[str] = "开户 open account"
    kind: Literal["open_account"] = "open_account"
    msisdn: Msisdn
    imsi: Imsi
    iccid: Iccid
    product: ProductId
    customer: Customer


class ChangeNumber(_LineOrder):
    process: ClassVar[str] = "C2"
    title: ClassVar[str] = "改号 change number"
    kind: Literal["change_number"] = "change_number"
    new_msisdn: Msisdn

    @model_validator(mode="after")
    def _differs(self) -> ChangeNumber:
        if self.new_msisdn == self.msisdn:
            raise ValueError("new_msisdn must differ from msisdn")
        return self


class SimSwap(_KeyedOrder):
    process: ClassVar[str] = "C3"
    title: ClassVar[str] = "换卡/补卡 SIM replacement"
    kind: Literal["sim_swap"] = "sim_swap"
    msisdn: Msisdn
    new_imsi: Imsi
    new_iccid: Iccid
    reason: Literal["replace", "lost", "damaged", "upgrade"] = "replace"


class ChangeCustomerInfo(_LineOrder):
    process: ClassVar[str] = "C4.1/C4.2/C4.4"
    title: ClassVar[str] = "改用户资料 change customer details"
    kind: Literal["change_customer_info"] = "change_customer_info"
    name: SafeText | None = Field(None, min_length=1, max_length=60)
    address: SafeText | None = Field(None, min_length=4, max_length=200)
    contact: Annotated[str, Field(pattern=r"^\+?[0-9]{5,15}$")] | None = None
    service_password: Secret | None = None

    @model_validator(mode="after")
    def _something(self) -> ChangeCustomerInfo:
        if not any(
            v is not None for v in (self.name, self.address, self.contact, self.service_password)
        ):
            raise ValueError("give at least one of name, address, contact, service_password")
        return self


class ChangePaymentType(_LineOrder):
    process: ClassVar[str] = "C4.3/C7.5"
    title: ClassVar[str] = "改付费方式 change payment type"
    kind: Literal["change_payment_type"] = "change_payment_type"
    payment: Literal["prepaid", "postpaid"]


class TransferOwnership(_LineOrder):
    process: ClassVar[str] = "C5"
    title: ClassVar[str] = "过户 transfer ownership"
    kind: Literal["transfer_ownership"] = "transfer_ownership"
    new_owner: Customer


class SuspendReason(StrEnum):
    REQUEST = "request"  # 报停: the customer asked
    ARREARS = "arrears"  # 欠费停机
    LOSS = "loss"  # 挂失: report of loss


class Suspend(_LineOrder):
    process: ClassVar[str] = "C6"
    title: ClassVar[str] = "停机 suspend"
    kind: Literal["suspend"] = "suspend"
    reason: SuspendReason = SuspendReason.REQUEST


class Resume(_LineOrder):
    process: ClassVar[str] = "C6"
    title: ClassVar[str] = "复机 resume"
    kind: Literal["resume"] = "resume"
    reason: SuspendReason = SuspendReason.REQUEST


class ChangeLongDistance(_LineOrder):
    process: ClassVar[str] = "C7.1"
    title: ClassVar[str] = "长途类型变更 long-distance / international access"
    kind: Literal["change_long_distance"] = "change_long_distance"
    outgoing_barring: BarOutgoing
    incoming_barring: BarIncoming | None = None


class ForwardingChange(_Strict):
    kind: ForwardingKind
    forward_to: ForwardTarget | None = None  # None erases the forwarding


class ChangeSupplementary(_LineOrder):
    process: ClassVar[str] = "C7.2"
    title: ClassVar[str] = "程控业务变更 supplementary services"
    kind: Literal["change_supplementary"] = "change_supplementary"
    forwarding: list[ForwardingChange] = Field(min_length=1, max_length=4)

    @model_validator(mode="after")
    def _unique(self) -> ChangeSupplementary:
        kinds = [f.kind for f in self.forwarding]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each forwarding kind may appear once")
        return self


class ChangeRoaming(_LineOrder):
    process: ClassVar[str] = "C7.3"
    title: ClassVar[str] = "漫游业务变更 roaming"
    kind: Literal["change_roaming"] = "change_roaming"
    roaming_barring: BarRoaming


class ChangeValueAdded(_LineOrder):
    process: ClassVar[str] = "C7.4"
    title: ClassVar[str] = "增值业务变更 value-added services"
    kind: Literal["change_value_added"] = "change_value_added"
    data: bool | None = None
    sms: bool | None = None
    volte: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> ChangeValueAdded:
        if self.data is None and self.sms is None and self.volte is None:
            raise ValueError("give at least one of data, sms, volte")
        return self


class ChangeTariff(_LineOrder):
    process: ClassVar[str] = "C8"
    title: ClassVar[str] = "优惠变更 tariff change"
    kind: Literal["change_tariff"] = "change_tariff"
    product: ProductId


class PreCancel(_LineOrder):
    process: ClassVar[str] = "C9"
    title: ClassVar[str] = "预销号 pre-cancellation"
    kind: Literal["pre_cancel"] = "pre_cancel"


class Cancel(_LineOrder):
    process: ClassVar[str] = "C9"
    title: ClassVar[str] = "销号 cancellation"
    kind: Literal["cancel"] = "cancel"


class HandsetPurchase(_LineOrder):
    process: ClassVar[str] = "C10"
    title: ClassVar[str] = "购买/换机身 handset purchase"
    kind: Literal["handset_purchase"] = "handset_purchase"
    imei: Annotated[str, Field(pattern=r"^[0-9]{15}$")]


class Recharge(_LineOrder):
    process: ClassVar[str] = "C11"
    title: ClassVar[str] = "充值 recharge"
    kind: Literal["recharge"] = "recharge"
    amount_cents: int = Field(gt=0, le=100_000_00)
    voucher: Voucher | None = None


class Payment(_LineOrder):
    process: ClassVar[str] = "C12"
    title: ClassVar[str] = "收/退通信费 payment or refund"
    kind: Literal["payment"] = "payment"
    amount_cents: int = Field(ge=-100_000_00, le=100_000_00, description="negative for a refund")

    @model_validator(mode="after")
    def _nonzero(self) -> Payment:
        if self.amount_cents == 0:
            raise ValueError("amount_cents must not be zero")
        return self


class Query(_LineOrder):
    process: ClassVar[str] = "C13"
    title: ClassVar[str] = "查询 query"
    kind: Literal["query"] = "query"
    service_password: Secret | None = None


class PortOut(_LineOrder):
    process: ClassVar[str] = "MNP"
    title: ClassVar[str] = "携号转网 number portability (port out)"
    kind: Literal["port_out"] = "port_out"
    recipient_operator: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,10}$")]


class GroupOrder(_Order):
    """和对讲 push-to-talk group product: the group order and its member changes."""

    process: ClassVar[str] = "PTT"
    title: ClassVar[str] = "和对讲 group product"
    kind: Literal["group"] = "group"
    group_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    action: Literal["create", "add_member", "change_member", "remove_member", "change", "cancel"]
    members: list[Msisdn] = Field(default_factory=list, max_length=500)
    product: ProductId | None = None


SPN_BYTES = 16
"""EF.SPN holds the name in 16 bytes: 16 GSM characters, or 7 others (UCS-2 after an 80)."""


def _spn_fits(value: str) -> str:
    if len(encode_alpha(value)) > SPN_BYTES:
        raise ValueError(
            f"does not fit the card's {SPN_BYTES} bytes: at most 16 letters, digits and the "
            "like, or 7 characters when it has any outside the GSM alphabet (e.g. Chinese)"
        )
    return value


class CardUpdate(_LineOrder):
    """空中写卡: change files of the card in the customer's phone over the air (SCP80 secured
    SMS through the SMS centre), from a vendor-neutral description. The card's OTA keys and
    profile come from the SIM stock; the proof is the card's PoR (docs/ota.md)."""

    process: ClassVar[str] = "OTA"
    title: ClassVar[str] = "空中写卡 over-the-air card update"
    kind: Literal["ota_update"] = "ota_update"
    spn: Annotated[SafeText, Field(min_length=1), AfterValidator(_spn_fits)] | None = None
    roaming_networks: list[PlmnEntry] | None = Field(
        None, max_length=12, description="EF.OPLMNwAcT in order of preference; [] clears it"
    )
    sms_centre: Annotated[str, Field(pattern=r"^\+?[0-9]{5,15}$")] | None = None

    @model_validator(mode="after")
    def _something(self) -> CardUpdate:
        if self.spn is None and self.roaming_networks is None and self.sms_centre is None:
            raise ValueError("give at least one of spn, roaming_networks, sms_centre")
        plmns = [(n.mcc, n.mnc) for n in self.roaming_networks or ()]
        if len(set(plmns)) != len(plmns):
            raise ValueError("roaming_networks: each network (mcc, mnc) once")
        return self


def roaming_list(text: str) -> list[dict[str, object]]:
    """A roaming list as people type it — ``460-00:e-utran+utran, 454-00`` (MCC-MNC, then the
    access technologies joined by ``+``; none named: all) — as `CardUpdate.roaming_networks`
    takes it; the order validates the values. ValueError names the entry that is not MCC-MNC."""
    entries: list[dict[str, object]] = []
    for item in filter(None, (part.strip() for part in text.replace("，", ",").split(","))):
        plmn, _, technologies = item.partition(":")
        mcc, dash, mnc = plmn.strip().partition("-")
        if not dash:
            raise ValueError(f"{item!r} is not MCC-MNC[:technology+…]")
        entry: dict[str, object] = {"mcc": mcc, "mnc": mnc}
        if technologies:
            entry["technologies"] = [t.strip() for t in technologies.split("+")]
        entries.append(entry)
    return entries


class StkMenu(_Strict):
    """The STK menu a card shows (title and up to 7 items, each sending a text)."""

    title: SafeText = Field(min_length=1, max_length=40)
    items: list[MenuEntry] = Field(min_length=1, max_length=7)

    @model_validator(mode="after")
    def _unique(self) -> StkMenu:
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("items: each id once")
        return self


class StkActivation(_LineOrder):
    """开通STK业务: provision the operator's STK menu on the customer's card over the air — when
    the SIM stock and the card's profile say the card has a toolkit menu. ``menu``: the
    configured one (``[ota.stk_menu]``) unless given."""

    process: ClassVar[str] = "STK"
    title: ClassVar[str] = "开通STK业务 STK service activation"
    kind: Literal["stk_activate"] = "stk_activate"
    menu: StkMenu | None = None


Order = Annotated[
    OpenAccount
    | ChangeNumber
    | SimSwap
    | ChangeCustomerInfo
    | ChangePaymentType
    | TransferOwnership
    | Suspend
    | Resume
    | ChangeLongDistance
    | ChangeSupplementary
    | ChangeRoaming
    | ChangeValueAdded
    | ChangeTariff
    | PreCancel
    | Cancel
    | HandsetPurchase
    | Recharge
    | Payment
    | Query
    | PortOut
    | GroupOrder
    | CardUpdate
    | StkActivation,
    Field(discriminator="kind"),
]
ORDER_ADAPTER: TypeAdapter[Order] = TypeAdapter(Order, config=ConfigDict(hide_input_in_errors=True))
ORDER_KINDS: dict[str, type[_Order]] = {
    t.model_fields["kind"].default: t
    for t in _Order.__subclasses__() + _LineOrder.__subclasses__() + _KeyedOrder.__subclasses__()
    if "kind" in t.model_fields
}


def parse_order(data: object) -> Order:
    """Validate an order from JSON-like data; raises pydantic.ValidationError with field names."""
    return ORDER_ADAPTER.validate_python(data)


def order_msisdns(order: Order) -> tuple[str, ...]:
    """The numbers an order touches: orders on the same number run one after another."""
    if isinstance(order, ChangeNumber):
        return (order.msisdn, order.new_msisdn)
    if isinstance(order, GroupOrder):
        return ()
    return (order.msisdn,)
