"""The osmo-hlr dialect: operations to CTRL scripts, CTRL errors to refusals, records to views.

No I/O (like `adapters.huawei_mml.mml` for the Huawei dialect): plans show the exact commands,
tests check the mapping without a server. The contract is `docs/dialects/osmo-hlr.md`.

osmo-hlr keeps one record per IMSI holding the number, the keys and two switches, CS and PS
access. So LoadAuth creates the record (keys set, access off) and CreateSubscriber gives it its
number and CS access: a record without a number is "authentication data only", the state an
MML HLR has between ADD KI and ADD TPLSUB. The lock and the data subscription share the
switches. What osmo-hlr cannot hold — barring classes, call forwarding, a lock of incoming
calls only, an IMSI change, and everything an HSS adds (templates, SMS teleservices, APN
profiles, IMS and VoLTE, CUGs, push-to-talk) — raises `NotSupported`, and the engine refuses
the order before anything is sent.

An operation is a short script of stages. The commands of a stage go out together (pipelined);
the next stage waits for every answer. A changing command may name its undo: when a later
command of the same operation is refused, the undos of what succeeded run newest first, so a
refused step leaves osmo-hlr as it found it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from adapters.network_element import NotSupported
from adapters.osmo_hlr.ctrl import MASK, Command
from gateway.operations import (
    ABSENT,
    AddApn,
    AddCug,
    ChangeMsisdn,
    ChangeTemplate,
    CreateSubscriber,
    EraseForwarding,
    LoadAuth,
    Lock,
    Operation,
    RegisterForwarding,
    RemoveApn,
    RemoveAuth,
    RemoveCug,
    RemoveSubscriber,
    SetData,
    SetImsSubscription,
    SetIncomingBarring,
    SetLock,
    SetNetworkAccess,
    SetOutgoingBarring,
    SetPushToTalk,
    SetRoamingBarring,
    SetSmsService,
    SetVolte,
    SubscriberView,
    SwapImsi,
)

DataLock = Literal["refuse", "ps-switch"]
"""How a data lock maps onto osmo-hlr's PS switch, which is also the data subscription:
'ps-switch' switches PS off and on (right only when every subscriber of the NE has packet
data); 'refuse' refuses the orders that lock data."""

_DIGITS = re.compile(r"[0-9]{1,15}")
_HEX_KEY = re.compile(r"[0-9a-fA-F]{32}")


class Refusal(NamedTuple):
    """osmo-hlr said no: a short code for machines and a text for the clerk."""

    code: str
    text: str


def _subject(var: str) -> str:
    """Whom a variable is about, in words: "IMSI 4600…" or "number 86138…"."""
    for selector, noun in (("by-imsi-", "IMSI"), ("by-msisdn-", "number"), ("by-id-", "id")):
        at = var.find(selector)
        if at >= 0:
            return f"{noun} {var[at + len(selector) :].split('.', 1)[0]}"
    return "the subscriber"


def classify(command: Command, reason: str) -> Refusal:
    """osmo-hlr's terse ERROR reason, for this command, as a refusal a clerk can act on.

    Every CTRL error is a refusal (PERMANENT): osmo-hlr has no "busy, try later" answer, and
    a connection that cannot be made or is lost is handled before an answer exists.
    """
    field = command.var.rsplit(".", 1)[-1]
    by_value = command.var in ("subscriber.create", "subscriber.delete")
    subject = f"IMSI {command.value}" if by_value else _subject(command.var)
    match reason:
        case "Subscriber already exists.":
            return Refusal("imsi-exists", f"{subject} already exists on osmo-hlr")
        case "No such subscriber." | "Subscriber doesn't exist.":
            return Refusal("unknown-subscriber", f"no subscriber with {subject} on osmo-hlr")
        case "Invalid IMSI value.":
            return Refusal("bad-imsi", f"osmo-hlr refused {subject} as an IMSI")
        case "Update MSISDN failed":
            return Refusal(
                "msisdn-in-use",
                f"number {command.value} could not be given to {subject}: "
                "it is already in use by another subscriber on osmo-hlr",
            )
        case "Invalid KI.":  # osmo-hlr says KI for a bad Milenage K too
            key = "K" if field == "aud3g" else "Ki"
            return Refusal("bad-key", f"osmo-hlr refused the {key} for {subject}")
        case "Invalid OP/OPC.":
            return Refusal("bad-key", f"osmo-hlr refused the OPc for {subject}")
        case "Value failed verification.":
            value = command.value if command.shown_value is None else command.shown_value
            return Refusal("bad-value", f"osmo-hlr refused {field} {value!r} for {subject}")
        case "Invalid value part of 'by-xxx-value' selector.":
            return Refusal("bad-selector", f"osmo-hlr refused {subject} as a selector")
        case "Command not found":
            return Refusal("unknown-variable", f"osmo-hlr does not know {command.var}")
        case "An error has occurred.":
            # osmo-hlr 1.5 answers cs-/ps-enabled by IMSI this way when the IMSI is unknown.
            return Refusal(
                "error", f"osmo-hlr could not set {field} for {subject} (no reason given)"
            )
    return Refusal("refused", f"osmo-hlr refused {command.shown()}: {reason}")


def most_specific(refusals: list[Refusal]) -> Refusal:
    """The refusal to report when several commands of a stage were refused: a named reason
    ("no subscriber with …") rather than osmo-hlr's generic one."""
    named = [r for r in refusals if r.code not in ("error", "refused")]
    return (named or refusals)[0]


# -- operations as scripts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    """A command in a script. ``undo`` puts back what it changed should a later command of the
    operation be refused; ``adopt_bare`` lets ``subscriber.create`` take over an empty record
    (see `bare`) instead of failing on it."""

    command: Command
    undo: Command | None = None
    adopt_bare: bool = False


Guard = Callable[[str], Refusal | None]
"""Judges the value a stage's single GET returned; a refusal stops the operation there."""


@dataclass(frozen=True, slots=True)
class Stage:
    """Actions sent together; ``guard`` (for a one-GET stage) decides whether to go on."""

    actions: tuple[Action, ...]
    guard: Guard | None = None
    condition: str = ""  # the guard in words, for plans

    @property
    def commands(self) -> tuple[Command, ...]:
        return tuple(a.command for a in self.actions)

    def shown(self) -> str:
        lines = [a.command.shown() for a in self.actions]
        if self.condition:
            lines[-1] += f"   # {self.condition}"
        return "\n".join(lines)


def _digits(name: str, value: str) -> str:
    """Refuses anything but 1-15 digits: a space or newline would start another CTRL field."""
    if _DIGITS.fullmatch(value) is None:
        raise ValueError(f"{name} must be 1 to 15 digits for osmo-hlr")
    return value


def _hex_key(name: str, value: str) -> str:
    if _HEX_KEY.fullmatch(value) is None:
        raise ValueError(f"{name} must be 32 hexadecimal digits")  # never echo a key
    return value


def by_imsi(imsi: str) -> str:
    return f"subscriber.by-imsi-{_digits('IMSI', imsi)}"


def by_msisdn(msisdn: str) -> str:
    return f"subscriber.by-msisdn-{_digits('MSISDN', msisdn)}"


def _set(var: str, value: str, undo: Command | None = None) -> Action:
    return Action(Command("SET", var, value), undo)


def _switch(selector: str, domain: Literal["cs", "ps"], on: bool) -> Command:
    return Command("SET", f"{selector}.{domain}-enabled", "1" if on else "0")


def _get(var: str) -> Action:
    return Action(Command("GET", var))


def _load_auth(op: LoadAuth) -> tuple[Stage, ...]:
    if op.k4sno:
        raise NotSupported(
            f"osmo-hlr keeps keys in clear; a Ki encrypted under transport key {op.k4sno} "
            "(K4SNO) cannot be loaded"
        )
    sel = by_imsi(op.imsi)
    key = _hex_key("Ki", op.ki.get_secret_value())
    if op.algorithm == "milenage":
        if op.opc is None:
            raise NotSupported("osmo-hlr needs the OPc with a Milenage key; the order has none")
        opc = _hex_key("OPc", op.opc.get_secret_value())
        aud = Command(
            "SET", f"{sel}.aud3g", f"milenage,{key},opc,{opc}", f"milenage,{MASK},opc,{MASK}"
        )
    else:
        if op.opc is not None:
            raise NotSupported(f"{op.algorithm} cards have no OPc; leave it empty")
        aud = Command("SET", f"{sel}.aud2g", f"{op.algorithm},{key}", f"{op.algorithm},{MASK}")
    create = Action(
        Command("SET", "subscriber.create", op.imsi),
        undo=Command("SET", "subscriber.delete", op.imsi),
        adopt_bare=True,
    )
    # No number and no access until CreateSubscriber: keys alone must not let a card attach.
    # The keys last: once they are seen (what `applied_in` checks), access is off too.
    off = (Action(_switch(sel, "cs", False)), Action(_switch(sel, "ps", False)))
    return Stage((create,)), Stage((*off, Action(aud)))


def _no_number(value: str) -> Refusal | None:
    if value == "none":
        return None
    return Refusal(
        "auth-in-use",
        f"the authentication data is in use by the subscriber with number {value}; "
        "remove the subscriber first",
    )


def _not_suspended(value: str) -> Refusal | None:
    if value == "1":
        return None
    return Refusal(
        "suspended",
        "the subscriber is suspended, and on osmo-hlr the data lock is the PS switch itself: "
        "packet data cannot be switched on until the subscriber is resumed",
    )


def _lock(sel: str, lock: Lock, data_lock: DataLock) -> Stage:
    if lock.incoming != lock.outgoing:
        raise NotSupported(
            "osmo-hlr bars circuit-switched service only as a whole (CS access on or off); "
            "it cannot bar only incoming or only outgoing calls"
        )
    actions = [Action(_switch(sel, "cs", not lock.incoming))]
    if data_lock == "ps-switch":
        actions.append(Action(_switch(sel, "ps", not lock.data)))
    elif lock.data:
        raise NotSupported(
            "osmo-hlr has a single PS switch, which is also the data subscription: locking "
            "data would lose whether the line has data. If every subscriber on this NE has "
            'packet data, set data_lock = "ps-switch" for it'
        )
    return Stage(tuple(actions))


def _set_data(op: SetData, data_lock: DataLock) -> tuple[Stage, ...]:
    sel = by_msisdn(op.msisdn)
    switch = Stage((Action(_switch(sel, "ps", op.enabled)),))
    if op.enabled and data_lock == "ps-switch":
        check = Stage(
            (_get(f"{sel}.cs-enabled"),), _not_suspended, "then only if it is 1 (not suspended)"
        )
        return check, switch
    return (switch,)


def script_for(op: Operation, data_lock: DataLock = "refuse") -> tuple[Stage, ...]:
    """The CTRL script that carries out ``op``; raises `NotSupported` for what osmo-hlr cannot
    hold, with a reason written for the clerk who sees the refused order."""
    match op:
        case LoadAuth():
            return _load_auth(op)
        case CreateSubscriber():
            sel = by_imsi(op.imsi)
            # CS first: when the number is seen, access is there too (what `read` reconciles).
            cs = _set(f"{sel}.cs-enabled", "1", undo=_switch(sel, "cs", False))
            msisdn = _digits("MSISDN", op.msisdn)
            number = _set(f"{sel}.msisdn", msisdn, undo=Command("SET", f"{sel}.msisdn", "none"))
            return (Stage((cs, number)),)
        case RemoveSubscriber():
            sel = by_imsi(op.imsi)
            # The number last: once it is gone (what `read` reconciles), access is off too.
            off = (Action(_switch(sel, "cs", False)), Action(_switch(sel, "ps", False)))
            return (Stage((*off, _set(f"{sel}.msisdn", "none"))),)
        case RemoveAuth():
            check = Stage(
                (_get(f"{by_imsi(op.imsi)}.msisdn"),),
                _no_number,
                "then only if it is none (a subscriber still uses the keys otherwise)",
            )
            return check, Stage((_set("subscriber.delete", op.imsi),))
        case SetLock():
            return (_lock(by_msisdn(op.msisdn), op.lock, data_lock),)
        case SetData():
            return _set_data(op, data_lock)
        case ChangeMsisdn():
            sel = by_msisdn(op.msisdn)
            return (Stage((_set(f"{sel}.msisdn", _digits("MSISDN", op.new_msisdn)),)),)
        case SetIncomingBarring() | SetOutgoingBarring() | SetRoamingBarring():
            raise NotSupported(
                "osmo-hlr has no operator-determined barring classes; it can only switch a "
                "subscriber's CS or PS access on or off as a whole"
            )
        case RegisterForwarding() | EraseForwarding():
            raise NotSupported(
                "osmo-hlr keeps no call-forwarding data (supplementary services are not "
                "provisioned in it)"
            )
        case SetNetworkAccess():
            raise NotSupported(
                "on osmo-hlr the CS and PS switches already carry the lock and the data "
                "subscription; a separate network access mode cannot be kept"
            )
        case SwapImsi():
            raise NotSupported(
                "osmo-hlr cannot move a number to another IMSI in one step, and moving it "
                "command by command could leave the number on neither card if interrupted"
            )
        case ChangeTemplate():
            raise NotSupported(
                "osmo-hlr has no service templates: a subscriber there is its CS and PS "
                "switches, so a product shows on it only as voice and packet data on or off"
            )
        case SetSmsService():
            raise NotSupported(
                "osmo-hlr keeps no teleservice subscription: every subscriber with CS access "
                "may send and receive SMS; SMS can only be barred at the SMS centre"
            )
        case AddApn() | RemoveApn():
            raise NotSupported(
                "osmo-hlr keeps no APN profiles (EPS PDN contexts) per subscriber: its PS "
                "switch is the whole packet-data subscription"
            )
        case SetImsSubscription() | SetVolte():
            raise NotSupported(
                "osmo-hlr is no HSS: it keeps no IMS subscription, so VoLTE cannot be "
                "provisioned on it"
            )
        case AddCug() | RemoveCug():
            raise NotSupported(
                "osmo-hlr keeps no closed user groups (supplementary services are not "
                "provisioned in it)"
            )
        case SetPushToTalk():
            raise NotSupported(
                "osmo-hlr keeps no push-to-talk (和对讲) service; group members need an "
                "HLR/HSS that does"
            )
    raise NotSupported(f"osmo-hlr has no equivalent of {type(op).__name__}")


def render(op: Operation, data_lock: DataLock = "refuse") -> str:
    """The CTRL commands of ``op``, one per line (without request ids), keys masked."""
    return "\n".join(stage.shown() for stage in script_for(op, data_lock))


# -- records -----------------------------------------------------------------------------------


def info_var(*, imsi: str | None = None, msisdn: str | None = None) -> str:
    """The variable that reads a whole record (``info-all``: subscriber fields and keys)."""
    if imsi is not None:
        return f"{by_imsi(imsi)}.info-all"
    if msisdn is not None:
        return f"{by_msisdn(msisdn)}.info-all"
    raise ValueError("lookup: give an IMSI or an MSISDN")


def parse_info(value: str) -> dict[str, str]:
    """The ``key<TAB>value`` lines of an ``info``/``info-aud``/``info-all`` answer."""
    fields = {}
    for line in value.splitlines():
        key, tab, item = line.partition("\t")
        if tab:
            fields[key] = item
    return fields


def bare(fields: dict[str, str]) -> bool:
    """A record with no number and no keys: what LoadAuth leaves when it is interrupted
    between creating the record and loading the keys."""
    return "msisdn" not in fields and "aud2g.algo" not in fields and "aud3g.algo" not in fields


def view_from_info(fields: dict[str, str] | None, data_lock: DataLock = "refuse") -> SubscriberView:
    """A `SubscriberView` from an ``info-all`` answer (None: no such record).

    A record with a number is a subscriber; one without is authentication data only. Locked
    means CS off; in ps-switch mode a data lock is PS off. osmo-hlr has no templates, barring
    classes or forwarding, so those stay at their "none" values.
    """
    if fields is None:
        return ABSENT
    cs = fields["nam_cs"] == "1"
    ps = fields["nam_ps"] == "1"
    msisdn = fields.get("msisdn")
    return SubscriberView(
        exists=msisdn is not None,
        auth_loaded="aud2g.algo" in fields or "aud3g.algo" in fields,
        imsi=fields["imsi"],
        msisdn=msisdn,
        lock=Lock(incoming=not cs, outgoing=not cs, data=data_lock == "ps-switch" and not ps),
        data_enabled=ps,
    )
