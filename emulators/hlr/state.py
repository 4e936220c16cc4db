"""The HLR's data — authentication records and subscribers — kept consistent the way an HLR is.

Rules (each refusal raises `CommandError` before anything changes, so commands are atomic):
- one authentication record (KI) per IMSI; no subscriber without one;
- one subscriber per IMSI, one ISDN per subscriber, and an ISDN belongs to one subscriber;
- a KI in use by a subscriber cannot be removed; a SIM swap (MOD IMSI) only moves a subscriber
  to an IMSI whose KI is loaded and that is not a subscriber yet;
- a subscriber's PDN contexts differ in id and APN, its CUGs in index and interlock code, and
  it has ten CUGs at most; VoLTE needs an IMS subscription and EPS data (a PDN context), so
  neither the IMS subscription nor the last PDN context goes while VoLTE is on.

Each KI record also keeps the authentication centre's SQN for that card (the last sequence
number put into a vector, `auc.py`), so it lives and dies with the keys: a KI loaded again
starts from SQN 0, as a new card would.

Values arrive already validated by the MML layer (`commands.py`); what is checked here is
what only the state can know. Keys are stored as given (this is an emulator) and leave this
module only through `snapshot(reveal_secrets=True)`, which feeds the state file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from emulators.hlr.codes import CommandError, Outcome
from emulators.hlr.services import (
    MAX_CUGS,
    PTT_GROUP,
    CugMembership,
    PdnContext,
    integer,
)

IMSI = re.compile(r"[0-9]{15}\Z")
E164 = re.compile(r"[0-9]{1,15}\Z")
HEX32 = re.compile(r"[0-9A-Fa-f]{32}\Z")

NAM_VALUES = ("BOTH", "MSC", "SGSN")
ODBIC_VALUES = ("NOBIC", "BAIC", "BICROAM")
ODBOC_VALUES = ("NOBOC", "BAOC", "BOIC", "BOICEXHC", "BOCROAM")
ODBROAM_VALUES = ("NOBAR", "BROHPLMN", "BROHPLMNC", "BROHPLMNCGPRS")
FORWARDINGS = ("CFU", "CFB", "CFNRY", "CFNRC")
# Which algorithms each card type runs: a USIM authenticates with Milenage, a 2G SIM with COMP128.
ALGORITHMS = {"USIM": ("MILENAGE",), "SIM": ("COMP128_1", "COMP128_2", "COMP128_3")}
# The data template a subscriber gets when packet data is switched on without naming one.
DEFAULT_GPRS_TEMPLATE = 1
MASK = "****"
SQN_LIMIT = 1 << 48
"""SQNs are 48-bit numbers (TS 33.102 §6.3.2)."""


@dataclass(frozen=True, slots=True)
class AuthRecord:
    """One row of the KI table."""

    imsi: str
    ki: str
    opc: str | None
    k4sno: int
    cardtype: str
    alg: str
    sqn: int = 0  # the last SQN the AuC put into a vector for this card

    def to_dict(self, *, reveal_secrets: bool) -> dict[str, Any]:
        return {
            "imsi": self.imsi,
            "cardtype": self.cardtype,
            "alg": self.alg,
            "k4sno": self.k4sno,
            "ki": self.ki if reveal_secrets else MASK,
            "opc": None if self.opc is None else (self.opc if reveal_secrets else MASK),
            "sqn": self.sqn,
        }

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> AuthRecord:
        cardtype = _choice(where, data, "cardtype", tuple(ALGORITHMS))
        opc = data.get("opc")
        if opc is not None and not (isinstance(opc, str) and HEX32.match(opc)):
            raise ValueError(f"{where}.opc: expected 32 hex digits or null")
        k4sno = data.get("k4sno")
        if not isinstance(k4sno, int) or isinstance(k4sno, bool) or k4sno < 0:
            raise ValueError(f"{where}.k4sno: expected a non-negative integer")
        sqn = data.get("sqn", 0)  # absent in files written before the AuC existed
        if not isinstance(sqn, int) or isinstance(sqn, bool) or not 0 <= sqn < SQN_LIMIT:
            raise ValueError(f"{where}.sqn: expected an integer from 0 to 2**48 - 1")
        return cls(
            imsi=_text(where, data, "imsi", IMSI),
            ki=_text(where, data, "ki", HEX32),
            opc=opc,
            k4sno=k4sno,
            cardtype=cardtype,
            alg=_choice(where, data, "alg", ALGORITHMS[cardtype]),
            sqn=sqn,
        )


@dataclass(frozen=True, slots=True)
class Template:
    """The initial service data of a subscriber created with `ADD TPLSUB:…,TPLID=n`."""

    nam: str = "BOTH"
    ic: bool = False
    oc: bool = False
    gprslock: bool = False
    odbic: str = "NOBIC"
    odboc: str = "NOBOC"
    odbroam: str = "NOBAR"
    gprs: bool = False
    gprstplid: int | None = None
    ts21: bool = True  # SMS-MT
    ts22: bool = True  # SMS-MO

    @classmethod
    def from_mapping(cls, where: str, data: Mapping[str, Any]) -> Template:
        """A template from a config file; keys are the LST SUB field names, any case."""
        known = {f.name for f in fields(cls)}
        values = {str(k).lower(): v for k, v in data.items()}
        for key in values:
            if key not in known:
                raise ValueError(
                    f"{where}.{key}: unknown field (known: {', '.join(sorted(known))})"
                )
        template = cls()
        checked: dict[str, Any] = {}
        for key, value in values.items():
            default = getattr(template, key)
            if key == "gprstplid":
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                    raise ValueError(f"{where}.{key}: expected an integer or null")
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{where}.{key}: expected true or false")
            elif value not in _ENUMS[key]:
                raise ValueError(f"{where}.{key}: expected one of {', '.join(_ENUMS[key])}")
            checked[key] = value
        return replace(template, **checked)


_ENUMS = {
    "nam": NAM_VALUES,
    "odbic": ODBIC_VALUES,
    "odboc": ODBOC_VALUES,
    "odbroam": ODBROAM_VALUES,
}


def default_templates() -> dict[int, Template]:
    """Templates 1–9 as the contract describes: all plain, template 2 with packet data."""
    templates = {tplid: Template() for tplid in range(1, 10)}
    templates[2] = Template(gprs=True, gprstplid=DEFAULT_GPRS_TEMPLATE)
    return templates


@dataclass(slots=True)
class Subscriber:
    """A subscriber's service data; `forwarding` maps CFU/CFB/CFNRY/CFNRC to a number, `pdn`
    context ids and `cugs` CUG indexes to their records; `imstplid` is None without an IMS
    subscription, `pttgrp` None without push-to-talk."""

    imsi: str
    isdn: str
    tplid: int
    nam: str
    ic: bool
    oc: bool
    gprslock: bool
    odbic: str
    odboc: str
    odbroam: str
    gprs: bool
    gprstplid: int | None
    ts21: bool = True
    ts22: bool = True
    forwarding: dict[str, str] = field(default_factory=dict)
    pdn: dict[int, PdnContext] = field(default_factory=dict)
    imstplid: int | None = None
    volte: bool = False
    cugs: dict[int, CugMembership] = field(default_factory=dict)
    pttgrp: str | None = None

    @classmethod
    def from_template(cls, imsi: str, isdn: str, tplid: int, tpl: Template) -> Subscriber:
        return cls(
            imsi=imsi,
            isdn=isdn,
            tplid=tplid,
            nam=tpl.nam,
            ic=tpl.ic,
            oc=tpl.oc,
            gprslock=tpl.gprslock,
            odbic=tpl.odbic,
            odboc=tpl.odboc,
            odbroam=tpl.odbroam,
            gprs=tpl.gprs,
            gprstplid=tpl.gprstplid,
            ts21=tpl.ts21,
            ts22=tpl.ts22,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "imsi": self.imsi,
            "isdn": self.isdn,
            "tplid": self.tplid,
            "nam": self.nam,
            "ic": self.ic,
            "oc": self.oc,
            "gprslock": self.gprslock,
            "odbic": self.odbic,
            "odboc": self.odboc,
            "odbroam": self.odbroam,
        }
        for kind in FORWARDINGS:
            data[kind.lower()] = self.forwarding.get(kind)
        data["gprs"] = self.gprs
        data["gprstplid"] = self.gprstplid
        data["ts21"] = self.ts21
        data["ts22"] = self.ts22
        data["pdncntx"] = [self.pdn[cntxid].to_dict() for cntxid in sorted(self.pdn)]
        data["imstplid"] = self.imstplid
        data["volte"] = self.volte
        data["cugs"] = [self.cugs[index].to_dict() for index in sorted(self.cugs)]
        data["pttgrp"] = self.pttgrp
        return data

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> Subscriber:
        tpl = Template.from_mapping(
            where,
            {
                k: data[k]
                for k in (
                    "nam",
                    "ic",
                    "oc",
                    "gprslock",
                    "odbic",
                    "odboc",
                    "odbroam",
                    "gprs",
                    "gprstplid",
                    "ts21",
                    "ts22",
                )
                if k in data
            },
        )
        tplid = data.get("tplid")
        if not isinstance(tplid, int) or isinstance(tplid, bool):
            raise ValueError(f"{where}.tplid: expected an integer")
        sub = cls.from_template(
            _text(where, data, "imsi", IMSI), _text(where, data, "isdn", E164), tplid, tpl
        )
        for kind in FORWARDINGS:
            if data.get(kind.lower()) is not None:
                sub.forwarding[kind] = _text(where, data, kind.lower(), E164)
        _restore_services(where, data, sub)
        return sub


def _restore_services(where: str, data: Mapping[str, Any], sub: Subscriber) -> None:
    """The HSS part of a subscriber from a state file, checked by the commands' rules. Files
    written before it existed (versions 1 and 2) have none of its keys: no PDN contexts, no
    IMS, no CUGs, no push-to-talk."""
    for n, entry in enumerate(_list(where, data, "pdncntx")):
        context = PdnContext.from_dict(f"{where}.pdncntx[{n}]", _mapping(where, entry))
        if context.cntxid in sub.pdn or any(c.apn == context.apn for c in sub.pdn.values()):
            raise ValueError(f"{where}.pdncntx[{n}]: context id or APN given twice")
        sub.pdn[context.cntxid] = context
    for n, entry in enumerate(_list(where, data, "cugs")):
        cug = CugMembership.from_dict(f"{where}.cugs[{n}]", _mapping(where, entry))
        if cug.cugindex in sub.cugs or any(c.interlock == cug.interlock for c in sub.cugs.values()):
            raise ValueError(f"{where}.cugs[{n}]: CUG index or interlock code given twice")
        sub.cugs[cug.cugindex] = cug
    if len(sub.cugs) > MAX_CUGS:
        raise ValueError(f"{where}.cugs: more than {MAX_CUGS}")
    if data.get("imstplid") is not None:
        sub.imstplid = integer(where, data, "imstplid", (1, 9999))
    volte = data.get("volte", False)
    if not isinstance(volte, bool):
        raise ValueError(f"{where}.volte: expected true or false")
    if volte and (sub.imstplid is None or not sub.pdn):
        raise ValueError(f"{where}.volte: VoLTE needs an IMS subscription and a PDN context")
    sub.volte = volte
    if data.get("pttgrp") is not None:
        sub.pttgrp = _text(where, data, "pttgrp", PTT_GROUP)


def _list(where: str, data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{where}.{key}: expected a list")
    return value


class HlrState:
    """The KI table and the subscribers, indexed by IMSI and by ISDN.

    `on_change` (if set) is called after every change with the IMSIs whose records changed
    (none: everything did) — the state file uses it to schedule a batched write, or to journal
    just those records before the command is answered.
    """

    def __init__(self, templates: Mapping[int, Template] | None = None) -> None:
        self.templates: dict[int, Template] = dict(
            default_templates() if templates is None else templates
        )
        self.on_change: Callable[[tuple[str, ...]], None] | None = None
        self._auth: dict[str, AuthRecord] = {}
        self._by_imsi: dict[str, Subscriber] = {}
        self._by_isdn: dict[str, Subscriber] = {}

    def _changed(self, *imsis: str) -> None:
        if self.on_change is not None:
            self.on_change(imsis)

    # -- queries -------------------------------------------------------------------------

    def auth(self, imsi: str) -> AuthRecord:
        """The KI record of an IMSI; RECORD_NOT_DEFINED if none is loaded."""
        record = self._auth.get(imsi)
        if record is None:
            raise CommandError(Outcome.RECORD_NOT_DEFINED, f"IMSI: no KI loaded for {imsi}")
        return record

    def subscriber(self, *, imsi: str | None = None, isdn: str | None = None) -> Subscriber:
        """The subscriber with this IMSI or ISDN (exactly one given); SUBSCRIBER_NOT_DEFINED."""
        if imsi is not None:
            sub = self._by_imsi.get(imsi)
            if sub is None:
                raise CommandError(Outcome.SUBSCRIBER_NOT_DEFINED, f"IMSI: no subscriber {imsi}")
        else:
            assert isdn is not None
            sub = self._by_isdn.get(isdn)
            if sub is None:
                raise CommandError(Outcome.SUBSCRIBER_NOT_DEFINED, f"ISDN: no subscriber {isdn}")
        return sub

    def subscribers(self) -> Iterator[Subscriber]:
        return iter(self._by_imsi.values())

    # -- authentication data -------------------------------------------------------------

    def add_auth(self, record: AuthRecord) -> None:
        if record.imsi in self._auth:
            raise CommandError(
                Outcome.RECORD_ALREADY_DEFINED, f"IMSI: KI already loaded for {record.imsi}"
            )
        self._auth[record.imsi] = record
        self._changed(record.imsi)

    def remove_auth(self, imsi: str) -> None:
        self.auth(imsi)
        if imsi in self._by_imsi:
            raise CommandError(Outcome.KI_IN_USE, f"IMSI: KI of {imsi} is used by a subscriber")
        del self._auth[imsi]
        self._changed(imsi)

    def set_sqn(self, imsi: str, sqn: int) -> None:
        """Record the AuC's SQN for the KI of `imsi` (the AuC has checked it)."""
        self._auth[imsi] = replace(self.auth(imsi), sqn=sqn)
        self._changed(imsi)

    # -- subscribers ---------------------------------------------------------------------

    def add_subscriber(self, imsi: str, isdn: str, tplid: int) -> Subscriber:
        """Create from a template (ADD TPLSUB), checking in the contract's order."""
        self.auth(imsi)
        if imsi in self._by_imsi:
            raise CommandError(Outcome.SUBSCRIBER_ALREADY_DEFINED, f"IMSI: {imsi} is a subscriber")
        if isdn in self._by_isdn:
            raise CommandError(Outcome.ISDN_IN_USE, f"ISDN: {isdn} is in use")
        template = self.templates.get(tplid)
        if template is None:
            raise CommandError(Outcome.TEMPLATE_NOT_DEFINED, f"TPLID: no template {tplid}")
        sub = Subscriber.from_template(imsi, isdn, tplid, template)
        self._by_imsi[imsi] = sub
        self._by_isdn[isdn] = sub
        self._changed(imsi)
        return sub

    def remove_subscriber(self, sub: Subscriber, *, remove_auth: bool) -> None:
        del self._by_imsi[sub.imsi]
        del self._by_isdn[sub.isdn]
        if remove_auth:
            del self._auth[sub.imsi]
        self._changed(sub.imsi)

    def change_isdn(self, sub: Subscriber, new_isdn: str) -> None:
        if new_isdn in self._by_isdn:
            raise CommandError(Outcome.ISDN_IN_USE, f"NEWISDN: {new_isdn} is in use")
        del self._by_isdn[sub.isdn]
        sub.isdn = new_isdn
        self._by_isdn[new_isdn] = sub
        self._changed(sub.imsi)

    def change_imsi(self, sub: Subscriber, new_imsi: str) -> None:
        if new_imsi not in self._auth:
            raise CommandError(Outcome.RECORD_NOT_DEFINED, f"NEWIMSI: no KI loaded for {new_imsi}")
        if new_imsi in self._by_imsi:
            raise CommandError(
                Outcome.SUBSCRIBER_ALREADY_DEFINED, f"NEWIMSI: {new_imsi} is a subscriber"
            )
        old_imsi = sub.imsi
        del self._by_imsi[old_imsi]
        sub.imsi = new_imsi
        self._by_imsi[new_imsi] = sub
        self._changed(old_imsi, new_imsi)

    def update(self, sub: Subscriber, **changes: Any) -> None:
        """Set service fields of a subscriber (MOD LCK/ODB…/NAM/TPLGPRS); values pre-checked."""
        for name, value in changes.items():
            setattr(sub, name, value)
        self._changed(sub.imsi)

    def change_template(self, sub: Subscriber, tplid: int) -> None:
        """MOD TPLSUB: the subscriber refers to another template; what provisioning set one
        by one stays (see docs/dialects/huawei-mml.md)."""
        if tplid not in self.templates:
            raise CommandError(Outcome.TEMPLATE_NOT_DEFINED, f"TPLID: no template {tplid}")
        self.update(sub, tplid=tplid)

    def register_forwarding(self, sub: Subscriber, kind: str, number: str) -> None:
        sub.forwarding[kind] = number
        self._changed(sub.imsi)

    def erase_forwarding(self, sub: Subscriber, kind: str) -> None:
        if kind not in sub.forwarding:
            raise CommandError(Outcome.SS_NOT_REGISTERED, f"{kind}: not registered")
        del sub.forwarding[kind]
        self._changed(sub.imsi)

    # -- EPS, IMS, CUG, push-to-talk ---------------------------------------------------------

    def add_pdn_context(self, sub: Subscriber, context: PdnContext) -> None:
        if context.cntxid in sub.pdn:
            raise CommandError(
                Outcome.RECORD_ALREADY_DEFINED, f"CNTXID: context {context.cntxid} exists"
            )
        if any(c.apn == context.apn for c in sub.pdn.values()):
            raise CommandError(
                Outcome.RECORD_ALREADY_DEFINED, f"APN: {context.apn} is in another context"
            )
        sub.pdn[context.cntxid] = context
        self._changed(sub.imsi)

    def remove_pdn_context(self, sub: Subscriber, cntxid: int) -> None:
        if cntxid not in sub.pdn:
            raise CommandError(Outcome.RECORD_NOT_DEFINED, f"CNTXID: no context {cntxid}")
        if sub.volte and len(sub.pdn) == 1:
            raise CommandError(Outcome.NEEDED_BY_VOLTE, "CNTXID: the last EPS data, VoLTE is on")
        del sub.pdn[cntxid]
        self._changed(sub.imsi)

    def add_ims(self, sub: Subscriber, imstplid: int) -> None:
        if sub.imstplid is not None:
            raise CommandError(Outcome.RECORD_ALREADY_DEFINED, "ISDN: IMS subscription exists")
        self.update(sub, imstplid=imstplid)

    def remove_ims(self, sub: Subscriber) -> None:
        if sub.imstplid is None:
            raise CommandError(Outcome.RECORD_NOT_DEFINED, "ISDN: no IMS subscription")
        if sub.volte:
            raise CommandError(Outcome.NEEDED_BY_VOLTE, "ISDN: VoLTE is on")
        self.update(sub, imstplid=None)

    def set_volte(self, sub: Subscriber, on: bool) -> None:
        if sub.imstplid is None:
            raise CommandError(Outcome.RECORD_NOT_DEFINED, "ISDN: no IMS subscription")
        if on and not sub.pdn:
            raise CommandError(Outcome.NO_EPS_DATA, "VOLTETAG: no PDN context")
        self.update(sub, volte=on)

    def add_cug(self, sub: Subscriber, cug: CugMembership) -> None:
        if cug.cugindex in sub.cugs:
            raise CommandError(
                Outcome.RECORD_ALREADY_DEFINED, f"CUGINDEX: {cug.cugindex} is defined"
            )
        if any(c.interlock == cug.interlock for c in sub.cugs.values()):
            raise CommandError(
                Outcome.RECORD_ALREADY_DEFINED, f"INTERLOCK: {cug.interlock} is a CUG already"
            )
        if len(sub.cugs) >= MAX_CUGS:
            raise CommandError(Outcome.TOO_MANY_CUGS, f"CUGINDEX: {MAX_CUGS} CUGs already")
        sub.cugs[cug.cugindex] = cug
        self._changed(sub.imsi)

    def remove_cug(self, sub: Subscriber, cugindex: int) -> None:
        if cugindex not in sub.cugs:
            raise CommandError(Outcome.RECORD_NOT_DEFINED, f"CUGINDEX: {cugindex} not defined")
        del sub.cugs[cugindex]
        self._changed(sub.imsi)

    # -- whole state ---------------------------------------------------------------------

    def snapshot(self, *, reveal_secrets: bool = False) -> dict[str, Any]:
        """The whole state as plain JSON-able data, sorted by IMSI; keys masked unless asked."""
        return {
            "ki": {
                imsi: self._auth[imsi].to_dict(reveal_secrets=reveal_secrets)
                for imsi in sorted(self._auth)
            },
            "subscribers": {imsi: self._by_imsi[imsi].to_dict() for imsi in sorted(self._by_imsi)},
        }

    def records(self, imsi: str) -> dict[str, Any]:
        """What the state holds under one IMSI, keys revealed (a journal entry): its KI record
        and its subscriber, each None when absent."""
        auth, sub = self._auth.get(imsi), self._by_imsi.get(imsi)
        return {
            "imsi": imsi,
            "ki": auth.to_dict(reveal_secrets=True) if auth is not None else None,
            "subscriber": sub.to_dict() if sub is not None else None,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the state with a snapshot taken with `reveal_secrets=True`.

        Checks the same rules as the commands; raises `ValueError` naming the bad entry and
        leaves the state untouched in that case.
        """
        auth: dict[str, AuthRecord] = {}
        by_imsi: dict[str, Subscriber] = {}
        by_isdn: dict[str, Subscriber] = {}
        for key, value in _table(data, "ki").items():
            record = AuthRecord.from_dict(f"ki.{key}", _mapping(f"ki.{key}", value))
            if record.imsi != key:
                raise ValueError(f"ki.{key}.imsi: differs from its key")
            auth[key] = record
        for key, value in _table(data, "subscribers").items():
            sub = Subscriber.from_dict(f"subscribers.{key}", _mapping(f"subscribers.{key}", value))
            if sub.imsi != key:
                raise ValueError(f"subscribers.{key}.imsi: differs from its key")
            if key not in auth:
                raise ValueError(f"subscribers.{key}: no KI loaded for this IMSI")
            if sub.isdn in by_isdn:
                raise ValueError(f"subscribers.{key}.isdn: {sub.isdn} used twice")
            by_imsi[key] = sub
            by_isdn[sub.isdn] = sub
        self._auth, self._by_imsi, self._by_isdn = auth, by_imsi, by_isdn
        self._changed()


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object")
    return value


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return _mapping(name, data.get(name, {}))


def _text(where: str, data: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{where}.{key}: invalid value")
    return value


def _choice(where: str, data: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = data.get(key)
    if value not in allowed:
        raise ValueError(f"{where}.{key}: expected one of {', '.join(allowed)}")
    assert isinstance(value, str)
    return value
