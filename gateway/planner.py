"""The planner: order + what the gateway knows of the lines → plan of NE operations.

Pure: no I/O, no clock (the caller passes ``now``), the same inputs always give the same plan.
One function per order kind, each readable as the business process it implements. Every step
carries its compensation — the operation that undoes it if a later step fails — or ``None``
where the step is last (nothing after it can fail) and says so in its description.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gateway.config import GatewayConfig
from gateway.identifiers import HexKey, Iccid, Secret, to_e164
from gateway.lines import ALL_LOCKED, UNLOCKED, Line, LineStatus
from gateway.operations import (
    ChangeMsisdn,
    CreateSubscriber,
    EraseForwarding,
    LoadAuth,
    Operation,
    OtaCard,
    OtaKeys,
    OtaUpdate,
    ProveAuthentication,
    RegisterForwarding,
    RemoveAuth,
    RemoveSubscriber,
    RoamingListFile,
    SendSms,
    SetData,
    SetIncomingBarring,
    SetLock,
    SetOutgoingBarring,
    SetRoamingBarring,
    SetSmsBarring,
    SmsCentreFile,
    SpnFile,
    StepOperation,
    StkMenuFile,
    SwapImsi,
    WriteCard,
)
from gateway.orders import (
    Cancel,
    CardUpdate,
    ChangeLongDistance,
    ChangeNumber,
    ChangeRoaming,
    ChangeSupplementary,
    ChangeTariff,
    ChangeValueAdded,
    OpenAccount,
    Order,
    Payment,
    PortOut,
    PreCancel,
    Recharge,
    Resume,
    SimSwap,
    StkActivation,
    Suspend,
    SuspendReason,
)

PORT_OUT_MIN_DAYS = 90
"""携号转网: a number may port out only after 90 days in the network."""


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    ne: str  # the network element or card station that carries the step out
    description: str
    op: StepOperation
    compensation: StepOperation | None = None
    best_effort: bool = False  # a notification: its failure is reported, never undoes the order


class CardKeys(BaseModel):
    """The keys of a card written at the counter (from the stock, or drawn fresh), resolved
    by the engine before planning so that the plan stays a pure function."""

    model_config = ConfigDict(frozen=True)

    ki: HexKey
    opc: HexKey
    adm1: Secret


class OtaProfile(BaseModel):
    """What the SIM stock knows of a line's card for over-the-air work — its OTA key set and
    whether its product carries a toolkit menu — resolved by the engine before planning
    (`gateway.ota_cards`), like `CardKeys`."""

    model_config = ConfigDict(frozen=True)

    iccid: Iccid
    product: str
    keys: OtaKeys
    stk: bool


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    steps: list[Step] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class PlanRefused(Exception):
    """The order cannot be carried out as things stand; ``reason`` is for the clerk."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Notice(Protocol):
    @property
    def sender(self) -> str: ...

    @property
    def text(self) -> str: ...


class Notices(Protocol):
    """The SMS texts per notification kind and language (adapters/smpp/sms_templates.toml)."""

    def render(self, kind: str, language: str, **values: str) -> Notice: ...


Route = Callable[[str, str], str]
"""(imsi, e164 msisdn) → name of the NE that serves the subscriber."""


class _Builder:
    def __init__(self, ne: str) -> None:
        self.ne = ne
        self.steps: list[Step] = []
        self.notes: list[str] = []

    def add(
        self,
        description: str,
        op: StepOperation,
        undo: Operation | None,
        *,
        at: str | None = None,
        best_effort: bool = False,
    ) -> None:
        self.steps.append(
            Step(
                index=len(self.steps),
                ne=at or self.ne,
                description=description,
                op=op,
                compensation=undo,
                best_effort=best_effort,
            )
        )

    def plan(self) -> Plan:
        return Plan(steps=self.steps, notes=self.notes)


def plan_order(
    order: Order,
    lines: Mapping[str, Line | None],
    config: GatewayConfig,
    route: Route,
    now: datetime,
    card: CardKeys | None = None,
    notices: Notices | None = None,
    ota: OtaProfile | None = None,
) -> Plan:
    """The plan for ``order``; ``lines`` holds every number the order touches (None = free);
    ``card`` the keys of a card to be written at the counter, when the order writes one;
    ``notices`` the SMS texts, when an SMS centre is configured; ``ota`` the line's card, when
    the order works on it over the air."""
    planner = _PLANNERS.get(type(order))
    if planner is None:
        return Plan(notes=[f"{order.title}: customer or billing data only, no network change"])
    if isinstance(order, OpenAccount | SimSwap):
        card = _card_keys(order, card)
    return planner(order, _Context(lines, config, route, now, card, notices, ota))


@dataclass(frozen=True)
class _Context:
    """What a plan may depend on besides the order itself."""

    lines: Mapping[str, Line | None]
    config: GatewayConfig
    route: Route
    now: datetime
    card: CardKeys | None
    notices: Notices | None
    ota: OtaProfile | None = None

    def line(self, msisdn: str) -> Line:
        line = self.lines.get(msisdn)
        if line is None:
            raise PlanRefused(f"number {msisdn} has no active line")
        return line

    def e164(self, msisdn: str) -> str:
        return to_e164(msisdn, self.config.country_code)


def _card_keys(order: OpenAccount | SimSwap, card: CardKeys | None) -> CardKeys | None:
    if order.card is None:
        return None
    if card is None:
        raise PlanRefused("the keys of the card to write are not known")
    return card


def _keys(order: OpenAccount | SimSwap, card: CardKeys | None) -> tuple[SecretStr, SecretStr]:
    if card is not None:
        return card.ki, card.opc
    assert order.ki is not None and order.opc is not None  # the order's validator saw to it
    return order.ki, order.opc


def _write_card_step(
    b: _Builder,
    order: OpenAccount | SimSwap,
    card: CardKeys,
    iccid: str,
    imsi: str,
    e164: str,
    config: GatewayConfig,
) -> None:
    assert order.card is not None
    b.add(
        f"write the blank card {iccid} at {order.card.station} (空白卡写卡); a written card "
        "is not un-written: a failed order leaves it to be re-blanked",
        WriteCard(
            iccid=iccid,
            imsi=imsi,
            ki=card.ki,
            opc=card.opc,
            msisdn=e164,
            spn=config.card_spn,
            adm1=card.adm1,
        ),
        None,
        at=order.card.station,
    )


def _proof_step(b: _Builder, order: OpenAccount | SimSwap, imsi: str) -> None:
    assert order.card is not None
    b.add(
        f"prove it: a vector from {b.ne}'s authentication centre, the card's RES = XRES",
        ProveAuthentication(imsi=imsi, ne=b.ne),
        None,
        at=order.card.station,
    )


def _open_account(order: OpenAccount, ctx: _Context) -> Plan:
    if ctx.lines.get(order.msisdn) is not None:
        raise PlanRefused(f"number {order.msisdn} is already in use")
    product = ctx.config.product(order.product)
    if product is None:
        raise PlanRefused(f"unknown product {order.product}")
    e164 = ctx.e164(order.msisdn)
    b = _Builder(ctx.route(order.imsi, e164))
    ki, opc = _keys(order, ctx.card)
    if ctx.card is not None:
        _write_card_step(b, order, ctx.card, order.iccid, order.imsi, e164, ctx.config)
    b.add(
        "load authentication data (Ki/OPc)",
        LoadAuth(imsi=order.imsi, ki=ki, opc=opc),
        RemoveAuth(imsi=order.imsi),
    )
    b.add(
        f"create subscriber from template {product.template_id} ({product.name})",
        CreateSubscriber(imsi=order.imsi, msisdn=e164, template_id=product.template_id),
        RemoveSubscriber(imsi=order.imsi),
    )
    if product.data:
        b.add(
            "enable packet data (GPRS/EPS)",
            SetData(msisdn=e164, enabled=True),
            SetData(msisdn=e164, enabled=False),
        )
    if ctx.card is not None:
        _proof_step(b, order, order.imsi)
    _notice_step(b, ctx, order, "welcome", order.msisdn, msisdn=order.msisdn)
    return b.plan()


def _change_number(order: ChangeNumber, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    if ctx.lines.get(order.new_msisdn) is not None:
        raise PlanRefused(f"number {order.new_msisdn} is already in use")
    old, new = (
        ctx.e164(order.msisdn),
        ctx.e164(order.new_msisdn),
    )
    b = _Builder(line.ne)
    b.add(
        f"change number {old} → {new}",
        ChangeMsisdn(msisdn=old, new_msisdn=new),
        ChangeMsisdn(msisdn=new, new_msisdn=old),
    )
    _notice_step(
        b,
        ctx,
        order,
        "number_change",
        order.new_msisdn,
        old_msisdn=order.msisdn,
        new_msisdn=order.new_msisdn,
    )
    b.notes.append(f"number {order.msisdn} returns to the pool as recycled (回收)")
    return b.plan()


def _sim_swap(order: SimSwap, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    if order.new_imsi == line.imsi:
        raise PlanRefused("the new card has the same IMSI as the current one")
    e164 = ctx.e164(order.msisdn)
    b = _Builder(line.ne)
    ki, opc = _keys(order, ctx.card)
    if ctx.card is not None:
        _write_card_step(b, order, ctx.card, order.new_iccid, order.new_imsi, e164, ctx.config)
    b.add(
        "load the new card's authentication data",
        LoadAuth(imsi=order.new_imsi, ki=ki, opc=opc),
        RemoveAuth(imsi=order.new_imsi),
    )
    b.add(
        f"move the subscriber to the new IMSI {order.new_imsi}",
        SwapImsi(msisdn=e164, new_imsi=order.new_imsi),
        SwapImsi(msisdn=e164, new_imsi=line.imsi),
    )
    if ctx.card is not None:
        _proof_step(b, order, order.new_imsi)
    b.add(
        f"retire the old card's authentication data (IMSI {line.imsi}); last step, "
        "nothing to undo after it",
        RemoveAuth(imsi=line.imsi),
        None,
    )
    return b.plan()


def _lock_step(b: _Builder, line: Line, e164: str, lock: bool, why: str) -> None:
    target = ALL_LOCKED if lock else UNLOCKED
    b.add(why, SetLock(msisdn=e164, lock=target), SetLock(msisdn=e164, lock=line.network.lock))


def _sms_barring_step(b: _Builder, ctx: _Context, e164: str, barred: bool) -> None:
    """Bar or unbar SMS at the SMS centre, when one is configured."""
    smsc = ctx.config.smsc
    if smsc is None:
        return
    b.add(
        f"{'bar' if barred else 'unbar'} SMS at the SMS centre",
        SetSmsBarring(msisdn=e164, barred=barred),
        SetSmsBarring(msisdn=e164, barred=not barred),
        at=smsc.name,
    )


def _notice_step(
    b: _Builder, ctx: _Context, order: Order, kind: str, to: str, **values: str
) -> None:
    """Tell the customer by SMS (best effort: a notice that fails never undoes the order).

    ``to`` is the 11-digit number; the reference is stable per order and step, so a notice
    sent again after an unknown outcome is recognised by the SMS centre.
    """
    smsc = ctx.config.smsc
    if smsc is None or ctx.notices is None:
        return
    notice = ctx.notices.render(kind, order.language, **values)
    b.add(
        f"notify the customer by SMS ({kind.replace('_', ' ')})",
        SendSms(
            msisdn=ctx.e164(to),
            text=notice.text,
            sender=notice.sender,
            reference=f"{order.order_id}/{len(b.steps)}",
        ),
        None,
        at=smsc.name,
        best_effort=True,
    )


def _suspend(order: Suspend, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    if line.status is LineStatus.PRE_CANCELLED:
        raise PlanRefused("the line is pre-cancelled; it is already out of service")
    if order.reason in line.suspended_for:
        raise PlanRefused(f"the line is already suspended ({order.reason.value})")
    b = _Builder(line.ne)
    if line.suspended_for:
        b.notes.append("already suspended for another reason: no network change")
        return b.plan()
    e164 = ctx.e164(order.msisdn)
    # The notice goes first: once SMS is barred, the SMS centre would refuse it.
    _notice_step(b, ctx, order, "suspension", order.msisdn, msisdn=order.msisdn)
    _lock_step(b, line, e164, True, "bar incoming, outgoing and data (停机)")
    _sms_barring_step(b, ctx, e164, True)
    return b.plan()


def _resume_steps(
    b: _Builder, line: Line, reason: SuspendReason, order: Order, msisdn: str, ctx: _Context
) -> None:
    remaining = line.suspended_for - {reason}
    if remaining:
        held = ", ".join(sorted(r.value for r in remaining))
        b.notes.append(f"still suspended for {held}: no network change")
        return
    e164 = ctx.e164(msisdn)
    _sms_barring_step(b, ctx, e164, False)
    _lock_step(b, line, e164, False, "lift the barring of incoming, outgoing and data (复机)")
    _notice_step(b, ctx, order, "resumption", msisdn, msisdn=msisdn)


def _resume(order: Resume, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    if order.reason not in line.suspended_for:
        if line.suspended_for:
            held = ", ".join(sorted(r.value for r in line.suspended_for))
            raise PlanRefused(f"the line is suspended for {held}, not {order.reason.value}")
        raise PlanRefused("the line is not suspended")
    b = _Builder(line.ne)
    _resume_steps(b, line, order.reason, order, order.msisdn, ctx)
    return b.plan()


def _after_payment(order: Recharge | Payment, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    b = _Builder(line.ne)
    if SuspendReason.ARREARS in line.suspended_for:
        _resume_steps(b, line, SuspendReason.ARREARS, order, order.msisdn, ctx)
    else:
        b.notes.append("balance only: no network change")
    if isinstance(order, Recharge):
        amount = f"{order.amount_cents / 100:.2f}".removesuffix(".00")
        _notice_step(b, ctx, order, "recharge", order.msisdn, msisdn=order.msisdn, amount=amount)
    return b.plan()


def _change_long_distance(order: ChangeLongDistance, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    e164 = ctx.e164(order.msisdn)
    b = _Builder(line.ne)
    b.add(
        f"outgoing barring class {order.outgoing_barring.value}",
        SetOutgoingBarring(msisdn=e164, barring=order.outgoing_barring),
        SetOutgoingBarring(msisdn=e164, barring=line.network.bar_outgoing),
    )
    if order.incoming_barring is not None:
        b.add(
            f"incoming barring class {order.incoming_barring.value}",
            SetIncomingBarring(msisdn=e164, barring=order.incoming_barring),
            SetIncomingBarring(msisdn=e164, barring=line.network.bar_incoming),
        )
    return b.plan()


def _forward_target(number: str, country_code: str) -> str:
    digits = number.lstrip("+")
    if not number.startswith("+") and len(digits) == 11 and digits.startswith("1"):
        return country_code + digits
    return digits


def _change_supplementary(order: ChangeSupplementary, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    e164 = ctx.e164(order.msisdn)
    b = _Builder(line.ne)
    for change in order.forwarding:
        before = line.network.forwarding.get(change.kind)
        undo: Operation
        if before is None:
            undo = EraseForwarding(msisdn=e164, kind=change.kind)
        else:
            undo = RegisterForwarding(msisdn=e164, kind=change.kind, forward_to=before)
        if change.forward_to is None:
            if before is None:
                b.notes.append(f"{change.kind.value} is not registered: nothing to erase")
                continue
            b.add(
                f"erase call forwarding {change.kind.value}",
                EraseForwarding(msisdn=e164, kind=change.kind),
                undo,
            )
        else:
            target = _forward_target(change.forward_to, ctx.config.country_code)
            b.add(
                f"register call forwarding {change.kind.value} to {target}",
                RegisterForwarding(msisdn=e164, kind=change.kind, forward_to=target),
                undo,
            )
    return b.plan()


def _change_roaming(order: ChangeRoaming, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    e164 = ctx.e164(order.msisdn)
    b = _Builder(line.ne)
    b.add(
        f"roaming barring {order.roaming_barring.value}",
        SetRoamingBarring(msisdn=e164, barring=order.roaming_barring),
        SetRoamingBarring(msisdn=e164, barring=line.network.bar_roaming),
    )
    return b.plan()


def _data_step(b: _Builder, line: Line, e164: str, enabled: bool) -> None:
    if line.network.data_enabled == enabled:
        b.notes.append(f"packet data already {'on' if enabled else 'off'}")
        return
    b.add(
        f"packet data {'on' if enabled else 'off'}",
        SetData(msisdn=e164, enabled=enabled),
        SetData(msisdn=e164, enabled=not enabled),
    )


def _change_value_added(order: ChangeValueAdded, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    if order.sms is not None:
        raise PlanRefused(
            "SMS service is barred and unbarred at the SMS centre, "
            "which this gateway is not connected to yet"
        )
    if order.volte is not None:
        raise PlanRefused("VoLTE is provisioned in the IMS, which this gateway does not reach")
    b = _Builder(line.ne)
    if order.data is not None:
        _data_step(b, line, ctx.e164(order.msisdn), order.data)
    return b.plan()


def _change_tariff(order: ChangeTariff, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    product = ctx.config.product(order.product)
    if product is None:
        raise PlanRefused(f"unknown product {order.product}")
    if product.id == line.product:
        raise PlanRefused(f"the line already has product {product.id}")
    b = _Builder(line.ne)
    _data_step(b, line, ctx.e164(order.msisdn), product.data)
    return b.plan()


def _pre_cancel(order: PreCancel, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    if line.status is LineStatus.PRE_CANCELLED:
        raise PlanRefused("the line is already pre-cancelled")
    b = _Builder(line.ne)
    e164 = ctx.e164(order.msisdn)
    if line.network.lock == ALL_LOCKED:
        b.notes.append("service already barred: no network change")
    else:
        _lock_step(
            b,
            line,
            e164,
            True,
            "stop service; the number is held until the formal cancellation (预销号)",
        )
    if not line.network.sms_barred:
        _sms_barring_step(b, ctx, e164, True)
    b.notes.append("formal cancellation (销号) may follow after the hold period")
    return b.plan()


def _removal(line: Line, e164: str, why: str, ctx: _Context) -> Plan:
    b = _Builder(line.ne)
    if line.network.sms_barred:
        # The number goes back to the pool clean; first, so that it is undone if the
        # removal fails.
        _sms_barring_step(b, ctx, e164, False)
    b.add(
        f"remove the subscriber ({why})",
        RemoveSubscriber(imsi=line.imsi),
        CreateSubscriber(imsi=line.imsi, msisdn=e164, template_id=line.network.template_id or 0),
    )
    b.add(
        "remove the authentication data; last step, nothing to undo after it",
        RemoveAuth(imsi=line.imsi),
        None,
    )
    return b.plan()


def _cancel(order: Cancel, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    if line.status is not LineStatus.PRE_CANCELLED:
        raise PlanRefused("a line must be pre-cancelled (预销号) before it is cancelled")
    hold = timedelta(days=ctx.config.cancel_hold_days)
    if ctx.now - line.status_since < hold:
        until = (line.status_since + hold).date().isoformat()
        raise PlanRefused(f"the number is held after pre-cancellation until {until}")
    return _removal(line, ctx.e164(order.msisdn), "销号 cancellation", ctx)


def _port_out(order: PortOut, ctx: _Context) -> Plan:
    line = ctx.line(order.msisdn)
    if ctx.now - line.activated_at < timedelta(days=PORT_OUT_MIN_DAYS):
        raise PlanRefused(
            f"a number may port out only after {PORT_OUT_MIN_DAYS} days in the network"
        )
    if SuspendReason.ARREARS in line.suspended_for:
        raise PlanRefused("the line is suspended for arrears; settle the bill before porting")
    if not line.real_name:
        raise PlanRefused("the line is not real-name registered; register at an outlet first")
    return _removal(
        line,
        ctx.e164(order.msisdn),
        f"ported out to {order.recipient_operator}",
        ctx,
    )


def _ota_card(ctx: _Context, msisdn: str) -> tuple[str, OtaProfile, OtaCard]:
    """The OTA target, the line's card as the SIM stock knows it, and how to reach it."""
    line = ctx.line(msisdn)
    if ctx.config.ota is None:
        raise PlanRefused("no OTA target is configured ([ota]): cards cannot be reached")
    profile = ctx.ota
    if profile is None or profile.iccid != line.iccid:
        raise PlanRefused(f"the OTA keys of card {line.iccid} are not known")
    card = OtaCard(iccid=profile.iccid, msisdn=ctx.e164(msisdn), keys=profile.keys)
    return ctx.config.ota.name, profile, card


_OTA_PROOF = (
    "proven by the card's PoR; a PoR that does not come is settled by reading the files back "
    "over the air. A card file is not un-written: last step, nothing to undo after it"
)


def _ota_update(order: CardUpdate, ctx: _Context) -> Plan:
    target, profile, card = _ota_card(ctx, order.msisdn)
    files: list[SpnFile | RoamingListFile | SmsCentreFile] = []
    if order.spn is not None:
        files.append(SpnFile(name=order.spn))
    if order.roaming_networks is not None:
        files.append(RoamingListFile(networks=tuple(order.roaming_networks)))
    if order.sms_centre is not None:
        address = _forward_target(order.sms_centre, ctx.config.country_code)
        files.append(SmsCentreFile(address=address))
    b = _Builder(target)
    names = ", ".join(_CARD_FILE_TITLES[f.file] for f in files)
    b.add(
        f"update card {profile.iccid} over the air ({names}); {_OTA_PROOF}",
        OtaUpdate(card=card, files=tuple(files)),
        None,
    )
    return b.plan()


def _stk_activate(order: StkActivation, ctx: _Context) -> Plan:
    target, profile, card = _ota_card(ctx, order.msisdn)
    if not profile.stk:
        raise PlanRefused(
            f"card {profile.iccid} (product {profile.product}) has no SIM toolkit menu: STK "
            "cannot be activated on it; replace the card (补卡) with an STK card first"
        )
    assert ctx.config.ota is not None  # _ota_card saw to it
    menu = order.menu or ctx.config.ota.stk_menu
    if menu is None:
        raise PlanRefused("the order gives no STK menu and none is configured ([ota.stk_menu])")
    b = _Builder(target)
    b.add(
        f"provision the STK menu “{menu.title}” ({len(menu.items)} items) on card "
        f"{profile.iccid} over the air (开通STK业务); {_OTA_PROOF}",
        OtaUpdate(card=card, files=(StkMenuFile(title=menu.title, items=tuple(menu.items)),)),
        None,
    )
    return b.plan()


_CARD_FILE_TITLES = {
    "spn": "service provider name",
    "oplmnwact": "roaming list",
    "smsp": "SMS centre",
    "stk_menu": "STK menu",
}

_PLANNERS: dict[type, Callable[..., Plan]] = {
    OpenAccount: _open_account,
    ChangeNumber: _change_number,
    SimSwap: _sim_swap,
    Suspend: _suspend,
    Resume: _resume,
    Recharge: _after_payment,
    Payment: _after_payment,
    ChangeLongDistance: _change_long_distance,
    ChangeSupplementary: _change_supplementary,
    ChangeRoaming: _change_roaming,
    ChangeValueAdded: _change_value_added,
    ChangeTariff: _change_tariff,
    PreCancel: _pre_cancel,
    Cancel: _cancel,
    PortOut: _port_out,
    CardUpdate: _ota_update,
    StkActivation: _stk_activate,
}
