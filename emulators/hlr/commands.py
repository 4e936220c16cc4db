"""The command table: which commands exist, their parameters, and what each one does.

Every row names its parameters with a *kind* that checks the form the contract demands (a
quoted string of 15 digits, a bare enumeration, …) and converts it. A parameter that is
missing, unknown or repeated is a syntax error (1001); a value of the wrong form is an invalid
value (1002). Handlers then apply the command to the state, which enforces the HLR's rules.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulators.hlr.auc import AuthCentre
from emulators.hlr.codes import CommandError, Outcome
from emulators.hlr.faults import Faults
from emulators.hlr.mml import Command, Value
from emulators.hlr.reply import Fields
from emulators.hlr.services import (
    ACCESSES,
    APN,
    APN_MAX,
    BIT_RATES,
    CONTEXT_IDS,
    CUG_INDEXES,
    HEX8,
    PTT_GROUP,
    QCIS,
    RESTRICTIONS,
    CugMembership,
    PdnContext,
)
from emulators.hlr.state import (
    ALGORITHMS,
    DEFAULT_GPRS_TEMPLATE,
    E164,
    FORWARDINGS,
    HEX32,
    IMSI,
    NAM_VALUES,
    ODBIC_VALUES,
    ODBOC_VALUES,
    ODBROAM_VALUES,
    AuthRecord,
    HlrState,
    Subscriber,
)

# -- parameter kinds ---------------------------------------------------------------------


def _invalid(name: str, expected: str) -> CommandError:
    return CommandError(Outcome.INVALID_VALUE, f"{name}: expected {expected}")


@dataclass(frozen=True)
class Quoted:
    """A double-quoted string matching `pattern` (any printable text if None)."""

    what: str
    pattern: re.Pattern[str] | None = None

    def convert(self, name: str, value: Value) -> Any:
        if not value.quoted:
            raise _invalid(name, f'a quoted string ("…"): {self.what}')
        if self.pattern is not None and not self.pattern.match(value.text):
            raise _invalid(name, self.what)
        if not value.text:
            raise _invalid(name, self.what)
        return value.text


@dataclass(frozen=True)
class Choice:
    """A bare enumeration value, case-sensitive as the contract says values are."""

    values: tuple[str, ...]

    def convert(self, name: str, value: Value) -> Any:
        if value.quoted or value.text not in self.values:
            raise _invalid(name, f"one of {', '.join(self.values)} (bare)")
        return value.text


@dataclass(frozen=True)
class Flag:
    """A bare TRUE or FALSE."""

    def convert(self, name: str, value: Value) -> Any:
        if value.quoted or value.text not in ("TRUE", "FALSE"):
            raise _invalid(name, "TRUE or FALSE (bare)")
        return value.text == "TRUE"


@dataclass(frozen=True)
class Integer:
    """A bare decimal integer between `low` and `high`."""

    low: int
    high: int

    def convert(self, name: str, value: Value) -> Any:
        text = value.text
        if (
            value.quoted
            or not text.isdigit()
            or len(text) > len(str(self.high))
            or not self.low <= int(text) <= self.high
        ):
            raise _invalid(name, f"a bare integer from {self.low} to {self.high}")
        return int(text)


@dataclass(frozen=True)
class Fraction:
    """A bare decimal number from 0 to 1 (an engineer command's rate)."""

    def convert(self, name: str, value: Value) -> Any:
        if value.quoted or _DECIMAL.match(value.text) is None or float(value.text) > 1:
            raise _invalid(name, "a bare decimal from 0 to 1")
        return float(value.text)


_DECIMAL = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,9})?\Z")
Kind = Quoted | Choice | Flag | Integer | Fraction

HLRSN = Integer(1, 1)
IMSI_VALUE = Quoted("an IMSI of 15 digits", IMSI)
ISDN_VALUE = Quoted("an E.164 number of 1 to 15 digits without +", E164)
KEY_VALUE = Quoted("32 hexadecimal digits", HEX32)
AUTS_VALUE = Quoted("28 hexadecimal digits", re.compile(r"[0-9A-Fa-f]{28}\Z"))
TEXT_VALUE = Quoted("a non-empty string")
TEMPLATE_ID = Integer(1, 9999)
APN_VALUE = Quoted(
    f"an APN: labels of letters, digits and hyphens joined by dots, {APN_MAX} at most",
    re.compile(rf"(?=.{{1,{APN_MAX}}}\Z)(?i:{APN.pattern})"),
)
CONTEXT_ID = Integer(*CONTEXT_IDS)
BIT_RATE = Integer(*BIT_RATES)
CUG_INDEX = Integer(*CUG_INDEXES)
INTERLOCK_VALUE = Quoted("8 hexadecimal digits", re.compile(HEX8.pattern, re.IGNORECASE))
PTT_GROUP_VALUE = Quoted("1 to 32 letters, digits, _ or -", PTT_GROUP)

# -- command rows ------------------------------------------------------------------------


class Role(enum.Enum):
    """Who may run a command, and whether faults are injected into it."""

    LOGIN = "login"  # LGI: allowed before logging in
    SESSION = "session"  # LGO: any logged-in operator, no faults
    PROVISIONING = "provisioning"  # any logged-in operator, faults apply
    ENGINEER = "engineer"  # operators flagged admin only, no faults


@dataclass
class MmlContext:
    """What the commands of every session work on."""

    state: HlrState
    faults: Faults
    auc: AuthCentre


class Args:
    """Checked and converted parameter values of one command."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def text(self, name: str) -> str:
        value = self._values[name]
        assert isinstance(value, str)
        return value

    def number(self, name: str) -> int:
        value = self._values[name]
        assert isinstance(value, int)
        return value

    def flag(self, name: str, default: bool | None = None) -> bool:
        value = self._values.get(name, default)
        assert isinstance(value, bool)
        return value

    def items(self) -> list[tuple[str, Any]]:
        return list(self._values.items())


Handler = Callable[[MmlContext, Args], Fields | None]


@dataclass(frozen=True)
class CommandSpec:
    """One command: its role, its parameters, and its handler (None for LGI/LGO)."""

    role: Role
    required: Mapping[str, Kind]
    optional: Mapping[str, Kind] = field(default_factory=dict)
    handler: Handler | None = None
    # Exactly one of these parameters must be given (e.g. ISDN or IMSI).
    one_of: tuple[str, ...] = ()
    # At least one optional parameter must be given (MOD LCK, SET EMUFAULT).
    some_optional: bool = False

    def check(self, command: Command) -> Args:
        """Check presence and form of the parameters; `CommandError` names the first bad one."""
        params = command.params
        for name in params:
            if name not in self.required and name not in self.optional:
                raise CommandError(
                    Outcome.SYNTAX_ERROR, f"{name}: not a parameter of {command.name}"
                )
        for name in self.required:
            if name not in params:
                raise CommandError(Outcome.SYNTAX_ERROR, f"{name}: missing")
        if self.one_of and sum(name in params for name in self.one_of) != 1:
            raise CommandError(
                Outcome.SYNTAX_ERROR,
                f"give exactly one of {', '.join(self.one_of)}",
            )
        if self.some_optional and not any(name in params for name in self.optional):
            raise CommandError(
                Outcome.SYNTAX_ERROR,
                f"give at least one of {', '.join(self.optional)}",
            )
        values: dict[str, Any] = {}
        for name, value in params.items():
            kind = self.required.get(name) or self.optional[name]
            values[name] = kind.convert(name, value)
        return Args(values)


# -- handlers ----------------------------------------------------------------------------


def _target(ctx: MmlContext, args: Args) -> Subscriber:
    """The subscriber a command names by ISDN, or by IMSI where that form exists."""
    if "IMSI" in args:
        return ctx.state.subscriber(imsi=args.text("IMSI"))
    return ctx.state.subscriber(isdn=args.text("ISDN"))


def _add_ki(ctx: MmlContext, args: Args) -> None:
    cardtype, alg = args.text("CARDTYPE"), args.text("ALG")
    if alg not in ALGORITHMS[cardtype]:
        raise _invalid("ALG", f"{' or '.join(ALGORITHMS[cardtype])} for CARDTYPE={cardtype}")
    opc = args.text("OPCVALUE") if "OPCVALUE" in args else None
    if opc is not None and alg != "MILENAGE":
        raise _invalid("OPCVALUE", "no OPc unless ALG=MILENAGE")
    ctx.state.add_auth(
        AuthRecord(
            imsi=args.text("IMSI"),
            ki=args.text("KIVALUE"),
            opc=opc,
            k4sno=args.number("K4SNO"),
            cardtype=cardtype,
            alg=alg,
        )
    )


def _rmv_ki(ctx: MmlContext, args: Args) -> None:
    ctx.state.remove_auth(args.text("IMSI"))


def _lst_ki(ctx: MmlContext, args: Args) -> Fields:
    record = ctx.state.auth(args.text("IMSI"))
    return [
        ("IMSI", record.imsi),
        ("CARDTYPE", record.cardtype),
        ("ALG", record.alg),
        ("K4SNO", str(record.k4sno)),
        ("KIVALUE", "********"),
    ]


def _add_tplsub(ctx: MmlContext, args: Args) -> None:
    ctx.state.add_subscriber(args.text("IMSI"), args.text("ISDN"), args.number("TPLID"))


def _rmv_sub(ctx: MmlContext, args: Args) -> None:
    ctx.state.remove_subscriber(_target(ctx, args), remove_auth=args.flag("RMVKI", False))


def _yes_no(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _lst_sub(ctx: MmlContext, args: Args) -> Fields:
    sub = _target(ctx, args)
    fields = [
        ("IMSI", sub.imsi),
        ("ISDN", sub.isdn),
        ("TPLID", str(sub.tplid)),
        ("CARDTYPE", ctx.state.auth(sub.imsi).cardtype),
        ("NAM", sub.nam),
        ("IC", _yes_no(sub.ic)),
        ("OC", _yes_no(sub.oc)),
        ("GPRSLOCK", _yes_no(sub.gprslock)),
        ("ODBIC", sub.odbic),
        ("ODBOC", sub.odboc),
        ("ODBROAM", sub.odbroam),
    ]
    fields.extend((kind, sub.forwarding.get(kind, "NOTREG")) for kind in FORWARDINGS)
    fields.append(("GPRS", _yes_no(sub.gprs)))
    fields.append(("GPRSTPLID", "NONE" if sub.gprstplid is None else str(sub.gprstplid)))
    fields.extend((("TS21", _yes_no(sub.ts21)), ("TS22", _yes_no(sub.ts22))))
    fields.append(("PDNCNTXNUM", str(len(sub.pdn))))
    fields.extend((f"PDNCNTX{i}", sub.pdn[i].listed()) for i in sorted(sub.pdn))
    ims = sub.imstplid is not None
    fields.append(("IMS", _yes_no(ims)))
    fields.append(("IMSTPLID", str(sub.imstplid) if ims else "NONE"))
    fields.append(("IMPU", f"tel:+{sub.isdn}" if ims else "NONE"))
    fields.append(("VOLTE", _yes_no(sub.volte)))
    fields.append(("CUGNUM", str(len(sub.cugs))))
    fields.extend((f"CUG{i}", sub.cugs[i].listed()) for i in sorted(sub.cugs))
    fields.append(("PTT", _yes_no(sub.pttgrp is not None)))
    fields.append(("PTTGRP", "NONE" if sub.pttgrp is None else sub.pttgrp))
    return fields


def _mod_lck(ctx: MmlContext, args: Args) -> None:
    changes = {name.lower(): args.flag(name) for name in _LOCKS if name in args}
    ctx.state.update(_target(ctx, args), **changes)


_LOCKS = ("IC", "OC", "GPRSLOCK")


def _mod_field(name: str) -> Handler:
    """MOD ODBIC/ODBOC/ODBROAM/NAM: set the one field the command is named after."""

    def handler(ctx: MmlContext, args: Args) -> None:
        ctx.state.update(_target(ctx, args), **{name.lower(): args.text(name)})

    return handler


def _mod_tplgprs(ctx: MmlContext, args: Args) -> None:
    sub = _target(ctx, args)
    if not args.flag("PROV"):
        if "TPLID" in args:
            raise _invalid("TPLID", "no TPLID with PROV=FALSE")
        ctx.state.update(sub, gprs=False, gprstplid=None)
        return
    if "TPLID" in args:
        tplid = args.number("TPLID")
    else:
        tplid = DEFAULT_GPRS_TEMPLATE if sub.gprstplid is None else sub.gprstplid
    ctx.state.update(sub, gprs=True, gprstplid=tplid)


def _mod_tplsub(ctx: MmlContext, args: Args) -> None:
    ctx.state.change_template(_target(ctx, args), args.number("TPLID"))


def _add_pdncntx(ctx: MmlContext, args: Args) -> None:
    context = PdnContext(
        cntxid=args.number("CNTXID"),
        apn=args.text("APN").lower(),  # APNs are compared without regard to case
        qci=args.number("QCI"),
        ambrul=args.number("AMBRUL"),
        ambrdl=args.number("AMBRDL"),
    )
    ctx.state.add_pdn_context(_target(ctx, args), context)


def _rmv_pdncntx(ctx: MmlContext, args: Args) -> None:
    ctx.state.remove_pdn_context(_target(ctx, args), args.number("CNTXID"))


def _add_tplimssub(ctx: MmlContext, args: Args) -> None:
    ctx.state.add_ims(_target(ctx, args), args.number("IMSTPLID"))


def _rmv_imssub(ctx: MmlContext, args: Args) -> None:
    ctx.state.remove_ims(_target(ctx, args))


def _mod_voltetag(ctx: MmlContext, args: Args) -> None:
    ctx.state.set_volte(_target(ctx, args), args.flag("VOLTETAG"))


def _add_cug(ctx: MmlContext, args: Args) -> None:
    cug = CugMembership(
        cugindex=args.number("CUGINDEX"),
        interlock=args.text("INTERLOCK").upper(),
        restrict=args.text("RESTRICT"),
        access=args.text("ACCESS"),
    )
    ctx.state.add_cug(_target(ctx, args), cug)


def _rmv_cug(ctx: MmlContext, args: Args) -> None:
    ctx.state.remove_cug(_target(ctx, args), args.number("CUGINDEX"))


def _mod_ptt(ctx: MmlContext, args: Args) -> None:
    sub = _target(ctx, args)
    if not args.flag("PROV"):
        if "PTTGRP" in args:
            raise _invalid("PTTGRP", "no PTTGRP with PROV=FALSE")
        ctx.state.update(sub, pttgrp=None)
        return
    if "PTTGRP" not in args:
        raise CommandError(Outcome.SYNTAX_ERROR, "PTTGRP: missing (PROV=TRUE)")
    ctx.state.update(sub, pttgrp=args.text("PTTGRP"))


def _mod_ts(ctx: MmlContext, args: Args) -> None:
    changes = {name.lower(): args.flag(name) for name in _SMS_TELESERVICES if name in args}
    ctx.state.update(_target(ctx, args), **changes)


_SMS_TELESERVICES = ("TS21", "TS22")  # SMS-MT, SMS-MO (TS 22.003)


def _reg(kind: str) -> Handler:
    def handler(ctx: MmlContext, args: Args) -> None:
        ctx.state.register_forwarding(_target(ctx, args), kind, args.text("FTN"))

    return handler


def _era(kind: str) -> Handler:
    def handler(ctx: MmlContext, args: Args) -> None:
        ctx.state.erase_forwarding(_target(ctx, args), kind)

    return handler


def _mod_isdn(ctx: MmlContext, args: Args) -> None:
    ctx.state.change_isdn(_target(ctx, args), args.text("NEWISDN"))


def _mod_imsi(ctx: MmlContext, args: Args) -> None:
    ctx.state.change_imsi(_target(ctx, args), args.text("NEWIMSI"))


def _gen_authvec(ctx: MmlContext, args: Args) -> Fields:
    imsi = args.text("IMSI")
    vector = ctx.auc.vector(ctx.state, imsi)
    # The quintuplet in the order of TS 29.002's AuthenticationQuintuplet.
    return [
        ("IMSI", imsi),
        ("RAND", vector.rand.hex().upper()),
        ("XRES", vector.xres.hex().upper()),
        ("CK", vector.ck.hex().upper()),
        ("IK", vector.ik.hex().upper()),
        ("AUTN", vector.autn.hex().upper()),
    ]


def _mod_authsqn(ctx: MmlContext, args: Args) -> None:
    rand, auts = bytes.fromhex(args.text("RAND")), bytes.fromhex(args.text("AUTS"))
    ctx.auc.resynchronise(ctx.state, args.text("IMSI"), rand, auts)


# Engineer commands: MML name → `Faults` attribute.
FAULT_PARAMS = {
    "LATENCY": "latency_ms",
    "JITTER": "jitter_ms",
    "SPIKERATE": "spike_rate",
    "SPIKE": "spike_ms",
    "ERRRATE": "error_rate",
    "ERRCODE": "error_code",
    "DROPRATE": "drop_rate",
    "STUCKAFTER": "stuck_after",
    "OUTAGE": "outage",
    "OUTAGEDUR": "outage_s",
}


def _set_emufault(ctx: MmlContext, args: Args) -> None:
    changes = {FAULT_PARAMS[name]: value for name, value in args.items()}
    if "outage" in changes:
        changes["outage"] = bool(changes["outage"])
    # An outage cuts this session too: the engineer sees the connection drop, no reply.
    ctx.faults.update(**changes)


def _lst_emufault(ctx: MmlContext, args: Args) -> Fields:
    settings = ctx.faults.settings()
    return [(name, _plain_number(settings[attr])) for name, attr in FAULT_PARAMS.items()]


def _plain_number(value: float) -> str:
    """20.0 → "20", 0.1 → "0.1": the form SET EMUFAULT takes back."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _exp_state(ctx: MmlContext, args: Args) -> Fields:
    return [("STATE", json.dumps(ctx.state.snapshot(), separators=(",", ":")))]


# -- the table ---------------------------------------------------------------------------

_BY_ISDN: dict[str, Kind] = {"HLRSN": HLRSN, "ISDN": ISDN_VALUE}
_BY_IMSI: dict[str, Kind] = {"HLRSN": HLRSN, "IMSI": IMSI_VALUE}

COMMANDS: dict[str, CommandSpec] = {
    "LGI": CommandSpec(Role.LOGIN, {"HLRSN": HLRSN, "OPNAME": TEXT_VALUE, "PWD": TEXT_VALUE}),
    "LGO": CommandSpec(Role.SESSION, {}),
    "ADD KI": CommandSpec(
        Role.PROVISIONING,
        {
            **_BY_IMSI,
            "OPERTYPE": Choice(("ADD",)),
            "KIVALUE": KEY_VALUE,
            "K4SNO": Integer(0, 9999),
            "CARDTYPE": Choice(tuple(ALGORITHMS)),
            "ALG": Choice(tuple(alg for algs in ALGORITHMS.values() for alg in algs)),
        },
        {"OPCVALUE": KEY_VALUE},
        _add_ki,
    ),
    "RMV KI": CommandSpec(Role.PROVISIONING, _BY_IMSI, handler=_rmv_ki),
    "LST KI": CommandSpec(Role.PROVISIONING, _BY_IMSI, handler=_lst_ki),
    "ADD TPLSUB": CommandSpec(
        Role.PROVISIONING,
        {**_BY_IMSI, "ISDN": ISDN_VALUE, "TPLID": TEMPLATE_ID},
        handler=_add_tplsub,
    ),
    "RMV SUB": CommandSpec(
        Role.PROVISIONING,
        {"HLRSN": HLRSN},
        {"ISDN": ISDN_VALUE, "IMSI": IMSI_VALUE, "RMVKI": Flag()},
        _rmv_sub,
        one_of=("ISDN", "IMSI"),
    ),
    "LST SUB": CommandSpec(
        Role.PROVISIONING,
        {"HLRSN": HLRSN},
        {"ISDN": ISDN_VALUE, "IMSI": IMSI_VALUE, "DETAIL": Flag()},
        _lst_sub,
        one_of=("ISDN", "IMSI"),
    ),
    "MOD LCK": CommandSpec(
        Role.PROVISIONING, _BY_ISDN, {name: Flag() for name in _LOCKS}, _mod_lck, some_optional=True
    ),
    "MOD NAM": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "NAM": Choice(NAM_VALUES)}, handler=_mod_field("NAM")
    ),
    "MOD ODBIC": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "ODBIC": Choice(ODBIC_VALUES)}, handler=_mod_field("ODBIC")
    ),
    "MOD ODBOC": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "ODBOC": Choice(ODBOC_VALUES)}, handler=_mod_field("ODBOC")
    ),
    "MOD ODBROAM": CommandSpec(
        Role.PROVISIONING,
        {**_BY_ISDN, "ODBROAM": Choice(ODBROAM_VALUES)},
        handler=_mod_field("ODBROAM"),
    ),
    "MOD TPLGPRS": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "PROV": Flag()}, {"TPLID": TEMPLATE_ID}, _mod_tplgprs
    ),
    "MOD TPLSUB": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "TPLID": TEMPLATE_ID}, handler=_mod_tplsub
    ),
    "MOD TS": CommandSpec(
        Role.PROVISIONING,
        _BY_ISDN,
        {name: Flag() for name in _SMS_TELESERVICES},
        _mod_ts,
        some_optional=True,
    ),
    "ADD PDNCNTX": CommandSpec(
        Role.PROVISIONING,
        {
            **_BY_ISDN,
            "CNTXID": CONTEXT_ID,
            "APN": APN_VALUE,
            "QCI": Integer(*QCIS),
            "AMBRUL": BIT_RATE,
            "AMBRDL": BIT_RATE,
        },
        handler=_add_pdncntx,
    ),
    "RMV PDNCNTX": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "CNTXID": CONTEXT_ID}, handler=_rmv_pdncntx
    ),
    "ADD TPLIMSSUB": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "IMSTPLID": TEMPLATE_ID}, handler=_add_tplimssub
    ),
    "RMV IMSSUB": CommandSpec(Role.PROVISIONING, _BY_ISDN, handler=_rmv_imssub),
    "MOD VOLTETAG": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "VOLTETAG": Flag()}, handler=_mod_voltetag
    ),
    "ADD CUG": CommandSpec(
        Role.PROVISIONING,
        {
            **_BY_ISDN,
            "CUGINDEX": CUG_INDEX,
            "INTERLOCK": INTERLOCK_VALUE,
            "RESTRICT": Choice(RESTRICTIONS),
            "ACCESS": Choice(ACCESSES),
        },
        handler=_add_cug,
    ),
    "RMV CUG": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "CUGINDEX": CUG_INDEX}, handler=_rmv_cug
    ),
    "MOD PTT": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "PROV": Flag()}, {"PTTGRP": PTT_GROUP_VALUE}, _mod_ptt
    ),
    "MOD ISDN": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "NEWISDN": ISDN_VALUE}, handler=_mod_isdn
    ),
    "MOD IMSI": CommandSpec(
        Role.PROVISIONING, {**_BY_ISDN, "NEWIMSI": IMSI_VALUE}, handler=_mod_imsi
    ),
    **{
        f"REG {kind}": CommandSpec(
            Role.PROVISIONING, {**_BY_ISDN, "FTN": ISDN_VALUE}, handler=_reg(kind)
        )
        for kind in FORWARDINGS
    },
    **{
        f"ERA {kind}": CommandSpec(Role.PROVISIONING, _BY_ISDN, handler=_era(kind))
        for kind in FORWARDINGS
    },
    # provgw's lab extension: the AuC (a real HLR answers vectors over MAP/Diameter only).
    "GEN AUTHVEC": CommandSpec(Role.PROVISIONING, _BY_IMSI, handler=_gen_authvec),
    "MOD AUTHSQN": CommandSpec(
        Role.PROVISIONING,
        {**_BY_IMSI, "RAND": KEY_VALUE, "AUTS": AUTS_VALUE},
        handler=_mod_authsqn,
    ),
    "SET EMUFAULT": CommandSpec(
        Role.ENGINEER,
        {},
        {
            "LATENCY": Integer(0, 600_000),
            "JITTER": Integer(0, 600_000),
            "SPIKERATE": Fraction(),
            "SPIKE": Integer(0, 600_000),
            "ERRRATE": Fraction(),
            "ERRCODE": Integer(1, 99999),
            "DROPRATE": Fraction(),
            "STUCKAFTER": Integer(0, 999_999_999),
            "OUTAGE": Integer(0, 1),
            "OUTAGEDUR": Integer(0, 86_400),
        },
        _set_emufault,
        some_optional=True,
    ),
    "LST EMUFAULT": CommandSpec(Role.ENGINEER, {}, handler=_lst_emufault),
    "EXP STATE": CommandSpec(Role.ENGINEER, {}, handler=_exp_state),
}
