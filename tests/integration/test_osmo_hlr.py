"""Orders into a real osmo-hlr through the engine; its state read back over its own VTY.

Engine + SqliteStore + the osmo-hlr-ctrl adapter, against osmo-hlr 1.5 started per test
(tests/fixtures/osmo_hlr.py). Every check of osmo-hlr's state goes through its VTY or a
hand-framed CTRL request, never through the adapter under test.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.osmo_hlr.gsup import GsupClient, GsupError
from adapters.osmo_hlr.mapping import script_for
from adapters.osmo_hlr.osmo_ctrl import OsmoCtrlSettings, OsmoHlrCtrl
from emulators.hlr.server import HlrEmulator
from emulators.hlr.session import Account
from emulators.usim.card import UsimCard
from emulators.usim.pcscd import PrivatePcscd
from gateway.config import (
    CardStationConfig,
    GatewayConfig,
    HuaweiMmlConfig,
    NetworkElementConfig,
    OsmoHlrCtrlConfig,
    RetryPolicy,
    load_config,
)
from gateway.engine import Engine
from gateway.lines import Line
from gateway.network import build_network, build_targets, close_targets
from gateway.operations import LoadAuth, Lock, Lookup, Outcome, WriteCard
from gateway.orders import Order
from gateway.store import OrderRecord, OrderState, SqliteStore
from gateway.validation import clerk_errors
from gateway.vault import Vault
from simcard.a3a8 import comp128v1
from simcard.milenage import Milenage, c2, c3
from tests.fixtures.osmo_hlr import OsmoHlr, osmo_hlr
from tests.gateway.orders_factory import KI, OPC, iccid, open_account, order

pytestmark = pytest.mark.osmohlr
__all__ = ["osmo_hlr"]  # the fixture, imported for pytest

M = "13800000001"
IMSI = "460000000000001"
E164 = "8613800000001"
H = bytes.fromhex


def osmo_ne(hlr: OsmoHlr, name: str = "osmo1", **over: Any) -> OsmoHlrCtrlConfig:
    fields = {
        "name": name,
        "dialect": "osmo-hlr-ctrl",
        "host": hlr.address,
        "port": hlr.ctrl_port,
        "gsup_port": hlr.gsup_port,
        "command_timeout_s": 5,
    }
    return OsmoHlrCtrlConfig.model_validate(fields | over)


def gateway_config(tmp_path: Path, *nes: NetworkElementConfig) -> GatewayConfig:
    return load_config(None).model_copy(
        update={
            "network_elements": list(nes),
            "retry": RetryPolicy(attempts=3, backoff_initial_s=0.01, backoff_max_s=0.1),
            "cancel_hold_days": 0,
            "database": tmp_path / "provgw.db",
        }
    )


@asynccontextmanager
async def running(config: GatewayConfig) -> AsyncIterator[Engine]:
    network = build_network(config)
    try:
        async with SqliteStore(config.database, Vault(bytes(32))) as store:
            engine = Engine(store, config, network)
            await engine.start()
            try:
                yield engine
            finally:
                await engine.stop()
    finally:
        await asyncio.gather(*(ne.close() for ne in network.values()))


async def run(engine: Engine, o: Order) -> OrderRecord:
    await engine.submit(o)
    await engine.drain()
    rec = await engine.store.get(o.order_id)
    assert rec is not None
    return rec


def osmo_state(hlr: OsmoHlr) -> dict[str, dict[str, Any]]:
    """Every subscriber osmo-hlr holds, as its VTY shows them."""
    state = {}
    for row in hlr.subscribers():
        sub = hlr.subscriber(row["imsi"])
        assert sub is not None
        aud3g = sub["aud3g"]
        state[row["imsi"]] = {
            "msisdn": sub["msisdn"],
            "cs": sub["cs"],
            "ps": sub["ps"],
            "keys": (aud3g["k"], aud3g["opc"]) if aud3g else None,
        }
    return state


def expected_state(lines: list[Line], data_lock: str) -> dict[str, dict[str, Any]]:
    """What osmo-hlr must hold for the gateway's lines (docs/dialects/osmo-hlr.md)."""
    state = {}
    for line in lines:
        net = line.network
        data_locked = net.lock.data and data_lock == "ps-switch"
        state[line.imsi] = {
            "msisdn": net.msisdn,
            "cs": not net.lock.incoming,
            "ps": net.data_enabled and not data_locked,
            "keys": (KI, OPC),
        }
    return state


async def assert_in_sync(engine: Engine, hlr: OsmoHlr, data_lock: str = "ps-switch") -> None:
    assert osmo_state(hlr) == expected_state(await engine.store.all_lines(), data_lock)


@pytest.fixture
async def engine(osmo_hlr: OsmoHlr, tmp_path: Path) -> AsyncIterator[Engine]:
    config = gateway_config(tmp_path, osmo_ne(osmo_hlr, data_lock="ps-switch"))
    async with running(config) as eng:
        yield eng


async def test_every_supported_order_kind_end_to_end(engine: Engine, osmo_hlr: OsmoHlr) -> None:
    steps: list[Order] = [
        open_account("o1"),
        order("suspend", "o2", msisdn=M),
        order("suspend", "o3", msisdn=M, reason="arrears"),
        order("resume", "o4", msisdn=M),  # still suspended for arrears: no network change
        order("recharge", "o5", msisdn=M, amount_cents=5000),  # lifts the arrears suspension
        order("change_value_added", "o6", msisdn=M, data=False),
        order("change_value_added", "o7", msisdn=M, data=True),
        order("change_tariff", "o8", msisdn=M, product="voice-only"),
        order("change_number", "o9", msisdn=M, new_msisdn="13900000009"),
        order("change_customer_info", "o10", msisdn="13900000009", contact="13700000000"),
        order("pre_cancel", "o11", msisdn="13900000009"),
        order("cancel", "o12", msisdn="13900000009"),
    ]
    seen: list[dict[str, Any]] = []
    for o in steps:
        rec = await run(engine, o)
        assert rec.state is OrderState.COMPLETED, f"{o.order_id} {o.kind}: {rec.reason}"
        await assert_in_sync(engine, osmo_hlr)
        seen.append(osmo_state(osmo_hlr).get(IMSI, {}))
    on = {"msisdn": E164, "keys": (KI, OPC)}
    assert seen[0] == on | {"cs": True, "ps": True}, "open account: number, keys, CS and PS"
    assert seen[1] == on | {"cs": False, "ps": False}, "suspended: CS and PS off"
    assert seen[3] == seen[1] and seen[4] == seen[0], "resumed only when both reasons are gone"
    assert (seen[5]["ps"], seen[6]["ps"], seen[7]["ps"]) == (False, True, False)
    assert seen[8]["msisdn"] == "8613900000009"
    assert seen[10]["cs"] is False
    assert osmo_hlr.subscribers() == [], "cancellation removed everything"


async def test_open_account_for_a_voice_only_product_leaves_ps_off(
    engine: Engine, osmo_hlr: OsmoHlr
) -> None:
    rec = await run(engine, open_account("v1", product="voice-only"))
    assert rec.state is OrderState.COMPLETED, rec.reason
    sub = osmo_hlr.subscriber(IMSI)
    assert sub is not None
    assert (sub["msisdn"], sub["cs"], sub["ps"]) == (E164, True, False)
    # The same facts over CTRL, framed by hand:
    assert osmo_hlr.ctrl_get(f"subscriber.by-msisdn-{E164}.cs-enabled") == "1"
    assert osmo_hlr.ctrl_get(f"subscriber.by-msisdn-{E164}.ps-enabled") == "0"


async def test_transcripts_mask_the_keys(engine: Engine, osmo_hlr: OsmoHlr) -> None:
    rec = await run(engine, open_account("t1"))
    text = " ".join(t.command + t.response for t in await engine.store.transcript(rec.id))
    assert "aud3g milenage,****,opc,****" in text
    assert KI not in text and OPC not in text


# -- refusals up front -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields", "reason"),
    [
        ("suspend", {}, "single PS switch, which is also the data subscription"),
        (
            "change_supplementary",
            {"forwarding": [{"kind": "CFU", "forward_to": "13911112222"}]},
            "keeps no call-forwarding data",
        ),
        ("change_long_distance", {"outgoing_barring": "BOIC"}, "no operator-determined barring"),
        ("change_roaming", {"roaming_barring": "BROHPLMN"}, "no operator-determined barring"),
        (
            "sim_swap",
            {"new_imsi": "460009999999999", "new_iccid": iccid(9999), "ki": KI, "opc": OPC},
            "could leave the number on neither card",
        ),
    ],
)
async def test_what_osmo_hlr_cannot_do_is_refused_with_its_reason_and_nothing_is_sent(
    osmo_hlr: OsmoHlr, tmp_path: Path, kind: str, fields: dict[str, Any], reason: str
) -> None:
    async with running(gateway_config(tmp_path, osmo_ne(osmo_hlr))) as engine:  # data_lock refuse
        assert (await run(engine, open_account("r0"))).state is OrderState.COMPLETED
        before = osmo_state(osmo_hlr)
        rec = await run(engine, order(kind, "r1", msisdn=M, **fields))
        assert rec.state is OrderState.FAILED
        assert rec.reason is not None
        assert rec.reason.startswith("osmo1 (osmo-hlr-ctrl) cannot ")
        assert reason in rec.reason
        assert rec.steps == [] and await engine.store.transcript(rec.id) == []
        assert osmo_state(osmo_hlr) == before


# -- osmo-hlr refuses: clear failures, compensated -----------------------------------------------


async def test_a_duplicate_imsi_fails_and_the_existing_subscriber_is_untouched(
    engine: Engine, osmo_hlr: OsmoHlr
) -> None:
    osmo_hlr.provision(IMSI, "8613912345678", ki=OPC, opc=KI)  # somebody else's
    before = osmo_state(osmo_hlr)
    rec = await run(engine, open_account("d1"))
    assert rec.state is OrderState.FAILED
    assert rec.reason is not None and rec.reason.startswith("step 1 (load authentication data")
    assert rec.reason.endswith(f"): IMSI {IMSI} already exists on osmo-hlr")
    assert osmo_state(osmo_hlr) == before


async def test_a_number_in_use_is_compensated_and_osmo_hlr_is_as_before(
    engine: Engine, osmo_hlr: OsmoHlr
) -> None:
    osmo_hlr.provision("460007777777777", "8613800000077", ki=KI, opc=OPC)
    before = osmo_state(osmo_hlr)
    rec = await run(engine, open_account("n1", msisdn="13800000077"))
    assert rec.state is OrderState.COMPENSATED
    assert rec.reason is not None
    assert "number 8613800000077 could not be given to IMSI 460000000000001" in rec.reason
    assert "already in use by another subscriber" in rec.reason
    steps = {(s.phase, s.idx): s.state.value for s in rec.steps}
    assert steps == {("forward", 0): "done", ("forward", 1): "failed", ("compensate", 0): "done"}
    assert osmo_state(osmo_hlr) == before


async def test_an_unknown_subscriber_fails_clearly(engine: Engine, osmo_hlr: OsmoHlr) -> None:
    assert (await run(engine, open_account("u0"))).state is OrderState.COMPLETED
    assert osmo_hlr.vty(f"subscriber imsi {IMSI} delete").startswith("% Deleted")
    rec = await run(engine, order("suspend", "u1", msisdn=M))
    assert rec.state is OrderState.FAILED
    assert rec.reason is not None and rec.reason.startswith("step 1 (")
    assert rec.reason.endswith(f"): no subscriber with number {E164} on osmo-hlr")
    assert osmo_hlr.subscribers() == []


def test_a_bad_key_is_refused_at_the_counter_naming_the_field() -> None:
    short = KI[:30]
    with pytest.raises(ValidationError) as refused:
        open_account("b1", ki=short)
    assert clerk_errors(refused.value.errors()) == [
        {"field": "ki", "message": "key must be exactly 32 hexadecimal characters (128 bits)"}
    ]
    assert short not in str(clerk_errors(refused.value.errors()))


async def test_a_key_osmo_hlr_refuses_is_undone_with_the_record(osmo_hlr: OsmoHlr) -> None:
    """osmo-hlr's own key check (the gateway's types never let such a key through)."""
    op = LoadAuth.model_validate({"imsi": IMSI, "ki": KI, "opc": OPC})
    create, keys = script_for(op)
    bad = dataclasses.replace(keys.actions[-1].command, value=f"milenage,{KI[:8]},opc,{OPC}")
    keys = dataclasses.replace(
        keys, actions=(*keys.actions[:-1], dataclasses.replace(keys.actions[-1], command=bad))
    )
    async with adapter(osmo_hlr) as ne:
        reply = await ne.run_script((create, keys))
    assert (reply.outcome, reply.code) == (Outcome.PERMANENT, "bad-key")
    assert reply.text == f"osmo-hlr refused the K for IMSI {IMSI}"
    assert reply.command.splitlines()[-1] == f"SET subscriber.delete {IMSI}"
    assert osmo_hlr.subscribers() == []


def adapter(hlr: OsmoHlr) -> OsmoHlrCtrl:
    return OsmoHlrCtrl(
        OsmoCtrlSettings(
            name="osmo1", host=hlr.address, port=hlr.ctrl_port, gsup_port=hlr.gsup_port
        )
    )


async def test_an_interrupted_load_auth_is_completed_on_retry(osmo_hlr: OsmoHlr) -> None:
    """The record exists, keys not yet set (the gateway died in between): a retry takes it over."""
    assert osmo_hlr.ctrl_set("subscriber.create", IMSI).isdigit()
    async with adapter(osmo_hlr) as ne:
        reply = await ne.execute(LoadAuth.model_validate({"imsi": IMSI, "ki": KI, "opc": OPC}))
    assert reply.ok, reply
    sub = osmo_hlr.subscriber(IMSI)
    assert sub is not None and sub["aud3g"]["k"] == KI and (sub["cs"], sub["ps"]) == (False, False)


async def test_read_back_by_number_and_by_imsi(engine: Engine, osmo_hlr: OsmoHlr) -> None:
    await run(engine, open_account("rb"))
    ne = engine.network["osmo1"]
    by_number = await ne.read(Lookup(msisdn=E164))
    assert by_number.exists and by_number.auth_loaded and by_number.imsi == IMSI
    assert by_number.data_enabled and by_number.lock == Lock()
    assert not (await ne.read(Lookup(imsi="460000000000009"))).exists


# -- routing by configuration --------------------------------------------------------------------


@pytest.fixture
async def mml_hlr() -> AsyncIterator[HlrEmulator]:
    async with HlrEmulator(port=0, users={"provgw": Account("provgw-secret", admin=True)}) as emu:
        yield emu


def mml_ne(hlr: HlrEmulator, **over: Any) -> HuaweiMmlConfig:
    fields = {
        "name": "hlr1",
        "port": hlr.port,
        "username": "provgw",
        "password": "provgw-secret",
        "host_key_policy": "accept-any",
        "command_timeout_s": 5,
    }
    return HuaweiMmlConfig.model_validate(fields | over)


async def test_one_gateway_routes_by_imsi_prefix_to_mml_and_to_osmo_hlr(
    osmo_hlr: OsmoHlr, mml_hlr: HlrEmulator, tmp_path: Path
) -> None:
    config = gateway_config(tmp_path, osmo_ne(osmo_hlr, imsi_prefixes=["46001"]), mml_ne(mml_hlr))
    async with running(config) as engine:
        to_mml = await run(engine, open_account("m1", n=1))
        to_osmo = await run(engine, open_account("m2", n=2, imsi="460010000000002"))
        assert (to_mml.state, to_osmo.state) == (OrderState.COMPLETED, OrderState.COMPLETED)
        lines = {line.imsi: line.ne for line in await engine.store.all_lines()}
    assert lines == {"460000000000001": "hlr1", "460010000000002": "osmo1"}
    assert list(mml_hlr.state.snapshot()["subscribers"]) == ["460000000000001"]
    assert [row["imsi"] for row in osmo_hlr.subscribers()] == ["460010000000002"]


@pytest.mark.parametrize("served_by", ["hlr1", "osmo1"])
async def test_the_same_order_goes_where_the_configuration_says(
    osmo_hlr: OsmoHlr, mml_hlr: HlrEmulator, tmp_path: Path, served_by: str
) -> None:
    prefixes = {"msisdn_prefixes": ["86138"]}
    osmo = osmo_ne(osmo_hlr, **(prefixes if served_by == "osmo1" else {}))
    mml = mml_ne(mml_hlr, **(prefixes if served_by == "hlr1" else {}))
    async with running(gateway_config(tmp_path, osmo, mml)) as engine:
        rec = await run(engine, open_account("same-order"))
    assert rec.state is OrderState.COMPLETED, rec.reason
    in_mml = list(mml_hlr.state.snapshot()["subscribers"])
    in_osmo = [row["imsi"] for row in osmo_hlr.subscribers()]
    assert (in_mml, in_osmo) == (([IMSI], []) if served_by == "hlr1" else ([], [IMSI]))


# -- authentication vectors over GSUP ------------------------------------------------------------


def check_vector(vector: Any, m: Milenage) -> int:
    """The vector is Milenage of the subscriber's K/OPc; returns its SQN."""
    res, ck, ik, ak, _ = m.f2345(vector.rand)
    assert (vector.xres, vector.ck, vector.ik) == (res, ck, ik), "f2 RES, f3 CK, f4 IK"
    sqn = bytes(a ^ b for a, b in zip(vector.autn[:6], ak, strict=True))
    amf, mac_a = vector.autn[6:8], vector.autn[8:]
    assert amf == b"\x00\x00", "osmo-hlr always sends AMF 0000"
    assert m.f1(vector.rand, sqn, amf)[0] == mac_a, "f1 MAC-A in AUTN"
    return int.from_bytes(sqn, "big")


async def test_gsup_vectors_are_milenage_of_the_keys_the_order_loaded(
    engine: Engine, osmo_hlr: OsmoHlr
) -> None:
    assert (await run(engine, open_account("g1"))).state is OrderState.COMPLETED
    m = Milenage(H(KI), H(OPC))
    async with GsupClient(osmo_hlr.address, osmo_hlr.gsup_port, name="provgw-test") as hlr:
        vectors = await hlr.send_auth_info(IMSI, count=3)
        sqns = [check_vector(v, m) for v in vectors]
        for v in vectors:  # 3G keys only: the GSM values come from c2/c3
            assert (v.sres, v.kc) == (c2(v.xres), c3(v.ck, v.ik))
        assert sqns[1] - sqns[0] == sqns[2] - sqns[1] == 32, "SEQ +1 per vector, IND 5 bits"
        assert len({v.rand for v in vectors}) == 3

        # With 2G data as well, SRES/Kc come from COMP128v1 of the Ki.
        ki_2g = "000102030405060708090a0b0c0d0e0f"
        aud2g = osmo_hlr.ctrl_set(f"subscriber.by-imsi-{IMSI}.aud2g", f"comp128v1,{ki_2g}")
        assert aud2g == "OK"
        (both,) = await hlr.send_auth_info(IMSI)
        check_vector(both, m)
        assert (both.sres, both.kc) == comp128v1(H(ki_2g), both.rand)

        with pytest.raises(GsupError) as unknown:
            await hlr.send_auth_info("460000000000009")
        assert unknown.value.cause == 2 and not unknown.value.transient


async def test_the_ne_hands_out_vectors_for_the_proof(engine: Engine, osmo_hlr: OsmoHlr) -> None:
    assert (await run(engine, open_account("g2"))).state is OrderState.COMPLETED
    ne = engine.network["osmo1"]
    assert isinstance(ne, OsmoHlrCtrl)
    vector = await ne.auth_vector(IMSI)
    res, ck, ik, _, _ = Milenage(H(KI), H(OPC)).f2345(H(vector.rand))
    assert (vector.xres, vector.ck, vector.ik) == (res.hex(), ck.hex(), ik.hex())
    with pytest.raises(LookupError, match="IMSI unknown"):
        await ne.auth_vector("460000000000009")


async def test_an_emulated_card_answers_osmo_hlrs_challenge(
    engine: Engine, osmo_hlr: OsmoHlr
) -> None:
    assert (await run(engine, open_account("c1"))).state is OrderState.COMPLETED
    card = UsimCard.blank()
    personalise(card, ki=KI, opc=OPC)
    ne = engine.network["osmo1"]
    assert isinstance(ne, OsmoHlrCtrl)
    vector = await ne.auth_vector(IMSI)
    response = challenge(card, vector)
    fields = lv_fields(response[1:])
    assert response[0] == 0xDB, "successful 3G authentication"
    assert fields[0].hex() == vector.xres, "the card's RES is osmo-hlr's XRES"
    assert (fields[1].hex(), fields[2].hex()) == (vector.ck, vector.ik)


async def test_a_card_ahead_of_osmo_hlr_is_resynchronised(
    engine: Engine, osmo_hlr: OsmoHlr
) -> None:
    assert (await run(engine, open_account("s1"))).state is OrderState.COMPLETED
    card = UsimCard.blank()
    personalise(card, ki=KI, opc=OPC)
    ne = engine.network["osmo1"]
    assert isinstance(ne, OsmoHlrCtrl)
    older, newer = await ne.auth_vector(IMSI), await ne.auth_vector(IMSI)
    assert challenge(card, newer)[0] == 0xDB
    out_of_step = challenge(card, older)  # an SQN the card has seen beaten: AUTS
    assert out_of_step[:2] == b"\xdc\x0e"
    auts = out_of_step[2:16].hex()
    with pytest.raises(ValueError, match="resynchronisation refused"):
        await ne.resync(IMSI, older.rand, "00" * 14)  # an AUTS that does not verify
    with pytest.raises(ValueError, match="auts must be 28 hexadecimal digits"):
        await ne.resync(IMSI, older.rand, auts[:-2])
    await ne.resync(IMSI, older.rand, auts)
    assert challenge(card, await ne.auth_vector(IMSI))[0] == 0xDB, "in step again"


def challenge(card: UsimCard, vector: Any) -> bytes:
    """AUTHENTICATE (3G context) with a vector; the response data (DB … or DC 0E AUTS)."""
    response = card.transmit(H(f"0088008122 10{vector.rand} 10{vector.autn} 00".replace(" ", "")))
    assert response[-2:] == b"\x90\x00", response.hex()
    return response[:-2]


def personalise(card: UsimCard, *, ki: str, opc: str) -> None:
    """Write K/OPc into the USIM key file the way pySim does for a sysmoISIM-SJA2."""

    def ok(apdu: str) -> None:
        response = card.transmit(H(apdu.replace(" ", "")))
        assert response[-2:] == b"\x90\x00", f"{apdu} → {response.hex()}"

    ok("00 20 00 0A 08 3132333435363738")  # VERIFY ADM1 12345678
    ok("00 A4 08 04 04 7FFF AF20")  # the USIM key file
    ok("00 D6 00 00 01 14")  # Milenage, value is OPc
    ok(f"00 D6 00 01 10 {ki}")
    ok(f"00 D6 00 11 10 {opc}")
    card.power_on()
    ok("00 A4 04 0C 07 A0000000871002")  # select the USIM application


def lv_fields(data: bytes) -> list[bytes]:
    fields, i = [], 0
    while i < len(data):
        fields.append(data[i + 1 : i + 1 + data[i]])
        i += 1 + data[i]
    return fields


@pytest.mark.pcsc
async def test_open_account_at_the_counter_is_proven_by_osmo_hlrs_vector(
    osmo_hlr: OsmoHlr,
    tmp_path: Path,
    pcsc_chain: PrivatePcscd,
    pcsc_blank_card: UsimCard,
) -> None:
    """The whole counter flow with osmo-hlr as the network: a blank card written behind a real
    pcscd, osmo-hlr provisioned over CTRL, and the proof a vector osmo-hlr computed (GSUP)."""
    station = CardStationConfig(
        name="counter-1",
        reader=pcsc_chain.reader_name(0),
        blank_adm1="12345678",  # type: ignore[arg-type]
    )
    config = gateway_config(tmp_path, osmo_ne(osmo_hlr)).model_copy(
        update={"card_stations": [station]}
    )
    targets = build_targets(config)
    try:
        async with SqliteStore(config.database, Vault(bytes(32))) as store:
            engine = Engine(store, config, targets.network, stations=targets.stations)
            await engine.start()
            try:
                o = open_account("oc1", card={"station": "counter-1"}, ki=None, opc=None)
                rec = await run(engine, o)
                transcript = await engine.store.transcript(rec.id)
            finally:
                await engine.stop()
    finally:
        await close_targets(targets)
    assert rec.state is OrderState.COMPLETED, rec.reason
    assert rec.plan is not None
    assert [s.op.op for s in rec.plan.steps][-1] == "prove_authentication"
    assert transcript[-1].text == "proven: the card's RES equals the network's XRES"
    write = rec.plan.steps[0].op
    assert isinstance(write, WriteCard)
    sub = osmo_hlr.subscriber(IMSI)
    assert sub is not None and sub["msisdn"] == E164
    assert (sub["aud3g"]["k"], sub["aud3g"]["opc"]) == (
        write.ki.get_secret_value(),
        write.opc.get_secret_value(),
    ), "osmo-hlr holds the keys written on the card"
    assert all(write.ki.get_secret_value() not in t.command + t.response for t in transcript)
