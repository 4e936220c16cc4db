"""The SIM stock's rows: batches, cards, their states, and each card's sealed secrets.

Every change of a card's state is one ``UPDATE … WHERE state=<the state it must be in>`` whose
row count says whether it happened, so of two processes reserving (or selling, or giving keys
to) the same card at the same moment exactly one does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gateway.resources.stock import CardKind, CardRecord, CardState, Condition
from gateway.store.tx import Tx

_IN_CHUNK = 500
_COLUMNS = (
    "iccid, imsi, kind, batch, product, acc, state, condition, location, reserved_by, order_id,"
    " state_since, has_ki"
)


@dataclass(frozen=True)
class Batch:
    """A vendor file's batch as imported, and how many of its cards are still in stock."""

    id: str
    stamp: str
    quantity: int
    product: str
    transport_key: int
    imported_by: str
    imported_at: float
    in_stock: int


@dataclass(frozen=True)
class NewCard:
    """A card going into stock: its secrets already sealed (None: none yet)."""

    iccid: str
    imsi: str
    kind: CardKind
    batch: str | None
    product: str | None
    acc: str | None
    sealed: str | None
    has_ki: bool


def _card(row: Any) -> CardRecord:
    return CardRecord(
        row[0],
        row[1],
        CardKind(row[2]),
        row[3],
        row[4],
        row[5],
        CardState(row[6]),
        Condition(row[7]),
        row[8],
        row[9],
        row[10],
        row[11],
        bool(row[12]),
    )


def find(tx: Tx, iccid: str) -> CardRecord | None:
    row = tx.execute(f"SELECT {_COLUMNS} FROM sims WHERE iccid=?", (iccid,)).fetchone()  # noqa: S608
    return None if row is None else _card(row)


def cards(
    tx: Tx,
    *,
    state: CardState | None = None,
    condition: Condition | None = None,
    location: str | None = None,
    batch: str | None = None,
    limit: int = 100,
) -> list[CardRecord]:
    clauses: list[str] = []
    args: list[str | int] = []
    for column, value in (
        ("state", state.value if state else None),
        ("condition", condition.value if condition else None),
        ("location", location),
        ("batch", batch),
    ):
        if value is not None:
            clauses.append(f"{column}=?")
            args.append(value)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    sql = f"SELECT {_COLUMNS} FROM sims{where} ORDER BY iccid LIMIT ?"  # noqa: S608
    return [_card(r) for r in tx.execute(sql, (*args, limit)).fetchall()]


def known(tx: Tx, column: Literal["iccid", "imsi"], values: Sequence[str]) -> list[str]:
    """Which of ``values`` (ICCIDs or IMSIs) are in stock records already."""
    found: list[str] = []
    for start in range(0, len(values), _IN_CHUNK):
        chunk = values[start : start + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        # Only the fixed column name and the placeholders are interpolated.
        sql = f"SELECT {column} FROM sims WHERE {column} IN ({marks})"  # noqa: S608
        found.extend(r[0] for r in tx.execute(sql, chunk))
    return found


def batch_exists(tx: Tx, batch_id: str) -> bool:
    return tx.execute("SELECT 1 FROM sim_batches WHERE id=?", (batch_id,)).fetchone() is not None


def add_batch(
    tx: Tx,
    *,
    batch_id: str,
    stamp: str,
    quantity: int,
    product: str,
    transport_key: int,
    ota_key: int | None,
    by: str,
    now: float,
) -> None:
    tx.execute(
        "INSERT INTO sim_batches (id, stamp, quantity, product, transport_key, ota_key,"
        " imported_by, imported_at) VALUES (?,?,?,?,?,?,?,?)",
        (batch_id, stamp, quantity, product, transport_key, ota_key, by, now),
    )


def add_cards(tx: Tx, new: Iterable[NewCard], *, location: str, now: float) -> None:
    """Cards into stock, usable. A card known already makes the insert fail (its keys)."""
    tx.executemany(
        "INSERT INTO sims (iccid, imsi, kind, batch, product, acc, secrets, has_ki, state,"
        " location, state_since, created_at) VALUES (?,?,?,?,?,?,?,?,'in_stock',?,?,?)",
        (
            (
                c.iccid,
                c.imsi,
                c.kind.value,
                c.batch,
                c.product,
                c.acc,
                c.sealed,
                int(c.has_ki),
                location,
                now,
                now,
            )
            for c in new
        ),
    )


def batches(tx: Tx) -> list[Batch]:
    """Newest first."""
    rows = tx.execute(
        "SELECT b.id, b.stamp, b.quantity, b.product, b.transport_key, b.imported_by,"
        " b.imported_at, (SELECT count(*) FROM sims s WHERE s.batch=b.id AND"
        " s.state='in_stock') FROM sim_batches b ORDER BY b.imported_at DESC, b.id"
    ).fetchall()
    return [Batch(*r) for r in rows]


def set_condition(tx: Tx, iccids: Iterable[str], condition: Condition) -> int:
    """Mark cards in stock usable or damaged: how many were (a card no longer in stock —
    reserved by another process meanwhile — is left as it is)."""
    changed = 0
    for iccid in iccids:
        cur = tx.execute(
            "UPDATE sims SET condition=? WHERE iccid=? AND state='in_stock'",
            (condition.value, iccid),
        )
        changed += cur.rowcount
    return changed


def reserve(tx: Tx, iccid: str, *, operator: str, order_id: str | None, now: float) -> bool:
    """The usable card in stock is reserved by ``operator`` (for ``order_id``); False if it is
    not a usable card in stock (nothing changed)."""
    cur = tx.execute(
        "UPDATE sims SET state='reserved', reserved_by=?, order_id=?, state_since=?"
        " WHERE iccid=? AND state='in_stock' AND condition='usable'",
        (operator, order_id, now, iccid),
    )
    return cur.rowcount == 1


def release(
    tx: Tx, iccid: str, *, condition: Condition, now: float, order_id: str | None = None
) -> bool:
    """The reserved card back into stock in ``condition`` — with ``order_id``, only if it is
    reserved for that order; False if it was not (nothing changed)."""
    sql = (
        "UPDATE sims SET state='in_stock', reserved_by=NULL, order_id=NULL,"
        " condition=?, state_since=? WHERE iccid=? AND state='reserved'"
    )
    if order_id is None:
        cur = tx.execute(sql, (condition.value, now, iccid))
    else:
        cur = tx.execute(sql + " AND order_id=?", (condition.value, now, iccid, order_id))
    return cur.rowcount == 1


def sell(tx: Tx, iccid: str, order_id: str, *, now: float) -> bool:
    """The card reserved for ``order_id`` (or for no order) is sold with it; False if not."""
    cur = tx.execute(
        "UPDATE sims SET state='sold', order_id=?, state_since=? WHERE iccid=? AND"
        " state='reserved' AND (order_id IS NULL OR order_id=?)",
        (order_id, now, iccid, order_id),
    )
    return cur.rowcount == 1


def retire(tx: Tx, iccid: str, *, now: float) -> bool:
    """The card leaves service and its keys are wiped; False if it is reserved (or gone)."""
    cur = tx.execute(
        "UPDATE sims SET state='retired', secrets=NULL, state_since=? WHERE iccid=?"
        " AND state<>'reserved'",
        (now, iccid),
    )
    return cur.rowcount == 1


def sealed_secrets(tx: Tx, iccid: str) -> str | None:
    row = tx.execute("SELECT secrets FROM sims WHERE iccid=?", (iccid,)).fetchone()
    return None if row is None else row[0]


def give_keys(tx: Tx, iccid: str, sealed: str) -> bool:
    """Store freshly made keys for a card that has none; False if it got keys meanwhile (from
    another process), which then stand."""
    cur = tx.execute(
        "UPDATE sims SET secrets=?, has_ki=1 WHERE iccid=? AND has_ki=0", (sealed, iccid)
    )
    return cur.rowcount == 1
