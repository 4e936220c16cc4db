"""The Huawei-style MML codec: operations to command text, reply text to fields. No I/O.

The contract is `docs/dialects/huawei-mml.md`. Everything here is a pure function so that the
planner can show the exact commands of a plan, and so that the SSH adapter spends its time on
the wire rather than on text.

Two defences keep customer text from ever becoming a command. Operation fields are typed
(digits, hex, enumerations) before they get here; and every value is checked again while the
command is written: a quoted value may not contain ``"``, ``;``, ``\\`` or a control character,
and a bare value must be a plain word. A command is kept as its parts (`Command`) so that the
revealed form, which only the sender ever sees, and the masked form, which plans, transcripts
and logs show, come from the same parts and cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from adapters.network_element import NotSupported
from gateway.operations import (
    AddApn,
    AddCug,
    ApnProfile,
    AuthVector,
    BarIncoming,
    BarOutgoing,
    BarRoaming,
    ChangeMsisdn,
    ChangeTemplate,
    CreateSubscriber,
    Cug,
    CugAccess,
    CugRestriction,
    EraseForwarding,
    ForwardingKind,
    LoadAuth,
    Lock,
    Lookup,
    NetworkAccess,
    Operation,
    Outcome,
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

MASK = "****"
END_LINE = "---    END"
"""The line that closes every reply; a client reads until it has seen this."""
SECRET_NAMES = frozenset({"KIVALUE", "OPCVALUE", "PWD", "XRES", "CK", "IK"})
"""Fields whose values never leave the adapter in clear: keys and passwords in commands, and
an authentication vector's expected response and session keys in replies."""
IMS_TEMPLATE = 1
"""The IMS template every IMS subscription is made from (``ADD TPLIMSSUB:…,IMSTPLID=1``): one,
so that removing an IMS subscription and creating it again gives back the same one."""
DEFAULT_TRANSIENT_CODES = frozenset({5001, 5002})
"""System busy / database busy: the NE asks to be tried again later."""

# A quoted value ends at the next `"`, a command at the next `;`; `\` is refused because some
# NEs treat it as an escape; control characters (C0, DEL, C1) could end the line or confuse a
# terminal. Bare values are enumerations, booleans and integers: a plain word, nothing else.
_UNSAFE_QUOTED = re.compile(r'[";\\\x00-\x1f\x7f-\x9f]')
_BARE = re.compile(r"[A-Za-z0-9_]+")
_SECRET_VALUE = re.compile(
    r'\b(KIVALUE|OPCVALUE|PWD)(\s*=\s*|\s+)("[^"\n]*"?|[^,;\s]*)', re.IGNORECASE
)
# XRES, CK and IK only ever arrive as `NAME  =  value` lines of a GEN AUTHVEC reply.
_VECTOR_SECRET = re.compile(r"^(\s*(?:XRES|CK|IK)\s*=\s*)\S.*$", re.IGNORECASE | re.MULTILINE)
_IMSI = re.compile(r"[0-9]{15}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
# The quintuplet's fields and their sizes in hex digits (XRES: 4 to 16 bytes, TS 33.102 §6.3.2).
_VECTOR_FIELDS = {
    "RAND": (32,),
    "XRES": tuple(range(8, 33, 2)),
    "CK": (32,),
    "IK": (32,),
    "AUTN": (32,),
}

_ALGORITHMS = {
    "milenage": ("USIM", "MILENAGE"),
    "comp128v1": ("SIM", "COMP128_1"),
    "comp128v2": ("SIM", "COMP128_2"),
    "comp128v3": ("SIM", "COMP128_3"),
}


class UnsafeValue(ValueError):
    """A value would break out of its place in a command. Names the parameter, never the value."""


class ReplyFramingError(ValueError):
    """A reply does not have the contract's layout: nothing in it can be trusted."""


class Param(NamedTuple):
    """One ``NAME=value`` pair, ``value`` already written as it goes on the wire."""

    name: str
    value: str
    secret: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """One MML command as parts; `text` writes it out revealed (for the NE) or masked."""

    verb: str
    params: tuple[Param, ...]

    def text(self, *, reveal: bool = False) -> str:
        parts = [
            f'{p.name}="{MASK}"' if p.secret and not reveal else f"{p.name}={p.value}"
            for p in self.params
        ]
        return f"{self.verb}:{','.join(parts)};"


def quoted(name: str, value: str, *, secret: bool = False) -> Param:
    """A double-quoted string value; refuses anything that could leave the quotes."""
    bad = _UNSAFE_QUOTED.search(value)
    if bad is not None:
        shown = "" if secret else f": {bad.group()!r}"
        raise UnsafeValue(f"MML parameter {name} contains a character that is not allowed{shown}")
    return Param(name, f'"{value}"', secret)


def bare(name: str, value: str | int | bool) -> Param:
    """An enumeration, boolean (TRUE/FALSE) or integer, written without quotes."""
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    else:
        text = str(value)
        if _BARE.fullmatch(text) is None:
            raise UnsafeValue(f"MML parameter {name} must be a plain word or number: {text!r}")
    return Param(name, text)


def _by_isdn(verb: str, hlrsn: int, isdn: str, *more: Param) -> Command:
    return Command(verb, (bare("HLRSN", hlrsn), quoted("ISDN", isdn), *more))


def _by_imsi(verb: str, hlrsn: int, imsi: str, *more: Param) -> Command:
    return Command(verb, (bare("HLRSN", hlrsn), quoted("IMSI", imsi), *more))


def _card(op: LoadAuth) -> tuple[str, str]:
    """ADD KI's CARDTYPE and ALG for ``op``; `NotSupported` for an OPc with a 2G algorithm,
    which ADD KI has no way to say."""
    card_type, algorithm = _ALGORITHMS[op.algorithm]
    if op.opc is not None and card_type == "SIM":
        raise NotSupported(f"opc: {op.algorithm} cards have no OPc; leave it empty")
    return card_type, algorithm


def _load_auth(op: LoadAuth, hlrsn: int) -> Command:
    card_type, algorithm = _card(op)
    params = [
        quoted("KIVALUE", op.ki.get_secret_value(), secret=True),
        bare("K4SNO", op.k4sno),
        bare("CARDTYPE", card_type),
        bare("ALG", algorithm),
    ]
    if op.opc is not None:
        params.append(quoted("OPCVALUE", op.opc.get_secret_value(), secret=True))
    return _by_imsi("ADD KI", hlrsn, op.imsi, bare("OPERTYPE", "ADD"), *params)


_COMMANDS = (
    LoadAuth,
    RemoveAuth,
    CreateSubscriber,
    RemoveSubscriber,
    SetLock,
    SetIncomingBarring,
    SetOutgoingBarring,
    SetRoamingBarring,
    RegisterForwarding,
    EraseForwarding,
    SetData,
    SetNetworkAccess,
    ChangeMsisdn,
    SwapImsi,
    ChangeTemplate,
    SetSmsService,
    AddApn,
    RemoveApn,
    SetImsSubscription,
    SetVolte,
    AddCug,
    RemoveCug,
    SetPushToTalk,
)
"""The operations `command_for` has a command for (tests hold the two together)."""


def _unsupported(op: Operation) -> NotSupported:
    return NotSupported(f"an HLR has no MML command for {type(op).__name__}")


def check(op: Operation) -> None:
    """Raise `NotSupported` unless there is an MML command for ``op``: a matter of its type,
    and for LoadAuth of its algorithm and OPc."""
    if not isinstance(op, _COMMANDS):
        raise _unsupported(op)
    if isinstance(op, LoadAuth):
        _card(op)


def command_for(op: Operation, hlrsn: int = 1) -> Command:
    """The one MML command that carries out ``op`` on the HLR numbered ``hlrsn``."""
    match op:
        case LoadAuth():
            return _load_auth(op, hlrsn)
        case RemoveAuth():
            return _by_imsi("RMV KI", hlrsn, op.imsi)
        case CreateSubscriber():
            return _by_imsi(
                "ADD TPLSUB",
                hlrsn,
                op.imsi,
                quoted("ISDN", op.msisdn),
                bare("TPLID", op.template_id),
            )
        case RemoveSubscriber():
            return _by_imsi("RMV SUB", hlrsn, op.imsi)
        case SetLock():
            lock = op.lock
            return _by_isdn(
                "MOD LCK",
                hlrsn,
                op.msisdn,
                bare("IC", lock.incoming),
                bare("OC", lock.outgoing),
                bare("GPRSLOCK", lock.data),
            )
        case SetIncomingBarring():
            return _by_isdn("MOD ODBIC", hlrsn, op.msisdn, bare("ODBIC", op.barring.value))
        case SetOutgoingBarring():
            return _by_isdn("MOD ODBOC", hlrsn, op.msisdn, bare("ODBOC", op.barring.value))
        case SetRoamingBarring():
            return _by_isdn("MOD ODBROAM", hlrsn, op.msisdn, bare("ODBROAM", op.barring.value))
        case RegisterForwarding():
            return _by_isdn(f"REG {op.kind.value}", hlrsn, op.msisdn, quoted("FTN", op.forward_to))
        case EraseForwarding():
            return _by_isdn(f"ERA {op.kind.value}", hlrsn, op.msisdn)
        case SetData():
            # The data template only means something when data is being switched on.
            extra = (bare("TPLID", op.template_id),) if op.enabled else ()
            return _by_isdn("MOD TPLGPRS", hlrsn, op.msisdn, bare("PROV", op.enabled), *extra)
        case SetNetworkAccess():
            return _by_isdn("MOD NAM", hlrsn, op.msisdn, bare("NAM", op.mode.value))
        case ChangeMsisdn():
            return _by_isdn("MOD ISDN", hlrsn, op.msisdn, quoted("NEWISDN", op.new_msisdn))
        case SwapImsi():
            return _by_isdn("MOD IMSI", hlrsn, op.msisdn, quoted("NEWIMSI", op.new_imsi))
        case ChangeTemplate():
            return _by_isdn("MOD TPLSUB", hlrsn, op.msisdn, bare("TPLID", op.template_id))
        case SetSmsService():
            return _by_isdn("MOD TS", hlrsn, op.msisdn, bare("TS21", op.mt), bare("TS22", op.mo))
        case AddApn():
            profile = op.profile
            return _by_isdn(
                "ADD PDNCNTX",
                hlrsn,
                op.msisdn,
                bare("CNTXID", profile.context_id),
                quoted("APN", profile.apn),
                bare("QCI", profile.qci),
                bare("AMBRUL", profile.ambr_ul_bps),
                bare("AMBRDL", profile.ambr_dl_bps),
            )
        case RemoveApn():
            return _by_isdn("RMV PDNCNTX", hlrsn, op.msisdn, bare("CNTXID", op.context_id))
        case SetImsSubscription():
            if op.enabled:
                template = bare("IMSTPLID", IMS_TEMPLATE)
                return _by_isdn("ADD TPLIMSSUB", hlrsn, op.msisdn, template)
            return _by_isdn("RMV IMSSUB", hlrsn, op.msisdn)
        case SetVolte():
            return _by_isdn("MOD VOLTETAG", hlrsn, op.msisdn, bare("VOLTETAG", op.enabled))
        case AddCug():
            cug = op.cug
            return _by_isdn(
                "ADD CUG",
                hlrsn,
                op.msisdn,
                bare("CUGINDEX", cug.index),
                quoted("INTERLOCK", cug.interlock),
                bare("RESTRICT", cug.restriction.value),
                bare("ACCESS", cug.access.value),
            )
        case RemoveCug():
            return _by_isdn("RMV CUG", hlrsn, op.msisdn, bare("CUGINDEX", op.index))
        case SetPushToTalk():
            if op.group is None:
                return _by_isdn("MOD PTT", hlrsn, op.msisdn, bare("PROV", False))
            group = quoted("PTTGRP", op.group)
            return _by_isdn("MOD PTT", hlrsn, op.msisdn, bare("PROV", True), group)
    raise _unsupported(op)


def render(op: Operation, *, hlrsn: int = 1, reveal: bool = False) -> str:
    """The MML text of ``op``; masked unless ``reveal`` (which only the sender may ask for)."""
    return command_for(op, hlrsn).text(reveal=reveal)


def list_subscriber(lookup: Lookup, hlrsn: int = 1) -> Command:
    """``LST SUB`` by IMSI when the lookup has one (it survives a number change), else ISDN."""
    if lookup.imsi is not None:
        return _by_imsi("LST SUB", hlrsn, lookup.imsi, bare("DETAIL", True))
    if lookup.msisdn is not None:
        return _by_isdn("LST SUB", hlrsn, lookup.msisdn, bare("DETAIL", True))
    raise ValueError("lookup: give an IMSI or an MSISDN")


def list_auth(imsi: str, hlrsn: int = 1) -> Command:
    return _by_imsi("LST KI", hlrsn, imsi)


def login(operator: str, password: str, hlrsn: int = 1) -> Command:
    return Command(
        "LGI",
        (bare("HLRSN", hlrsn), quoted("OPNAME", operator), quoted("PWD", password, secret=True)),
    )


LOGOUT = "LGO:;"


def request_vector(imsi: str, hlrsn: int = 1) -> Command:
    """``GEN AUTHVEC``: one authentication vector for ``imsi`` (provgw's lab extension)."""
    return _by_imsi("GEN AUTHVEC", hlrsn, _checked_imsi(imsi))


def resynchronise(imsi: str, rand: str, auts: str, hlrsn: int = 1) -> Command:
    """``MOD AUTHSQN``: hand the AuC a card's AUTS for the RAND it answered (hex strings)."""
    return _by_imsi(
        "MOD AUTHSQN",
        hlrsn,
        _checked_imsi(imsi),
        quoted("RAND", _checked_hex("rand", rand, 32)),
        quoted("AUTS", _checked_hex("auts", auts, 28)),
    )


def _checked_imsi(imsi: str) -> str:
    if _IMSI.fullmatch(imsi) is None:
        raise ValueError("imsi: expected 15 digits")
    return imsi


def _checked_hex(name: str, value: str, digits: int) -> str:
    if len(value) != digits or _HEX.fullmatch(value) is None:
        raise ValueError(f"{name}: expected {digits} hexadecimal digits")
    return value.upper()


def vector_from_fields(fields: Mapping[str, str]) -> AuthVector:
    """The vector in the body of a ``GEN AUTHVEC`` reply, as lower-case hex.

    A missing or malformed field raises `ValueError` naming the field but never its value:
    XRES, CK and IK are secrets even when they are wrong.
    """
    values: dict[str, str] = {}
    for name, sizes in _VECTOR_FIELDS.items():
        value = fields.get(name)
        if value is None:
            raise ValueError(f"GEN AUTHVEC reply has no {name} field")
        if len(value) not in sizes or _HEX.fullmatch(value) is None:
            size = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]} to {sizes[-1]}"
            raise ValueError(f"GEN AUTHVEC field {name} is not {size} hexadecimal digits")
        values[name.lower()] = value.lower()
    return AuthVector(**values)


def mask(text: str) -> str:
    """``text`` with every value named in `SECRET_NAMES` replaced by ``****``.

    Applied to every line that leaves the adapter (transcripts, logs, error messages), whatever
    its origin: echoed commands and LST bodies as much as the commands we render ourselves.
    """
    lowered = text.lower()
    # Most texts hold none of the names: two substring tests are ten times cheaper than a regex.
    if "value" in lowered or "pwd" in lowered:
        text = _SECRET_VALUE.sub(_mask_match, text)
    if "xres" in lowered:
        text = _VECTOR_SECRET.sub(rf"\g<1>{MASK}", text)
    return text


def _mask_match(m: re.Match[str]) -> str:
    value = f'"{MASK}"' if m.group(3).startswith('"') else MASK
    return f"{m.group(1)}{m.group(2)}{value}"


@dataclass(frozen=True, slots=True)
class ParsedReply:
    """One reply, taken apart. ``fields`` holds an LST body in the order the NE printed it."""

    ne: str
    timestamp: str
    serial: int
    echo: str
    code: int
    text: str
    fields: dict[str, str]
    reports: int


def parse_reply(text: str) -> ParsedReply:
    """Take one reply apart, strictly: anything off the contract's layout raises.

    ``\\r\\n`` line ends and blank lines anywhere are accepted, and so is text before the
    ``+++`` header line (the server's greeting precedes the reply to LGI). From the header to
    ``---    END`` every line must be where the contract puts it, and nothing may follow.
    """
    lines = [ln for ln in text.replace("\r", "").split("\n") if ln and not ln.isspace()]
    start = next((i for i, ln in enumerate(lines) if ln.startswith("+++")), None)
    if start is None:
        raise ReplyFramingError("reply has no '+++' header line")
    lines = lines[start:]
    if lines[-1].strip() != END_LINE:
        raise ReplyFramingError(f"reply does not end with {END_LINE!r}")
    if len(lines) < 6:
        raise ReplyFramingError(f"reply is truncated ({len(lines)} lines)")

    header = lines[0].split()
    if len(header) < 4:
        raise ReplyFramingError("header line lacks NE name or timestamp")
    serial_line = lines[1].split()
    if len(serial_line) != 2 or serial_line[0] != "O&M" or not serial_line[1].startswith("#"):
        raise ReplyFramingError("second line is not 'O&M    #<serial>'")
    serial = _integer(serial_line[1][1:], "serial")
    echo = lines[2].strip()
    if len(echo) < 4 or not (echo.startswith("%%") and echo.endswith("%%")):
        raise ReplyFramingError("third line is not the %%command%% echo")
    name, equals, rest = lines[3].partition("=")
    if name.strip() != "RETCODE" or not equals:
        raise ReplyFramingError("fourth line is not 'RETCODE = <code>  <text>'")
    code_text = rest.split(None, 1)
    if not code_text:
        raise ReplyFramingError("RETCODE line has no code")
    code = _integer(code_text[0], "RETCODE")

    body = lines[4:-2]
    fields: dict[str, str] = {}
    if body:
        if len(body) < 2 or body[0].strip() != "The result is as follows":
            raise ReplyFramingError("unexpected lines between RETCODE and the report count")
        if body[1].strip().strip("-"):
            raise ReplyFramingError("result heading is not underlined with dashes")
        for number, line in enumerate(body[2:], start=1):
            key, equals, value = line.partition("=")
            key = key.strip()
            if not equals or not key:
                # The line itself stays out of the message: it may be a secret gone astray.
                raise ReplyFramingError(f"result line {number} is not 'NAME  =  value'")
            fields[key] = value.strip()

    count = lines[-2].split()
    if len(count) != 5 or count[:3] != ["There", "is", "together"] or count[4] != "report":
        raise ReplyFramingError("missing 'There is together <n> report' line")
    return ParsedReply(
        ne=" ".join(header[1:-2]),
        timestamp=f"{header[-2]} {header[-1]}",
        serial=serial,
        echo=echo[2:-2],
        code=code,
        text=code_text[1].strip() if len(code_text) > 1 else "",
        fields=fields,
        reports=_integer(count[3], "report count"),
    )


def _integer(text: str, what: str) -> int:
    if not text.isdigit():
        raise ReplyFramingError(f"{what} is not a number: {text[:20]!r}")
    return int(text)


def classify(code: int, transient_codes: Collection[int] = DEFAULT_TRANSIENT_CODES) -> Outcome:
    """RETCODE 0 is success; the NE's "busy" codes are worth retrying; anything else is a no."""
    if code == 0:
        return Outcome.OK
    return Outcome.TRANSIENT if code in transient_codes else Outcome.PERMANENT


def view_from_lst(sub: Mapping[str, str] | None, ki: Mapping[str, str] | None) -> SubscriberView:
    """The subscriber view from the bodies of ``LST SUB`` and ``LST KI`` (None: not defined).

    A field the contract lists but the NE left out raises `KeyError`; a value outside the
    contract's vocabulary raises `ValueError` naming the field. Guessing a default here would
    let reconciliation believe a change is in place when nobody knows. That holds for the
    HSS's fields too: an HLR that lists no ``TS21`` or ``PDNCNTXNUM`` is not one this adapter
    can reconcile against.
    """
    auth_loaded = ki is not None
    if sub is None:
        imsi = ki.get("IMSI") if ki is not None else None
        return SubscriberView(exists=False, auth_loaded=auth_loaded, imsi=imsi)
    forwarding = {kind: sub[kind.value] for kind in ForwardingKind if sub[kind.value] != "NOTREG"}
    return SubscriberView(
        exists=True,
        auth_loaded=auth_loaded,
        imsi=sub["IMSI"],
        msisdn=sub["ISDN"],
        template_id=_number(sub, "TPLID"),
        lock=Lock(
            incoming=_flag(sub, "IC"), outgoing=_flag(sub, "OC"), data=_flag(sub, "GPRSLOCK")
        ),
        bar_incoming=_enum(BarIncoming, sub, "ODBIC"),
        bar_outgoing=_enum(BarOutgoing, sub, "ODBOC"),
        bar_roaming=_enum(BarRoaming, sub, "ODBROAM"),
        forwarding=forwarding,
        data_enabled=_flag(sub, "GPRS"),
        network_access=_enum(NetworkAccess, sub, "NAM"),
        sms_mo=_flag(sub, "TS22"),
        sms_mt=_flag(sub, "TS21"),
        apns=tuple(
            _apn(cntxid, _record(sub, f"PDNCNTX{cntxid}")) for cntxid in _listed(sub, "PDNCNTX")
        ),
        ims=_flag(sub, "IMS"),
        volte=_flag(sub, "VOLTE"),
        cugs=tuple(_cug(index, _record(sub, f"CUG{index}")) for index in _listed(sub, "CUG")),
        ptt_group=_ptt_group(sub),
    )


def _listed(fields: Mapping[str, str], name: str) -> list[int]:
    """The ids of the ``<name><id>`` lines of a list (PDN contexts, CUGs), checked against the
    count the NE gives in ``<name>NUM``: a line lost on the way must not read as a removal."""
    pattern = re.compile(rf"{name}([0-9]+)")
    ids = [int(m.group(1)) for key in fields if (m := pattern.fullmatch(key)) is not None]
    if len(ids) != _number(fields, f"{name}NUM"):
        raise ValueError(f"LST SUB lists {len(ids)} {name} lines, and {name}NUM says otherwise")
    return ids


def _record(fields: Mapping[str, str], name: str) -> dict[str, str]:
    """A list line's ``A=x,B=y`` value as a mapping; `ValueError` naming the line."""
    parts = [part.partition("=") for part in fields[name].split(",")]
    if any(not key or not equals for key, equals, _ in parts):
        raise ValueError(f"LST SUB field {name} is not NAME=value pairs: {fields[name]!r}")
    return {key: value for key, _, value in parts}


def _apn(cntxid: int, record: Mapping[str, str]) -> ApnProfile:
    try:
        return ApnProfile(
            context_id=cntxid,
            apn=record["APN"],
            qci=int(record["QCI"]),
            ambr_ul_bps=int(record["AMBRUL"]),
            ambr_dl_bps=int(record["AMBRDL"]),
        )
    except (KeyError, ValueError):  # a ValidationError is a ValueError
        raise ValueError(f"LST SUB field PDNCNTX{cntxid} is not a PDN context") from None


def _cug(index: int, record: Mapping[str, str]) -> Cug:
    try:
        return Cug(
            index=index,
            interlock=record["INTERLOCK"],
            restriction=CugRestriction(record["RESTRICT"]),
            access=CugAccess(record["ACCESS"]),
        )
    except (KeyError, ValueError):
        raise ValueError(f"LST SUB field CUG{index} is not a CUG membership") from None


def _ptt_group(fields: Mapping[str, str]) -> str | None:
    on, group = _flag(fields, "PTT"), fields["PTTGRP"]
    if on == (group == "NONE"):
        raise ValueError(f"LST SUB fields PTT and PTTGRP disagree: {on}, {group!r}")
    return group if on else None


def _number(fields: Mapping[str, str], name: str) -> int:
    value = fields[name]
    if not value.isdigit():
        raise ValueError(f"LST SUB field {name} is not a number: {value!r}")
    return int(value)


def _flag(fields: Mapping[str, str], name: str) -> bool:
    value = fields[name]
    if value not in ("TRUE", "FALSE"):
        raise ValueError(f"LST SUB field {name} is not TRUE/FALSE: {value!r}")
    return value == "TRUE"


_Vocabulary = TypeVar("_Vocabulary", BarIncoming, BarOutgoing, BarRoaming, NetworkAccess)


def _enum(kind: type[_Vocabulary], fields: Mapping[str, str], name: str) -> _Vocabulary:
    try:
        return kind(fields[name])
    except ValueError:
        raise ValueError(f"LST SUB field {name} has an unknown value: {fields[name]!r}") from None
