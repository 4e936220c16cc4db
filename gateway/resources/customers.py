"""Customers and customer categories (C1-F3, M3).

The customer's type follows from the identity document: a resident identity card (居民身份证)
makes a person, a business licence (营业执照, the 18-character unified social credit code)
makes a unit. Name, address and contact may be entered later (data entered before payment is
provisional), but an account is opened only for a complete record.

Categories (客户类别) have a number, a name and a note; a customer may be in several. They can be
added and renamed but never deleted — the API has no route for it and a trigger refuses it in
the database — because partners (other operators, police) refer to them by number. A category
marked ``refuses_open`` (the built-in blacklist 黑名单, number 3) stops new accounts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator

from gateway.identifiers import ResidentId, SafeText
from gateway.orders import Customer, IdType
from gateway.resources import audit
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Unavailable
from gateway.store import SqliteStore, Tx

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


_CUSTOMER_COLUMNS = "id, kind, id_type, id_number, name, address, contact"


def _categories_of(conn: Tx, customer_id: int) -> tuple[Category, ...]:
    rows = conn.execute(
        "SELECT c.number, c.name, c.note, c.refuses_open FROM customer_categories m"
        " JOIN categories c ON c.number = m.category WHERE m.customer_id=? ORDER BY c.number",
        (customer_id,),
    ).fetchall()
    return tuple(Category(r[0], r[1], r[2], bool(r[3])) for r in rows)


def _load(conn: Tx, where: str, args: tuple[Any, ...]) -> CustomerRecord | None:
    # ``where`` is one of this module's fixed clauses; values are bound parameters.
    row = conn.execute(f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE {where}", args).fetchone()  # noqa: S608
    if row is None:
        return None
    return CustomerRecord(
        row[0],
        CustomerKind(row[1]),
        IdType(row[2]),
        row[3],
        row[4],
        row[5],
        row[6],
        _categories_of(conn, row[0]),
    )


def _refusal(record: CustomerRecord) -> str | None:
    refusing = [c.name for c in record.categories if c.refuses_open]
    if refusing:
        return (
            f"customer {record.id} is on the {', '.join(refusing)}: no account may be opened"
            " for them"
        )
    return None


def customer_refusal(conn: Tx, id_type: str, id_number: str) -> str | None:
    """Why the holder of this document may not open an account, or None. For the intake
    guard: a customer not registered yet is in no category."""
    record = _load(conn, "id_type=? AND id_number=?", (id_type, id_number.upper()))
    return _refusal(record) if record is not None else None


def _category(conn: Tx, number: int) -> Category:
    row = conn.execute(
        "SELECT number, name, note, refuses_open FROM categories WHERE number=?", (number,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no customer category {number}", field="category")
    return Category(row[0], row[1], row[2], bool(row[3]))


class Customers:
    """The customer register and its categories."""

    def __init__(self, store: SqliteStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def register(self, new: CustomerIn, *, by: str) -> CustomerRecord:
        now = self.clock()

        def job(conn: Tx) -> CustomerRecord:
            known = _load(conn, "id_type=? AND id_number=?", (new.id_type.value, new.id_number))
            if known is not None:
                raise Unavailable(
                    f"this document is registered already (customer {known.id})", field="id_number"
                )
            cur = conn.execute(
                "INSERT INTO customers (kind, id_type, id_number, name, address, contact,"
                " created_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    KIND_OF_DOCUMENT[new.id_type].value,
                    new.id_type.value,
                    new.id_number,
                    new.name,
                    new.address,
                    new.contact,
                    by,
                    now,
                    now,
                ),
            )
            record = _load(conn, "id=?", (cur.lastrowid,))
            assert record is not None
            return record

        return await self.store.run(job)

    async def get(self, customer_id: int) -> CustomerRecord:
        found = await self.store.run(lambda conn: _load(conn, "id=?", (customer_id,)))
        if found is None:
            raise NotFound(f"no customer {customer_id}", field="customer")
        return found

    async def find(self, id_type: IdType, id_number: str) -> CustomerRecord | None:
        return await self.store.run(
            lambda conn: _load(
                conn, "id_type=? AND id_number=?", (id_type.value, id_number.upper())
            )
        )

    async def change(self, customer_id: int, change: CustomerChange, *, by: str) -> CustomerRecord:
        now = self.clock()
        fields = change.model_dump(exclude_none=True)

        def job(conn: Tx) -> CustomerRecord:
            if _load(conn, "id=?", (customer_id,)) is None:
                raise NotFound(f"no customer {customer_id}", field="customer")
            for column, value in fields.items():
                # Column names come from the CustomerChange model, never from the request.
                conn.execute(
                    f"UPDATE customers SET {column}=?, updated_at=? WHERE id=?",  # noqa: S608
                    (value, now, customer_id),
                )
            record = _load(conn, "id=?", (customer_id,))
            assert record is not None
            return record

        return await self.store.run(job)

    async def check_may_open(self, customer: int | Customer) -> None:
        """Raise `NotAllowed` if an account may not be opened for this customer: a registered
        customer (by number, or by the document on an order) that is incomplete or in a
        refusing category. An order's `Customer` is complete by construction."""
        if isinstance(customer, Customer):
            record = await self.find(customer.id_type, customer.id_number)
            if record is None:
                return
        else:
            record = await self.get(customer)
        reason = _refusal(record)
        if reason is None and record.missing and not isinstance(customer, Customer):
            reason = (
                f"customer {record.id} is incomplete: {', '.join(record.missing)} missing (C1-F3)"
            )
        if reason is not None:
            raise NotAllowed(reason, field="customer")

    # -- categories ----------------------------------------------------------------------

    async def categories(self) -> list[Category]:
        rows = await self.store.run(
            lambda conn: conn.execute(
                "SELECT number, name, note, refuses_open FROM categories ORDER BY number"
            ).fetchall()
        )
        return [Category(r[0], r[1], r[2], bool(r[3])) for r in rows]

    async def add_category(self, new: CategoryIn, *, by: str) -> Category:
        now = self.clock()

        def job(conn: Tx) -> Category:
            if conn.execute("SELECT 1 FROM categories WHERE name=?", (new.name,)).fetchone():
                raise Unavailable(f"a category named {new.name} exists already", field="name")
            cur = conn.execute(
                "INSERT INTO categories (name, note, refuses_open, created_by, created_at)"
                " VALUES (?,?,?,?,?)",
                (new.name, new.note, int(new.refuses_open), by, now),
            )
            category = Category(int(cur.lastrowid or 0), new.name, new.note, new.refuses_open)
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"add customer category {category.number}",
                outcome="done",
                detail=category.as_dict(),
            )
            return category

        return await self.store.run(job)

    async def change_category(self, number: int, change: CategoryChange, *, by: str) -> Category:
        """Rename a category or change its note; its number and effect stay."""
        now = self.clock()

        def job(conn: Tx) -> Category:
            before = _category(conn, number)
            name = change.name if change.name is not None else before.name
            clash = conn.execute(
                "SELECT number FROM categories WHERE name=? AND number<>?", (name, number)
            ).fetchone()
            if clash is not None:
                raise Unavailable(f"category {clash[0]} is named {name} already", field="name")
            note = change.note if change.note is not None else before.note
            conn.execute(
                "UPDATE categories SET name=?, note=? WHERE number=?", (name, note, number)
            )
            after = Category(number, name, note, before.refuses_open)
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"change customer category {number}",
                outcome="done",
                detail={"before": before.as_dict(), "after": after.as_dict()},
            )
            return after

        return await self.store.run(job)

    async def set_categories(
        self, customer_id: int, membership: Membership, *, by: str
    ) -> CustomerRecord:
        """Put a customer into categories and take them out of others; audited."""
        both = set(membership.add) & set(membership.remove)
        if both:
            raise Invalid(f"category {min(both)} is both added and removed", field="remove")
        now = self.clock()

        def job(conn: Tx) -> CustomerRecord:
            if _load(conn, "id=?", (customer_id,)) is None:
                raise NotFound(f"no customer {customer_id}", field="customer")
            for number in (*membership.add, *membership.remove):
                _category(conn, number)
            conn.executemany(
                "INSERT OR IGNORE INTO customer_categories (customer_id, category, since,"
                " added_by) VALUES (?,?,?,?)",
                [(customer_id, n, now, by) for n in membership.add],
            )
            conn.executemany(
                "DELETE FROM customer_categories WHERE customer_id=? AND category=?",
                [(customer_id, n) for n in membership.remove],
            )
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"customer {customer_id} categories",
                outcome="done",
                detail={"add": sorted(membership.add), "remove": sorted(membership.remove)},
            )
            record = _load(conn, "id=?", (customer_id,))
            assert record is not None
            return record

        return await self.store.run(job)
