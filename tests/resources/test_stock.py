"""SIM stock at the counter: single cards, reservation, keys, sale, retirement, condition."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from pydantic import SecretStr, ValidationError

from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.resources.service import Resources
from gateway.resources.sim_stock import mark_sold, retire
from gateway.resources.stock import CardIn, CardKind, CardState, Condition
from gateway.store import SqliteStore
from tests.resources.test_vendor_file import K1, OPC1, iccid

IMSI = "460010000000001"


def personalised(n: int = 1, **over: object) -> CardIn:
    data = {
        "iccid": iccid(n),
        "imsi": f"46001{n:010d}",
        "ki": K1,
        "opc": OPC1,
        "pin1": "1234",
        "puk1": "12345678",
        "adm1": "Adm12345",
        "acc": "0200",
    }
    return CardIn.model_validate(data | over)


def blank(n: int) -> CardIn:
    return CardIn(
        iccid=iccid(n),
        imsi=f"46001{n:010d}",
        kind=CardKind.PROGRAMMABLE,
        adm1=SecretStr("12345678"),
    )


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"ki": None}, "needs its ki"),
        ({"kind": "programmable"}, "gets its keys at the counter"),
        ({"ki": "00" * 15}, "32 hexadecimal"),
        ({"pin1": "12"}, "4 to 8 digits"),
        ({"puk1": "1234"}, "8 digits"),
        ({"adm1": "12"}, "4 to 8 characters"),
        ({"iccid": "8986010000000000010"}, "check digit"),
    ],
)
def test_bad_cards_by_hand_are_refused(over: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words) as caught:
        personalised(**over)
    assert K1 not in str(caught.value)


async def test_a_card_by_hand_is_sealed_and_reserved_once(res: Resources) -> None:
    card = await res.stock.add_card(personalised(), by="engineer1")
    assert (card.state, card.condition, card.has_keys) == (
        CardState.IN_STOCK,
        Condition.USABLE,
        True,
    )
    assert "ki" not in card.as_dict() and K1 not in str(card.as_dict())
    with pytest.raises(Invalid, match="in stock records already"):
        await res.stock.add_card(personalised(), by="engineer1")
    with pytest.raises(Unavailable, match="reserve it before reading its keys"):
        await res.stock.card_keys(card.iccid)
    results = await asyncio.gather(
        *(res.stock.reserve_card(card.iccid, f"clerk{i}") for i in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, Unavailable) for r in results if isinstance(r, Exception))
    keys = await res.stock.card_keys(card.iccid)
    assert (keys.imsi, keys.ki.get_secret_value(), keys.acc, keys.fresh) == (
        IMSI,
        K1,
        "0200",
        False,
    )
    assert keys.opc is not None and keys.opc.get_secret_value() == OPC1
    assert K1 not in repr(keys) and "Adm12345" not in repr(keys)


async def test_blank_cards_get_fresh_keys_once(res: Resources) -> None:
    await res.stock.add_card(blank(1), by="e")
    await res.stock.add_card(blank(2), by="e")
    for n in (1, 2):
        await res.stock.reserve_card(iccid(n), "clerk1")
    first = await res.stock.card_keys(iccid(1))
    again = await res.stock.card_keys(iccid(1))
    other = await res.stock.card_keys(iccid(2))
    assert first.fresh and not again.fresh
    assert first.ki.get_secret_value() == again.ki.get_secret_value()
    assert first.opc is not None and again.opc is not None
    assert first.opc.get_secret_value() == again.opc.get_secret_value()
    assert first.ki.get_secret_value() != other.ki.get_secret_value()
    assert len(first.ki.get_secret_value()) == 32
    assert first.adm1 is not None and first.adm1.get_secret_value() == "12345678"
    assert (await res.stock.get(iccid(1))).has_keys


async def test_sold_with_the_order_and_retired_later(res: Resources, store: SqliteStore) -> None:
    await res.stock.add_card(personalised(), by="e")
    with pytest.raises(Unavailable, match="only a card reserved for this order"):
        await res.stock.mark_sold(iccid(1), "o1")
    await res.stock.reserve_card(iccid(1), "clerk1", order_id="o1")
    with pytest.raises(Unavailable):
        await res.stock.mark_sold(iccid(1), "o2")
    now = res.clock()

    def completes(conn: sqlite3.Connection) -> None:
        mark_sold(conn, iccid(1), "o1", now=now)
        mark_sold(conn, iccid(1), "o1", now=now)  # idempotent

    await store.run(completes)
    sold = await res.stock.get(iccid(1))
    assert (sold.state, sold.order_id) == (CardState.SOLD, "o1")
    await res.stock.retire(iccid(1), by="clerk1")
    await store.run(lambda c: retire(c, iccid(1), now=now))  # idempotent
    retired = await res.stock.get(iccid(1))
    assert retired.state is CardState.RETIRED
    blob = await store.run(
        lambda c: c.execute("SELECT secrets FROM sims WHERE iccid=?", (iccid(1),)).fetchone()[0]
    )
    assert blob is None, "a retired card's keys are wiped"
    with pytest.raises(Unavailable):
        await res.stock.card_keys(iccid(1))
    with pytest.raises(NotFound):
        await res.stock.retire(iccid(9))


async def test_a_released_card_goes_back_to_stock(res: Resources) -> None:
    await res.stock.add_card(personalised(), by="e")
    assert not await res.stock.release_card(iccid(1))
    await res.stock.reserve_card(iccid(1), "clerk1")
    with pytest.raises(Unavailable, match="reserved for an order"):
        await res.stock.retire(iccid(1))
    assert await res.stock.release_card(iccid(1), damaged=True)
    card = await res.stock.get(iccid(1))
    assert (card.state, card.condition, card.reserved_by) == (
        CardState.IN_STOCK,
        Condition.DAMAGED,
        None,
    )


async def test_damaged_cards_are_not_reserved(res: Resources) -> None:
    for n in (1, 2):
        await res.stock.add_card(personalised(n), by="e")
    assert await res.stock.set_condition([iccid(1)], Condition.DAMAGED, by="engineer1") == 1
    with pytest.raises(Unavailable, match="damaged"):
        await res.stock.reserve_card(iccid(1), "clerk1")
    await res.stock.reserve_card(iccid(2), "clerk1")
    with pytest.raises(Invalid) as caught:
        await res.stock.set_condition([iccid(1), iccid(2), iccid(3)], Condition.USABLE, by="e")
    assert {e["field"] for e in caught.value.errors} == {iccid(2), iccid(3)}
    assert (await res.stock.get(iccid(1))).condition is Condition.DAMAGED, "all or none"
    await res.stock.set_condition([iccid(1)], Condition.USABLE, by="e")
    assert [c.iccid for c in await res.stock.cards(condition=Condition.USABLE)] == [
        iccid(1),
        iccid(2),
    ]
