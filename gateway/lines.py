"""The gateway's record of each line (subscription): what it sold and what it told the network.

The network part is a `SubscriberView` kept up to date by applying each completed operation to
it (`apply_operation`), so the planner can compute compensations ("put back the lock as it was")
without asking the NE first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from gateway.identifiers import Iccid, Imsi, Msisdn
from gateway.operations import (
    ABSENT,
    CARD_OPERATIONS,
    AddApn,
    AddCug,
    ChangeMsisdn,
    ChangeTemplate,
    CreateSubscriber,
    EraseForwarding,
    LoadAuth,
    Lock,
    OtaRead,
    OtaUpdate,
    ProveAuthentication,
    RegisterForwarding,
    RemoveApn,
    RemoveAuth,
    RemoveCug,
    RemoveSubscriber,
    SendSms,
    SetData,
    SetImsSubscription,
    SetIncomingBarring,
    SetLock,
    SetNetworkAccess,
    SetOutgoingBarring,
    SetPushToTalk,
    SetRoamingBarring,
    SetSmsBarring,
    SetSmsService,
    SetVolte,
    StepOperation,
    SubscriberView,
    SwapImsi,
    WriteCard,
)
from gateway.orders import (
    Cancel,
    ChangeNumber,
    ChangePaymentType,
    ChangeTariff,
    GroupOrder,
    OpenAccount,
    Order,
    Payment,
    PortOut,
    PreCancel,
    Recharge,
    Resume,
    SimSwap,
    Suspend,
    SuspendReason,
)

if TYPE_CHECKING:
    from gateway.planner import Plan


class LineStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    PRE_CANCELLED = "pre_cancelled"  # 预销号: service stopped, number held


class Line(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    msisdn: Msisdn
    imsi: Imsi
    iccid: Iccid
    ne: str
    product: str
    status: LineStatus = LineStatus.ACTIVE
    suspended_for: frozenset[SuspendReason] = frozenset()
    payment: str = "prepaid"
    real_name: bool = True
    activated_at: datetime
    status_since: datetime
    network: SubscriberView = Field(default=ABSENT)


def apply_operation(view: SubscriberView, op: StepOperation) -> SubscriberView:
    """The NE's view of a subscriber after ``op`` succeeded on it."""
    match op:
        case LoadAuth():
            return view.model_copy(update={"auth_loaded": True, "imsi": view.imsi or op.imsi})
        case RemoveAuth():
            return view.model_copy(update={"auth_loaded": False})
        case CreateSubscriber():
            return SubscriberView(
                exists=True,
                auth_loaded=True,
                imsi=op.imsi,
                msisdn=op.msisdn,
                template_id=op.template_id,
            )
        case RemoveSubscriber():
            return SubscriberView(exists=False, auth_loaded=view.auth_loaded, imsi=op.imsi)
        case SetLock():
            return view.model_copy(update={"lock": op.lock})
        case SetIncomingBarring():
            return view.model_copy(update={"bar_incoming": op.barring})
        case SetOutgoingBarring():
            return view.model_copy(update={"bar_outgoing": op.barring})
        case SetRoamingBarring():
            return view.model_copy(update={"bar_roaming": op.barring})
        case RegisterForwarding():
            return view.model_copy(
                update={"forwarding": {**view.forwarding, op.kind: op.forward_to}}
            )
        case EraseForwarding():
            rest = {k: v for k, v in view.forwarding.items() if k is not op.kind}
            return view.model_copy(update={"forwarding": rest})
        case SetData():
            return view.model_copy(update={"data_enabled": op.enabled})
        case SetNetworkAccess():
            return view.model_copy(update={"network_access": op.mode})
        case ChangeMsisdn():
            return view.model_copy(update={"msisdn": op.new_msisdn})
        case SwapImsi():
            return view.model_copy(update={"imsi": op.new_imsi})
        case SetSmsBarring():
            return view.model_copy(update={"sms_barred": op.barred})
        case ChangeTemplate():
            return view.model_copy(update={"template_id": op.template_id})
        case AddApn():
            others = [p for p in view.apns if p.context_id != op.profile.context_id]
            return _updated(view, apns=(*others, op.profile))
        case RemoveApn():
            return _updated(view, apns=[p for p in view.apns if p.context_id != op.context_id])
        case SetImsSubscription():
            # VoLTE is a flag of the IMS subscription: it goes with it.
            return view.model_copy(update={"ims": op.enabled, "volte": view.volte and op.enabled})
        case SetVolte():
            return view.model_copy(update={"volte": op.enabled})
        case AddCug():
            return _updated(view, cugs=(*(c for c in view.cugs if c.index != op.cug.index), op.cug))
        case RemoveCug():
            return _updated(view, cugs=[c for c in view.cugs if c.index != op.index])
        case SetPushToTalk():
            return view.model_copy(update={"ptt_group": op.group})
        case SetSmsService():
            return view.model_copy(update={"sms_mo": op.mo, "sms_mt": op.mt})
        case WriteCard() | ProveAuthentication() | SendSms() | OtaUpdate() | OtaRead():
            return view  # the card, or the customer's phone, changed: not the NE's record
    raise AssertionError(f"unhandled operation {op!r}")


def _updated(view: SubscriberView, **changes: object) -> SubscriberView:
    """``view`` with ``changes`` validated (``model_copy`` does not validate, and the view keeps
    its PDN contexts and CUGs sorted)."""
    return SubscriberView.model_validate({**view.model_dump(), **changes})


ALL_LOCKED = Lock(incoming=True, outgoing=True, data=True)
UNLOCKED = Lock()


def lines_after(
    order: Order, before: Mapping[str, Line | None], plan: Plan, now: datetime
) -> dict[str, Line | None]:
    """The lines an order leaves behind once every step of its plan has succeeded."""
    if isinstance(order, OpenAccount):
        view = ABSENT
        for step in plan.steps:
            view = apply_operation(view, step.op)
        return {
            order.msisdn: Line(
                msisdn=order.msisdn,
                imsi=order.imsi,
                iccid=order.iccid,
                # The NE that holds the subscriber, not the counter's card station.
                ne=next((s.ne for s in plan.steps if not isinstance(s.op, CARD_OPERATIONS)), ""),
                product=order.product,
                activated_at=now,
                status_since=now,
                network=view,
            )
        }
    if isinstance(order, GroupOrder):
        return {}
    line = before.get(order.msisdn)
    if line is None:
        return {}
    view = line.network
    for step in plan.steps:
        view = apply_operation(view, step.op)
    line = line.model_copy(update={"network": view})
    match order:
        case ChangeNumber():
            moved = line.model_copy(update={"msisdn": order.new_msisdn})
            return {order.msisdn: None, order.new_msisdn: moved}
        case Cancel() | PortOut():
            return {order.msisdn: None}
        case SimSwap():
            line = line.model_copy(update={"imsi": order.new_imsi, "iccid": order.new_iccid})
        case Suspend():
            line = _with_suspensions(line, line.suspended_for | {order.reason}, now)
        case Resume():
            line = _with_suspensions(line, line.suspended_for - {order.reason}, now)
        case Recharge() | Payment():
            line = _with_suspensions(line, line.suspended_for - {SuspendReason.ARREARS}, now)
        case PreCancel():
            line = line.model_copy(update={"status": LineStatus.PRE_CANCELLED, "status_since": now})
        case ChangeTariff():
            line = line.model_copy(update={"product": order.product})
        case ChangePaymentType():
            line = line.model_copy(update={"payment": order.payment})
    return {order.msisdn: line}


def _with_suspensions(line: Line, reasons: frozenset[SuspendReason], now: datetime) -> Line:
    if line.status is LineStatus.PRE_CANCELLED:
        return line.model_copy(update={"suspended_for": reasons})
    status = LineStatus.SUSPENDED if reasons else LineStatus.ACTIVE
    since = now if status is not line.status else line.status_since
    return line.model_copy(
        update={"suspended_for": reasons, "status": status, "status_since": since}
    )
