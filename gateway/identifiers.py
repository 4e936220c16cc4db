"""Identifiers a clerk or an upstream system types, validated the way the network needs them.

Each type is an ``Annotated[str, …]`` usable in any pydantic model; a bad value fails with a
message that names what is wrong in words a clerk understands ("check digit should be 3"),
and pydantic adds the field name.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    ValidationInfo,
)

_DIGITS = re.compile(r"[0-9]+")
_HEX32 = re.compile(r"[0-9A-Fa-f]{32}")
_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Characters that would let customer text escape a quoted MML string or start a new command,
# plus every control character. Free text that never reaches an NE is still refused them, so a
# name typed at the counter can be shown, logged and audited without surprises.
_FORBIDDEN_TEXT = re.compile(r'["\';\\<>`]|[\x00-\x1f\x7f]')


def luhn_check_digit(payload: str) -> int:
    """The Luhn (mod 10) check digit for ``payload`` (ISO/IEC 7812), as ICCIDs use."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def _imsi(value: str) -> str:
    if not _DIGITS.fullmatch(value):
        raise ValueError("IMSI must contain digits only")
    if len(value) != 15:
        raise ValueError(f"IMSI must be 15 digits, got {len(value)}")
    mcc = value[:3]
    if mcc[0] not in "234567" and mcc not in {"001", "999"}:
        raise ValueError(f"IMSI country code (MCC) {mcc} is not an assigned mobile country code")
    return value


def _msisdn(value: str) -> str:
    compact = value.replace(" ", "").replace("-", "")
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("86") and len(compact) == 13:
        compact = compact[2:]
    if not _DIGITS.fullmatch(compact):
        raise ValueError("mobile number must contain digits only")
    if not _MAINLAND_MOBILE.fullmatch(compact):
        raise ValueError("mobile number must be 11 digits starting 13–19 (e.g. 13800138000)")
    return compact


def _e164(value: str) -> str:
    if not _DIGITS.fullmatch(value) or not 5 <= len(value) <= 15:
        raise ValueError("international number must be 5 to 15 digits, without '+'")
    return value


def _iccid(value: str) -> str:
    if not _DIGITS.fullmatch(value):
        raise ValueError("ICCID must contain digits only")
    if len(value) not in (19, 20):
        raise ValueError(f"ICCID must be 19 or 20 digits, got {len(value)}")
    if not value.startswith("89"):
        raise ValueError("ICCID must start with 89 (telecommunications)")
    expected = luhn_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValueError(f"ICCID check digit is wrong: last digit should be {expected}")
    return value


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id_check_character(first17: str) -> str:
    """GB 11643-1999 check character of an 18-character resident identity number."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _resident_id(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 18:
        raise ValueError(f"resident ID number must be 18 characters, got {len(value)}")
    if not _DIGITS.fullmatch(value[:17]) or not re.fullmatch(r"[0-9X]", value[17]):
        raise ValueError("resident ID number must be 17 digits followed by a digit or X")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValueError(f"resident ID number has an impossible birth date {value[6:14]}") from None
    expected = resident_id_check_character(value[:17])
    if value[17] != expected:
        raise ValueError(f"resident ID check character is wrong: should be {expected}")
    return value


def _hex_key(value: SecretStr) -> SecretStr:
    raw = value.get_secret_value()
    if not _HEX32.fullmatch(raw):
        # The value itself is never echoed back: it is a secret even when it is wrong.
        raise ValueError("key must be exactly 32 hexadecimal characters (128 bits)")
    return SecretStr(raw.lower())


def _safe_text(value: str) -> str:
    value = value.strip()
    bad = _FORBIDDEN_TEXT.search(value)
    if bad:
        shown = repr(bad.group())[1:-1]
        raise ValueError(f"contains a character that is not allowed here: {shown}")
    return value


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Imsi = Annotated[str, BeforeValidator(_strip), AfterValidator(_imsi)]
Msisdn = Annotated[str, BeforeValidator(_strip), AfterValidator(_msisdn)]
"""An 11-digit mainland mobile number; ``+86``/``86`` prefixes are accepted and removed."""
E164 = Annotated[str, AfterValidator(_e164)]
"""A number in international form without '+', as the network sees it (``8613800138000``)."""
Iccid = Annotated[str, BeforeValidator(_strip), AfterValidator(_iccid)]
ResidentId = Annotated[str, AfterValidator(_resident_id)]
SafeText = Annotated[str, AfterValidator(_safe_text)]
"""Free text (names, addresses) refused any character that could break a command or a log."""


def to_e164(msisdn: str, country_code: str = "86") -> str:
    """The network form of an 11-digit mainland number: ``13800138000`` → ``8613800138000``."""
    return country_code + msisdn


def _unseal_before(value: object, info: ValidationInfo) -> object:
    """Accept a sealed (encrypted-at-rest) secret when the caller passes an ``unseal`` context."""
    unseal = (info.context or {}).get("unseal")
    if unseal is not None and isinstance(value, str) and value.startswith(SEALED_PREFIX):
        return unseal(value)
    return value


def _seal_or_mask(value: SecretStr, info: SerializationInfo) -> str:
    """Secrets serialise as ``****`` unless the caller passes a ``seal`` context (the store)."""
    seal = (info.context or {}).get("seal")
    if seal is not None:
        return str(seal(value.get_secret_value()))
    return MASK


SEALED_PREFIX = "enc:v1:"
MASK = "****"

_secret_io = (
    BeforeValidator(_unseal_before),
    PlainSerializer(_seal_or_mask, return_type=str, when_used="always"),
)

HexKey = Annotated[SecretStr, *_secret_io, AfterValidator(_hex_key)]
"""A 128-bit key (Ki, OPc, OP) as 32 hex digits; never printed, sealed at rest."""
Secret = Annotated[SecretStr, *_secret_io]
"""Any other secret (service password, ADM code): never printed, sealed at rest."""


def _voucher(value: SecretStr) -> SecretStr:
    if not re.fullmatch(r"[0-9]{10,20}", value.get_secret_value()):
        raise ValueError("recharge voucher number must be 10 to 20 digits")
    return value


Voucher = Annotated[SecretStr, *_secret_io, AfterValidator(_voucher)]
"""A recharge card's voucher number (充值卡密码): whoever reads it can spend the card, so it is
sealed at rest and shown as ``****``, like a key."""
