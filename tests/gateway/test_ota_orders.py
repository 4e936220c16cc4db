"""OTA orders (`ota_update`, `stk_activate`): validation naming the field, REST 422s, the plan,
the card's OTA keys and profile from the SIM stock, and the engine settling a lost PoR."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from gateway.api import create_app
from gateway.config import CardProfile, GatewayConfig, OtaConfig, SmscConfig
from gateway.engine import Engine
from gateway.identifiers import luhn_check_digit
from gateway.lines import Line
from gateway.operations import (
    CardView,
    Lookup,
    Operation,
    OtaKeys,
    OtaUpdate,
    Outcome,
    Reply,
    RoamingListFile,
    SmsCentreFile,
    SpnFile,
    StkMenuFile,
    SubscriberView,
)
from gateway.orders import StkMenu, parse_order
from gateway.ota_cards import OtaCards
from gateway.planner import OtaProfile, Plan, PlanRefused, plan_order
from gateway.resources.service import Resources
from gateway.resources.transport_keys import TransportKeys
from gateway.routing import Router
from gateway.store import OrderState, SqliteStore

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
M, E = "13800138001", "8613800138001"
KIC, KID = "200102030405060708090a0b0c0d0e0f", "201102030405060708090a0b0c0d0e0f"
MENU = {
    "title": "中国移动",
    "items": [{"id": 1, "label": "话费查询", "destination": "10086", "text": "CXHF"}],
}


def iccid(n: int) -> str:
    body = f"898601{n:012d}"
    return body + str(luhn_check_digit(body))


def ota_config(config: GatewayConfig, **ota: Any) -> GatewayConfig:
    return config.model_copy(
        update={
            "smsc": SmscConfig(password="x"),
            "ota": OtaConfig(card_profiles=[CardProfile(product="sja5", stk=True)], **ota),
        }
    )


def body(kind: str, **fields: Any) -> dict[str, Any]:
    return (
        {"kind": kind, "order_id": "o1", "channel": "OUT001", "operator": "clerk1"}
        | {"msisdn": M}
        | fields
    )


def line(n: int = 1) -> Line:
    return Line(
        msisdn=M,
        imsi="460010000000001",
        iccid=iccid(n),
        ne="hlr1",
        product="4g-basic",
        activated_at=NOW - timedelta(days=30),
        status_since=NOW - timedelta(days=30),
    )


def profile(stk: bool = True, n: int = 1) -> OtaProfile:
    keys = OtaKeys.model_validate({"version": 1, "algorithm": "aes", "kic": KIC, "kid": KID})
    return OtaProfile(iccid=iccid(n), product="sja5" if stk else "plain", keys=keys, stk=stk)


def plan(config: GatewayConfig, data: dict[str, Any], ota: OtaProfile | None) -> Plan:
    return plan_order(parse_order(data), {M: line()}, config, Router(config), NOW, None, None, ota)


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "loc", "words"),
    [
        ({}, (), "give at least one of spn, roaming_networks, sms_centre"),
        ({"spn": "中国移动通信集团"}, ("spn",), "7 characters"),
        ({"spn": "A" * 17}, ("spn",), "at most 16"),
        ({"roaming_networks": [{"mcc": "46", "mnc": "01"}]}, ("roaming_networks", 0, "mcc"), ""),
        ({"roaming_networks": [{"mcc": "460", "mnc": "01", "technologies": ["wifi"]}]},
         ("roaming_networks", 0, "technologies", 0), ""),
        ({"roaming_networks": [{"mcc": "460", "mnc": "01"}] * 13}, ("roaming_networks",), "12"),
        ({"roaming_networks": [{"mcc": "460", "mnc": "01"}] * 2}, (), "each network"),
        ({"sms_centre": "86-138"}, ("sms_centre",), "pattern"),
    ],
)  # fmt: skip
def test_a_bad_ota_update_names_the_field(
    fields: dict[str, Any], loc: tuple[Any, ...], words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_order(body("ota_update", **fields))
    [error] = caught.value.errors()
    assert error["loc"][1:] == loc and words in error["msg"], error


@pytest.mark.parametrize(
    ("menu", "loc", "words"),
    [
        (MENU | {"items": []}, ("menu", "items"), "at least 1"),
        (MENU | {"items": MENU["items"] * 8}, ("menu", "items"), "at most 7"),
        (MENU | {"items": MENU["items"] * 2}, ("menu",), "each id once"),
        (MENU | {"items": [MENU["items"][0] | {"destination": "10086a"}]},
         ("menu", "items", 0, "destination"), "pattern"),
    ],
)  # fmt: skip
def test_a_bad_stk_menu_names_the_field(
    menu: dict[str, Any], loc: tuple[Any, ...], words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_order(body("stk_activate", menu=menu))
    [error] = caught.value.errors()
    assert error["loc"][1:] == loc and words in error["msg"], error


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """SQLite: the SIM stock's register still writes SQLite's SQL (lastrowid) until its
    repository is made portable."""
    return tmp_path / "provgw.db"


async def test_rest_answers_422_naming_the_field_and_accepts_nothing(
    store: SqliteStore, config: GatewayConfig
) -> None:
    lab = ota_config(config).model_copy(update={"access_control": False})
    engine = Engine(store, lab, {})
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        bad = await client.post(
            "/orders", json=body("ota_update", roaming_networks=[{"mcc": "4600", "mnc": "01"}])
        )
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["roaming_networks.0.mcc"]
        menu = await client.post("/orders", json=body("stk_activate", menu=MENU | {"title": ""}))
        assert menu.status_code == 422
        assert [e["field"] for e in menu.json()["errors"]] == ["menu.title"]
        assert (await client.get("/orders")).json() == []


# -- the plan -----------------------------------------------------------------------------


def test_an_ota_update_is_one_step_at_the_ota_target_proven_by_the_por(
    config: GatewayConfig,
) -> None:
    roaming = [
        {"mcc": "460", "mnc": "00", "technologies": ["e-utran"]},
        {"mcc": "454", "mnc": "00"},
    ]
    data = body("ota_update", spn="中国移动", roaming_networks=roaming, sms_centre="13800100500")
    [step] = plan(ota_config(config), data, profile()).steps
    assert step.ne == "ota" and step.compensation is None
    assert "PoR" in step.description and "reading the files back" in step.description
    op = step.op
    assert isinstance(op, OtaUpdate)
    assert (op.card.iccid, op.card.msisdn) == (iccid(1), E)
    assert op.card.keys.kic.get_secret_value() == KIC
    spn, networks, smsc = op.files
    assert isinstance(spn, SpnFile) and spn.name == "中国移动"
    assert isinstance(networks, RoamingListFile)
    assert [(n.mcc, n.mnc) for n in networks.networks] == [("460", "00"), ("454", "00")]
    assert smsc == SmsCentreFile(address="8613800100500")  # an 11-digit number gets the 86
    assert (
        KIC not in Plan.model_validate(plan(ota_config(config), data, profile())).model_dump_json()
    )


def test_an_stk_activation_writes_the_configured_menu_or_the_orders(config: GatewayConfig) -> None:
    configured = ota_config(config, stk_menu=StkMenu.model_validate(MENU))
    [step] = plan(configured, body("stk_activate"), profile()).steps
    assert isinstance(step.op, OtaUpdate)
    [menu] = step.op.files
    assert isinstance(menu, StkMenuFile) and menu.title == "中国移动"
    own = MENU | {"title": "VAS"}
    [step] = plan(configured, body("stk_activate", menu=own), profile()).steps
    assert isinstance(step.op, OtaUpdate) and step.op.files[0].title == "VAS"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("ota", "data", "why"),
    [
        (profile(stk=False), body("stk_activate", menu=MENU),
         "card 89860100000000000" ),
        (profile(), body("stk_activate"), "no STK menu"),
        (profile(n=2), body("ota_update", spn="x"), f"OTA keys of card {iccid(1)} are not known"),
        (None, body("ota_update", spn="x"), "are not known"),
    ],
)  # fmt: skip
def test_what_cannot_be_done_over_the_air_is_refused_with_the_reason(
    config: GatewayConfig, ota: OtaProfile | None, data: dict[str, Any], why: str
) -> None:
    with pytest.raises(PlanRefused, match=why):
        plan(ota_config(config), data, ota)


def test_a_card_without_a_toolkit_menu_is_refused_saying_so(config: GatewayConfig) -> None:
    with pytest.raises(PlanRefused) as refused:
        plan(ota_config(config), body("stk_activate", menu=MENU), profile(stk=False))
    assert refused.value.reason == (
        f"card {iccid(1)} (product plain) has no SIM toolkit menu: STK cannot be activated on "
        "it; replace the card (补卡) with an STK card first"
    )


def test_without_an_ota_target_nothing_is_planned(config: GatewayConfig) -> None:
    with pytest.raises(PlanRefused, match=r"no OTA target is configured \(\[ota\]\)"):
        plan(config, body("ota_update", spn="x"), profile())


# -- the card's keys and profile from the SIM stock ----------------------------------------

# FIPS-197 appendix C.1: AES-128 of 00112233…eeff under 000102…0f — the OTA transport cipher.
FIPS_PLAIN, FIPS_CIPHER = "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"


def vendor_file(product: str, *, with_ota: bool = True) -> str:
    columns = "IMSI ICCID KI OPC ADM1" + (" KIC KID" if with_ota else "")
    ota = f" {FIPS_CIPHER} {FIPS_CIPHER}" if with_ota else ""
    lines = [f"46001000000000{n} {iccid(n)} {n:032x} {n + 1:032x} 1234567{n}{ota}" for n in (1, 2)]
    return "\n".join([f"B-{product} 20261205T100000 2 {product} 1 0 2", f"# {columns}", *lines])


async def stock_with_card(store: SqliteStore, product: str, *, with_ota: bool = True) -> Resources:
    res = Resources.open(store)
    keys = TransportKeys({2: bytes(range(16))})
    await res.stock.import_vendor_file(vendor_file(product, with_ota=with_ota), by="a", keys=keys)
    await res.stock.reserve_card(iccid(1), "clerk1", order_id="opening")
    await res.stock.mark_sold(iccid(1), "opening")
    return res


async def test_the_keys_come_from_the_vendor_file_opened_and_sealed(
    store: SqliteStore, config: GatewayConfig
) -> None:
    res = await stock_with_card(store, "sja5")
    found = await OtaCards(res.stock, ota_config(config)).profile(line())
    assert (found.iccid, found.product, found.stk) == (iccid(1), "sja5", True)
    assert (found.keys.version, found.keys.algorithm) == (1, "aes")
    assert found.keys.kic.get_secret_value() == FIPS_PLAIN  # opened under OTA transport key 2
    assert found.keys.kid.get_secret_value() == FIPS_PLAIN
    raw = await store.run(lambda tx: tx.execute("SELECT secrets FROM sims").fetchall())
    assert raw and not any(FIPS_PLAIN in str(r) or FIPS_CIPHER in str(r) for r in raw)


async def test_cards_that_cannot_be_reached_over_the_air_are_refused(
    store: SqliteStore, config: GatewayConfig
) -> None:
    res = await stock_with_card(store, "usim-4g", with_ota=False)
    cards = OtaCards(res.stock, ota_config(config))
    with pytest.raises(PlanRefused, match="has no OTA keys \\(KIc/KID\\) on record"):
        await cards.profile(line())
    with pytest.raises(PlanRefused, match="is not in the SIM stock"):
        await cards.profile(line(7))


# -- the engine: a PoR that does not come ---------------------------------------------------


@dataclass
class FakeOtaTarget:
    """An OTA target for the engine alone: each update's PoR is lost (UNKNOWN ``no-por``); the
    packet reached the card only where ``reaches`` says so; reads give what the card holds."""

    reaches: list[bool]
    name: str = "ota"
    dialect: str = "fake-ota"
    held: dict[str, Any] = field(default_factory=dict)
    sent: int = 0
    reads: int = 0

    def render(self, op: Operation) -> str:
        return op.op

    def check(self, op: Operation) -> None:
        return None

    async def execute(self, op: Operation) -> Reply:
        assert isinstance(op, OtaUpdate)
        self.sent += 1
        if self.reaches.pop(0) if self.reaches else True:
            self.held |= {f.file: f for f in op.files}
        if self.reaches or self.sent == 1:
            return Reply(outcome=Outcome.UNKNOWN, code="no-por", text="no PoR in time")
        return Reply(outcome=Outcome.OK, code="por-00", text="PoR verified")

    async def read(self, lookup: Lookup) -> SubscriberView:
        self.reads += 1
        assert lookup.card is not None
        files = {name: self.held[name] for name in lookup.card.files if name in self.held}
        return SubscriberView(exists=True, card=CardView(iccid=lookup.card.card.iccid, files=files))

    async def probe(self) -> None:
        return None

    async def close(self) -> None:
        return None


async def run_lost_por(
    store: SqliteStore, config: GatewayConfig, reaches: list[bool]
) -> tuple[FakeOtaTarget, OrderState]:
    target = FakeOtaTarget(reaches)
    await store.run(
        lambda conn: conn.execute(
            "INSERT INTO lines (msisdn, data) VALUES (?, ?)", (M, line().model_dump_json())
        )
    )

    async def ota_cards(_: Line) -> OtaProfile:
        return profile()

    engine = Engine(store, ota_config(config), {"ota": target}, ota_cards=ota_cards)
    await engine.submit(parse_order(body("ota_update", roaming_networks=[NETWORK])))
    await engine.drain()
    record = await store.get("o1")
    assert record is not None
    return target, record.state


NETWORK = {"mcc": "460", "mnc": "01"}


async def test_a_lost_por_with_the_update_on_the_card_completes_without_sending_again(
    store: SqliteStore, config: GatewayConfig
) -> None:
    target, state = await run_lost_por(store, config, [True])
    assert state is OrderState.COMPLETED
    assert (target.sent, target.reads) == (1, 1)
    lines = await store.transcript("o1")
    assert [(t.outcome, t.code) for t in lines] == [("unknown", "no-por"), ("ok", "0")]
    assert "reconciled by reading back" in lines[-1].text


async def test_a_lost_por_with_the_card_unchanged_sends_the_update_again(
    store: SqliteStore, config: GatewayConfig
) -> None:
    target, state = await run_lost_por(store, config, [False, True])
    assert state is OrderState.COMPLETED
    assert (target.sent, target.reads) == (2, 1)
    codes = [t.code for t in await store.transcript("o1")]
    assert codes == ["no-por", "por-00"]
    assert target.held["oplmnwact"] == RoamingListFile.model_validate({"networks": [NETWORK]})
