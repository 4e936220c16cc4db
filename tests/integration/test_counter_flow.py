"""Open an account at the counter, end to end through the real parts: a blank card written in
a reader behind a real pcscd (vpcd + the USIM emulator), the HLR provisioned over real SSH,
and the order proven by authentication — a vector from the HLR's authentication centre, the
card's RES equal to its XRES."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.cards.card_station import CardStationAdapter
from emulators.hlr.server import HlrEmulator
from emulators.usim.card import UsimCard
from emulators.usim.pcscd import PrivatePcscd
from gateway.config import CardStationConfig, GatewayConfig
from gateway.engine import Engine
from gateway.network import build_targets, close_targets
from gateway.operations import Reply, WriteCard
from gateway.store import OrderState, SqliteStore
from gateway.vault import Vault
from simcard.reader import read_card
from simcard.transport import PcscTransport
from tests.gateway.orders_factory import iccid, open_account, order

pytestmark = pytest.mark.pcsc
M = "13800000001"


@pytest.fixture
def counter_config(
    ssh_config: GatewayConfig, pcsc_chain: PrivatePcscd, pcsc_blank_card: UsimCard
) -> GatewayConfig:
    station = CardStationConfig(
        name="counter-1",
        reader=pcsc_chain.reader_name(0),
        blank_adm1="12345678",  # type: ignore[arg-type]
    )
    return ssh_config.model_copy(update={"card_stations": [station]})


@pytest.fixture
async def counter(counter_config: GatewayConfig) -> AsyncIterator[Engine]:
    targets = build_targets(counter_config)
    async with SqliteStore(counter_config.database, Vault(bytes(32))) as store:
        engine = Engine(store, counter_config, targets.network, stations=targets.stations)
        await engine.start()
        yield engine
        await engine.stop()
    await close_targets(targets)


async def run(engine: Engine, o: Any) -> Any:
    await engine.submit(o)
    await engine.drain()
    return await engine.store.get(o.order_id)


def card_imsi(pcsc: PrivatePcscd) -> str:
    transport = PcscTransport(pcsc.reader_name(0))
    try:
        transport.connect()
        return str(read_card(transport)["files"]["imsi"]["value"])
    finally:
        transport.disconnect()


async def test_open_account_at_the_counter_is_proven(
    counter: Engine, hlr: HlrEmulator, pcsc_chain: PrivatePcscd
) -> None:
    o = open_account("c1", card={"station": "counter-1"}, ki=None, opc=None)
    rec = await run(counter, o)
    assert rec.state is OrderState.COMPLETED, rec.reason
    assert [s.op.op for s in rec.plan.steps] == [
        "write_card",
        "load_auth",
        "create_subscriber",
        "set_data",
        "prove_authentication",
    ]
    transcript = await counter.store.transcript("c1")
    assert transcript[-1].text == "proven: the card's RES equals the network's XRES"
    assert card_imsi(pcsc_chain) == "460000000000001"
    assert "460000000000001" in hlr.state.snapshot()["subscribers"]
    # Fresh keys were drawn for the blank card; the HLR holds the very same ones.
    ki = hlr.state.snapshot(reveal_secrets=True)["ki"]["460000000000001"]["ki"]
    write = rec.plan.steps[0].op
    assert ki == write.ki.get_secret_value()
    assert all(ki not in t.command + t.response for t in transcript)


class WrongKeyStation:
    """Writes a different Ki than the plan says, on purpose, through the real station."""

    def __init__(self, real: CardStationAdapter) -> None:
        self.real, self.name, self.dialect = real, real.name, real.dialect

    def render(self, op: Any) -> str:
        return self.real.render(op)

    async def execute(self, op: Any) -> Reply:
        if isinstance(op, WriteCard):
            op = op.model_copy(update={"ki": type(op.ki)("0f" * 16)})
        return await self.real.execute(op)

    async def read(self, lookup: Any) -> Any:
        return await self.real.read(lookup)

    async def close(self) -> None:
        await self.real.close()


async def test_a_card_with_other_keys_fails_the_proof_and_the_order_is_undone(
    counter_config: GatewayConfig, hlr: HlrEmulator
) -> None:
    targets = build_targets(counter_config)
    station = WrongKeyStation(targets.stations["counter-1"])  # type: ignore[arg-type]
    async with SqliteStore(counter_config.database, Vault(bytes(32))) as store:
        engine = Engine(store, counter_config, targets.network, stations={"counter-1": station})  # type: ignore[dict-item]
        rec = await run(
            engine, open_account("c2", card={"station": "counter-1"}, ki=None, opc=None)
        )
        await engine.stop()
    await close_targets(targets)
    assert rec.state is OrderState.COMPENSATED
    assert "different keys" in rec.reason
    assert hlr.state.snapshot() == {"ki": {}, "subscribers": {}}, "the HLR is as before"
    steps = {(s.phase, s.idx): s.state.value for s in rec.steps}
    assert steps[("forward", 4)] == "failed", "the proof failed"
    assert steps[("compensate", 1)] == "done", "the Ki was removed again"


async def test_sim_replacement_at_the_counter_is_proven_with_the_new_card(
    counter: Engine, hlr: HlrEmulator, pcsc_chain: PrivatePcscd
) -> None:
    first = await run(counter, open_account("r1", card={"station": "counter-1"}, ki=None, opc=None))
    assert first.state is OrderState.COMPLETED, first.reason
    pcsc_chain.insert()  # the clerk puts a new blank card into the reader
    swap = order(
        "sim_swap",
        "r2",
        msisdn=M,
        new_imsi="460000000000077",
        new_iccid=iccid(77),
        card={"station": "counter-1"},
        reason="lost",
    )
    rec = await run(counter, swap)
    assert rec.state is OrderState.COMPLETED, rec.reason
    snap = hlr.state.snapshot()
    assert list(snap["subscribers"]) == ["460000000000077"]
    assert list(snap["ki"]) == ["460000000000077"], "the old card's Ki is retired"
    assert card_imsi(pcsc_chain) == "460000000000077"
    line = (await counter.store.lines([M]))[M]
    assert line is not None and line.iccid == iccid(77)
