"""SIM card stock (M4/M5): cards in, reserved for an order, sold, retired.

Two kinds of card: *personalised* cards arrive with their keys from the vendor (Ki, OPc,
PIN/PUK, ADM1 — see `gateway.resources.vendor_file`); *programmable* blank cards (空白卡) arrive
with ICCID, IMSI and ADM1 only, and get a fresh Ki and OPc when the counter first asks for
their keys. Either way the keys are sealed with the vault as one blob per card and leave the
store only through `SimStock.card_keys`, as `SecretStr`.

States: in stock → reserved (assigned to an order) → sold → retired (the old card of a SIM
replacement, or a written-off card; its keys are wiped). Independently a card is usable or
damaged; a damaged card is never reserved.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from gateway.identifiers import HexKey, Iccid, Imsi, Secret
from gateway.orders import ProductId
from gateway.resources import audit
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.resources.transport_keys import TransportKeys
from gateway.resources.vendor_file import CHECKS, VendorBatch, parse_vendor_file
from gateway.store import SqliteStore, Tx

_SEAL_CHUNK = 5000
_IN_CHUNK = 500


class CardKind(StrEnum):
    PERSONALISED = "personalised"  # keys from the vendor
    PROGRAMMABLE = "programmable"  # blank card: keys generated at the counter


class CardState(StrEnum):
    IN_STOCK = "in_stock"
    RESERVED = "reserved"  # assigned to an order at the counter
    SOLD = "sold"
    RETIRED = "retired"


class Condition(StrEnum):
    USABLE = "usable"
    DAMAGED = "damaged"


def _secret_check(column: str) -> Callable[[SecretStr], SecretStr]:
    check = CHECKS[column]

    def validate(value: SecretStr) -> SecretStr:
        message = check(value.get_secret_value())
        if message is not None:
            raise ValueError(message)
        return value

    return validate


Pin = Annotated[Secret, AfterValidator(_secret_check("PIN1"))]
Puk = Annotated[Secret, AfterValidator(_secret_check("PUK1"))]
Adm = Annotated[Secret, AfterValidator(_secret_check("ADM1"))]


class CardIn(BaseModel):
    """One card entered by hand."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    iccid: Iccid
    imsi: Imsi
    kind: CardKind = CardKind.PERSONALISED
    ki: HexKey | None = None
    opc: HexKey | None = None
    pin1: Pin | None = None
    puk1: Puk | None = None
    pin2: Pin | None = None
    puk2: Puk | None = None
    adm1: Adm | None = None
    acc: str | None = Field(None, pattern=r"^[0-9A-Fa-f]{4}$")
    product: ProductId | None = None
    kic: HexKey | None = None  # OTA key set, for cards managed over the air
    kid: HexKey | None = None

    @model_validator(mode="after")
    def _keys(self) -> CardIn:
        if self.kind is CardKind.PERSONALISED and self.ki is None:
            raise ValueError("a personalised card needs its ki (or enter it as programmable)")
        if self.kind is CardKind.PROGRAMMABLE and (self.ki is not None or self.opc is not None):
            raise ValueError("a programmable card gets its keys at the counter: give no ki/opc")
        return self

    def clear_secrets(self) -> dict[str, str]:
        return {
            name: value.get_secret_value()
            for name in ("ki", "opc", "pin1", "puk1", "pin2", "puk2", "adm1", "kic", "kid")
            if (value := getattr(self, name)) is not None
        }


class ConditionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iccids: list[str] = Field(min_length=1, max_length=100_000)
    condition: Condition


@dataclass(frozen=True)
class CardRecord:
    iccid: str
    imsi: str
    kind: CardKind
    batch: str | None
    product: str | None
    acc: str | None
    state: CardState
    condition: Condition
    location: str
    reserved_by: str | None
    order_id: str | None
    since: float
    has_keys: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "iccid": self.iccid,
            "imsi": self.imsi,
            "kind": self.kind.value,
            "batch": self.batch,
            "product": self.product,
            "acc": self.acc,
            "state": self.state.value,
            "condition": self.condition.value,
            "location": self.location,
            "reserved_by": self.reserved_by,
            "order_id": self.order_id,
            "since": self.since,
            "keys": "sealed" if self.has_keys else "to be generated at the counter",
        }


@dataclass(frozen=True)
class CardKeys:
    """What the card writer and the HLR need for one card. Secrets stay `SecretStr`."""

    iccid: str
    imsi: str
    kind: CardKind
    ki: SecretStr
    opc: SecretStr | None
    adm1: SecretStr | None
    pin1: SecretStr | None
    puk1: SecretStr | None
    pin2: SecretStr | None
    puk2: SecretStr | None
    acc: str | None
    fresh: bool  # the keys were generated just now (programmable card, first asked)
    kic: SecretStr | None = None  # the OTA key set (over-the-air work: gateway.ota_cards)
    kid: SecretStr | None = None


@dataclass(frozen=True)
class ImportResult:
    batch: str
    cards: int
    kind: CardKind

    def as_dict(self) -> dict[str, Any]:
        return {"batch": self.batch, "cards": self.cards, "kind": self.kind.value}


_COLUMNS = (
    "iccid, imsi, kind, batch, product, acc, state, condition, location, reserved_by, order_id,"
    " state_since, has_ki"
)


def _card(row: Sequence[Any]) -> CardRecord:
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


def find_card(conn: Tx, iccid: str) -> CardRecord | None:
    """Inside a store job: the card, or None when the stock does not know it."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM sims WHERE iccid=?", (iccid,)).fetchone()  # noqa: S608
    return None if row is None else _card(row)


def load_card(conn: Tx, iccid: str) -> CardRecord:
    card = find_card(conn, iccid)
    if card is None:
        raise NotFound(f"card {iccid} is not in stock records", field="iccid")
    return card


def mark_sold(conn: Tx, iccid: str, order_id: str, *, now: float) -> None:
    """Inside a store job: the reserved card is sold with ``order_id`` (commit it with the
    order's completion). Again for the same order changes nothing."""
    cur = conn.execute(
        "UPDATE sims SET state='sold', order_id=?, state_since=? WHERE iccid=? AND"
        " state='reserved' AND (order_id IS NULL OR order_id=?)",
        (order_id, now, iccid, order_id),
    )
    if cur.rowcount == 1:
        return
    card = load_card(conn, iccid)
    if card.state is CardState.SOLD and card.order_id == order_id:
        return
    raise Unavailable(
        f"card {iccid} is {card.state.value.replace('_', ' ')}"
        + (f" for order {card.order_id}" if card.order_id else "")
        + ": only a card reserved for this order can be sold with it",
        field="iccid",
    )


def retire(conn: Tx, iccid: str, *, now: float) -> None:
    """Inside a store job: the card leaves service for good (the old card of a SIM
    replacement, or a written-off card); its keys are wiped. Idempotent."""
    card = load_card(conn, iccid)
    if card.state is CardState.RETIRED:
        return
    if card.state is CardState.RESERVED:
        raise Unavailable(f"card {iccid} is reserved for an order: release it first", field="iccid")
    conn.execute(
        "UPDATE sims SET state='retired', secrets=NULL, state_since=? WHERE iccid=?", (now, iccid)
    )


class SimStock:
    """The SIM stock: imports, single cards, the counter's reservations, keys, and sales."""

    def __init__(self, store: SqliteStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def _seal(self, clear: dict[str, str]) -> str:
        return self.store.vault.seal(json.dumps(clear, separators=(",", ":")))

    # -- stock in ------------------------------------------------------------------------

    async def import_vendor_file(
        self, text: str, *, by: str, keys: TransportKeys, location: str = ""
    ) -> ImportResult:
        """Check the whole file, then take every card into stock in one transaction — or,
        if any line is bad or any card is in stock already, none (`Invalid`, by line)."""
        # Parsing is pure Python work on a private copy: a worker thread lets the event loop
        # keep serving while it runs. Sealing uses the shared vault, so it stays on the loop,
        # in slices.
        batch: VendorBatch = await asyncio.to_thread(parse_vendor_file, text, keys)
        sealed: list[str | None] = []
        for start in range(0, len(batch.cards), _SEAL_CHUNK):
            sealed.extend(
                self._seal(c.secrets) if c.secrets else None
                for c in batch.cards[start : start + _SEAL_CHUNK]
            )
            await asyncio.sleep(0)
        kind = CardKind.PROGRAMMABLE if batch.programmable else CardKind.PERSONALISED
        has_ki = int(kind is CardKind.PERSONALISED)
        header = batch.header
        now = self.clock()

        def job(conn: Tx) -> ImportResult:
            if conn.execute("SELECT 1 FROM sim_batches WHERE id=?", (header.batch_id,)).fetchone():
                raise Unavailable(
                    f"batch {header.batch_id} was imported already: nothing was imported",
                    field="line 1",
                )
            _refuse_known(conn, [(c.line, c.iccid, c.imsi) for c in batch.cards])
            conn.execute(
                "INSERT INTO sim_batches (id, stamp, quantity, product, transport_key, ota_key,"
                " imported_by, imported_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    header.batch_id,
                    header.stamp,
                    header.quantity,
                    header.product,
                    header.transport_key,
                    header.ota_key,
                    by,
                    now,
                ),
            )
            common = (kind.value, header.batch_id, header.product)
            conn.executemany(
                "INSERT INTO sims (iccid, imsi, kind, batch, product, acc, secrets, has_ki, state,"
                " location, state_since, created_at) VALUES (?,?,?,?,?,?,?,?,'in_stock',?,?,?)",
                (
                    (c.iccid, c.imsi, *common, c.acc, s, has_ki, location, now, now)
                    for c, s in zip(batch.cards, sealed, strict=True)
                ),
            )
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"import card batch {header.batch_id}",
                outcome="done",
                detail={"cards": len(batch.cards), "kind": kind.value},
            )
            return ImportResult(header.batch_id, len(batch.cards), kind)

        return await self.store.run(job)

    async def add_card(self, card: CardIn, *, by: str, location: str = "") -> CardRecord:
        """One card by hand."""
        clear = card.clear_secrets()
        sealed = self._seal(clear) if clear else None
        now = self.clock()

        def job(conn: Tx) -> CardRecord:
            _refuse_known(conn, [(0, card.iccid, card.imsi)])
            conn.execute(
                "INSERT INTO sims (iccid, imsi, kind, product, acc, secrets, has_ki, state,"
                " location, state_since, created_at) VALUES (?,?,?,?,?,?,?,'in_stock',?,?,?)",
                (
                    card.iccid,
                    card.imsi,
                    card.kind.value,
                    card.product,
                    card.acc,
                    sealed,
                    int(card.ki is not None),
                    location,
                    now,
                    now,
                ),
            )
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"add card {card.iccid}",
                outcome="done",
                detail={"kind": card.kind.value},
            )
            return load_card(conn, card.iccid)

        return await self.store.run(job)

    # -- reading -------------------------------------------------------------------------

    async def get(self, iccid: str) -> CardRecord:
        return await self.store.run(lambda conn: load_card(conn, iccid))

    async def find(self, iccid: str) -> CardRecord | None:
        """Like `get`, but None for a card the stock does not know (see `NumberPool.find`)."""
        return await self.store.run(lambda conn: find_card(conn, iccid))

    async def cards(
        self,
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
        rows = await self.store.run(lambda conn: conn.execute(sql, (*args, limit)).fetchall())
        return [_card(r) for r in rows]

    async def batches(self) -> list[dict[str, Any]]:
        rows = await self.store.run(
            lambda conn: conn.execute(
                "SELECT b.id, b.stamp, b.quantity, b.product, b.transport_key, b.imported_by,"
                " b.imported_at, (SELECT count(*) FROM sims s WHERE s.batch=b.id AND"
                " s.state='in_stock') FROM sim_batches b ORDER BY b.imported_at DESC"
            ).fetchall()
        )
        names = ("id", "stamp", "quantity", "product", "transport_key", "imported_by")
        return [
            dict(zip(names, r[:6], strict=True)) | {"imported_at": r[6], "in_stock": r[7]}
            for r in rows
        ]

    # -- condition -----------------------------------------------------------------------

    async def set_condition(self, iccids: list[str], condition: Condition, *, by: str) -> int:
        """Mark cards in stock usable or damaged; all or none."""
        now = self.clock()

        def job(conn: Tx) -> int:
            problems: list[tuple[str, str]] = []
            for iccid in iccids:
                try:
                    card = load_card(conn, iccid)
                except NotFound as exc:
                    problems.append((iccid, exc.message))
                    continue
                if card.state is not CardState.IN_STOCK:
                    problems.append((iccid, f"card is {card.state.value}, not in stock"))
            if problems:
                raise Invalid.of(problems[:50])
            conn.executemany(
                "UPDATE sims SET condition=? WHERE iccid=?", [(condition.value, i) for i in iccids]
            )
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"mark cards {condition.value}",
                outcome="done",
                detail={"cards": len(iccids), "first": min(iccids), "last": max(iccids)},
            )
            return len(iccids)

        return await self.store.run(job)

    # -- the counter ---------------------------------------------------------------------

    async def reserve_card(
        self, iccid: str, operator: str, *, order_id: str | None = None
    ) -> CardRecord:
        """Assign a usable card in stock to the counter (and to an order, if known). One
        ``UPDATE … WHERE state='in_stock'``: two clerks never get the same card."""
        now = self.clock()

        def job(conn: Tx) -> CardRecord:
            cur = conn.execute(
                "UPDATE sims SET state='reserved', reserved_by=?, order_id=?, state_since=?"
                " WHERE iccid=? AND state='in_stock' AND condition='usable'",
                (operator, order_id, now, iccid),
            )
            card = load_card(conn, iccid)
            if cur.rowcount == 1:
                return card
            if card.condition is Condition.DAMAGED:
                raise Unavailable(f"card {iccid} is marked damaged", field="iccid")
            holder = f" by {card.reserved_by}" if card.state is CardState.RESERVED else ""
            raise Unavailable(f"card {iccid} is {card.state.value}{holder}", field="iccid")

        return await self.store.run(job)

    async def release_card(self, iccid: str, *, damaged: bool = False) -> bool:
        """A reserved card goes back into stock (the order failed before the card was sold);
        ``damaged`` if writing it went wrong. False if it was not reserved."""
        now = self.clock()
        condition = Condition.DAMAGED if damaged else Condition.USABLE

        def job(conn: Tx) -> bool:
            cur = conn.execute(
                "UPDATE sims SET state='in_stock', reserved_by=NULL, order_id=NULL,"
                " condition=?, state_since=? WHERE iccid=? AND state='reserved'",
                (condition.value, now, iccid),
            )
            return cur.rowcount == 1

        return await self.store.run(job)

    async def card_keys(self, iccid: str) -> CardKeys:
        """The keys to write onto a reserved (or sold) card and to provision in the HLR. A
        programmable card gets a fresh random Ki and OPc the first time, stored sealed in the
        same transaction, so asking again returns the same keys."""
        ki, opc = secrets.token_hex(16), secrets.token_hex(16)

        def job(conn: Tx) -> tuple[CardRecord, str | None, bool]:
            card = load_card(conn, iccid)
            if card.state not in (CardState.RESERVED, CardState.SOLD):
                raise Unavailable(
                    f"card {iccid} is {card.state.value}: reserve it before reading its keys",
                    field="iccid",
                )
            (blob,) = conn.execute("SELECT secrets FROM sims WHERE iccid=?", (iccid,)).fetchone()
            clear = json.loads(self.store.vault.unseal(blob)) if blob else {}
            if "ki" in clear:
                return card, blob, False
            if card.kind is not CardKind.PROGRAMMABLE:
                raise Unavailable(f"card {iccid} has no keys on record", field="iccid")
            sealed = self._seal(clear | {"ki": ki, "opc": opc})
            conn.execute("UPDATE sims SET secrets=?, has_ki=1 WHERE iccid=?", (sealed, iccid))
            return card, sealed, True

        card, blob, fresh = await self.store.run(job)
        assert blob is not None
        clear = json.loads(self.store.vault.unseal(blob))

        def secret(name: str) -> SecretStr | None:
            return SecretStr(clear[name]) if name in clear else None

        return CardKeys(
            iccid=card.iccid,
            imsi=card.imsi,
            kind=card.kind,
            ki=SecretStr(clear["ki"]),
            opc=secret("opc"),
            adm1=secret("adm1"),
            pin1=secret("pin1"),
            puk1=secret("puk1"),
            pin2=secret("pin2"),
            puk2=secret("puk2"),
            acc=card.acc,
            fresh=fresh,
            kic=secret("kic"),
            kid=secret("kid"),
        )

    async def mark_sold(self, iccid: str, order_id: str) -> None:
        """`mark_sold` in a transaction of its own."""
        now = self.clock()
        await self.store.run(lambda conn: mark_sold(conn, iccid, order_id, now=now))

    async def retire(self, iccid: str, *, by: str = "system") -> None:
        """`retire` in a transaction of its own, audited."""
        now = self.clock()

        def job(conn: Tx) -> None:
            retire(conn, iccid, now=now)
            audit.record(conn, at=now, operator=by, action=f"retire card {iccid}", outcome="done")

        await self.store.run(job)


def _refuse_known(conn: Tx, cards: list[tuple[int, str, str]]) -> None:
    """Refuse (by line) cards whose ICCID or IMSI is in stock records already."""
    problems: list[tuple[int, str, str]] = []
    for label, column, position in (("ICCID", "iccid", 1), ("IMSI", "imsi", 2)):
        line_of = {c[position]: c[0] for c in cards}
        values = list(line_of)
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            # Only the fixed column name and the placeholders are interpolated.
            sql = f"SELECT {column} FROM sims WHERE {column} IN ({marks})"  # noqa: S608
            for (known,) in conn.execute(sql, chunk):
                line = line_of[known]
                where = f"line {line}" if line else column
                problems.append((line, where, f"{label} {known} is in stock records already"))
    if problems:
        raise Invalid.of([(where, message) for _, where, message in sorted(problems)[:50]])
