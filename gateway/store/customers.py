"""The customer register's rows: customers, categories, and who is in which category."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.orders import IdType
from gateway.resources.customers import Category, CustomerKind, CustomerRecord
from gateway.store.tx import Tx

_CUSTOMER = "SELECT id, kind, id_type, id_number, name, address, contact FROM customers"
_CATEGORY = "SELECT number, name, note, refuses_open FROM categories"


def _categories_of(tx: Tx, customer_id: int) -> tuple[Category, ...]:
    rows = tx.execute(
        "SELECT c.number, c.name, c.note, c.refuses_open FROM customer_categories m"
        " JOIN categories c ON c.number = m.category WHERE m.customer_id=? ORDER BY c.number",
        (customer_id,),
    ).fetchall()
    return tuple(Category(r[0], r[1], r[2], bool(r[3])) for r in rows)


def _customer(tx: Tx, row: Any) -> CustomerRecord | None:
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
        _categories_of(tx, row[0]),
    )


def find(tx: Tx, customer_id: int) -> CustomerRecord | None:
    return _customer(tx, tx.execute(f"{_CUSTOMER} WHERE id=?", (customer_id,)).fetchone())


def find_by_document(tx: Tx, id_type: str, id_number: str) -> CustomerRecord | None:
    row = tx.execute(
        f"{_CUSTOMER} WHERE id_type=? AND id_number=?",
        (id_type, id_number),
    ).fetchone()
    return _customer(tx, row)


def exists(tx: Tx, customer_id: int) -> bool:
    return tx.execute("SELECT 1 FROM customers WHERE id=?", (customer_id,)).fetchone() is not None


def insert(
    tx: Tx,
    *,
    kind: CustomerKind,
    id_type: IdType,
    id_number: str,
    name: str | None,
    address: str | None,
    contact: str | None,
    by: str,
    now: float,
) -> int | None:
    """A new customer's number; None (nothing written) if the document is registered."""
    row = tx.execute(
        "INSERT INTO customers (kind, id_type, id_number, name, address, contact,"
        " created_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (id_type, id_number) DO NOTHING RETURNING id",
        (kind.value, id_type.value, id_number, name, address, contact, by, now, now),
    ).fetchone()
    return None if row is None else int(row[0])


_CHANGEABLE = ("name", "address", "contact")


def update(tx: Tx, customer_id: int, fields: dict[str, str], *, now: float) -> None:
    """Set some of name, address and contact."""
    for column, value in fields.items():
        if column not in _CHANGEABLE:
            raise ValueError(f"{column} is not a changeable customer field")
        # The column name is one of _CHANGEABLE, never the request's.
        tx.execute(
            f"UPDATE customers SET {column}=?, updated_at=? WHERE id=?",  # noqa: S608
            (value, now, customer_id),
        )


def categories(tx: Tx) -> list[Category]:
    rows = tx.execute(f"{_CATEGORY} ORDER BY number").fetchall()
    return [Category(r[0], r[1], r[2], bool(r[3])) for r in rows]


def category(tx: Tx, number: int) -> Category | None:
    row = tx.execute(f"{_CATEGORY} WHERE number=?", (number,)).fetchone()
    return None if row is None else Category(row[0], row[1], row[2], bool(row[3]))


def category_named(tx: Tx, name: str) -> int | None:
    row = tx.execute("SELECT number FROM categories WHERE name=?", (name,)).fetchone()
    return None if row is None else int(row[0])


def insert_category(
    tx: Tx, *, name: str, note: str, refuses_open: bool, by: str, now: float
) -> Category | None:
    """The new category, numbered next; None (nothing written) if the name is taken."""
    row = tx.execute(
        "INSERT INTO categories (name, note, refuses_open, created_by, created_at)"
        " VALUES (?,?,?,?,?) ON CONFLICT (name) DO NOTHING RETURNING number",
        (name, note, int(refuses_open), by, now),
    ).fetchone()
    return None if row is None else Category(int(row[0]), name, note, refuses_open)


def update_category(tx: Tx, category: Category) -> None:
    """Name and note (its number and effect stay)."""
    tx.execute(
        "UPDATE categories SET name=?, note=? WHERE number=?",
        (category.name, category.note, category.number),
    )


def join(tx: Tx, customer_id: int, numbers: Iterable[int], *, by: str, now: float) -> None:
    """Put the customer in these categories (staying where they are already)."""
    tx.executemany(
        "INSERT INTO customer_categories (customer_id, category, since, added_by)"
        " VALUES (?,?,?,?) ON CONFLICT (customer_id, category) DO NOTHING",
        [(customer_id, n, now, by) for n in numbers],
    )


def leave(tx: Tx, customer_id: int, numbers: Iterable[int]) -> None:
    tx.executemany(
        "DELETE FROM customer_categories WHERE customer_id=? AND category=?",
        [(customer_id, n) for n in numbers],
    )
