"""Customers and customer categories (C1-F3, M3).

The customer's type follows from the identity document: a resident identity card (居民身份证)
makes a person, a business licence (营业执照, the 18-character unified social credit code)
makes a unit. Name, address and contact may be entered later (data entered before payment is
provisional), but an account is opened only for a complete record.

Categories (客户类别) have a number, a name and a note; a customer may be in several. They can be
added and renamed but never deleted — the API has no route for it and a trigger refuses it in
the database — because partners (other operators, police) refer to them by number. A category
marked ``refuses_open`` (the built-in blacklist 黑名单, number 3) stops new accounts. The
register itself is `gateway.resources.customer_register`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator

from gateway.identifiers import ResidentId, SafeText
from gateway.orders import IdType

Contact = Annotated[str, Field(pattern=r"^\+?[0-9]{5,15}$")]
BLACKLIST = 3
_RESIDENT_ID: TypeAdapter[str] = TypeAdapter(ResidentId)
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class CustomerKind(StrEnum):
    PERSON = "person"  # 个人客户
    UNIT = "unit"  # 单位/集团客户


KIND_OF_DOCUMENT = {
    IdType.RESIDENT_ID: CustomerKind.PERSON,
    IdType.BUSINESS_LICENCE: CustomerKind.UNIT,
}


def unified_social_credit_code(value: str) -> str:
    """A business licence number: the 18-character code of GB 32100-2015, check character
    included (mod 31 over the 31-character alphabet without I, O, Z, S, V)."""
    value = value.strip().upper()
    if len(value) != 18:
        raise ValueError(f"business licence number must be 18 characters, got {len(value)}")
    if any(c not in _USCC_CHARS for c in value):
        raise ValueError("business licence number uses only digits and A–Y without I, O, Z, S, V")
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(value, _USCC_WEIGHTS, strict=False))
    expected = _USCC_CHARS[(31 - total % 31) % 31]
    if value[17] != expected:
        raise ValueError(f"business licence check character is wrong: should be {expected}")
    return value


def _document(id_type: IdType, number: str) -> str:
    if id_type is IdType.RESIDENT_ID:
        return _RESIDENT_ID.validate_python(number)
    return unified_social_credit_code(number)


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_type: IdType
    id_number: str = Field(min_length=1, max_length=32)
    name: SafeText | None = Field(None, min_length=1, max_length=60)
    address: SafeText | None = Field(None, min_length=4, max_length=200)
    contact: Contact | None = None

    @field_validator("id_number")
    @classmethod
    def _check_document(cls, value: str, info: ValidationInfo) -> str:
        id_type = info.data.get("id_type")
        return _document(id_type, value) if isinstance(id_type, IdType) else value


class CustomerChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: SafeText | None = Field(None, min_length=1, max_length=60)
    address: SafeText | None = Field(None, min_length=4, max_length=200)
    contact: Contact | None = None


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: SafeText = Field(min_length=1, max_length=40)
    note: SafeText = Field("", max_length=200)
    refuses_open: bool = False


class CategoryChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: SafeText | None = Field(None, min_length=1, max_length=40)
    note: SafeText | None = Field(None, max_length=200)


CategoryNumber = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Membership(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: list[CategoryNumber] = Field(default_factory=list, max_length=20)
    remove: list[CategoryNumber] = Field(default_factory=list, max_length=20)


@dataclass(frozen=True)
class Category:
    number: int
    name: str
    note: str
    refuses_open: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "note": self.note,
            "refuses_open": self.refuses_open,
        }


@dataclass(frozen=True)
class CustomerRecord:
    id: int
    kind: CustomerKind
    id_type: IdType
    id_number: str
    name: str | None
    address: str | None
    contact: str | None
    categories: tuple[Category, ...]

    @property
    def missing(self) -> list[str]:
        """The fields C1-F3 requires that are still empty."""
        return [f for f in ("name", "address", "contact") if not getattr(self, f)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "id_type": self.id_type.value,
            "id_number": self.id_number,
            "name": self.name,
            "address": self.address,
            "contact": self.contact,
            "categories": [c.as_dict() for c in self.categories],
            "complete": not self.missing,
            "missing": self.missing,
        }


def refusal_of(record: CustomerRecord) -> str | None:
    refusing = [c.name for c in record.categories if c.refuses_open]
    if refusing:
        return (
            f"customer {record.id} is on the {', '.join(refusing)}: no account may be opened"
            " for them"
        )
    return None
