"""The counter with its resources: a held number and a card from the SIM stock, written at a
card station behind a real pcscd, provisioned over real SSH, proven — and consumed together
with the order's completion (the number in use, the card sold), or given back when it fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from emulators.hlr.server import HlrEmulator
from emulators.usim.card import UsimCard
from emulators.usim.pcscd import PrivatePcscd
from gateway.config import CardStationConfig, GatewayConfig
from gateway.counter import Counter
from gateway.engine import Engine, IntakeRefused
from gateway.network import build_targets, close_targets
from gateway.resources.numbers import BlockIn, NumberState
from gateway.resources.service import Resources
from gateway.resources.stock import CardIn, CardKind, CardState, Condition
from gateway.store import OrderState, SqliteStore
from gateway.vault import Vault
from tests.gateway.orders_factory import iccid, open_account, order

pytestmark = pytest.mark.pcsc
M = "13800000001"
KI, OPC = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"


@pytest.fixture
async def counter(
    ssh_config: GatewayConfig, pcsc_chain: PrivatePcscd, pcsc_blank_card: UsimCard
) -> AsyncIterator[tuple[Engine, Resources]]:
    station = CardStationConfig(
        name="counter-1", reader=pcsc_chain.reader_name(0), blank_adm1="12345678"
    )  # type: ignore[arg-type]
    config = ssh_config.model_copy(update={"card_stations": [station]})
    targets = build_targets(config)
    async with SqliteStore(config.database, Vault(bytes(32))) as store:
        res = Resources.open(store)
        await res.numbers.import_block(BlockIn(prefix="1380000"), by="admin1")
        for n, kind in ((1, CardKind.PERSONALISED), (2, CardKind.PERSONALISED)):
            await res.stock.add_card(
                CardIn(iccid=iccid(n), imsi=f"46000{n:010d}", kind=kind, ki=KI, opc=OPC),
                by="admin1",
            )  # type: ignore[arg-type]
        helper = Counter(res, config)
        engine = Engine(
            store,
            config,
            targets.network,
            stations=targets.stations,
            guard=helper.guard(None),
            card_keys=helper.card_keys,
            hooks=helper,
        )
        await engine.start()
        yield engine, res
        await engine.stop()
    await close_targets(targets)


async def run(engine: Engine, o: Any) -> Any:
    await engine.submit(o)
    await engine.drain()
    return await engine.store.get(o.order_id)


def counter_order(order_id: str, **over: Any) -> Any:
    return open_account(order_id, card={"station": "counter-1"}, ki=None, opc=None, **over)


async def test_an_unheld_number_is_refused_at_intake(counter: tuple[Engine, Resources]) -> None:
    engine, _ = counter
    with pytest.raises(IntakeRefused, match="hold it"):
        await engine.submit(counter_order("u1"))
    assert await engine.store.get("u1") is None


async def test_the_stock_card_keys_reach_card_and_hlr_and_both_are_consumed(
    counter: tuple[Engine, Resources], hlr: HlrEmulator
) -> None:
    engine, res = counter
    await res.numbers.hold(M, "clerk1", "OUT001")
    rec = await run(engine, counter_order("s1"))
    assert rec.state is OrderState.COMPLETED, rec.reason
    ki = hlr.state.snapshot(reveal_secrets=True)["ki"]["460000000000001"]
    assert (ki["ki"], ki["opc"]) == (KI, OPC), "the HLR got the stock's keys"
    assert (await res.numbers.get(M)).state is NumberState.IN_USE
    card = await res.stock.get(iccid(1))
    assert card.state is CardState.SOLD and card.order_id == "s1"


async def test_a_failed_counter_order_gives_the_written_card_back_as_damaged(
    counter: tuple[Engine, Resources], hlr: HlrEmulator
) -> None:
    engine, res = counter
    await res.numbers.hold(M, "clerk1", "OUT001")
    hlr.faults.update(error_rate=1.0)  # the HLR is busy throughout: provisioning gives up
    rec = await run(engine, counter_order("f1"))
    # The card was written (a step that cannot be undone), the HLR never changed.
    assert rec.state is OrderState.COMPENSATED, rec.reason
    card = await res.stock.get(iccid(1))
    assert card.state is CardState.IN_STOCK and card.condition is Condition.DAMAGED
    number = await res.numbers.get(M)
    assert number.state is NumberState.HELD, "the hold is kept: the clerk may try again"


async def test_sim_replacement_sells_the_new_card_and_retires_the_old(
    counter: tuple[Engine, Resources], pcsc_chain: PrivatePcscd
) -> None:
    engine, res = counter
    await res.numbers.hold(M, "clerk1", "OUT001")
    assert (await run(engine, counter_order("r1"))).state is OrderState.COMPLETED
    pcsc_chain.insert()  # a new blank card for the replacement
    swap = order(
        "sim_swap",
        "r2",
        msisdn=M,
        new_imsi="460000000000002",
        new_iccid=iccid(2),
        card={"station": "counter-1"},
    )
    rec = await run(engine, swap)
    assert rec.state is OrderState.COMPLETED, rec.reason
    assert (await res.stock.get(iccid(2))).state is CardState.SOLD
    assert (await res.stock.get(iccid(1))).state is CardState.RETIRED
