"""Resources are safe across gateway processes sharing one database.

Several gateways' stores on one file (see `tests.resources.gateways`), acting at the same
moment: of those reserving one card, or changing one number, exactly one does; a card reserved
for one order is neither reserved nor sold for another, and a blank card gets one set of keys
whoever asks; the audit trail is one sequence with every gateway's entries in it, in order.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.counter import Counter
from gateway.orders import OpenAccount
from gateway.planner import PlanRefused
from gateway.resources import audit
from gateway.resources.access import Role
from gateway.resources.numbers import BlockIn, NumberRecord, NumberState
from gateway.resources.operators import OperatorIn
from gateway.resources.refusals import NotAllowed, Unavailable
from gateway.resources.service import Resources
from gateway.resources.sim_stock import mark_sold
from gateway.resources.stock import CardIn, CardKeys, CardKind, CardRecord, CardState
from gateway.store import OrderState
from tests.gateway.orders_factory import open_account
from tests.resources.gateways import in_gateways, in_one_gateway
from tests.resources.test_stock import blank, personalised
from tests.resources.test_vendor_file import iccid

GATEWAYS = 4
PER_GATEWAY = 5


def blank_card(iccid: str, imsi: str) -> CardIn:
    return CardIn.model_validate({"iccid": iccid, "imsi": imsi, "kind": CardKind.PROGRAMMABLE})


async def _reserve(res: Resources, g: int) -> list[CardRecord | None]:
    async def one(clerk: str) -> CardRecord | None:
        try:
            return await res.stock.reserve_card(iccid(1), clerk, order_id=f"order-{clerk}")
        except Unavailable:
            return None

    return list(await asyncio.gather(*(one(f"g{g}-clerk{i}") for i in range(PER_GATEWAY))))


def test_of_gateways_reserving_one_card_at_once_exactly_one_gets_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    in_one_gateway(path, lambda res: res.stock.add_card(personalised(), by="e"))
    winners = [c for got in in_gateways(path, GATEWAYS, _reserve) for c in got if c is not None]
    assert len(winners) == 1, f"{len(winners)} clerks reserved the same card"
    card = in_one_gateway(path, lambda res: res.stock.get(iccid(1)))
    assert card.state is CardState.RESERVED
    assert (card.reserved_by, card.order_id) == (winners[0].reserved_by, winners[0].order_id)


def test_a_card_reserved_for_an_order_is_neither_reserved_nor_sold_for_another(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"

    async def reserve_in_a(res: Resources) -> None:
        await res.stock.add_card(personalised(), by="e")
        await res.stock.reserve_card(iccid(1), "clerk-a", order_id="order-a")

    async def try_in_b(res: Resources) -> list[str]:
        refused = []
        try:
            await res.stock.reserve_card(iccid(1), "clerk-b", order_id="order-b")
        except Unavailable as exc:
            refused.append(exc.message)
        try:
            await res.store.run(lambda tx: mark_sold(tx, iccid(1), "order-b", now=1.0))
        except Unavailable as exc:
            refused.append(exc.message)
        return refused

    in_one_gateway(path, reserve_in_a)
    refused = in_one_gateway(path, try_in_b)
    assert len(refused) == 2, refused
    assert "reserved by clerk-a" in refused[0]
    card = in_one_gateway(path, lambda res: res.stock.get(iccid(1)))
    assert (card.state, card.order_id) == (CardState.RESERVED, "order-a")


def test_a_blank_card_gets_one_set_of_keys_whichever_gateways_ask_at_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"

    async def reserve(res: Resources) -> None:
        await res.stock.add_card(blank(1), by="e")
        await res.stock.reserve_card(iccid(1), "clerk1", order_id="order-1")

    async def keys(res: Resources, g: int) -> list[CardKeys]:
        return list(await asyncio.gather(*(res.stock.card_keys(iccid(1)) for _ in range(3))))

    in_one_gateway(path, reserve)
    asked = [k for got in in_gateways(path, GATEWAYS, keys) for k in got]
    kis = {k.ki.get_secret_value() for k in asked}
    opcs = {k.opc.get_secret_value() for k in asked if k.opc is not None}
    assert len(kis) == 1 and len(opcs) == 1, "the card was given two sets of keys"
    assert sum(k.fresh for k in asked) == 1, "exactly one gateway made the keys"
    stored = in_one_gateway(path, lambda res: res.stock.card_keys(iccid(1)))
    assert stored.ki.get_secret_value() in kis


def test_of_gateways_changing_one_number_at_once_exactly_one_does_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    number = "13900000042"
    in_one_gateway(path, lambda res: res.numbers.import_block(BlockIn(prefix="139000000"), by="e"))

    async def disable(res: Resources, g: int) -> list[NumberRecord | None]:
        async def one(i: int) -> NumberRecord | None:
            try:
                return await res.numbers.disable(number, by=f"g{g}-engineer{i}")
            except Unavailable:
                return None

        return list(await asyncio.gather(*(one(i) for i in range(PER_GATEWAY))))

    done = [r for got in in_gateways(path, GATEWAYS, disable) for r in got if r is not None]
    assert len(done) == 1
    assert done[0].state is NumberState.DISABLED
    trail = in_one_gateway(path, lambda res: audit.entries(res.store, limit=1000))
    assert [e.action for e in trail].count(f"disable number {number}") == 1


def test_the_audit_trail_is_one_sequence_across_gateways(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    entries = 25
    in_one_gateway(path, lambda res: res.numbers.settings())  # the schema, made once

    async def write(res: Resources, g: int) -> None:
        async def one(i: int) -> None:
            await res.store.run(
                lambda tx: audit.record(
                    tx, at=float(i), operator=f"gateway{g}", action=f"step {i}", outcome="done"
                )
            )
            await asyncio.sleep(0)  # one entry per group commit, interleaved with the others

        for i in range(entries):
            await one(i)

    in_gateways(path, GATEWAYS, write)
    trail = in_one_gateway(path, lambda res: audit.entries(res.store, limit=1000))
    ids = [e.id for e in trail]
    assert len(trail) == GATEWAYS * entries
    assert len(set(ids)) == len(ids), "two entries share an id"
    assert ids == sorted(ids, reverse=True), "the trail is read newest first, by id"
    for g in range(GATEWAYS):
        mine = [e for e in reversed(trail) if e.operator == f"gateway{g}"]
        assert [e.action for e in mine] == [f"step {i}" for i in range(entries)], (
            f"gateway{g}'s entries are out of their order"
        )


def test_an_order_refused_another_orders_card_leaves_that_card_reserved(
    tmp_path: Path,
) -> None:
    """Gateway B plans an order on a card gateway A reserved for its own order: B's order is
    refused the card and its keys, and B's clean-up after the refusal does not give A's card
    back to stock (where a third clerk could take it while A writes it)."""
    path = tmp_path / "shared.db"
    mine = open_account("order-a", card={"station": "counter-1"}, ki=None, opc=None)
    theirs = open_account("order-b", card={"station": "counter-1"}, ki=None, opc=None)
    assert isinstance(mine, OpenAccount) and isinstance(theirs, OpenAccount)

    async def reserve_in_a(res: Resources) -> None:
        await res.stock.add_card(blank_card(mine.iccid, mine.imsi), by="e")
        await res.stock.reserve_card(mine.iccid, "clerk1", order_id="order-a")

    async def plan_in_b(res: Resources) -> str:
        counter = Counter(res, load_config(None))
        with pytest.raises(PlanRefused) as refused:
            await counter.card_keys(theirs)
        with pytest.raises(Unavailable, match="reserved for order order-a"):
            await res.stock.card_keys(mine.iccid, order_id="order-b")
        await counter.after(theirs, OrderState.FAILED, None, {})
        return str(refused.value)

    in_one_gateway(path, reserve_in_a)
    assert "reserved by clerk1" in in_one_gateway(path, plan_in_b)
    card = in_one_gateway(path, lambda res: res.stock.get(mine.iccid))
    assert (card.state, card.order_id) == (CardState.RESERVED, "order-a")


def test_an_operators_hold_limit_holds_across_gateways(tmp_path: Path) -> None:
    """One clerk signed in at several gateways holds numbers in all of them at once: no more
    than the limit in all (the count and the hold are one decision per clerk, whichever
    process makes it)."""
    path = tmp_path / "shared.db"

    async def prepare(res: Resources) -> None:
        clerk = {"id": "clerk1", "job_number": "C1", "name": "Clerk", "role": Role.CLERK}
        await res.operators.create(
            OperatorIn.model_validate(clerk | {"password": "clerk1-secret"}), by="admin1"
        )
        await res.numbers.import_block(BlockIn(prefix="139000000"), by="e")

    async def hold_many(res: Resources, g: int) -> list[bool]:
        async def one(i: int) -> bool:
            try:
                await res.numbers.hold(f"139000000{g}{i}", "clerk1", "OUT001")
            except NotAllowed:
                return False
            return True

        return list(await asyncio.gather(*(one(i) for i in range(PER_GATEWAY))))

    in_one_gateway(path, prepare)
    held = sum(ok for got in in_gateways(path, GATEWAYS, hold_many) for ok in got)
    limit = in_one_gateway(path, lambda res: res.numbers.settings()).max_holds_per_operator
    assert held == limit, f"{held} holds for a limit of {limit}"
