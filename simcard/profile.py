"""A card profile: everything written to one blank card, validated before a card is touched.

Validation happens here, once, so that a bad value never reaches a card half-way through a
write: a wrong Luhn digit, an IMSI that does not start with the profile's MCC/MNC, a key of the
wrong length, an SPN too long for EF.SPN — each raises `ProfileError` naming the field, and no
card command has been sent. Keys and codes are `SecretStr`: they print as `**********` and
validation errors never echo the input (`hide_input_in_errors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from simcard.codec import CodecError
from simcard.errors import CardLayerError
from simcard.milenage import opc_from_op
from simcard.plmn import ACT_ALL, Plmn, PlmnAct, parse_act
from simcard.tables import acc_for_imsi
from simcard.text import ServiceProviderName, Spn

# USIM services a freshly written card offers (TS 31.102 §4.2.8): SPN (19), user/operator/
# HPLMN selectors with AcT (20, 42, 43), GSM access and GSM security context (27, 38), the
# always-set 33, EHPLMN (71). MSISDN (21) and SMS parameters (12) are left out by default:
# they would announce ADF.USIM copies of EF.MSISDN/EF.SMSP; add them to write those as well.
DEFAULT_UST = frozenset({19, 20, 27, 33, 38, 42, 43, 71})


class ProfileError(CardLayerError, ValueError):
    """A profile that cannot be written; the message names every bad field."""


def luhn_digit(body: str) -> str:
    """The Luhn check digit for a string of digits (ICCIDs end with one, ITU-T E.118)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _plmn(value: Any) -> Any:
    return Plmn.parse(value) if isinstance(value, str) else value


def _plmn_act(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    plmn, _, act = value.partition(":")
    return PlmnAct(Plmn.parse(plmn), parse_act(act) if act else ACT_ALL)


PlmnField = Annotated[Plmn, BeforeValidator(_plmn), PlainSerializer(str)]
PlmnActField = Annotated[PlmnAct, BeforeValidator(_plmn_act), PlainSerializer(str)]


def _digits(value: str, what: str, low: int, high: int) -> str:
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"{what} must be decimal digits")
    if not low <= len(value) <= high:
        span = str(low) if low == high else f"{low} to {high}"
        raise ValueError(f"{what} must have {span} digits, got {len(value)}")
    return value


def _number(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip().replace(" ", "")
    digits = value[1:] if value.startswith("+") else value
    _digits(digits, what, 1, 20)
    return value


def _hex_key(value: SecretStr | None, what: str) -> SecretStr | None:
    if value is None:
        return None
    text = value.get_secret_value().strip().lower()
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{what} must be 32 hex digits (16 bytes)")
    return SecretStr(text)


class CardProfile(BaseModel):
    """One subscriber's card: identities, keys, network lists and codes."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    iccid: str
    imsi: str
    mcc: str = ""
    mnc: str = ""
    ki: SecretStr
    opc: SecretStr | None = None
    op: SecretStr | None = None
    algorithm: Literal["milenage", "comp128v1"] = "milenage"
    msisdn: str | None = None
    spn: str = ""
    spn_show_in_hplmn: bool = True
    spn_hide_in_oplmn: bool = True
    smsc: str | None = None
    acc: str = ""
    ehplmn: tuple[PlmnField, ...] = ()
    plmnsel: tuple[PlmnField, ...] = ()
    plmn_wact: tuple[PlmnActField, ...] = ()
    oplmn_wact: tuple[PlmnActField, ...] = ()
    hplmn_wact: tuple[PlmnActField, ...] = ()
    ust: frozenset[int] = DEFAULT_UST
    pin1: SecretStr | None = None
    puk1: SecretStr | None = None
    pin2: SecretStr | None = None
    puk2: SecretStr | None = None
    adm1: SecretStr | None = None

    @classmethod
    def create(cls, data: Mapping[str, Any] | None = None, **fields: Any) -> CardProfile:
        """Validate into a profile, or raise ProfileError listing every bad field."""
        try:
            return cls.model_validate({**(data or {}), **fields})
        except ValidationError as exc:
            raise ProfileError(_describe(exc)) from None

    # -- defaults that depend on other fields ----------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """MCC/MNC from the IMSI (2-digit MNC unless told), ACC from its last digit."""
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v is not None and v != ""}
        imsi = str(data.get("imsi", "")).strip()
        if imsi.isdigit() and len(imsi) >= 6:
            data.setdefault("mcc", imsi[:3])
            mnc_length = len(str(data["mnc"])) if "mnc" in data else 2
            data.setdefault("mnc", imsi[3 : 3 + mnc_length])
            data.setdefault("acc", f"{sum(1 << c for c in acc_for_imsi(imsi)):04x}")
        return data

    # -- field checks -----------------------------------------------------------------------

    @field_validator("iccid")
    @classmethod
    def _iccid(cls, v: str) -> str:
        v = _digits(v, "ICCID", 19, 20)
        if luhn_digit(v[:-1]) != v[-1]:
            raise ValueError(
                f"ICCID {v} fails the Luhn check: last digit should be {luhn_digit(v[:-1])}"
            )
        return v

    @field_validator("imsi")
    @classmethod
    def _imsi(cls, v: str) -> str:
        return _digits(v, "IMSI", 6, 15)

    @field_validator("mcc")
    @classmethod
    def _mcc(cls, v: str) -> str:
        return _digits(v, "MCC", 3, 3)

    @field_validator("mnc")
    @classmethod
    def _mnc(cls, v: str) -> str:
        return _digits(v, "MNC", 2, 3)

    @field_validator("ki", "opc", "op")
    @classmethod
    def _keys(cls, v: SecretStr | None, info: Any) -> SecretStr | None:
        return _hex_key(v, {"ki": "Ki", "opc": "OPc", "op": "OP"}[str(info.field_name)])

    @field_validator("msisdn", "smsc")
    @classmethod
    def _numbers(cls, v: str | None, info: Any) -> str | None:
        return _number(v, str(info.field_name).upper())

    @field_validator("spn")
    @classmethod
    def _spn(cls, v: str) -> str:
        try:
            Spn().encode(ServiceProviderName(v))
        except CodecError as exc:
            raise ValueError(exc.message) from None
        return v

    @field_validator("acc")
    @classmethod
    def _acc(cls, v: str) -> str:
        v = v.strip().lower()
        if len(v) != 4 or any(c not in "0123456789abcdef" for c in v):
            raise ValueError("ACC must be 4 hex digits, e.g. 0004 for class 2")
        return v

    @field_validator("ust")
    @classmethod
    def _ust(cls, v: frozenset[int]) -> frozenset[int]:
        if any(not 1 <= n <= 160 for n in v):
            raise ValueError("UST service numbers are 1 to 160")
        return v

    @field_validator("pin1", "pin2")
    @classmethod
    def _pin(cls, v: SecretStr | None, info: Any) -> SecretStr | None:
        if v is not None:
            _digits(v.get_secret_value(), str(info.field_name).upper(), 4, 8)
        return v

    @field_validator("puk1", "puk2")
    @classmethod
    def _puk(cls, v: SecretStr | None, info: Any) -> SecretStr | None:
        if v is not None:
            _digits(v.get_secret_value(), str(info.field_name).upper(), 8, 8)
        return v

    @field_validator("adm1")
    @classmethod
    def _adm1(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            adm_code(v.get_secret_value())
        return v

    @model_validator(mode="after")
    def _consistent(self) -> CardProfile:
        if not self.imsi.startswith(self.mcc + self.mnc):
            raise ValueError(
                f"imsi: IMSI {self.imsi} does not start with the profile's MCC {self.mcc} "
                f"and MNC {self.mnc}"
            )
        if self.algorithm == "milenage" and (self.opc is None) == (self.op is None):
            raise ValueError("opc: Milenage needs exactly one of OPc and OP")
        return self

    # -- derived values ---------------------------------------------------------------------

    @property
    def home(self) -> Plmn:
        return Plmn(self.mcc, self.mnc)

    @property
    def spn_record(self) -> ServiceProviderName:
        return ServiceProviderName(self.spn, self.spn_show_in_hplmn, self.spn_hide_in_oplmn)

    @property
    def access_classes(self) -> frozenset[int]:
        word = int(self.acc, 16)
        return frozenset(n for n in range(16) if word >> n & 1)

    @property
    def ehplmn_list(self) -> tuple[Plmn, ...]:
        return self.ehplmn or (self.home,)

    @property
    def plmnsel_list(self) -> tuple[Plmn, ...]:
        return self.plmnsel or (self.home,)

    def act_list(self, which: Literal["plmn", "oplmn", "hplmn"]) -> tuple[PlmnAct, ...]:
        """The PLMNwAcT/OPLMNwAcT/HPLMNwAcT entries; the home PLMN, all AcT, when not given."""
        given = {"plmn": self.plmn_wact, "oplmn": self.oplmn_wact, "hplmn": self.hplmn_wact}
        return given[which] or (PlmnAct(self.home),)

    @property
    def ki_bytes(self) -> bytes:
        return bytes.fromhex(self.ki.get_secret_value())

    @property
    def opc_bytes(self) -> bytes | None:
        """OPc as written to the card: given, or derived from OP (as pySim-prog --op does)."""
        if self.opc is not None:
            return bytes.fromhex(self.opc.get_secret_value())
        if self.op is not None:
            return opc_from_op(self.ki_bytes, bytes.fromhex(self.op.get_secret_value()))
        return None

    @property
    def adm1_code(self) -> bytes | None:
        return adm_code(self.adm1.get_secret_value()) if self.adm1 is not None else None

    def public(self) -> dict[str, Any]:
        """The profile for display and logs: every secret masked."""
        out = self.model_dump(mode="json")
        for name in ("ki", "opc", "op", "pin1", "puk1", "pin2", "puk2", "adm1"):
            if out.get(name) is not None:
                out[name] = "****"
        out["ust"] = sorted(self.ust)
        return out


def adm_code(text: str) -> bytes:
    """The 8 bytes VERIFY ADM1 sends: 16 hex digits raw, else up to 8 characters as ASCII
    padded with FF (pySim-prog's `-A` and `-a`: `12345678` goes out as 3132333435363738)."""
    text = text.strip()
    if len(text) == 16 and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    if 1 <= len(text) <= 8 and text.isascii() and text.isprintable():
        return text.encode("ascii").ljust(8, b"\xff")
    raise ValueError("ADM1 must be up to 8 characters (sent as ASCII) or 16 hex digits (raw)")


def pin_code(text: str) -> bytes:
    """The 8 bytes VERIFY PIN sends: the digits as ASCII, padded with FF."""
    return _digits(text, "PIN", 4, 8).encode("ascii").ljust(8, b"\xff")


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_input=False):
        msg = err["msg"].removeprefix("Value error, ")
        where = ".".join(str(p) for p in err["loc"])
        lines.append(f"{where}: {msg}" if where else msg)
    return "; ".join(lines)
