"""Demo seeding (for `provgw serve --demo`) and the benchmarks' own machinery, in small."""

from __future__ import annotations

import pytest

from gateway.resources.bench import bench_numbers, bench_sims, make_vendor_file
from gateway.resources.channels import OpeningHours
from gateway.resources.demo import DEMO_CHANNEL, DEMO_PASSWORDS, seed_demo
from gateway.resources.numbers import NumberState
from gateway.resources.service import Resources
from gateway.resources.stock import CardKind
from gateway.resources.transport_keys import TransportKeys
from gateway.resources.vendor_file import parse_vendor_file
from gateway.store import SqliteStore
from tests.resources.conftest import FAST, Clock, shanghai


async def test_the_demo_is_seeded_once(demo: Resources, store: SqliteStore, clock: Clock) -> None:
    await seed_demo(store, clock=clock, cost=FAST)
    for operator, password in DEMO_PASSWORDS.items():
        logged_in = await demo.operators.authenticate(operator, password)
        assert logged_in.channels == (DEMO_CHANNEL,)
    outlet = await demo.channels.get(DEMO_CHANNEL)
    assert (outlet.city, outlet.area) == ("Beijing", "Dongcheng")
    assert outlet.hours.is_open(shanghai("2026-11-29 03:00"))
    assert len(await demo.numbers.search(state=NumberState.UNUSED, limit=1000)) == 1000
    assert len(await demo.fees.all()) == 7
    cards = await demo.stock.cards(batch="DEMO-BLANK")
    assert len(cards) == 20 and {c.kind for c in cards} == {CardKind.PROGRAMMABLE}
    counts = await store.run(
        lambda c: c.execute(
            "SELECT (SELECT count(*) FROM numbers), (SELECT count(*) FROM operators),"
            " (SELECT count(*) FROM fee_changes), (SELECT count(*) FROM sims)"
        ).fetchone()
    )
    assert counts == (20_000, 3, 7, 20), "a second seeding added nothing"


def test_hours_typed_on_the_command_line() -> None:
    hours = OpeningHours.from_text(["mon-fri 09:00-12:00,13:00-18:00", "sat,sun 10:00-16:00"])
    assert hours.week["wed"] == ["09:00-12:00", "13:00-18:00"]
    assert hours.week["sun"] == ["10:00-16:00"]
    with pytest.raises(ValueError, match="days are mon"):
        OpeningHours.from_text(["weekdays 09:00-18:00"])
    with pytest.raises(ValueError, match="ends before it starts"):
        OpeningHours.from_text(["mon 18:00-09:00"])


def test_the_benchmark_vendor_file_is_a_valid_one() -> None:
    keys = TransportKeys({1: bytes(range(16))})
    batch = parse_vendor_file(make_vendor_file(30, keys), keys)
    assert len(batch.cards) == 30 and batch.columns[-2:] == ("OPC", "ADM1")
    assert len({c.secrets["ki"] for c in batch.cards}) == 30


async def test_the_benchmarks_run_in_small() -> None:
    numbers = await bench_numbers(2000)
    assert numbers["numbers"] == 2000 and numbers["concurrent_holds"] == 1000
    assert (await bench_sims(50))["cards"] == 50
