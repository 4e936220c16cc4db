"""Distribution city → area → outlet → clerk and back, each move recorded with items and people."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.resources.demo import demo_blank_cards
from gateway.resources.distribution import DistributeIn, ReturnIn, Selection
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.resources.service import Resources
from gateway.resources.stock import Condition

CARDS = [line.split()[0] for line in demo_blank_cards().splitlines()[2:]]
FIVE = CARDS[:5]


async def _down_to_clerk(res: Resources, items: list[str]) -> None:
    for to, receiver in (
        ("Beijing", "Zhang Wei (city stores)"),
        ("Beijing/Dongcheng", "Li Na (area stores)"),
        ("Beijing/Dongcheng/OUT001", "Wang Fang (outlet manager)"),
    ):
        await res.distribution.distribute(
            "sim", DistributeIn(items=items, to=to, receiver=receiver), by="engineer1"
        )
    await res.distribution.distribute(
        "sim", DistributeIn(items=items, to="Beijing/Dongcheng/OUT001/clerk1"), by="engineer1"
    )


async def test_cards_go_down_level_by_level_and_every_move_is_recorded(demo: Resources) -> None:
    await _down_to_clerk(demo, FIVE)
    assert {
        c.location for c in await demo.stock.cards(location="Beijing/Dongcheng/OUT001/clerk1")
    } == {"Beijing/Dongcheng/OUT001/clerk1"}
    moves = await demo.distribution.movements(resource="sim", item=FIVE[0])
    assert [(m.direction, m.source, m.target, m.operator, m.receiver, m.count) for m in moves] == [
        (
            "distribute",
            "Beijing/Dongcheng/OUT001",
            "Beijing/Dongcheng/OUT001/clerk1",
            "engineer1",
            "clerk1",
            5,
        ),
        (
            "distribute",
            "Beijing/Dongcheng",
            "Beijing/Dongcheng/OUT001",
            "engineer1",
            "Wang Fang (outlet manager)",
            5,
        ),
        ("distribute", "Beijing", "Beijing/Dongcheng", "engineer1", "Li Na (area stores)", 5),
        ("distribute", "", "Beijing", "engineer1", "Zhang Wei (city stores)", 5),
    ]
    assert await demo.distribution.items_of(moves[0].id) == sorted(FIVE)
    assert not await demo.distribution.movements(item=CARDS[10])


async def test_returns_go_up_one_level(demo: Resources) -> None:
    await _down_to_clerk(demo, FIVE)
    back = await demo.distribution.give_back(
        "sim", ReturnIn(items=FIVE[:2], receiver="Wang Fang", note="end of shift"), by="engineer1"
    )
    assert (back.direction, back.source, back.target, back.receiver, back.count, back.note) == (
        "return",
        "Beijing/Dongcheng/OUT001/clerk1",
        "Beijing/Dongcheng/OUT001",
        "Wang Fang",
        2,
        "end of shift",
    )
    assert (await demo.stock.get(FIVE[0])).location == "Beijing/Dongcheng/OUT001"
    assert (await demo.stock.get(FIVE[4])).location == "Beijing/Dongcheng/OUT001/clerk1"


async def test_moves_that_break_the_rules_change_nothing(demo: Resources) -> None:
    d = demo.distribution
    with pytest.raises(Invalid, match="one level down, to a city"):
        await d.distribute(
            "sim", DistributeIn(items=FIVE, to="Beijing/Dongcheng", receiver="x"), by="e"
        )
    with pytest.raises(Invalid, match="nowhere to return"):
        await d.give_back("sim", ReturnIn(items=FIVE, receiver="x"), by="e")
    await d.distribute("sim", DistributeIn(items=FIVE, to="Shanghai", receiver="x"), by="e")
    await d.distribute("sim", DistributeIn(items=FIVE, to="Shanghai/Pudong", receiver="x"), by="e")
    with pytest.raises(Invalid, match="OUT001 is in Beijing/Dongcheng, not Shanghai/Pudong"):
        await d.distribute(
            "sim", DistributeIn(items=FIVE, to="Shanghai/Pudong/OUT001", receiver="x"), by="e"
        )
    with pytest.raises(Invalid, match="OUT999 is not a registered channel"):
        await d.distribute(
            "sim", DistributeIn(items=FIVE, to="Shanghai/Pudong/OUT999", receiver="x"), by="e"
        )
    with pytest.raises(Invalid, match="different places"):
        await d.distribute(
            "sim",
            DistributeIn(items=[*FIVE, CARDS[6]], to="Shanghai/Pudong/A", receiver="x"),
            by="e",
        )
    with pytest.raises(NotFound, match="8986"):
        await d.distribute(
            "sim", DistributeIn(items=["8986000000000000000"], to="Beijing", receiver="x"), by="e"
        )
    with pytest.raises(Invalid, match="receiver"):
        await d.distribute("sim", DistributeIn(items=[CARDS[6]], to="Beijing"), by="e")
    assert {c.location for c in await demo.stock.cards(location="Shanghai/Pudong")} == {
        "Shanghai/Pudong"
    }
    assert len(await d.movements()) == 2


async def test_a_clerk_must_belong_to_the_outlet_and_receives_in_person(demo: Resources) -> None:
    d = demo.distribution
    await _down_to_clerk(demo, FIVE[:1])
    for to in ("Beijing", "Beijing/Dongcheng", "Beijing/Dongcheng/OUT001"):
        await d.distribute("sim", DistributeIn(items=FIVE[1:2], to=to, receiver="x"), by="e")
    with pytest.raises(Invalid, match="nobody is not an active operator"):
        await d.distribute(
            "sim", DistributeIn(items=FIVE[1:2], to="Beijing/Dongcheng/OUT001/nobody"), by="e"
        )
    with pytest.raises(Invalid, match="the clerk clerk1 receives"):
        await d.distribute(
            "sim",
            DistributeIn(items=FIVE[1:2], to="Beijing/Dongcheng/OUT001/clerk1", receiver="Wang"),
            by="e",
        )


async def test_damaged_or_reserved_cards_do_not_go_down(demo: Resources) -> None:
    await demo.stock.set_condition([CARDS[0]], Condition.DAMAGED, by="e")
    with pytest.raises(Unavailable, match=f"{CARDS[0]} is damaged"):
        await demo.distribution.distribute(
            "sim", DistributeIn(items=CARDS[:2], to="Beijing", receiver="x"), by="e"
        )
    await demo.stock.set_condition([CARDS[0]], Condition.USABLE, by="e")
    await demo.distribution.distribute(
        "sim", DistributeIn(items=CARDS[:2], to="Beijing", receiver="x"), by="e"
    )
    await demo.stock.set_condition([CARDS[0]], Condition.DAMAGED, by="e")
    await demo.distribution.give_back("sim", ReturnIn(items=CARDS[:1], receiver="stores"), by="e")
    await demo.stock.reserve_card(CARDS[1], "clerk1")
    with pytest.raises(Unavailable, match="reserved"):
        await demo.distribution.give_back(
            "sim", ReturnIn(items=CARDS[1:2], receiver="stores"), by="e"
        )


async def test_numbers_are_distributed_the_same_way(demo: Resources) -> None:
    block = Selection(first="13800000000", last="13800000099")
    move = DistributeIn(first=block.first, last=block.last, to="Beijing", receiver="Zhang Wei")
    assert (await demo.distribution.distribute("number", move, by="engineer1")).count == 100
    assert len(await demo.numbers.search(location="Beijing", limit=1000)) == 100
    await demo.numbers.hold("13800000007", "clerk1", "OUT001")
    with pytest.raises(Unavailable, match="13800000007 is held"):
        await demo.distribution.give_back(
            "number",
            ReturnIn(first=block.first, last=block.last, receiver="stores"),
            by="engineer1",
        )
    (move_record,) = await demo.distribution.movements(resource="number", item="13800000042")
    assert move_record.target == "Beijing"


def test_a_selection_is_items_or_a_range() -> None:
    for bad in (
        {},
        {"items": ["1"], "first": "13800000000", "last": "13800000001"},
        {"first": "138"},
    ):
        with pytest.raises(ValidationError):
            Selection.model_validate(bad)
