"""The SIM stock's operations: imports, single cards, the counter's reservations, keys, and
sales (see `gateway.resources.stock` for the states and how keys are kept)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import SecretStr

from gateway.resources import audit
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.resources.stock import (
    CardIn,
    CardKeys,
    CardKind,
    CardRecord,
    CardState,
    Condition,
    ImportResult,
)
from gateway.resources.transport_keys import TransportKeys
from gateway.resources.vendor_file import VendorBatch, parse_vendor_file
from gateway.store import OrderStore, Tx
from gateway.store import stock as rows
from gateway.store.stock import NewCard

_SEAL_CHUNK = 5000


def find_card(tx: Tx, iccid: str) -> CardRecord | None:
    """Inside a store job: the card, or None when the stock does not know it."""
    return rows.find(tx, iccid)


def load_card(tx: Tx, iccid: str) -> CardRecord:
    card = rows.find(tx, iccid)
    if card is None:
        raise NotFound(f"card {iccid} is not in stock records", field="iccid")
    return card


def mark_sold(tx: Tx, iccid: str, order_id: str, *, now: float) -> None:
    """Inside a store job: the reserved card is sold with ``order_id`` (commit it with the
    order's completion). Again for the same order changes nothing."""
    if rows.sell(tx, iccid, order_id, now=now):
        return
    card = load_card(tx, iccid)
    if card.state is CardState.SOLD and card.order_id == order_id:
        return
    raise Unavailable(
        f"card {iccid} is {card.state.value.replace('_', ' ')}"
        + (f" for order {card.order_id}" if card.order_id else "")
        + ": only a card reserved for this order can be sold with it",
        field="iccid",
    )


def retire(tx: Tx, iccid: str, *, now: float) -> None:
    """Inside a store job: the card leaves service for good (the old card of a SIM
    replacement, or a written-off card); its keys are wiped. Idempotent."""
    card = load_card(tx, iccid)
    if card.state is CardState.RETIRED:
        return
    if card.state is CardState.RESERVED or not rows.retire(tx, iccid, now=now):
        raise Unavailable(f"card {iccid} is reserved for an order: release it first", field="iccid")


class SimStock:
    """The SIM stock: imports, single cards, the counter's reservations, keys, and sales."""

    def __init__(self, store: OrderStore, *, clock: Callable[[], float] = time.time) -> None:
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
        has_ki = kind is CardKind.PERSONALISED
        header = batch.header
        now = self.clock()

        def job(tx: Tx) -> ImportResult:
            if rows.batch_exists(tx, header.batch_id):
                raise Unavailable(
                    f"batch {header.batch_id} was imported already: nothing was imported",
                    field="line 1",
                )
            _refuse_known(tx, [(c.line, c.iccid, c.imsi) for c in batch.cards])
            rows.add_batch(
                tx,
                batch_id=header.batch_id,
                stamp=header.stamp,
                quantity=header.quantity,
                product=header.product,
                transport_key=header.transport_key,
                ota_key=header.ota_key,
                by=by,
                now=now,
            )
            rows.add_cards(
                tx,
                (
                    NewCard(
                        c.iccid, c.imsi, kind, header.batch_id, header.product, c.acc, s, has_ki
                    )
                    for c, s in zip(batch.cards, sealed, strict=True)
                ),
                location=location,
                now=now,
            )
            audit.record(
                tx,
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

        def job(tx: Tx) -> CardRecord:
            _refuse_known(tx, [(0, card.iccid, card.imsi)])
            rows.add_cards(
                tx,
                [
                    NewCard(
                        card.iccid,
                        card.imsi,
                        card.kind,
                        None,
                        card.product,
                        card.acc,
                        sealed,
                        card.ki is not None,
                    )
                ],
                location=location,
                now=now,
            )
            audit.record(
                tx,
                at=now,
                operator=by,
                action=f"add card {card.iccid}",
                outcome="done",
                detail={"kind": card.kind.value},
            )
            return load_card(tx, card.iccid)

        return await self.store.run(job)

    # -- reading -------------------------------------------------------------------------

    async def get(self, iccid: str) -> CardRecord:
        return await self.store.run(lambda tx: load_card(tx, iccid))

    async def find(self, iccid: str) -> CardRecord | None:
        """Like `get`, but None for a card the stock does not know (see `NumberPool.find`)."""
        return await self.store.run(lambda tx: find_card(tx, iccid))

    async def cards(
        self,
        *,
        state: CardState | None = None,
        condition: Condition | None = None,
        location: str | None = None,
        batch: str | None = None,
        limit: int = 100,
    ) -> list[CardRecord]:
        return await self.store.run(
            lambda tx: rows.cards(
                tx, state=state, condition=condition, location=location, batch=batch, limit=limit
            )
        )

    async def batches(self) -> list[dict[str, Any]]:
        return [
            {
                "id": b.id,
                "stamp": b.stamp,
                "quantity": b.quantity,
                "product": b.product,
                "transport_key": b.transport_key,
                "imported_by": b.imported_by,
                "imported_at": b.imported_at,
                "in_stock": b.in_stock,
            }
            for b in await self.store.run(rows.batches)
        ]

    # -- condition -----------------------------------------------------------------------

    async def set_condition(self, iccids: list[str], condition: Condition, *, by: str) -> int:
        """Mark cards in stock usable or damaged; all or none."""
        now = self.clock()

        def job(tx: Tx) -> int:
            problems: list[tuple[str, str]] = []
            for iccid in iccids:
                try:
                    card = load_card(tx, iccid)
                except NotFound as exc:
                    problems.append((iccid, exc.message))
                    continue
                if card.state is not CardState.IN_STOCK:
                    problems.append((iccid, f"card is {card.state.value}, not in stock"))
            if problems:
                raise Invalid.of(problems[:50])
            if rows.set_condition(tx, iccids, condition) != len(iccids):
                raise Unavailable(
                    "a card was taken out of stock meanwhile: nothing was marked", field="iccids"
                )
            audit.record(
                tx,
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

        def job(tx: Tx) -> CardRecord:
            reserved = rows.reserve(tx, iccid, operator=operator, order_id=order_id, now=now)
            card = load_card(tx, iccid)
            if reserved:
                return card
            if card.condition is Condition.DAMAGED:
                raise Unavailable(f"card {iccid} is marked damaged", field="iccid")
            holder = f" by {card.reserved_by}" if card.state is CardState.RESERVED else ""
            raise Unavailable(f"card {iccid} is {card.state.value}{holder}", field="iccid")

        return await self.store.run(job)

    async def release_card(
        self, iccid: str, *, damaged: bool = False, order_id: str | None = None
    ) -> bool:
        """A reserved card goes back into stock (the order failed before the card was sold);
        ``damaged`` if writing it went wrong. With ``order_id``, only a card reserved for that
        order: an order refused a card another order holds never gives that card back. False
        if it was not reserved (for the order)."""
        now = self.clock()
        condition = Condition.DAMAGED if damaged else Condition.USABLE
        return await self.store.run(
            lambda tx: rows.release(tx, iccid, condition=condition, now=now, order_id=order_id)
        )

    async def card_keys(self, iccid: str, *, order_id: str | None = None) -> CardKeys:
        """The keys to write onto a reserved (or sold) card and to provision in the HLR —
        with ``order_id``, only if the card is that order's. A programmable card gets a fresh
        random Ki and OPc the first time, stored sealed in the same transaction, so asking
        again (from any gateway process) returns the same keys."""
        ki, opc = secrets.token_hex(16), secrets.token_hex(16)

        def job(tx: Tx) -> tuple[CardRecord, str | None, bool]:
            card = load_card(tx, iccid)
            if card.state not in (CardState.RESERVED, CardState.SOLD):
                raise Unavailable(
                    f"card {iccid} is {card.state.value}: reserve it before reading its keys",
                    field="iccid",
                )
            if order_id is not None and card.order_id != order_id:
                raise Unavailable(
                    f"card {iccid} is reserved for order {card.order_id}, not {order_id}",
                    field="iccid",
                )
            blob = rows.sealed_secrets(tx, iccid)
            clear = json.loads(self.store.vault.unseal(blob)) if blob else {}
            if "ki" in clear:
                return card, blob, False
            if card.kind is not CardKind.PROGRAMMABLE:
                raise Unavailable(f"card {iccid} has no keys on record", field="iccid")
            sealed = self._seal(clear | {"ki": ki, "opc": opc})
            if not rows.give_keys(tx, iccid, sealed):
                # Another process gave the card its keys first: those are the card's.
                return card, rows.sealed_secrets(tx, iccid), False
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
        await self.store.run(lambda tx: mark_sold(tx, iccid, order_id, now=now))

    async def retire(self, iccid: str, *, by: str = "system") -> None:
        """`retire` in a transaction of its own, audited."""
        now = self.clock()

        def job(tx: Tx) -> None:
            retire(tx, iccid, now=now)
            audit.record(tx, at=now, operator=by, action=f"retire card {iccid}", outcome="done")

        await self.store.run(job)


def _refuse_known(tx: Tx, cards: list[tuple[int, str, str]]) -> None:
    """Refuse (by line) cards whose ICCID or IMSI is in stock records already."""
    problems: list[tuple[int, str, str]] = []
    columns: tuple[tuple[str, Literal["iccid", "imsi"], int], ...] = (
        ("ICCID", "iccid", 1),
        ("IMSI", "imsi", 2),
    )
    for label, column, position in columns:
        line_of: dict[str, int] = {str(c[position]): c[0] for c in cards}
        for known in rows.known(tx, column, list(line_of)):
            line = line_of[known]
            where = f"line {line}" if line else column
            problems.append((line, where, f"{label} {known} is in stock records already"))
    if problems:
        raise Invalid.of([(where, message) for _, where, message in sorted(problems)[:50]])
